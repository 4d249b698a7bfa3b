use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::{Control, Ppo, PpoConfig, toy::PointGoal};

fn meta(n: usize) -> PolicyMeta {
    PolicyMeta {
        subtask: "c0".into(),
        control_rate_hz: 10.0,
        observation: (0..n).map(|i| ObsField { name: format!("x{i}"), unit: "m".into() }).collect(),
        linear_mps: 3.0,
        angular_rps: 1.5,
        reverse_mps: 0.5,
        ranges: None,
    }
}

/// A briefly trained Gaussian policy with a non-trivial normaliser.
fn trained() -> (Ppo, PolicyFile) {
    let cfg = PpoConfig {
        n_envs: 2,
        n_steps: 64,
        n_epochs: 1,
        actor_hidden: vec![16, 16],
        critic_hidden: vec![8],
        ..PpoConfig::default()
    };
    let mut ppo = Ppo::new(cfg, 4, ActionSpace::Box(2), 5).unwrap();
    let mut envs = ppo.vec_env(|_| PointGoal::default()).unwrap();
    ppo.learn(&mut envs, 256, |_| Control::Continue).unwrap();
    let file = PolicyFile::new(ppo.agent(), meta(4), ppo.steps_done(), ppo.seed(), true).unwrap();
    (ppo, file)
}

fn random_obs(n: usize, k: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(k);
    (0..n).map(|_| rng.random_range(-3.0..3.0)).collect()
}

#[test]
fn round_trip_gives_bit_identical_actions() {
    let dir = tempfile::tempdir().unwrap();
    let (ppo, file) = trained();
    let (w, c) = file.save(dir.path(), "c0").unwrap();
    assert!(w.ends_with("c0.safetensors") && c.ends_with("c0.contract.yaml"));
    let loaded = PolicyFile::load(dir.path(), "c0").unwrap();
    assert_eq!(loaded, file);
    assert_eq!(loaded.contract().training_steps, 256);
    assert_eq!(loaded.to_actor_critic().as_ref(), Some(ppo.agent()));
    for k in 0..100 {
        let obs = random_obs(4, k);
        let (mut a, mut b) = ([0.0f32; 2], [0.0f32; 2]);
        let x = ppo.agent().act(&obs, &mut a);
        let y = loaded.act(&obs, &mut b);
        let (Action::Continuous(x), Action::Continuous(y)) = (x, y) else { panic!("continuous expected") };
        assert_eq!(
            x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            y.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
    // Only the two files: temporary files were renamed away.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    let yaml = std::fs::read_to_string(c).unwrap();
    assert!(yaml.contains("linear_mps: 3.0") && yaml.contains("kind: continuous"), "{yaml}");
}

#[test]
fn categorical_without_critic_or_normaliser_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let agent = ActorCritic::new(2, ActionSpace::Discrete(3), &[8], &[8], false, 0.0, 1).unwrap();
    let file = PolicyFile::new(&agent, meta(2), 0, 1, false).unwrap();
    file.save(dir.path(), "grid").unwrap();
    let loaded = PolicyFile::load(dir.path(), "grid").unwrap();
    assert_eq!(loaded, file);
    assert!(loaded.critic().is_none() && loaded.to_actor_critic().is_none());
    for k in 0..50 {
        let obs = random_obs(2, k);
        assert_eq!(agent.act(&obs, &mut []), loaded.act(&obs, &mut []));
    }
}

fn err_of(dir: &Path) -> String {
    PolicyFile::load(dir, "c0").unwrap_err().to_string()
}

#[test]
fn truncated_weights_fail_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (w, _) = trained().1.save(dir.path(), "c0").unwrap();
    let bytes = std::fs::read(&w).unwrap();
    for keep in [0, 7, 100, bytes.len() - 1] {
        std::fs::write(&w, &bytes[..keep]).unwrap();
        let e = err_of(dir.path());
        assert!(e.contains("c0.safetensors") && e.contains("not a valid safetensors"), "{keep}: {e}");
    }
}

