//! Episodes of the waypoint game, their metrics and the LMRL-Gym normalised score (research
//! spec §1.3–1.4); the suite that compares the questioners is [`crate::eval::dialogue`].
//!
//! Every agent plays the same episodes: episode `i` of seed `s` resets the game with
//! [`episode_seed`]`(s, i)`, so targets and first commands are shared (common random numbers),
//! and do not depend on the noise level (the game draws noise from its own stream).
//!
//! Normalised score (LMRL-Gym `compute_score_normalizations.py`): with `min` the worst possible
//! return ([`GameConfig::worst_return`](super::waypoint_game::GameConfig::worst_return)), `avg` the random-question baseline's mean return at
//! the same noise, and `max` the optimal questioner's mean return on the same episodes with
//! noise-free answers (an upper bound at any noise, since noise only removes information),
//! `score < avg ⇒ 50·(score − min)/(avg − min)`, else `50 + 50·(score − avg)/(max − avg)`.

use super::Action;
use super::baselines::{OptimalQuestioner, RandomQuestioner};
use super::dialogue::DialogueAgent;
use super::learned::LearnedAgent;
use super::waypoint_game::{History, Outcome, WaypointGame};

/// An agent that plays the game from the text history.
pub trait DialoguePolicy {
    /// Starts a new episode; `seed` is for stochastic policies.
    fn reset(&mut self, seed: u64);
    /// The next action, given the whole history so far.
    fn act(&mut self, history: &History) -> Action;
}

impl DialoguePolicy for DialogueAgent {
    fn reset(&mut self, _seed: u64) {
        DialogueAgent::reset(self);
    }
    fn act(&mut self, history: &History) -> Action {
        DialogueAgent::act(self, history)
    }
}

impl DialoguePolicy for RandomQuestioner {
    fn reset(&mut self, seed: u64) {
        RandomQuestioner::reset(self, seed);
    }
    fn act(&mut self, history: &History) -> Action {
        RandomQuestioner::act(self, history)
    }
}

impl DialoguePolicy for LearnedAgent {
    fn reset(&mut self, _seed: u64) {
        LearnedAgent::reset(self);
    }
    fn act(&mut self, history: &History) -> Action {
        LearnedAgent::act(self, history)
    }
}

impl DialoguePolicy for OptimalQuestioner {
    fn reset(&mut self, _seed: u64) {
        OptimalQuestioner::reset(self);
    }
    fn act(&mut self, history: &History) -> Action {
        OptimalQuestioner::act(self, history)
    }
}

/// SplitMix64 of the seed and episode index: independent-looking child seeds, never the clock.
pub fn episode_seed(seed: u64, episode: u64) -> u64 {
    let mut z = seed ^ episode.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(0x632b_e59b_d9b4_e019);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Aggregates over episodes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Metrics {
    /// Episodes played.
    pub episodes: u64,
    /// Fraction committed to the hidden target.
    pub success_rate: f64,
    /// Fraction committed to another waypoint (the safety-relevant failure).
    pub wrong_commit_rate: f64,
    /// Fraction that ran out of turns.
    pub out_of_turns_rate: f64,
    /// Fraction the agent stopped.
    pub stop_rate: f64,
    /// Mean questions (every non-commit turn, confirmations included) per episode.
    pub mean_questions: f64,
    /// Mean summed reward per episode.
    pub mean_return: f64,
}

/// Plays `episodes` episodes.
pub fn run_episodes(
    game: &mut WaypointGame,
    policy: &mut dyn DialoguePolicy,
    episodes: u64,
    seed: u64,
) -> Metrics {
    let mut m = Metrics { episodes, ..Metrics::default() };
    for i in 0..episodes {
        let mut history = game.reset(episode_seed(seed, i));
        policy.reset(episode_seed(seed ^ 0x706f_6c69_6379, i));
        loop {
            let action = policy.act(&history);
            if action.is_question() {
                m.mean_questions += 1.0;
            }
            let step = game.step(&action.to_string());
            m.mean_return += step.reward;
            history = step.history;
            if step.done {
                match step.outcome {
                    Some(Outcome::Success) => m.success_rate += 1.0,
                    Some(Outcome::WrongCommit) => m.wrong_commit_rate += 1.0,
                    Some(Outcome::OutOfTurns) => m.out_of_turns_rate += 1.0,
                    Some(Outcome::Stopped) => m.stop_rate += 1.0,
                    None => {}
                }
                break;
            }
        }
    }
    let n = episodes.max(1) as f64;
    for x in [
        &mut m.success_rate,
        &mut m.wrong_commit_rate,
        &mut m.out_of_turns_rate,
        &mut m.stop_rate,
        &mut m.mean_questions,
        &mut m.mean_return,
    ] {
        *x /= n;
    }
    m
}

/// LMRL-Gym's piecewise-linear normalisation: `worst` → 0, `random` → 50, `optimal` → 100.
pub fn normalised_score(score: f64, worst: f64, random: f64, optimal: f64) -> f64 {
    if score < random {
        if random > worst { 50.0 * (score - worst) / (random - worst) } else { 0.0 }
    } else if optimal > random {
        50.0 + 50.0 * (score - random) / (optimal - random)
    } else {
        50.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_maps_the_anchors() {
        assert_eq!(normalised_score(-19.0, -19.0, -4.0, -2.0), 0.0);
        assert_eq!(normalised_score(-4.0, -19.0, -4.0, -2.0), 50.0);
        assert_eq!(normalised_score(-2.0, -19.0, -4.0, -2.0), 100.0);
        assert_eq!(normalised_score(-3.0, -19.0, -4.0, -2.0), 75.0);
    }

    #[test]
    fn episode_seeds_differ() {
        let seeds: std::collections::BTreeSet<u64> = (0..1000).map(|i| episode_seed(3, i)).collect();
        assert_eq!(seeds.len(), 1000);
    }
}
