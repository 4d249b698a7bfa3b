//! A multilayer perceptron: tanh hidden layers, linear output, hand-written backprop.
//!
//! Parameters live in one flat `Vec<f32>` (per layer: weights `[out × in]` row-major, as
//! PyTorch stores them, then biases) so the optimiser and gradient clipping see one slice.
//! f32 matches SB3's float32 networks and halves memory traffic at inference; the gradient check
//! shows it is accurate enough for training.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::{Error, derive_seed};

/// Widest hidden layer supported: single-sample passes keep hidden activations on the stack
/// (two arrays of this size) so acting allocates nothing and needs no `&mut self`.
pub const MAX_HIDDEN: usize = 512;

/// Gain of hidden layers at orthogonal init (SB3: √2 for tanh networks).
pub const HIDDEN_GAIN: f32 = std::f32::consts::SQRT_2;

/// A fully connected network `sizes[0] → … → sizes[last]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    sizes: Vec<usize>,
    params: Vec<f32>,
}

impl Mlp {
    /// Orthogonally initialised network (gain √2 on hidden layers, `out_gain` on the output
    /// layer, zero biases), as SB3 does: `out_gain` 0.01 for a policy head, 1 for a value head.
    ///
    /// Errors if there are fewer than two sizes, a size is zero, or a hidden layer is wider than
    /// [`MAX_HIDDEN`].
    pub fn new(sizes: &[usize], out_gain: f32, seed: u64) -> Result<Self, Error> {
        check_sizes(sizes)?;
        let n = n_params(sizes);
        let mut params = vec![0.0; n];
        let mut off = 0;
        let layers = sizes.len() - 1;
        for l in 0..layers {
            let (fan_in, fan_out) = (sizes[l], sizes[l + 1]);
            let gain = if l + 1 == layers { out_gain } else { HIDDEN_GAIN };
            let w = orthogonal(fan_out, fan_in, gain, derive_seed(seed, l as u64));
            params[off..off + w.len()].copy_from_slice(&w);
            off += fan_out * fan_in + fan_out;
        }
        Ok(Self { sizes: sizes.to_vec(), params })
    }

    /// A network with the given parameters (layout as [`Mlp::params`]).
    pub fn from_params(sizes: &[usize], params: Vec<f32>) -> Result<Self, Error> {
        check_sizes(sizes)?;
        let n = n_params(sizes);
        if params.len() != n {
            return Err(Error::DimensionMismatch {
                what: "MLP parameter count",
                expected: n,
                actual: params.len(),
            });
        }
        Ok(Self { sizes: sizes.to_vec(), params })
    }

    /// Layer sizes, input first.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Input width.
    pub fn input_dim(&self) -> usize {
        self.sizes[0]
    }

    /// Output width.
    pub fn output_dim(&self) -> usize {
        self.sizes[self.sizes.len() - 1]
    }

