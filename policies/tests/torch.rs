//! The libtorch backend against the pure-Rust code: exported TorchScript acts as the Rust
//! policy does, tch PPO gradients match the hand-written ones, a TorchScript actor written by
//! PyTorch (an SB3-style MlpPolicy, `scripts/make-torch-fixture.py`) deploys as a `Policy`,
//! and bad files get errors that name them.
//!
//! Needs libtorch: `scripts/setup-torch.sh && source scripts/torch-env.sh`, then
//! `cargo test -p sim2real-policies --features torch`.
#![cfg(feature = "torch")]

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use sim2real_policies::torch::{self, Device, Error, Minibatch, TorchPpo, TorchScriptPolicy};
use sim2real_policies::{
    Action, ActionSpace, Actor, ActorCritic, Adam, CategoricalPolicy, GaussianPolicy, Mlp, Policy, PpoConfig,
    RunningNorm, clip_grad_norm,
};

const OBS_DIM: usize = 17;

/// One libtorch thread: deterministic and quick on small CI machines.
fn init() {
    tch::set_num_threads(1);
}

/// A 17 → 64 → 64 → head actor-critic whose output layer has gain 2 (so means reach beyond ±1
/// and the clip matters), with normaliser statistics far from the identity (some variances
/// small enough that the ±10 clip triggers).
fn agent(space: ActionSpace, seed: u64) -> ActorCritic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sizes = [OBS_DIM, 64, 64, space.n()];
    let net = Mlp::new(&sizes, 2.0, seed).expect("valid test setup");
    let actor = match space {
        ActionSpace::Box(n) => {
            let log_std = (0..n).map(|_| rng.random_range(-1.0..0.5)).collect();
            Actor::Gaussian(GaussianPolicy::from_parts(net, log_std).expect("valid test setup"))
        }
        ActionSpace::Discrete(_) => {
            Actor::Categorical(CategoricalPolicy::from_net(net).expect("valid test setup"))
        }
    };
    let critic = Mlp::new(&[OBS_DIM, 64, 64, 1], 1.0, seed + 1).expect("valid test setup");
    let mean = (0..OBS_DIM).map(|_| rng.random_range(-3.0..3.0)).collect();
    let var = (0..OBS_DIM).map(|i| if i % 4 == 0 { 0.01 } else { rng.random_range(0.2..25.0) }).collect();
    let norm = RunningNorm::from_stats(mean, var, 5000.0).expect("valid test setup");
    ActorCritic::from_parts(Some(norm), actor, critic).expect("valid test setup")
}

fn observations(n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| (0..OBS_DIM).map(|_| rng.random_range(-6.0..6.0)).collect()).collect()
}

/// What the Rust actor computes before the head's clip/argmax: means or logits.
fn rust_head(agent: &ActorCritic, obs: &[f32]) -> Vec<f32> {
    let mut x = vec![0.0; obs.len()];
    agent.normalize_obs(obs, &mut x);
    let mut y = vec![0.0; agent.actor().net().output_dim()];
    agent.actor().net().forward(&x, &mut y);
    y
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn exported_gaussian_policy_acts_like_the_rust_policy() {
    init();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.pt");
    let agent = agent(ActionSpace::Box(2), 7);
    torch::export(&agent, &file, Device::Cpu).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["policy.pt"], "no temporary file left behind");

    let ts = TorchScriptPolicy::load(&file, OBS_DIM, ActionSpace::Box(2), Device::Cpu).unwrap();
    assert_eq!((ts.obs_dim(), ts.action_space()), (OBS_DIM, ActionSpace::Box(2)));
    let (mut worst, mut clipped) = (0.0f32, 0);
    let (mut a, mut b) = ([0.0f32; 2], [0.0f32; 2]);
    for obs in observations(1000, 1) {
        let Action::Continuous(want) = agent.act(&obs, &mut a) else { panic!("continuous") };
        let Action::Continuous(got) = ts.act(&obs, &mut b) else { panic!("continuous") };
        worst = worst.max(max_abs_diff(want, got));
        clipped += want.iter().filter(|v| v.abs() == 1.0).count();
    }
    assert!(worst <= 1e-5, "max |rust − torchscript| = {worst}");
    // The comparison covers both the clip to ±1 and the unclipped range.
    assert!((100..1900).contains(&clipped), "{clipped} of 2000 action values clipped");
}

