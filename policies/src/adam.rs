//! Adam (PyTorch's formulation, eps 1e-5 as SB3 sets it) and global gradient-norm clipping.

/// Adam over several parameter groups that share one step count, like one PyTorch optimiser
/// over actor, log-std and critic.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    t: u64,
    m: Vec<f32>,
    v: Vec<f32>,
}

impl Adam {
    /// Zero moments for `n_params` parameters in total; β = (0.9, 0.999).
    pub fn new(n_params: usize, lr: f32, eps: f32) -> Self {
        Self { lr, beta1: 0.9, beta2: 0.999, eps, t: 0, m: vec![0.0; n_params], v: vec![0.0; n_params] }
    }

    /// Learning rate.
    pub fn lr(&self) -> f32 {
        self.lr
    }

    /// Changes the learning rate (for schedules).
    pub fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// One step: `groups` are (parameters, gradients) pairs whose lengths add up to `n_params`,
    /// always passed in the same order.
    pub fn step(&mut self, groups: &mut [(&mut [f32], &[f32])]) {
        self.t += 1;
        let bc1 = 1.0 - self.beta1.powi(self.t.min(i32::MAX as u64) as i32);
        let bc2 = 1.0 - self.beta2.powi(self.t.min(i32::MAX as u64) as i32);
        let step_size = self.lr / bc1;
        let bc2_sqrt = bc2.sqrt();
        let mut k = 0;
        for (params, grads) in groups.iter_mut() {
            for (p, &g) in params.iter_mut().zip(grads.iter()) {
                let m = &mut self.m[k];
                let v = &mut self.v[k];
                *m = self.beta1 * *m + (1.0 - self.beta1) * g;
                *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
                *p -= step_size * *m / (v.sqrt() / bc2_sqrt + self.eps);
                k += 1;
            }
        }
        debug_assert_eq!(k, self.m.len(), "Adam groups must cover every parameter");
    }
}

/// Scales all gradients together so their global L2 norm is at most `max_norm` (PyTorch's
/// `clip_grad_norm_`, coefficient max_norm / (norm + 1e-6)); returns the norm before clipping.
pub fn clip_grad_norm(groups: &mut [&mut [f32]], max_norm: f32) -> f32 {
    // Summed in f64 in a fixed order: the norm decides the step, so keep it exact and stable.
    let sq: f64 = groups.iter().flat_map(|g| g.iter()).map(|&g| f64::from(g) * f64::from(g)).sum();
    let norm = sq.sqrt() as f32;
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        for g in groups.iter_mut().flat_map(|g| g.iter_mut()) {
            *g *= coef;
        }
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_adam_step_moves_each_parameter_by_lr() {
        // With bias correction the first step is lr · g/|g| (up to eps).
        let mut adam = Adam::new(3, 0.1, 1e-8);
        let mut p = [1.0, 2.0, 3.0];
        let (a, b) = p.split_at_mut(2);
        adam.step(&mut [(a, &[0.5, -2.0][..]), (b, &[1e-3][..])]);
        assert!((p[0] - 0.9).abs() < 1e-6 && (p[1] - 2.1).abs() < 1e-6 && (p[2] - 2.9).abs() < 1e-4);
    }

    #[test]
    fn adam_minimises_a_quadratic() {
        let mut adam = Adam::new(2, 0.05, 1e-5);
        let mut p = [3.0f32, -2.0];
        for _ in 0..1000 {
            let g = [2.0 * (p[0] - 1.0), 2.0 * (p[1] + 0.5)];
            adam.step(&mut [(&mut p[..], &g[..])]);
        }
        assert!((p[0] - 1.0).abs() < 1e-2 && (p[1] + 0.5).abs() < 1e-2, "{p:?}");
    }

    #[test]
    fn clipping_scales_the_global_norm() {
        let mut a = [3.0f32];
        let mut b = [4.0f32];
        let n = clip_grad_norm(&mut [&mut a, &mut b], 0.5);
        assert_eq!(n, 5.0);
        assert!((a[0] - 0.3).abs() < 1e-6 && (b[0] - 0.4).abs() < 1e-6);
        let mut c = [0.1f32];
        clip_grad_norm(&mut [&mut c], 0.5);
        assert_eq!(c[0], 0.1);
    }
}