    /// Number of layers with weights.
    pub fn n_layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// All parameters, flat.
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// All parameters, flat and mutable (the optimiser writes here).
    pub fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }

    /// Weights `[out × in]` row-major and biases `[out]` of layer `l`.
    pub fn layer(&self, l: usize) -> (&[f32], &[f32]) {
        let (off, fan_in, fan_out) = self.layer_offset(l);
        let w_end = off + fan_in * fan_out;
        (&self.params[off..w_end], &self.params[w_end..w_end + fan_out])
    }

    fn layer_offset(&self, l: usize) -> (usize, usize, usize) {
        let off = n_params(&self.sizes[..=l]);
        (off, self.sizes[l], self.sizes[l + 1])
    }

    /// Forward pass of one sample into `out` (`output_dim` values); allocates nothing.
    ///
    /// # Panics
    /// If `x` is not `input_dim` long or `out` is shorter than `output_dim`: a caller bug (the
    /// lengths are fixed when the network and the environment are paired), not bad input.
    pub fn forward(&self, x: &[f32], out: &mut [f32]) {
        assert_eq!(x.len(), self.input_dim(), "Mlp input length");
        let mut a = [0.0f32; MAX_HIDDEN];
        let mut b = [0.0f32; MAX_HIDDEN];
        let layers = self.n_layers();
        let mut off = 0;
        for l in 0..layers {
            let (fan_in, fan_out) = (self.sizes[l], self.sizes[l + 1]);
            let w = &self.params[off..off + fan_in * fan_out];
            let bias = &self.params[off + fan_in * fan_out..off + fan_in * fan_out + fan_out];
            off += fan_in * fan_out + fan_out;
            let input: &[f32] = if l == 0 { x } else { &a[..fan_in] };
            if l + 1 == layers {
                affine(w, bias, input, &mut out[..fan_out]);
            } else {
                affine(w, bias, input, &mut b[..fan_out]);
                for v in &mut b[..fan_out] {
                    *v = tanh(*v);
                }
                std::mem::swap(&mut a, &mut b);
            }
        }
    }

    /// Length of the activation cache [`Mlp::forward_train`] fills: every layer's output.
    pub fn acts_len(&self) -> usize {
        self.sizes[1..].iter().sum()
    }

    /// Forward pass that keeps every layer's output in `acts` (for [`Mlp::backward`]).
    ///
    /// # Panics
    /// If `x` is not `input_dim` long or `acts` is not `acts_len` long (caller bug).
    pub fn forward_train(&self, x: &[f32], acts: &mut [f32]) {
        assert_eq!(x.len(), self.input_dim(), "Mlp input length");
        assert_eq!(acts.len(), self.acts_len(), "Mlp activation cache length");
        let layers = self.n_layers();
        let mut off = 0;
        let mut a_off = 0;
        for l in 0..layers {
            let (fan_in, fan_out) = (self.sizes[l], self.sizes[l + 1]);
            let w = &self.params[off..off + fan_in * fan_out];
            let bias = &self.params[off + fan_in * fan_out..off + fan_in * fan_out + fan_out];
            off += fan_in * fan_out + fan_out;
            let (prev, rest) = acts.split_at_mut(a_off);
            let input: &[f32] = if l == 0 { x } else { &prev[a_off - fan_in..] };
            let outp = &mut rest[..fan_out];
            affine(w, bias, input, outp);
            if l + 1 < layers {
                for v in outp.iter_mut() {
                    *v = tanh(*v);
                }
            }
            a_off += fan_out;
        }
    }

    /// The network output inside an activation cache.
    pub fn output<'a>(&self, acts: &'a [f32]) -> &'a [f32] {
        &acts[acts.len() - self.output_dim()..]
    }

    /// Backpropagates `dout` (∂loss/∂output) through the pass cached in `acts` for input `x`,
    /// adding ∂loss/∂params into `grad` (same layout as [`Mlp::params`]).
    pub fn backward(&self, x: &[f32], acts: &[f32], dout: &[f32], grad: &mut [f32]) {
        let layers = self.n_layers();
        // delta holds ∂loss/∂(pre-activation) of the current layer.
        let mut delta = [0.0f32; MAX_HIDDEN];
        let mut prev_delta = [0.0f32; MAX_HIDDEN];
        let mut a_end = acts.len();
        for l in (0..layers).rev() {
            let (fan_in, fan_out) = (self.sizes[l], self.sizes[l + 1]);
            let (off, _, _) = self.layer_offset(l);
            let a_start = a_end - fan_out;
            let input: &[f32] = if l == 0 { x } else { &acts[a_start - fan_in..a_start] };
            let d: &[f32] = if l + 1 == layers { dout } else { &delta[..fan_out] };
            let (gw, gb) = grad[off..off + fan_in * fan_out + fan_out].split_at_mut(fan_in * fan_out);
            for o in 0..fan_out {
                let dv = d[o];
                gb[o] += dv;
                let row = &mut gw[o * fan_in..(o + 1) * fan_in];
                for (g, &xi) in row.iter_mut().zip(input) {
                    *g += dv * xi;
                }
            }
            if l > 0 {
                let w = &self.params[off..off + fan_in * fan_out];
                let pd = &mut prev_delta[..fan_in];
                pd.fill(0.0);
                for o in 0..fan_out {
                    let dv = d[o];
                    for (p, &wi) in pd.iter_mut().zip(&w[o * fan_in..(o + 1) * fan_in]) {
                        *p += dv * wi;
                    }
                }
                // tanh' = 1 − tanh².
                for (p, &h) in pd.iter_mut().zip(input) {
                    *p *= 1.0 - h * h;
                }
                std::mem::swap(&mut delta, &mut prev_delta);
            }
            a_end = a_start;
        }
    }
}

