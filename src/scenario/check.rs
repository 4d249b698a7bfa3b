//! Collects every problem of a file in one pass, each naming its field path, the allowed range
//! and the bad value. Range checks are written `!(lo <= v)` style so NaN fails all of them.

use std::fmt;

/// One thing wrong with a scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Field path, e.g. `subtasks[3].horizon_steps`.
    pub path: String,
    /// What is allowed, in words.
    pub allowed: String,
    /// The value found.
    pub value: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (got {})", self.path, self.allowed, self.value)
    }
}

/// Accumulates problems while validation keeps going.
#[derive(Debug, Default)]
pub struct Checker {
    pub problems: Vec<Problem>,
}

impl Checker {
    pub fn report(&mut self, path: impl Into<String>, allowed: impl Into<String>, value: impl fmt::Display) {
        self.problems.push(Problem { path: path.into(), allowed: allowed.into(), value: value.to_string() });
    }

    /// `v` in `[lo, hi]`; returns `v` either way so validation can continue.
    pub fn range(&mut self, path: impl Into<String>, v: f64, lo: f64, hi: f64) -> f64 {
        if !(lo <= v && v <= hi) {
            self.report(path, format!("must be in [{lo}, {hi}]"), v);
        }
        v
    }

    /// `v > 0` and finite.
    pub fn positive(&mut self, path: impl Into<String>, v: f64) -> f64 {
        if !(v > 0.0 && v.is_finite()) {
            self.report(path, "must be a finite number > 0", v);
        }
        v
    }

    /// Any finite number.
    pub fn finite(&mut self, path: impl Into<String>, v: f64) -> f64 {
        if !v.is_finite() {
            self.report(path, "must be a finite number", v);
        }
        v
    }

    /// An integer in `[lo, hi]`, returned as u64 (0 when out of range).
    pub fn count(&mut self, path: impl Into<String>, v: i64, lo: i64, hi: i64) -> u64 {
        if !(lo..=hi).contains(&v) {
            self.report(path, format!("must be an integer in [{lo}, {hi}]"), v);
            return 0;
        }
        v as u64
    }

    /// An interval `[lo, hi]` of finite values with `lo <= hi`, both inside `[min, max]`.
    pub fn interval(&mut self, path: &str, v: [f64; 2], min: f64, max: f64) -> [f64; 2] {
        if !(min <= v[0] && v[0] <= v[1] && v[1] <= max) {
            self.report(path, format!("must be [lo, hi] with {min} <= lo <= hi <= {max}"), format!("{v:?}"));
        }
        v
    }

    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Whether `s` is a valid id: 1 to 64 characters of `a-z`, `0-9`, `_`, starting with a letter.
pub fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_fails_every_check() {
        let mut c = Checker::default();
        c.range("a", f64::NAN, 0.0, 1.0);
        c.positive("b", f64::NAN);
        c.finite("d", f64::NAN);
        c.interval("e", [f64::NAN, 1.0], 0.0, 2.0);
        assert_eq!(c.problems.len(), 4);
        assert!(c.problems.iter().all(|p| p.value.contains("NaN")));
    }

    #[test]
    fn ids() {
        assert!(is_id("shed_north"));
        assert!(is_id("c10"));
        assert!(!is_id("Shed"));
        assert!(!is_id("1abc"));
        assert!(!is_id(""));
        assert!(!is_id("a-b"));
    }
}