#[test]
fn exported_module_takes_a_batch() {
    init();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.pt");
    let agent = agent(ActionSpace::Box(2), 8);
    torch::export(&agent, &file, Device::Cpu).unwrap();
    let module = tch::CModule::load(&file).unwrap();
    let obs = observations(256, 2);
    let flat: Vec<f32> = obs.iter().flatten().copied().collect();
    let x = tch::Tensor::from_slice(&flat).reshape([256, OBS_DIM as i64]);
    let y = module.forward_ts(&[x]).unwrap();
    assert_eq!(y.size(), [256, 2]);
    let y: Vec<f32> = Vec::try_from(y.flatten(0, -1)).unwrap();
    let mut out = [0.0f32; 2];
    for (o, row) in obs.iter().zip(y.chunks(2)) {
        let Action::Continuous(want) = agent.act(o, &mut out) else { panic!("continuous") };
        assert!(max_abs_diff(want, row) <= 1e-5);
    }
}

#[test]
fn exported_categorical_policy_picks_the_same_actions() {
    init();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("discrete.pt");
    let agent = agent(ActionSpace::Discrete(5), 9);
    torch::export(&agent, &file, Device::Cpu).unwrap();
    let ts = TorchScriptPolicy::load(&file, OBS_DIM, ActionSpace::Discrete(5), Device::Cpu).unwrap();
    let mut worst = 0.0f32;
    let mut picked = [0usize; 5];
    for obs in observations(1000, 3) {
        let logits = rust_head(&agent, &obs);
        worst = worst.max(max_abs_diff(&logits, &ts.forward(&obs).unwrap()));
        let Action::Discrete(want) = agent.act(&obs, &mut []) else { panic!("discrete") };
        let Action::Discrete(got) = ts.act(&obs, &mut []) else { panic!("discrete") };
        let mut sorted = logits.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        // Only a near-tie (closer than the numerical tolerance) may pick differently.
        if sorted[0] - sorted[1] > 1e-5 {
            assert_eq!(want, got, "logits {logits:?}");
        }
        picked[want] += 1;
    }
    assert!(worst <= 1e-5, "max |rust − torchscript| logit = {worst}");
    assert!(picked.iter().filter(|&&n| n > 0).count() >= 3, "actions picked: {picked:?}");
}

#[test]
fn non_finite_outputs_are_reported() {
    init();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nan.pt");
    let good = agent(ActionSpace::Box(2), 10);
    let net = good.actor().net();
    let mut params = net.params().to_vec();
    let last = params.len() - 1; // bias of the second action
    params[last] = f32::NAN;
    let net = Mlp::from_params(net.sizes(), params).unwrap();
    let actor = Actor::Gaussian(GaussianPolicy::from_parts(net, good.actor().log_std().to_vec()).unwrap());
    let bad = ActorCritic::from_parts(good.norm().cloned(), actor, good.critic().clone()).unwrap();
    torch::export(&bad, &file, Device::Cpu).unwrap();
    let ts = TorchScriptPolicy::load(&file, OBS_DIM, ActionSpace::Box(2), Device::Cpu).unwrap();
    let obs = vec![0.5; OBS_DIM];
    let mut out = [0.0f32; 2];
    let e = ts.try_act(&obs, &mut out).unwrap_err();
    assert!(matches!(e, Error::NonFiniteOutput { index: 1, .. }), "{e}");
    assert!(e.to_string().contains("nan.pt"), "{e}");
    // The infallible path does not clip NaN into a plausible action.
    let Action::Continuous(a) = ts.act(&obs, &mut out) else { panic!("continuous") };
    assert!(a[0].is_finite() && a[1].is_nan(), "{a:?}");
}