/// `out = W·x + b`. Eight independent accumulators let LLVM vectorise the dot product while the
/// summation order stays fixed (results do not depend on the CPU or the thread count).
fn affine(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    let n = x.len();
    let tail = n - n % 8;
    for (o, y) in out.iter_mut().enumerate() {
        let row = &w[o * n..(o + 1) * n];
        let mut acc = [0.0f32; 8];
        for (r, xs) in row[..tail].chunks_exact(8).zip(x[..tail].chunks_exact(8)) {
            for k in 0..8 {
                acc[k] += r[k] * xs[k];
            }
        }
        let mut s = b[o] + ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (r, xi) in row[tail..].iter().zip(&x[tail..]) {
            s += r * xi;
        }
        *y = s;
    }
}

/// tanh in plain f32 arithmetic: no libm call, so it vectorises (libm's `tanhf` was half the
/// inference time) and gives the same bits on every platform, which keeps trained weights and
/// actions reproducible across machines. Max abs error vs f64 tanh ≈ 1e-7 (see the test).
///
/// |x| < 1/16: odd Taylor series to x⁹ (no cancellation near 0). Otherwise
/// 1 − 2/(e^{2|x|} + 1) with e^y = 2^k · p(r), y = k·ln2 + r, |r| ≤ ln2/2 and p the degree-7
/// Taylor polynomial (relative error < 1e-8). |x| is capped at 10, where tanh rounds to 1 in f32.
#[inline]
pub(crate) fn tanh(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let ax = x.abs().min(10.0);
    let y = 2.0 * ax;
    let k = (y * std::f32::consts::LOG2_E).round();
    let r = (y - k * LN2_HI) - k * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    // k ∈ [0, 29]: 2^k is exact as an f32 built from its exponent bits.
    let e = p * f32::from_bits(((k as i32 + 127) as u32) << 23);
    let big = 1.0 - 2.0 / (e + 1.0);
    let x2 = ax * ax;
    let small =
        ax * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0 + x2 * (62.0 / 2835.0)))));
    let t = if ax < 0.0625 { small } else { big };
    // copysign keeps NaN as NaN (min(NaN, 10) is 10, so restore it explicitly).
    if x.is_nan() { x } else { t.copysign(x) }
}

fn n_params(sizes: &[usize]) -> usize {
    sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
}

fn check_sizes(sizes: &[usize]) -> Result<(), Error> {
    let bad = |allowed| Error::Config { field: "Mlp.sizes", value: format!("{sizes:?}"), allowed };
    if sizes.len() < 2 {
        return Err(bad("at least an input and an output size"));
    }
    if sizes.contains(&0) {
        return Err(bad("every size ≥ 1"));
    }
    if sizes[1..sizes.len() - 1].iter().any(|&s| s > MAX_HIDDEN) {
        return Err(bad("hidden layers at most MAX_HIDDEN (512) wide"));
    }
    Ok(())
}

