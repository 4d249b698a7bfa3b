//! Fisher's exact test on a 2×2 table of successes and failures.

use super::special::ln_gamma;
use crate::Error;

/// Relative tolerance under which a table counts as "as extreme" as the observed one (so
/// that tables equally likely in exact arithmetic are not lost to rounding).
const TIE_REL: f64 = 1e-7;

fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// Two-sided p-value of Fisher's exact test that two campaigns (a: `succ_a` of `n_a`, b:
/// `succ_b` of `n_b`) share one success probability: conditional on the margins, the sum of
/// the hypergeometric probabilities of all tables no more likely than the observed one.
/// Used to check low- against high-fidelity results; a small value says they differ.
/// Empty campaigns give 1.
pub fn fisher_exact(succ_a: u64, n_a: u64, succ_b: u64, n_b: u64) -> Result<f64, Error> {
    if succ_a > n_a {
        return Err(Error::SuccessesExceedTrials { field: "succ_a", successes: succ_a, trials: n_a });
    }
    if succ_b > n_b {
        return Err(Error::SuccessesExceedTrials { field: "succ_b", successes: succ_b, trials: n_b });
    }
    let n = n_a + n_b;
    let k = succ_a + succ_b; // successes in total
    // X = successes in a; X ~ Hypergeometric(n, k, n_a), support [max(0, n_a + k − n), min(k, n_a)].
    let lo = (n_a + k).saturating_sub(n);
    let hi = k.min(n_a);
    let ln_total = ln_choose(n, n_a);
    let ln_pmf = |x: u64| ln_choose(k, x) + ln_choose(n - k, n_a - x) - ln_total;
    let observed = ln_pmf(succ_a);
    let cut = observed + TIE_REL.ln_1p();
    let p: f64 = (lo..=hi).map(ln_pmf).filter(|&l| l <= cut).map(f64::exp).sum();
    Ok(p.min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tables() {
        // Lady tasting tea [[3, 1], [1, 3]]: 34/70.
        let p = fisher_exact(3, 4, 1, 4).unwrap();
        assert!((p - 34.0 / 70.0).abs() < 1e-12);
        assert_eq!(format!("{p:.4}"), "0.4857");
        // [[1, 9], [11, 3]]: a textbook example, p = 0.002759.
        let p = fisher_exact(1, 10, 11, 14).unwrap();
        assert_eq!(format!("{p:.6}"), "0.002759");
        // Symmetric in the campaigns and in success/failure.
        assert!((fisher_exact(11, 14, 1, 10).unwrap() - p).abs() < 1e-15);
        assert!((fisher_exact(9, 10, 3, 14).unwrap() - p).abs() < 1e-12);
        // Identical rates: nothing to see.
        assert!((fisher_exact(45, 50, 90, 100).unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(fisher_exact(0, 0, 0, 0).unwrap(), 1.0);
        // Clearly different campaigns.
        assert!(fisher_exact(98, 100, 70, 100).unwrap() < 1e-6);
        assert!(fisher_exact(5, 4, 1, 4).is_err());
    }
}