/// A minibatch of `b` samples in the spirit of a rollout: observations as the normaliser would
/// give them, actions drawn around the current means, old log-probabilities offset so ratios
/// fall inside and outside the clip range, old values near the current ones.
fn minibatch(agent: &ActorCritic, b: usize, seed: u64) -> Minibatch {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let space = agent.action_space();
    let mut mb = Minibatch::default();
    for _ in 0..b {
        let raw: Vec<f32> = (0..OBS_DIM).map(|_| rng.random_range(-6.0..6.0)).collect();
        let mut obs = vec![0.0; OBS_DIM];
        agent.normalize_obs(&raw, &mut obs);
        let head = rust_head(agent, &raw);
        let lp = match space {
            ActionSpace::Box(_) => {
                let log_std = agent.actor().log_std();
                let a: Vec<f32> = head
                    .iter()
                    .zip(log_std)
                    .map(|(m, ls)| m + ls.exp() * rng.random_range(-2.0f32..2.0))
                    .collect();
                let lp = GaussianPolicy::log_prob(&head, log_std, &a);
                mb.actions.extend(a);
                lp
            }
            ActionSpace::Discrete(n) => {
                let a = rng.random_range(0..n as u32);
                mb.discrete.push(a);
                CategoricalPolicy::log_prob(&head, a as usize)
            }
        };
        mb.old_log_probs.push(lp - rng.random_range(-0.5..0.5));
        mb.advantages.push(rng.random_range(-3.0..3.0));
        mb.returns.push(rng.random_range(-2.0..2.0));
        mb.old_values.push(agent.value(&obs) + rng.random_range(-0.4..0.4));
        mb.obs.extend(obs);
    }
    mb
}

fn check_gradients(space: ActionSpace, cfg: PpoConfig, seed: u64) {
    init();
    let agent = agent(space, seed);
    let mb = minibatch(&agent, 64, seed + 100);
    let (want_stats, want) = mb.loss_and_grad(&agent, &cfg).expect("tch gradient");
    let mut tp = TorchPpo::new(&agent, cfg, Device::Cpu).expect("valid test setup");
    let (got_stats, got) = tp.loss_and_grad(&mb).expect("valid test setup");
    assert_eq!(want.len(), agent.n_params());
    assert_eq!(got.len(), want.len());
    // Per parameter group (actor, log-std, critic), the largest absolute difference.
    let n_actor = agent.actor().net().params().len();
    let n_log_std = agent.actor().log_std().len();
    let groups = [(0, n_actor), (n_actor, n_actor + n_log_std), (n_actor + n_log_std, want.len())];
    for (lo, hi) in groups {
        let d = max_abs_diff(&want[lo..hi], &got[lo..hi]);
        assert!(d <= 1e-4, "{space:?}: gradient [{lo}, {hi}) differs by {d}");
    }
    assert!(want_stats.grad_norm > 0.1, "a real gradient: norm {}", want_stats.grad_norm);
    for (what, w, g) in [
        ("loss", want_stats.loss, got_stats.loss),
        ("policy loss", want_stats.policy_loss, got_stats.policy_loss),
        ("value loss", want_stats.value_loss, got_stats.value_loss),
        ("entropy", want_stats.entropy, got_stats.entropy),
        ("approx kl", want_stats.approx_kl, got_stats.approx_kl),
        ("clip fraction", want_stats.clip_fraction, got_stats.clip_fraction),
        ("grad norm", want_stats.grad_norm, got_stats.grad_norm),
    ] {
        assert!((w - g).abs() <= 1e-4 * (1.0 + w.abs()), "{space:?} {what}: rust {w}, tch {g}");
    }
    // Some ratios are clipped and some are not, so both branches of the surrogate are compared.
    assert!(want_stats.clip_fraction > 0.05 && want_stats.clip_fraction < 0.95, "{want_stats:?}");
}

#[test]
fn tch_ppo_gradients_match_rust_gaussian() {
    check_gradients(ActionSpace::Box(2), PpoConfig::default(), 21);
    let cfg = PpoConfig { ent_coef: 0.01, clip_range_vf: Some(0.2), ..PpoConfig::default() };
    check_gradients(ActionSpace::Box(3), cfg, 22);
}

#[test]
fn tch_ppo_gradients_match_rust_categorical() {
    let cfg = PpoConfig { ent_coef: 0.05, ..PpoConfig::default() };
    check_gradients(ActionSpace::Discrete(4), cfg, 23);
    let cfg = PpoConfig { normalize_advantage: false, clip_range_vf: Some(0.1), ..PpoConfig::default() };
    check_gradients(ActionSpace::Discrete(3), cfg, 24);
}