/// A `rows × cols` matrix with orthonormal rows (rows ≤ cols) or columns (rows > cols), times
/// `gain`: modified Gram-Schmidt in f64 on a Gaussian matrix, equivalent to PyTorch's QR-based
/// `orthogonal_` up to the random draw.
fn orthogonal(rows: usize, cols: usize, gain: f32, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Orthonormalise the `k` vectors of length `len` along the smaller dimension.
    let (k, len) = if rows <= cols { (rows, cols) } else { (cols, rows) };
    let mut v: Vec<Vec<f64>> =
        (0..k).map(|_| (0..len).map(|_| StandardNormal.sample(&mut rng)).collect()).collect();
    for i in 0..k {
        for j in 0..i {
            let (done, cur) = v.split_at_mut(i);
            let dot: f64 = cur[0].iter().zip(&done[j]).map(|(a, b)| a * b).sum();
            for (a, b) in cur[0].iter_mut().zip(&done[j]) {
                *a -= dot * b;
            }
        }
        let norm = v[i].iter().map(|a| a * a).sum::<f64>().sqrt();
        // A Gaussian vector is almost surely independent of the others; guard anyway.
        let norm = if norm > 1e-12 { norm } else { 1.0 };
        for a in &mut v[i] {
            *a /= norm;
        }
    }
    let mut w = vec![0.0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let val = if rows <= cols { v[r][c] } else { v[c][r] };
            w[r * cols + c] = (val * f64::from(gain)) as f32;
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthogonal_rows_and_columns() {
        for (rows, cols) in [(3, 5), (5, 3), (4, 4)] {
            let w = orthogonal(rows, cols, 2.0, 7);
            let (k, len) = if rows <= cols { (rows, cols) } else { (cols, rows) };
            let get = |i: usize, t: usize| if rows <= cols { w[i * cols + t] } else { w[t * cols + i] };
            for i in 0..k {
                for j in 0..k {
                    let dot: f32 = (0..len).map(|t| get(i, t) * get(j, t)).sum();
                    let want = if i == j { 4.0 } else { 0.0 };
                    assert!((dot - want).abs() < 1e-4, "{rows}x{cols} ({i},{j}) {dot}");
                }
            }
        }
    }

    #[test]
    fn forward_matches_forward_train_and_is_seeded() {
        let m = Mlp::new(&[17, 64, 64, 2], 0.01, 3).unwrap();
        assert_eq!(m, Mlp::new(&[17, 64, 64, 2], 0.01, 3).unwrap());
        assert_ne!(m, Mlp::new(&[17, 64, 64, 2], 0.01, 4).unwrap());
        let x: Vec<f32> = (0..17).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut out = [0.0; 2];
        m.forward(&x, &mut out);
        let mut acts = vec![0.0; m.acts_len()];
        m.forward_train(&x, &mut acts);
        assert_eq!(m.output(&acts), &out);
        assert!(out.iter().all(|v| v.abs() < 0.5 && *v != 0.0));
    }

    #[test]
    fn tanh_matches_f64_everywhere() {
        let mut worst = 0.0f64;
        for i in -200_000..=200_000 {
            let x = i as f32 * 1e-4; // [-20, 20]
            let err = (f64::from(tanh(x)) - f64::from(x).tanh()).abs();
            worst = worst.max(err);
            // Relative accuracy near zero, where activations are small.
            if x.abs() < 0.1 && x != 0.0 {
                assert!(err / f64::from(x.abs()) < 2e-6, "x = {x}: rel {}", err / f64::from(x.abs()));
            }
        }
        assert!(worst < 2e-7, "max abs error {worst}");
        assert_eq!(tanh(30.0), 1.0);
        assert_eq!(tanh(-30.0), -1.0);
        assert_eq!(tanh(0.0), 0.0);
        assert!(tanh(f32::NAN).is_nan());
        assert_eq!(tanh(f32::INFINITY), 1.0);
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(Mlp::new(&[3], 1.0, 0).is_err());
        assert!(Mlp::new(&[3, 0, 2], 1.0, 0).is_err());
        assert!(Mlp::new(&[3, MAX_HIDDEN + 1, 2], 1.0, 0).is_err());
        assert!(Mlp::from_params(&[2, 2], vec![0.0; 5]).is_err());
    }
}
