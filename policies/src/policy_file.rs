//! [`PolicyFile`]: a trained policy on disk as `<stem>.safetensors` (weights, log-std,
//! optional critic, normaliser statistics) plus `<stem>.contract.yaml` ([`Contract`]: what the
//! observation means, how it is normalised, how actions scale, at what rate to run it).
//!
//! Loading checks every tensor against the contract (presence, dtype, shape, finiteness) and
//! the weights file against a checksum recorded in the contract, so a truncated, corrupted or
//! mismatched pair fails with the file and tensor named instead of driving the robot.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};

use crate::{
    Action, ActionSpace, Actor, ActorCritic, CategoricalPolicy, Error, GaussianPolicy, Mlp, NORM_CLIP,
    NORM_EPSILON, Policy, RunningNorm,
};

/// Contract format version written by this code.
pub const CONTRACT_FORMAT: u32 = 2;

/// One observation entry: what it is and in which unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObsField {
    /// Name (e.g. `range_3`, `goal_dx`).
    pub name: String,
    /// Unit (e.g. `m`, `rad`, `m/s`, `1`).
    pub unit: String,
}

/// How network outputs become commands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionContract {
    /// `dim` values in [-1, 1]; the first two scale to linear (m/s) and angular (rad/s) velocity.
    Continuous {
        /// Number of action values.
        dim: usize,
        /// Linear velocity at action 1 (m/s).
        linear_mps: f64,
        /// Angular velocity at action 1 (rad/s).
        angular_rps: f64,
        /// Cap on reverse linear velocity (m/s).
        reverse_mps: f64,
    },
    /// One of `n` discrete actions.
    Discrete {
        /// Number of actions.
        n: usize,
    },
}

/// How the observation's range entries are formed from a planar lidar scan: `count` sectors
/// tiling `fov_deg` centred ahead, each reading the nearest return within it, capped at
/// `max_range_m` (`definition` names the rule, `sector_minimum`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeContract {
    /// Rule that forms a range from the scan.
    pub definition: String,
    /// Number of rays.
    pub count: usize,
    /// Field of view the rays tile (degrees).
    pub fov_deg: f64,
    /// Ranges are capped here (m).
    pub max_range_m: f64,
}

/// Observation normalisation: `clip((x − mean) / √(var + epsilon), ±clip)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormStats {
    /// Samples the statistics summarise.
    pub count: f64,
    /// Per-dimension mean.
    pub mean: Vec<f64>,
    /// Per-dimension variance.
    pub var: Vec<f64>,
    /// Added to the variance.
    pub epsilon: f64,
    /// Clip of the normalised value.
    pub clip: f64,
}

/// Network architecture (tanh hidden layers, linear outputs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkShape {
    /// Input width.
    pub obs_dim: usize,
    /// Hidden widths of the actor.
    pub actor_hidden: Vec<usize>,
    /// Hidden widths of the critic, if the critic is stored.
    pub critic_hidden: Option<Vec<usize>>,
    /// Hidden activation (always `tanh`).
    pub activation: String,
}

/// Everything a runtime must know to use the weights, stored as `<stem>.contract.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// Format version ([`CONTRACT_FORMAT`]).
    pub format: u32,
    /// Subtask id the policy was trained for.
    pub subtask: String,
    /// Control rate the policy was trained at (Hz).
    pub control_rate_hz: f64,
    /// Observation layout, in order.
    pub observation: Vec<ObsField>,
    /// How the range entries are formed from a scan (policies that see ranges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranges: Option<RangeContract>,
    /// Normalisation applied before the networks (absent: raw observations).
    pub normalisation: Option<NormStats>,
    /// Action kind and scale.
    pub action: ActionContract,
    /// Network shape.
    pub network: NetworkShape,
    /// Environment steps of training.
    pub training_steps: u64,
    /// Training seed.
    pub seed: u64,
    /// FNV-1a 64 of the weights file, hex: catches bit flips that still parse. (Integrity
    /// against tampering is the certificate's sha256, not this.)
    pub weights_fnv1a64: String,
}

