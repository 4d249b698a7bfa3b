//! [`export`]: an [`ActorCritic`]'s deterministic action function as a TorchScript file.

use std::path::{Path, PathBuf};

use tch::{CModule, Device, Kind, TchError, Tensor};

use super::Error;
use super::nets;
use crate::{Actor, ActorCritic, NORM_CLIP, Policy};

/// Writes `agent`'s deterministic action function to `file` as TorchScript, traced on `device`
/// (the module's constants live there; `CModule::load_on_device` can move them).
///
/// The module maps a float32 observation `[B, obs_dim]` (or `[obs_dim]`) to what
/// [`Policy::act`] computes from it, in the same order of operations:
/// 1. with a normaliser, `clamp((x − mean) / √(var + 1e-8), ±10)` in float64 (the Rust code
///    normalises in f64 too), then back to float32;
/// 2. the actor network: linear layers with tanh between them;
/// 3. a Gaussian head returns the mean clipped to [-1, 1]; a categorical head returns the
///    logits (the action is their argmax, as [`super::TorchScriptPolicy`] and SB3 take it).
///
/// The file is written to a temporary name beside `file` and renamed, so a failure never leaves
/// a partial file at `file`.
pub fn export(agent: &ActorCritic, file: impl AsRef<Path>, device: Device) -> Result<(), Error> {
    let file = file.as_ref();
    let module = trace(agent, device)?;
    let tmp = temp_path(file);
    if let Err(source) = module.save(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Module { file: file.to_path_buf(), what: "saving the traced module", source });
    }
    std::fs::File::open(&tmp).and_then(|f| f.sync_all()).and_then(|()| std::fs::rename(&tmp, file)).map_err(
        |source| {
            let _ = std::fs::remove_file(&tmp);
            Error::Io { file: file.to_path_buf(), source }
        },
    )?;
    crate::policy_file::sync_dir(file);
    Ok(())
}

/// The traced module, in memory.
fn trace(agent: &ActorCritic, device: Device) -> Result<CModule, Error> {
    let layers = nets::layers(agent.actor.net(), device).map_err(torch("copying the actor weights"))?;
    // Mean and √(var + ε) in f64, so the module normalises with the Rust code's arithmetic.
    let norm = match agent.norm() {
        Some(n) => {
            let std: Vec<f64> = n.var().iter().map(|v| (v + crate::NORM_EPSILON).sqrt()).collect();
            let to_device = |v: &[f64]| Tensor::f_from_slice(v)?.f_to_device(device);
            let copied = to_device(n.mean()).and_then(|m| Ok((m, to_device(&std)?)));
            Some(copied.map_err(torch("copying the normaliser"))?)
        }
        None => None,
    };
    let gaussian = matches!(agent.actor, Actor::Gaussian(_));
    let act = |x: &Tensor| -> Result<Tensor, TchError> {
        let x = match &norm {
            Some((mean, std)) => x
                .f_to_kind(Kind::Double)?
                .f_sub(mean)?
                .f_div(std)?
                .f_clamp(-NORM_CLIP, NORM_CLIP)?
                .f_to_kind(Kind::Float)?,
            None => x.shallow_clone(),
        };
        let head = nets::forward(&layers, &x)?;
        if gaussian { head.f_clamp(-1.0, 1.0) } else { Ok(head) }
    };
    let example = Tensor::f_zeros([1, agent.obs_dim() as i64], (Kind::Float, device))
        .map_err(torch("example input"))?;
    // The tracing closure cannot return an error; keep the first one and report it after.
    let mut failed: Option<TchError> = None;
    let mut traced_fn = |inputs: &[Tensor]| match act(&inputs[0]) {
        Ok(y) => vec![y],
        Err(e) => {
            failed.get_or_insert(e);
            Vec::new()
        }
    };
    let traced = CModule::create_by_tracing("ActorCritic", "forward", &[example], &mut traced_fn);
    match (failed, traced) {
        (Some(e), _) | (None, Err(e)) => Err(torch("tracing the action function")(e)),
        (None, Ok(m)) => Ok(m),
    }
}

/// Wraps a tch error with what was being done.
fn torch(what: &'static str) -> impl Fn(TchError) -> Error {
    move |source| Error::Torch { what, source }
}

/// `dir/.name.tmp-<pid>`: same directory (so the rename is atomic), hidden, per process.
fn temp_path(file: &Path) -> PathBuf {
    let name = file.file_name().map_or_else(|| "policy.pt".into(), |n| n.to_string_lossy().into_owned());
    file.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