#[test]
fn flipped_bytes_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (w, _) = trained().1.save(dir.path(), "c0").unwrap();
    let bytes = std::fs::read(&w).unwrap();
    // A flip in the tensor data parses fine; only the checksum catches it.
    let mut data_flip = bytes.clone();
    let last = data_flip.len() - 3;
    data_flip[last] ^= 0x01;
    std::fs::write(&w, &data_flip).unwrap();
    let e = err_of(dir.path());
    assert!(e.contains("c0.safetensors") && e.contains("checksum"), "{e}");
    // A flip in the JSON header breaks the parse or a shape.
    let mut header_flip = bytes.clone();
    header_flip[12] ^= 0x5a;
    std::fs::write(&w, &header_flip).unwrap();
    assert!(err_of(dir.path()).contains("c0.safetensors"));
}

#[test]
fn edited_contract_dimensions_name_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let (_, c) = trained().1.save(dir.path(), "c0").unwrap();
    let yaml = std::fs::read_to_string(&c).unwrap();
    let edited = yaml.replacen("actor_hidden:\n  - 16\n  - 16", "actor_hidden:\n  - 16\n  - 12", 1);
    assert_ne!(edited, yaml, "{yaml}");
    std::fs::write(&c, edited).unwrap();
    let e = err_of(dir.path());
    assert!(e.contains("`actor.1.weight`") && e.contains("[12, 16]") && e.contains("[16, 16]"), "{e}");

    let edited = yaml.replacen("obs_dim: 4", "obs_dim: 5", 1);
    std::fs::write(&c, edited).unwrap();
    let e = err_of(dir.path());
    assert!(e.contains("c0.contract.yaml") && e.contains("network.obs_dim"), "{e}");
}

#[test]
fn missing_tensor_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (ppo, _) = trained();
    let no_critic = PolicyFile::new(ppo.agent(), meta(4), 0, 5, false).unwrap();
    let (_, c) = no_critic.save(dir.path(), "c0").unwrap();
    let yaml = std::fs::read_to_string(&c).unwrap().replace("critic_hidden: null", "critic_hidden:\n  - 8");
    std::fs::write(&c, yaml).unwrap();
    let e = err_of(dir.path());
    assert!(e.contains("`critic.0.weight` is missing"), "{e}");
}

#[test]
fn non_finite_weights_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ppo, _) = trained();
    let mut agent = ppo.agent().clone();
    agent.actor.net_mut().params_mut()[20] = f32::NAN;
    PolicyFile::new(&agent, meta(4), 0, 5, true).unwrap().save(dir.path(), "c0").unwrap();
    let e = err_of(dir.path());
    assert!(e.contains("`actor.0.weight`") && e.contains("non-finite") && e.contains("index 20"), "{e}");
}

#[test]
fn bad_contract_yaml_and_meta_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ppo, file) = trained();
    let (_, c) = file.save(dir.path(), "c0").unwrap();
    let yaml = std::fs::read_to_string(&c).unwrap();
    std::fs::write(&c, format!("{yaml}surprise: 1\n")).unwrap();
    assert!(err_of(dir.path()).contains("surprise"));
    std::fs::write(&c, yaml.replace("control_rate_hz: 10.0", "control_rate_hz: .nan")).unwrap();
    assert!(err_of(dir.path()).contains("control_rate_hz"));
    std::fs::remove_file(&c).unwrap();
    assert!(err_of(dir.path()).contains("c0.contract.yaml"));
    assert!(PolicyFile::new(ppo.agent(), meta(3), 0, 5, true).is_err());
    assert!(PolicyFile::new(ppo.agent(), PolicyMeta { subtask: " ".into(), ..meta(4) }, 0, 5, true).is_err());
    let bad_rate = PolicyMeta { control_rate_hz: f64::NAN, ..meta(4) };
    assert!(PolicyFile::new(ppo.agent(), bad_rate, 0, 5, true).is_err());
}

#[test]
fn save_replaces_an_existing_pair() {
    let dir = tempfile::tempdir().unwrap();
    let (_, file) = trained();
    file.save(dir.path(), "c0").unwrap();
    let agent = ActorCritic::new(4, ActionSpace::Box(2), &[8], &[8], true, 0.0, 9).unwrap();
    let other = PolicyFile::new(&agent, meta(4), 0, 9, true).unwrap();
    other.save(dir.path(), "c0").unwrap();
    assert_eq!(PolicyFile::load(dir.path(), "c0").unwrap(), other);
}