/// What the caller knows about a policy that training does not.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyMeta {
    /// Subtask id.
    pub subtask: String,
    /// Control rate (Hz).
    pub control_rate_hz: f64,
    /// Observation layout; its length must equal the observation dimension.
    pub observation: Vec<ObsField>,
    /// Linear velocity at action 1 (m/s); ignored for discrete actions.
    pub linear_mps: f64,
    /// Angular velocity at action 1 (rad/s); ignored for discrete actions.
    pub angular_rps: f64,
    /// Cap on reverse linear velocity (m/s); ignored for discrete actions.
    pub reverse_mps: f64,
    /// How the range entries are formed from a scan, if the observation has any.
    pub ranges: Option<RangeContract>,
}

/// A trained policy with its contract; acts deterministically ([`Policy`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFile {
    contract: Contract,
    norm: Option<RunningNorm>,
    actor: Actor,
    critic: Option<Mlp>,
}

impl PolicyFile {
    /// Packs `agent` with `meta`; `with_critic` keeps the value network (to resume training).
    pub fn new(
        agent: &ActorCritic,
        meta: PolicyMeta,
        training_steps: u64,
        seed: u64,
        with_critic: bool,
    ) -> Result<Self, Error> {
        let obs_dim = agent.actor().net().input_dim();
        if meta.observation.len() != obs_dim {
            return Err(Error::DimensionMismatch {
                what: "observation layout entries",
                expected: obs_dim,
                actual: meta.observation.len(),
            });
        }
        if meta.subtask.trim().is_empty() {
            return Err(Error::Config {
                field: "PolicyMeta.subtask",
                value: String::new(),
                allowed: "a non-empty id",
            });
        }
        if !(meta.control_rate_hz > 0.0 && meta.control_rate_hz.is_finite()) {
            return Err(Error::Config {
                field: "PolicyMeta.control_rate_hz",
                value: meta.control_rate_hz.to_string(),
                allowed: "> 0, finite",
            });
        }
        let hidden = |m: &Mlp| m.sizes()[1..m.sizes().len() - 1].to_vec();
        let critic = with_critic.then(|| agent.critic().clone());
        let contract = Contract {
            format: CONTRACT_FORMAT,
            subtask: meta.subtask,
            control_rate_hz: meta.control_rate_hz,
            observation: meta.observation,
            ranges: meta.ranges,
            normalisation: agent.norm().map(|n| NormStats {
                count: n.count(),
                mean: n.mean().to_vec(),
                var: n.var().to_vec(),
                epsilon: NORM_EPSILON,
                clip: NORM_CLIP,
            }),
            action: match agent.actor().action_space() {
                ActionSpace::Box(dim) => ActionContract::Continuous {
                    dim,
                    linear_mps: meta.linear_mps,
                    angular_rps: meta.angular_rps,
                    reverse_mps: meta.reverse_mps,
                },
                ActionSpace::Discrete(n) => ActionContract::Discrete { n },
            },
            network: NetworkShape {
                obs_dim,
                actor_hidden: hidden(agent.actor().net()),
                critic_hidden: critic.as_ref().map(hidden),
                activation: "tanh".into(),
            },
            training_steps,
            seed,
            weights_fnv1a64: String::new(),
        };
        let mut file = Self { contract, norm: agent.norm().cloned(), actor: agent.actor().clone(), critic };
        let bytes = file.weights_bytes(Path::new("<memory>"))?;
        file.contract.weights_fnv1a64 = format!("{:016x}", fnv1a64(&bytes));
        Ok(file)
    }

    /// The contract.
    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// The actor.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The critic, if stored.
    pub fn critic(&self) -> Option<&Mlp> {
        self.critic.as_ref()
    }

    /// The normaliser, if any.
    pub fn norm(&self) -> Option<&RunningNorm> {
        self.norm.as_ref()
    }

    /// Actor and critic for further training; `None` if the critic was not stored.
    pub fn to_actor_critic(&self) -> Option<ActorCritic> {
        let critic = self.critic.clone()?;
        ActorCritic::from_parts(self.norm.clone(), self.actor.clone(), critic).ok()
    }

    /// `dir/<stem>.safetensors` and `dir/<stem>.contract.yaml`.
    pub fn paths(dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
        (dir.join(format!("{stem}.safetensors")), dir.join(format!("{stem}.contract.yaml")))
    }

