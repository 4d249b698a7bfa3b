//! The libtorch backend against pure Rust, on one thread (`tch::set_num_threads(1)`), CPU.
//!
//! - `torch_export/…`: tracing and saving a 17-64-64-2 Gaussian actor with normalisation.
//! - `torch_act/…`: one deterministic action, TorchScript (`TorchScriptPolicy::act`) vs the
//!   Rust `ActorCritic::act` on the same weights.
//! - `torch_ppo_minibatch/…`: the PPO loss and gradient of one 64-sample minibatch
//!   (`Minibatch::loss_and_grad` vs `TorchPpo::loss_and_grad`), and a full tch update
//!   (gradient, clipping, Adam step: `TorchPpo::step`).
//!
//! Run: `source scripts/torch-env.sh && cargo bench -p sim2real-policies --features torch --bench torch`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim2real_policies::torch::{self, Device, Minibatch, TorchPpo, TorchScriptPolicy};
use sim2real_policies::{ActionSpace, ActorCritic, GaussianPolicy, Policy, PpoConfig, RunningNorm};

const OBS_DIM: usize = 17;

fn agent() -> ActorCritic {
    let a = ActorCritic::new(OBS_DIM, ActionSpace::Box(2), &[64, 64], &[64, 64], true, 0.0, 1)
        .expect("valid shape");
    let mut norm = RunningNorm::new(OBS_DIM);
    let data: Vec<f32> = (0..OBS_DIM * 64).map(|i| (i as f32 * 0.37).cos() * 2.0).collect();
    norm.update(&data);
    ActorCritic::from_parts(Some(norm), a.actor().clone(), a.critic().clone()).expect("matching parts")
}

fn minibatch(agent: &ActorCritic, b: usize) -> Minibatch {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut mb = Minibatch::default();
    let log_std = agent.actor().log_std();
    for _ in 0..b {
        let raw: Vec<f32> = (0..OBS_DIM).map(|_| rng.random_range(-3.0..3.0)).collect();
        let mut obs = vec![0.0; OBS_DIM];
        agent.normalize_obs(&raw, &mut obs);
        let mut mean = [0.0f32; 2];
        agent.actor().net().forward(&obs, &mut mean);
        let a: Vec<f32> = mean.iter().map(|m| m + rng.random_range(-1.0f32..1.0)).collect();
        mb.old_log_probs.push(GaussianPolicy::log_prob(&mean, log_std, &a) - rng.random_range(-0.3..0.3));
        mb.actions.extend(a);
        mb.advantages.push(rng.random_range(-2.0..2.0));
        mb.returns.push(rng.random_range(-1.0..1.0));
        mb.old_values.push(agent.value(&obs));
        mb.obs.extend(obs);
    }
    mb
}

fn export(c: &mut Criterion) {
    tch::set_num_threads(1);
    let agent = agent();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("policy.pt");
    let mut g = c.benchmark_group("torch_export");
    g.sample_size(20);
    g.bench_function("gaussian_17_64_64_2", |b| {
        b.iter(|| torch::export(&agent, &file, Device::Cpu).expect("export"))
    });
    g.finish();
}

fn act(c: &mut Criterion) {
    tch::set_num_threads(1);
    let agent = agent();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("policy.pt");
    torch::export(&agent, &file, Device::Cpu).expect("export");
    let ts = TorchScriptPolicy::load(&file, OBS_DIM, ActionSpace::Box(2), Device::Cpu).expect("load");
    let obs: Vec<f32> = (0..OBS_DIM).map(|i| (i as f32 * 0.7).sin() * 3.0).collect();
    let mut out = [0.0f32; 2];
    let mut g = c.benchmark_group("torch_act");
    g.bench_function("rust_17_64_64_2", |b| {
        b.iter(|| {
            let a = agent.act(black_box(&obs), &mut out);
            black_box(a);
        })
    });
    g.bench_function("torchscript_17_64_64_2", |b| {
        b.iter(|| {
            let a = ts.act(black_box(&obs), &mut out);
            black_box(a);
        })
    });
    g.finish();
}

fn ppo(c: &mut Criterion) {
    tch::set_num_threads(1);
    let agent = agent();
    let cfg = PpoConfig::default();
    let mb = minibatch(&agent, cfg.batch_size);
    let mut tp = TorchPpo::new(&agent, cfg.clone(), Device::Cpu).expect("tch ppo");
    let mut g = c.benchmark_group("torch_ppo_minibatch");
    g.bench_function("rust_grad_64", |b| b.iter(|| mb.loss_and_grad(black_box(&agent), &cfg).expect("grad")));
    g.bench_function("tch_grad_64", |b| b.iter(|| tp.loss_and_grad(black_box(&mb)).expect("grad")));
    g.bench_function("tch_step_64", |b| b.iter(|| tp.step(black_box(&mb)).expect("step")));
    g.finish();
}

criterion_group!(benches, export, act, ppo);
criterion_main!(benches);
