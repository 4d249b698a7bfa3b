//! Inference latency and PPO training throughput.
//!
//! - `act/…`: one deterministic action for a 17-float observation (9 state + 8 range values)
//!   through normalisation and a 64-64 tanh actor (target ≤ 2 µs).
//! - `ppo/…`: end-to-end PPO (rollout + 10 epochs of updates, SB3 default settings) on the
//!   toy `PointGoal` environment; throughput in environment steps per second.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim2real_policies::toy::PointGoal;
use sim2real_policies::{ActionSpace, ActorCritic, Control, Policy, Ppo, PpoConfig, RunningNorm};

fn act(c: &mut Criterion) {
    let mut g = c.benchmark_group("act");
    let obs: Vec<f32> = (0..17).map(|i| (i as f32 * 0.7).sin() * 3.0).collect();
    let mut agent =
        ActorCritic::new(17, ActionSpace::Box(2), &[64, 64], &[64, 64], true, 0.0, 1).expect("valid shape");
    let mut norm = RunningNorm::new(17);
    let data: Vec<f32> = (0..17 * 64).map(|i| (i as f32 * 0.37).cos() * 2.0).collect();
    norm.update(&data);
    agent = ActorCritic::from_parts(Some(norm), agent.actor().clone(), agent.critic().clone())
        .expect("matching parts");
    let mut out = [0.0f32; 2];
    g.bench_function("gaussian_17_64_64_2", |b| {
        b.iter(|| {
            let a = agent.act(black_box(&obs), &mut out);
            black_box(a);
        })
    });
    let disc = ActorCritic::new(17, ActionSpace::Discrete(5), &[64, 64], &[64, 64], true, 0.0, 1)
        .expect("valid shape");
    g.bench_function("categorical_17_64_64_5", |b| {
        b.iter(|| {
            let a = disc.act(black_box(&obs), &mut []);
            black_box(a);
        })
    });
    g.finish();
}

fn ppo(c: &mut Criterion) {
    let mut g = c.benchmark_group("ppo");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for n_envs in [1usize, 2] {
        let steps = 2048u64;
        g.throughput(Throughput::Elements(steps));
        g.bench_function(format!("point_goal_64_64_envs{n_envs}"), |b| {
            let cfg = PpoConfig { n_envs, n_steps: 512 / n_envs, ..PpoConfig::default() };
            let mut ppo = Ppo::new(cfg, 4, ActionSpace::Box(2), 0).expect("valid config");
            let mut envs = ppo.vec_env(|_| PointGoal::default()).expect("valid envs");
            b.iter(|| ppo.learn(&mut envs, steps, |_| Control::Continue).expect("training"))
        });
    }
    g.finish();
}

criterion_group!(benches, act, ppo);
criterion_main!(benches);