    /// Writes both files, each to a temporary file renamed into place, weights first: a reader
    /// never sees a half-written file, and an old pair is replaced only by a complete new one.
    pub fn save(&self, dir: &Path, stem: &str) -> Result<(PathBuf, PathBuf), Error> {
        let (wpath, cpath) = Self::paths(dir, stem);
        let bytes = self.weights_bytes(&wpath)?;
        let yaml = serde_yaml_ng::to_string(&self.contract).map_err(|e| Error::Contract {
            file: cpath.clone(),
            field: "-".into(),
            reason: e.to_string(),
        })?;
        write_atomic(&wpath, &bytes)?;
        write_atomic(&cpath, yaml.as_bytes())?;
        Ok((wpath, cpath))
    }

    /// Loads and checks `dir/<stem>.{safetensors,contract.yaml}`.
    pub fn load(dir: &Path, stem: &str) -> Result<Self, Error> {
        let (wpath, cpath) = Self::paths(dir, stem);
        let text =
            std::fs::read_to_string(&cpath).map_err(|source| Error::Io { file: cpath.clone(), source })?;
        let contract: Contract = serde_yaml_ng::from_str(&text).map_err(|e| Error::Contract {
            file: cpath.clone(),
            field: "-".into(),
            reason: e.to_string(),
        })?;
        validate_contract(&contract, &cpath)?;
        let bytes = std::fs::read(&wpath).map_err(|source| Error::Io { file: wpath.clone(), source })?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| Error::Corrupt { file: wpath.clone(), reason: e.to_string() })?;
        let r = Reader { st: &st, file: &wpath };

        let net = &contract.network;
        let (space, head) = match contract.action {
            ActionContract::Continuous { dim, .. } => (ActionSpace::Box(dim), dim),
            ActionContract::Discrete { n } => (ActionSpace::Discrete(n), n),
        };
        let actor_net = r.mlp("actor", &sizes(net.obs_dim, &net.actor_hidden, head))?;
        let actor = match space {
            ActionSpace::Box(dim) => {
                let log_std = r.f32s("log_std", &[dim])?;
                Actor::Gaussian(GaussianPolicy::from_parts(actor_net, log_std)?)
            }
            ActionSpace::Discrete(_) => Actor::Categorical(CategoricalPolicy::from_net(actor_net)?),
        };
        let critic = match &net.critic_hidden {
            Some(h) => Some(r.mlp("critic", &sizes(net.obs_dim, h, 1))?),
            None => None,
        };
        let norm = match &contract.normalisation {
            Some(stats) => {
                let d = net.obs_dim;
                let mean = r.f64s("norm.mean", &[d])?;
                let var = r.f64s("norm.var", &[d])?;
                let count = r.f64s("norm.count", &[1])?[0];
                let same = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
                if !(same(&mean, &stats.mean)
                    && same(&var, &stats.var)
                    && count.to_bits() == stats.count.to_bits())
                {
                    return Err(Error::Contract {
                        file: cpath,
                        field: "normalisation".into(),
                        reason: "statistics differ from the norm.* tensors of the weights file".into(),
                    });
                }
                Some(RunningNorm::from_stats(mean, var, count).map_err(|_| Error::NonFinite {
                    file: wpath.clone(),
                    tensor: "norm.var".into(),
                    index: 0,
                })?)
            }
            None => None,
        };
        let sum = format!("{:016x}", fnv1a64(&bytes));
        if sum != contract.weights_fnv1a64 {
            return Err(Error::Corrupt {
                file: wpath,
                reason: format!(
                    "checksum {sum} differs from the contract's weights_fnv1a64 {}",
                    contract.weights_fnv1a64
                ),
            });
        }
        Ok(Self { contract, norm, actor, critic })
    }

    fn weights_bytes(&self, file: &Path) -> Result<Vec<u8>, Error> {
        let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        let mut push_mlp = |prefix: &str, m: &Mlp| {
            for l in 0..m.n_layers() {
                let (w, b) = m.layer(l);
                let (fi, fo) = (m.sizes()[l], m.sizes()[l + 1]);
                tensors.push((format!("{prefix}.{l}.weight"), Dtype::F32, vec![fo, fi], le_f32(w)));
                tensors.push((format!("{prefix}.{l}.bias"), Dtype::F32, vec![fo], le_f32(b)));
            }
        };
        push_mlp("actor", self.actor.net());
        if let Some(c) = &self.critic {
            push_mlp("critic", c);
        }
        if let Actor::Gaussian(g) = &self.actor {
            tensors.push(("log_std".into(), Dtype::F32, vec![g.log_std().len()], le_f32(g.log_std())));
        }
        if let Some(n) = &self.norm {
            tensors.push(("norm.mean".into(), Dtype::F64, vec![n.dim()], le_f64(n.mean())));
            tensors.push(("norm.var".into(), Dtype::F64, vec![n.dim()], le_f64(n.var())));
            tensors.push(("norm.count".into(), Dtype::F64, vec![1], le_f64(&[n.count()])));
        }
        let corrupt = |e: safetensors::SafeTensorError| Error::Corrupt {
            file: file.to_path_buf(),
            reason: e.to_string(),
        };
        let views = tensors
            .iter()
            .map(|(name, dt, shape, data)| {
                Ok((name.clone(), TensorView::new(*dt, shape.clone(), data).map_err(corrupt)?))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        safetensors::serialize(views, None::<HashMap<String, String>>).map_err(corrupt)
    }
}

impl Policy for PolicyFile {
    fn obs_dim(&self) -> usize {
        self.actor.net().input_dim()
    }

    fn action_space(&self) -> ActionSpace {
        self.actor.action_space()
    }

    fn act<'o>(&self, obs: &[f32], out: &'o mut [f32]) -> Action<'o> {
        let mut buf = [0.0f32; 1024];
        let n = obs.len();
        if n > buf.len() {
            let mut v = vec![0.0; n];
            normalize(self.norm.as_ref(), obs, &mut v);
            return self.actor.deterministic(&v, out);
        }
        normalize(self.norm.as_ref(), obs, &mut buf[..n]);
        self.actor.deterministic(&buf[..n], out)
    }
}