/// Three Adam steps with gradient clipping: tch and the Rust optimiser end at the same weights,
/// and `write_to` puts them into an `ActorCritic`.
#[test]
fn tch_ppo_steps_match_rust_adam() {
    init();
    let start = agent(ActionSpace::Box(2), 31);
    let cfg = PpoConfig { learning_rate: 1e-3, ..PpoConfig::default() };
    let mut tp = TorchPpo::new(&start, cfg.clone(), Device::Cpu).unwrap();
    let mut rust = start.clone();
    let mut adam = Adam::new(rust.n_params(), cfg.learning_rate, cfg.adam_eps);
    for k in 0..3 {
        let mb = minibatch(&start, 64, 40 + k);
        let (_, mut g) = mb.loss_and_grad(&rust, &cfg).unwrap();
        let norm = clip_grad_norm(&mut [&mut g], cfg.max_grad_norm);
        let mut flat = flat_params(&rust);
        adam.step(&mut [(&mut flat, &g)]);
        rust = with_params(&rust, &flat);
        let stats = tp.step(&mb).unwrap();
        assert!((stats.grad_norm - f64::from(norm)).abs() <= 1e-4 * f64::from(norm), "step {k}");
        assert!(norm > cfg.max_grad_norm, "the clip is exercised");
    }
    let moved = max_abs_diff(&flat_params(&start), &flat_params(&rust));
    assert!(moved > 1e-3, "the weights moved ({moved})");
    let d = max_abs_diff(&flat_params(&rust), &tp.params_flat().unwrap());
    assert!(d <= 1e-5, "after 3 steps, rust and tch weights differ by {d}");
    let mut back = start.clone();
    tp.write_to(&mut back).unwrap();
    assert!(max_abs_diff(&flat_params(&back), &flat_params(&rust)) <= 1e-5);
    assert_eq!(back.norm(), start.norm());
    assert_eq!(tp.updates(), 3);
}

/// Same weights and minibatches → bit-identical weights after the updates (CPU, one thread).
#[test]
fn tch_ppo_is_deterministic() {
    init();
    let start = agent(ActionSpace::Discrete(3), 33);
    let run = || {
        let mut tp = TorchPpo::new(&start, PpoConfig::default(), Device::Cpu).unwrap();
        for k in 0..3 {
            tp.step(&minibatch(&start, 64, 50 + k)).unwrap();
        }
        tp.params_flat().unwrap()
    };
    let (a, b) = (run(), run());
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
}

#[test]
fn tch_ppo_rejects_a_malformed_minibatch() {
    init();
    let agent = agent(ActionSpace::Box(2), 32);
    let mut tp = TorchPpo::new(&agent, PpoConfig::default(), Device::Cpu).unwrap();
    let mut mb = minibatch(&agent, 8, 1);
    mb.returns.pop();
    let e = tp.step(&mb).unwrap_err().to_string();
    assert!(e.contains("minibatch returns: expected 8, got 7"), "{e}");
    assert_eq!(tp.updates(), 0);
    let bad = PpoConfig { batch_size: 0, ..PpoConfig::default() };
    assert!(TorchPpo::new(&agent, bad, Device::Cpu).is_err());
}

fn flat_params(a: &ActorCritic) -> Vec<f32> {
    let mut v = a.actor().net().params().to_vec();
    v.extend_from_slice(a.actor().log_std());
    v.extend_from_slice(a.critic().params());
    v
}

