//! [`TorchScriptPolicy`]: any TorchScript actor, deployed as a [`Policy`].

use std::path::{Path, PathBuf};

use tch::{CModule, Device, Kind};

use super::{Error, nets};
use crate::heads::argmax;
use crate::{Action, ActionSpace, Policy};

/// A TorchScript module that maps a float32 observation `[1, obs_dim]` to one action: `n`
/// means for `ActionSpace::Box(n)` (clipped to [-1, 1] when acting, as SB3's `predict` clips
/// to the action box) or `n` scores for `ActionSpace::Discrete(n)` (the action is the argmax,
/// lowest index on ties).
pub struct TorchScriptPolicy {
    module: CModule,
    file: PathBuf,
    obs_dim: usize,
    space: ActionSpace,
    device: Device,
}

impl std::fmt::Debug for TorchScriptPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TorchScriptPolicy")
            .field("file", &self.file)
            .field("obs_dim", &self.obs_dim)
            .field("space", &self.space)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl TorchScriptPolicy {
    /// Loads `file` onto `device` in eval mode and checks, with a zero observation, that it
    /// returns `space.n()` values (shape `[n]` or `[1, n]`). Errors name the file.
    pub fn load(
        file: impl AsRef<Path>,
        obs_dim: usize,
        space: ActionSpace,
        device: Device,
    ) -> Result<Self, Error> {
        let file = file.as_ref().to_path_buf();
        if space.n() == 0 || obs_dim == 0 {
            return Err(crate::Error::Config {
                field: "TorchScriptPolicy dimensions",
                value: format!("obs_dim {obs_dim}, {space:?}"),
                allowed: "at least one observation value and one action",
            }
            .into());
        }
        // A missing or unreadable file is an I/O error, not a "bad TorchScript" one.
        std::fs::File::open(&file).map_err(|source| Error::Io { file: file.clone(), source })?;
        let mut module = CModule::load_on_device(&file, device)
            .map_err(|source| Error::Load { file: file.clone(), source })?;
        module.f_set_eval().map_err(|source| Error::Load { file: file.clone(), source })?;
        let policy = Self { module, file, obs_dim, space, device };
        policy.forward(&vec![0.0; obs_dim])?;
        Ok(policy)
    }

    /// The file it was loaded from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The device it runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The module's raw output for one observation (`space.n()` values: unclipped means or
    /// scores), possibly non-finite.
    pub fn forward(&self, obs: &[f32]) -> Result<Vec<f32>, Error> {
        if obs.len() != self.obs_dim {
            return Err(crate::Error::DimensionMismatch {
                what: "TorchScriptPolicy observation length",
                expected: self.obs_dim,
                actual: obs.len(),
            }
            .into());
        }
        let module_err =
            |what: &'static str| move |source| Error::Module { file: self.file.clone(), what, source };
        let _no_grad = tch::no_grad_guard();
        let x =
            nets::matrix(obs, 1, self.obs_dim, self.device).map_err(module_err("copying the observation"))?;
        let y = self.module.forward_ts(&[x]).map_err(module_err("forward pass"))?;
        let n = self.space.n();
        let shape = y.size();
        let ok = matches!(shape.as_slice(), [m] | [1, m] if *m == n as i64);
        let float = matches!(y.f_kind(), Ok(Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16));
        if !ok || !float {
            return Err(Error::OutputShape {
                file: self.file.clone(),
                obs_dim: self.obs_dim,
                expected: n,
                actual: shape,
            });
        }
        nets::to_vec(&y).map_err(module_err("reading the output"))
    }

    /// The deterministic action for `obs`, as [`Policy::act`], but with every failure returned:
    /// a wrong observation length, a libtorch error, or a non-finite output.
    pub fn try_act<'o>(&self, obs: &[f32], out: &'o mut [f32]) -> Result<Action<'o>, Error> {
        let y = self.forward(obs)?;
        if let Some((index, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFiniteOutput { file: self.file.clone(), index, value });
        }
        Ok(match self.space {
            ActionSpace::Box(n) => {
                for (o, v) in out[..n].iter_mut().zip(&y) {
                    *o = v.clamp(-1.0, 1.0);
                }
                Action::Continuous(&out[..n])
            }
            ActionSpace::Discrete(_) => Action::Discrete(argmax(&y)),
        })
    }
}

impl Policy for TorchScriptPolicy {
    fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    fn action_space(&self) -> ActionSpace {
        self.space
    }

    /// The deterministic action (see [`TorchScriptPolicy::try_act`] for a fallible version).
    ///
    /// A non-finite continuous output is not hidden by the clip to [-1, 1]: that action value
    /// is NaN, for the caller's safety checks to stop on.
    ///
    /// # Panics
    /// If `obs` is not `obs_dim()` long (a wiring bug, as the trait allows), if libtorch fails
    /// on a forward pass that [`TorchScriptPolicy::load`] already ran on the same shape, or if
    /// a discrete policy's scores are not finite (no action index could report it).
    fn act<'o>(&self, obs: &[f32], out: &'o mut [f32]) -> Action<'o> {
        let y = match self.forward(obs) {
            Ok(y) => y,
            Err(e) => panic!("TorchScriptPolicy::act: {e}"),
        };
        match self.space {
            ActionSpace::Box(n) => {
                for (o, v) in out[..n].iter_mut().zip(&y) {
                    *o = if v.is_finite() { v.clamp(-1.0, 1.0) } else { f32::NAN };
                }
                Action::Continuous(&out[..n])
            }
            ActionSpace::Discrete(_) => {
                if let Some(v) = y.iter().find(|v| !v.is_finite()) {
                    panic!("TorchScriptPolicy::act: {}: non-finite action score {v}", self.file.display());
                }
                Action::Discrete(argmax(&y))
            }
        }
    }
}