fn normalize(norm: Option<&RunningNorm>, obs: &[f32], out: &mut [f32]) {
    match norm {
        Some(n) => n.normalize(obs, out),
        None => out.copy_from_slice(obs),
    }
}

/// Typed, shape-checked access to the tensors of one file.
struct Reader<'a> {
    st: &'a SafeTensors<'a>,
    file: &'a Path,
}

impl Reader<'_> {
    fn view(&self, name: &str, dtype: Dtype, shape: &[usize]) -> Result<TensorView<'_>, Error> {
        let t = self
            .st
            .tensor(name)
            .map_err(|_| Error::MissingTensor { file: self.file.to_path_buf(), tensor: name.into() })?;
        if t.dtype() != dtype {
            return Err(Error::TensorDtype {
                file: self.file.to_path_buf(),
                tensor: name.into(),
                expected: if dtype == Dtype::F32 { "F32" } else { "F64" },
                actual: format!("{:?}", t.dtype()),
            });
        }
        if t.shape() != shape {
            return Err(Error::TensorShape {
                file: self.file.to_path_buf(),
                tensor: name.into(),
                expected: shape.to_vec(),
                actual: t.shape().to_vec(),
            });
        }
        Ok(t)
    }

    fn f32s(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, Error> {
        let t = self.view(name, Dtype::F32, shape)?;
        let v: Vec<f32> =
            t.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        self.finite(name, v.iter().map(|x| x.is_finite()))?;
        Ok(v)
    }

    fn f64s(&self, name: &str, shape: &[usize]) -> Result<Vec<f64>, Error> {
        let t = self.view(name, Dtype::F64, shape)?;
        let v: Vec<f64> = t
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
        self.finite(name, v.iter().map(|x| x.is_finite()))?;
        Ok(v)
    }

    fn finite(&self, name: &str, ok: impl Iterator<Item = bool>) -> Result<(), Error> {
        match ok.enumerate().find(|(_, ok)| !ok) {
            Some((index, _)) => {
                Err(Error::NonFinite { file: self.file.to_path_buf(), tensor: name.into(), index })
            }
            None => Ok(()),
        }
    }

    fn mlp(&self, prefix: &str, sizes: &[usize]) -> Result<Mlp, Error> {
        let mut params = Vec::new();
        for l in 0..sizes.len() - 1 {
            params.extend(self.f32s(&format!("{prefix}.{l}.weight"), &[sizes[l + 1], sizes[l]])?);
            params.extend(self.f32s(&format!("{prefix}.{l}.bias"), &[sizes[l + 1]])?);
        }
        Mlp::from_params(sizes, params)
    }
}

