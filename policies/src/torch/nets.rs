//! Tensors from the pure-Rust networks, and the forward pass both export and PPO use.

use tch::{Device, Kind, TchError, Tensor};

use crate::Mlp;

/// ½·ln(2π), the per-dimension constant of the Gaussian log-density (f64; the Rust head's f32
/// constant rounds to the same float).
pub(crate) const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// Weights `[out, in]` and biases `[out]` of every layer of `m`, as float32 on `device`.
pub(crate) fn layers(m: &Mlp, device: Device) -> Result<Vec<(Tensor, Tensor)>, TchError> {
    let sizes = m.sizes();
    (0..m.n_layers())
        .map(|l| {
            let (w, b) = m.layer(l);
            let (fan_in, fan_out) = (sizes[l] as i64, sizes[l + 1] as i64);
            Ok((
                Tensor::f_from_slice(w)?.f_reshape([fan_out, fan_in])?.f_to_device(device)?,
                Tensor::f_from_slice(b)?.f_to_device(device)?,
            ))
        })
        .collect()
}

/// `Mlp::forward` on a batch `[B, in]`: linear layers with tanh between them.
pub(crate) fn forward(layers: &[(Tensor, Tensor)], x: &Tensor) -> Result<Tensor, TchError> {
    let mut h = x.shallow_clone();
    for (l, (w, b)) in layers.iter().enumerate() {
        h = h.f_linear(w, Some(b))?;
        if l + 1 < layers.len() {
            h = h.f_tanh()?;
        }
    }
    Ok(h)
}

/// A float32 `[rows, cols]` tensor on `device` from row-major data.
pub(crate) fn matrix(data: &[f32], rows: usize, cols: usize, device: Device) -> Result<Tensor, TchError> {
    Tensor::f_from_slice(data)?.f_reshape([rows as i64, cols as i64])?.f_to_device(device)
}

/// The values of a tensor (any shape, any device), flattened, as f32 on the host.
pub(crate) fn to_vec(t: &Tensor) -> Result<Vec<f32>, TchError> {
    let t = t.f_to_kind(Kind::Float)?.f_to_device(Device::Cpu)?.f_contiguous()?;
    let n = t.numel();
    let mut v = vec![0.0f32; n];
    t.f_copy_data(&mut v, n)?;
    Ok(v)
}