fn with_params(a: &ActorCritic, flat: &[f32]) -> ActorCritic {
    let n_actor = a.actor().net().params().len();
    let n_ls = a.actor().log_std().len();
    let net = Mlp::from_params(a.actor().net().sizes(), flat[..n_actor].to_vec()).expect("valid test setup");
    let actor = Actor::Gaussian(
        GaussianPolicy::from_parts(net, flat[n_actor..n_actor + n_ls].to_vec()).expect("valid test setup"),
    );
    let critic =
        Mlp::from_params(a.critic().sizes(), flat[n_actor + n_ls..].to_vec()).expect("valid test setup");
    ActorCritic::from_parts(a.norm().cloned(), actor, critic).expect("valid test setup")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// What `scripts/make-torch-fixture.py` wrote beside the module (JSON, read as YAML).
#[derive(Deserialize)]
struct Expected {
    obs_dim: usize,
    action_dim: usize,
    inputs: Vec<Vec<f32>>,
    outputs: Vec<Vec<f32>>,
}

#[test]
fn sb3_style_torchscript_actor_deploys_as_a_policy() {
    init();
    let text = std::fs::read_to_string(fixture("sb3_actor.json")).unwrap();
    let want: Expected = serde_yaml_ng::from_str(&text).unwrap();
    assert_eq!((want.obs_dim, want.action_dim), (OBS_DIM, 2));
    assert_eq!(want.inputs.len(), want.outputs.len());
    let space = ActionSpace::Box(2);
    let ts = TorchScriptPolicy::load(fixture("sb3_actor.pt"), OBS_DIM, space, Device::Cpu).unwrap();
    let mut out = [0.0f32; 2];
    let mut clipped = 0;
    for (x, y) in want.inputs.iter().zip(&want.outputs) {
        let raw = ts.forward(x).unwrap();
        assert!(max_abs_diff(&raw, y) <= 1e-5, "input {x:?}: {raw:?} vs {y:?}");
        let Action::Continuous(a) = ts.act(x, &mut out) else { panic!("continuous") };
        let clip: Vec<f32> = y.iter().map(|v| v.clamp(-1.0, 1.0)).collect();
        assert!(max_abs_diff(a, &clip) <= 1e-5);
        clipped += y.iter().filter(|v| v.abs() > 1.0).count();
    }
    assert!(clipped > 0, "the fixture exercises the clip to the action box");
    // Deployed through the trait object that verification and the runtime hold.
    let policy: Box<dyn Policy> = Box::new(ts);
    assert_eq!(policy.obs_dim(), OBS_DIM);
}

#[test]
fn bad_files_get_errors_that_name_them() {
    init();
    let dir = tempfile::tempdir().unwrap();
    let space = ActionSpace::Box(2);
    let load =
        |f: &Path, obs_dim, space| TorchScriptPolicy::load(f, obs_dim, space, Device::Cpu).unwrap_err();

    let garbage = dir.path().join("garbage.pt");
    std::fs::write(&garbage, b"this is not a TorchScript archive\n").unwrap();
    let e = load(&garbage, OBS_DIM, space);
    assert!(matches!(e, Error::Load { .. }), "{e}");
    assert!(
        e.to_string().contains("garbage.pt") && e.to_string().contains("not a loadable TorchScript"),
        "{e}"
    );

    let truncated = dir.path().join("truncated.pt");
    let bytes = std::fs::read(fixture("sb3_actor.pt")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = load(&truncated, OBS_DIM, space);
    assert!(matches!(e, Error::Load { .. }), "{e}");
    assert!(e.to_string().contains("truncated.pt"), "{e}");

    let missing = dir.path().join("missing.pt");
    let e = load(&missing, OBS_DIM, space);
    assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("missing.pt"), "{e}");

    let sb3 = fixture("sb3_actor.pt");
    let e = load(&sb3, OBS_DIM, ActionSpace::Box(3));
    assert!(matches!(e, Error::OutputShape { expected: 3, .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("sb3_actor.pt") && msg.contains("[1, 2]") && msg.contains("expected 3"), "{msg}");

    // An observation length the module cannot take fails at load, naming the file.
    let e = load(&sb3, 5, space);
    assert!(matches!(e, Error::Module { .. }) && e.to_string().contains("sb3_actor.pt"), "{e}");

    // At act time a wrong observation length is an error, not a libtorch crash.
    let ts = TorchScriptPolicy::load(&sb3, OBS_DIM, space, Device::Cpu).unwrap();
    let e = ts.try_act(&[0.0; 3], &mut [0.0; 2]).unwrap_err();
    assert!(e.to_string().contains("observation length: expected 17, got 3"), "{e}");
}

#[test]
fn export_errors_name_the_file_and_leave_nothing_behind() {
    init();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("no-such-dir").join("policy.pt");
    let e = torch::export(&agent(ActionSpace::Box(2), 1), &file, Device::Cpu).unwrap_err();
    assert!(e.to_string().contains("policy.pt"), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