fn validate_contract(c: &Contract, file: &Path) -> Result<(), Error> {
    let bad = |field: &str, reason: String| {
        Err(Error::Contract { file: file.to_path_buf(), field: field.into(), reason })
    };
    if c.subtask.trim().is_empty() {
        return bad("subtask", "must not be empty".into());
    }
    if c.format != CONTRACT_FORMAT {
        return bad("format", format!("{} is not supported (expected {CONTRACT_FORMAT})", c.format));
    }
    let n = &c.network;
    if n.activation != "tanh" {
        return bad("network.activation", format!("`{}` is not supported (expected tanh)", n.activation));
    }
    if n.obs_dim == 0 || n.obs_dim != c.observation.len() {
        return bad(
            "network.obs_dim",
            format!("{} must be ≥ 1 and equal the {} observation entries", n.obs_dim, c.observation.len()),
        );
    }
    let widths_ok = |h: &[usize]| h.iter().all(|&w| (1..=crate::mlp::MAX_HIDDEN).contains(&w));
    if !widths_ok(&n.actor_hidden) {
        return bad("network.actor_hidden", format!("{:?}: widths must be 1 ..= 512", n.actor_hidden));
    }
    if let Some(h) = &n.critic_hidden
        && !widths_ok(h)
    {
        return bad("network.critic_hidden", format!("{h:?}: widths must be 1 ..= 512"));
    }
    match c.action {
        ActionContract::Continuous { dim, linear_mps, angular_rps, reverse_mps } => {
            if dim == 0 || dim > crate::mlp::MAX_HIDDEN {
                return bad("action.dim", format!("{dim} must be 1 ..= 512"));
            }
            if !(linear_mps >= 0.0 && linear_mps.is_finite() && angular_rps >= 0.0 && angular_rps.is_finite())
            {
                return bad(
                    "action",
                    format!("scales {linear_mps} m/s, {angular_rps} rad/s must be finite and ≥ 0"),
                );
            }
            if !(0.0..=linear_mps).contains(&reverse_mps) {
                return bad("action.reverse_mps", format!("{reverse_mps} must be in [0, linear_mps]"));
            }
        }
        ActionContract::Discrete { n } => {
            if n == 0 || n > crate::mlp::MAX_HIDDEN {
                return bad("action.n", format!("{n} must be 1 ..= 512"));
            }
        }
    }
    if !(c.control_rate_hz > 0.0 && c.control_rate_hz.is_finite()) {
        return bad("control_rate_hz", format!("{} must be > 0 and finite", c.control_rate_hz));
    }
    if let Some(s) = &c.normalisation {
        if s.mean.len() != n.obs_dim || s.var.len() != n.obs_dim {
            return bad("normalisation", format!("mean/var lengths must equal obs_dim {}", n.obs_dim));
        }
        if s.epsilon.to_bits() != NORM_EPSILON.to_bits() || s.clip.to_bits() != NORM_CLIP.to_bits() {
            return bad(
                "normalisation",
                format!("epsilon {} / clip {} must be {NORM_EPSILON} / {NORM_CLIP}", s.epsilon, s.clip),
            );
        }
    }
    Ok(())
}

fn sizes(input: usize, hidden: &[usize], output: usize) -> Vec<usize> {
    let mut s = vec![input];
    s.extend_from_slice(hidden);
    s.push(output);
    s
}

fn le_f32(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn le_f64(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// FNV-1a, 64-bit: a few lines, no dependency, and any single flipped bit changes it.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Writes `path` via a temporary sibling and a rename, so it is either old or new, never torn.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io { file: path.to_path_buf(), source };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        // Best effort: a leftover temp file is harmless but untidy.
        let _ = std::fs::remove_file(&tmp);
    } else {
        sync_dir(path);
    }
    result.map_err(io)
}

/// Flushes the directory holding `path` so the rename survives a crash (best effort: the file
/// is in place already, and some platforms cannot open a directory).
pub(crate) fn sync_dir(path: &Path) {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests;
