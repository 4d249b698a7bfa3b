//! Running observation normalisation, as SB3's `VecNormalize`: `clip((x − mean) / √(var + ε), ±10)`.

use crate::Error;

/// Added to the variance before the square root (SB3's `VecNormalize` epsilon).
pub const NORM_EPSILON: f64 = 1e-8;
/// Normalised observations are clipped to ±this (SB3's `clip_obs`).
pub const NORM_CLIP: f64 = 10.0;
/// Initial count, so the first batch dominates without dividing by zero (SB3: 1e-4).
const INITIAL_COUNT: f64 = 1e-4;

/// Mean and variance per observation dimension, with the number of samples they summarise.
///
/// Statistics are f64: they accumulate millions of samples, where f32 sums drift.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningNorm {
    mean: Vec<f64>,
    var: Vec<f64>,
    count: f64,
}

impl RunningNorm {
    /// Zero mean, unit variance, count 1e-4: the identity until the first update.
    pub fn new(dim: usize) -> Self {
        Self { mean: vec![0.0; dim], var: vec![1.0; dim], count: INITIAL_COUNT }
    }

    /// Restores saved statistics; errors if lengths differ, a value is not finite, a variance is
    /// negative or the count is not positive.
    pub fn from_stats(mean: Vec<f64>, var: Vec<f64>, count: f64) -> Result<Self, Error> {
        if mean.len() != var.len() {
            return Err(Error::DimensionMismatch {
                what: "normaliser variance length",
                expected: mean.len(),
                actual: var.len(),
            });
        }
        let ok = mean.iter().all(|m| m.is_finite())
            && var.iter().all(|v| v.is_finite() && *v >= 0.0)
            && count.is_finite()
            && count > 0.0;
        if !ok {
            return Err(Error::Config {
                field: "RunningNorm",
                value: format!("count {count}"),
                allowed: "finite means, finite non-negative variances, positive count",
            });
        }
        Ok(Self { mean, var, count })
    }

    /// Observation dimension.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Per-dimension means.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Per-dimension (population) variances.
    pub fn var(&self) -> &[f64] {
        &self.var
    }

    /// Number of samples summarised (plus the initial 1e-4).
    pub fn count(&self) -> f64 {
        self.count
    }

    /// Merges a batch of observations (`data.len() / dim` rows, row-major) with Chan et al.'s
    /// parallel-variance formula. The batch is summed in row order, so the result is the same
    /// whatever thread collected it.
    pub fn update(&mut self, data: &[f32]) {
        let dim = self.dim();
        if dim == 0 || data.is_empty() {
            return;
        }
        let n = (data.len() / dim) as f64;
        let mut bmean = vec![0.0f64; dim];
        for row in data.chunks_exact(dim) {
            for (m, &x) in bmean.iter_mut().zip(row) {
                *m += f64::from(x);
            }
        }
        bmean.iter_mut().for_each(|m| *m /= n);
        let mut bvar = vec![0.0f64; dim];
        for row in data.chunks_exact(dim) {
            for ((v, &x), m) in bvar.iter_mut().zip(row).zip(&bmean) {
                let d = f64::from(x) - m;
                *v += d * d;
            }
        }
        bvar.iter_mut().for_each(|v| *v /= n);
        let total = self.count + n;
        for i in 0..dim {
            let delta = bmean[i] - self.mean[i];
            let m2 = self.var[i] * self.count + bvar[i] * n + delta * delta * self.count * n / total;
            self.mean[i] += delta * n / total;
            self.var[i] = m2 / total;
        }
        self.count = total;
    }

    /// Writes the normalised, clipped observation into `out`.
    pub fn normalize(&self, x: &[f32], out: &mut [f32]) {
        for (((o, &xi), m), v) in out.iter_mut().zip(x).zip(&self.mean).zip(&self.var) {
            *o = ((f64::from(xi) - m) / (v + NORM_EPSILON).sqrt()).clamp(-NORM_CLIP, NORM_CLIP) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_updates_match_the_whole_data_set() {
        let data: Vec<f32> = (0..300).map(|i| ((i * 37 % 101) as f32) * 0.1 - 2.0).collect();
        let mut a = RunningNorm::new(3);
        a.update(&data[..90]);
        a.update(&data[90..]);
        let mut b = RunningNorm::new(3);
        b.update(&data);
        for d in 0..3 {
            let col: Vec<f64> = data.iter().skip(d).step_by(3).map(|&x| f64::from(x)).collect();
            let mean = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / col.len() as f64;
            assert!((a.mean()[d] - mean).abs() < 1e-5 && (b.mean()[d] - mean).abs() < 1e-5);
            assert!((a.var()[d] - var).abs() < 1e-4 && (b.var()[d] - var).abs() < 1e-4);
        }
    }

    #[test]
    fn clips_at_ten() {
        let n = RunningNorm::from_stats(vec![0.0], vec![1e-6], 5.0).unwrap();
        let mut out = [0.0];
        n.normalize(&[1.0], &mut out);
        assert_eq!(out[0], 10.0);
        n.normalize(&[-1.0], &mut out);
        assert_eq!(out[0], -10.0);
        assert!(RunningNorm::from_stats(vec![f64::NAN], vec![1.0], 1.0).is_err());
        assert!(RunningNorm::from_stats(vec![0.0], vec![1.0], 0.0).is_err());
    }
}
