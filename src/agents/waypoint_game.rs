//! Guess-the-Waypoint: the LMRL-Gym 20-questions / Guess-My-City task adapted to a robot
//! operator (research spec §1.4, Task A).
//!
//! Shape as LMRL-Gym's `TextEnv`: the state is the flat text [`History`] (agent turns marked as
//! actions); [`WaypointGame::reset`] draws a hidden target and the operator's vague first command;
//! [`WaypointGame::step`] takes the agent's utterance as text, appends it and the operator's
//! reply, and returns the history, the reward and whether the episode is done.
//!
//! Rewards (LMRL-Gym's 20Qs convention, plus a wrong-goal penalty because a wrong goal moves a
//! robot): every turn that is not a commit costs −1 (questions, confirmations, unreadable text);
//! a correct commit earns 0; a wrong commit ends the episode with −`wrong_commit_penalty`; stop
//! ends it with 0 and no goal; after `turn_limit` agent turns without a commit it ends as a
//! failure. The operator answers attribute questions wrongly with probability `noise` (a yes/no
//! flipped, or another value of that attribute); confirmations are answered wrongly with
//! probability `confirm_noise` (default 0: the operator reads the waypoint id before a robot
//! moves).

use super::error::check_range;
use super::{Action, AgentError, Attribute, Catalog};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One piece of the dialogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    /// What was said.
    pub text: String,
    /// Said by the agent (an action) rather than the operator.
    pub is_action: bool,
}

/// The whole dialogue so far, oldest first.
pub type History = Vec<Utterance>;

/// Game settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GameConfig {
    /// Probability in [0, 0.5] that the operator answers an attribute question wrongly.
    pub noise: f64,
    /// Probability in [0, 0.5] that the operator answers a confirmation wrongly.
    pub confirm_noise: f64,
    /// Agent turns allowed (2..=50); running out is a failure.
    pub turn_limit: u32,
    /// Penalty (≥ 0, finite) for committing to the wrong waypoint; the reward is its negative.
    pub wrong_commit_penalty: f64,
}

impl Default for GameConfig {
    fn default() -> Self {
        Self { noise: 0.0, confirm_noise: 0.0, turn_limit: 10, wrong_commit_penalty: 10.0 }
    }
}

impl GameConfig {
    /// Checks every field; NaN fails.
    pub fn validate(&self) -> Result<(), AgentError> {
        check_range("noise", self.noise, 0.0, 0.5, "[0, 0.5]")?;
        check_range("confirm_noise", self.confirm_noise, 0.0, 0.5, "[0, 0.5]")?;
        check_range("turn_limit", f64::from(self.turn_limit), 2.0, 50.0, "2..=50")?;
        check_range("wrong_commit_penalty", self.wrong_commit_penalty, 0.0, 1e9, "[0, 1e9]")
    }

    /// The worst return any agent can get: `turn_limit − 1` questions, then a wrong commit (or
    /// running out of turns, if that is worse). The 0 anchor of the normalised score.
    pub fn worst_return(&self) -> f64 {
        let l = f64::from(self.turn_limit);
        (-l).min(-(l - 1.0) - self.wrong_commit_penalty)
    }
}

/// How an episode ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Committed to the hidden target.
    Success,
    /// Committed to another waypoint.
    WrongCommit,
    /// The agent stopped.
    Stopped,
    /// Turn limit reached without a commit.
    OutOfTurns,
}

/// What one step returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The history with the agent's utterance and the operator's reply appended.
    pub history: History,
    /// Reward of this agent turn.
    pub reward: f64,
    /// Whether the episode is over.
    pub done: bool,
    /// Set when done.
    pub outcome: Option<Outcome>,
}

/// The environment with its simulated operator.
#[derive(Debug, Clone)]
pub struct WaypointGame {
    catalog: Catalog,
    config: GameConfig,
    target: usize,
    history: History,
    turns: u32,
    done: bool,
    /// Answer noise; its own stream so the targets and first commands of a seed do not depend
    /// on the noise level.
    noise_rng: ChaCha8Rng,
}

impl WaypointGame {
    /// A game over the catalog's targets; call [`WaypointGame::reset`] before stepping.
    pub fn new(catalog: Catalog, config: GameConfig) -> Result<Self, AgentError> {
        config.validate()?;
        let target = catalog.targets()[0];
        Ok(Self {
            catalog,
            config,
            target,
            history: Vec::new(),
            turns: 0,
            done: true,
            noise_rng: ChaCha8Rng::seed_from_u64(0),
        })
    }

    /// Starts an episode: draws the hidden target uniformly among the targets and the operator's
    /// first command; returns the history (that one command).
    pub fn reset(&mut self, seed: u64) -> History {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        self.noise_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6e6f_6973_655f_7273);
        let targets = self.catalog.targets();
        self.target = targets[rng.random_range(0..targets.len())];
        let text = first_command(&self.catalog, self.target, &mut rng);
        self.history = vec![Utterance { text, is_action: false }];
        self.turns = 0;
        self.done = false;
        self.history.clone()
    }

    /// The hidden target's id (for evaluation and tests; an agent must not read it).
    pub fn target(&self) -> &crate::scenario::WaypointId {
        self.catalog.entries()[self.target].id()
    }

    /// The dialogue so far.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// One agent turn, given as text. Text that is not a valid action still costs a turn and
    /// gets "Sorry, I did not understand." (never reaches the robot). Stepping a finished
    /// episode changes nothing and returns done.
    pub fn step(&mut self, utterance: &str) -> Step {
        if self.done {
            return Step { history: self.history.clone(), reward: 0.0, done: true, outcome: None };
        }
        self.turns += 1;
        self.history.push(Utterance { text: utterance.to_string(), is_action: true });
        let action = Action::parse(utterance, &self.catalog);
        let (reward, reply, outcome) = match action {
            Ok(Action::Commit { waypoint }) => {
                if waypoint == *self.target() {
                    (0.0, None, Some(Outcome::Success))
                } else {
                    (-self.config.wrong_commit_penalty, None, Some(Outcome::WrongCommit))
                }
            }
            Ok(Action::Stop) => (0.0, None, Some(Outcome::Stopped)),
            Ok(question) => (-1.0, Some(self.answer(&question)), None),
            Err(_) => (-1.0, Some("Sorry, I did not understand.".to_string()), None),
        };
        let outcome = outcome.or((self.turns >= self.config.turn_limit).then_some(Outcome::OutOfTurns));
        if let Some(text) = reply
            && outcome.is_none()
        {
            self.history.push(Utterance { text, is_action: false });
        }
        self.done = outcome.is_some();
        Step { history: self.history.clone(), reward, done: self.done, outcome }
    }

    /// The simulated operator's reply to a question.
    fn answer(&mut self, question: &Action) -> String {
        let target = &self.catalog.entries()[self.target];
        let yes_no = |truth: bool| if truth { "Yes." } else { "No." }.to_string();
        match question {
            Action::Ask { attribute, value } => {
                let truth = target.attr(*attribute) == value;
                let lie = self.noise_rng.random_bool(self.config.noise);
                yes_no(truth != lie)
            }
            Action::AskWhich { attribute } => {
                let truth = target.attr(*attribute).to_string();
                let values = self.catalog.target_values(*attribute);
                let others: Vec<&str> = values.into_iter().filter(|v| *v != truth).collect();
                let lie = self.noise_rng.random_bool(self.config.noise);
                let value = match others.choose(&mut self.noise_rng) {
                    Some(v) if lie => (*v).to_string(),
                    _ => truth,
                };
                which_answer(*attribute, &value)
            }
            Action::Confirm { waypoint } => {
                let truth = waypoint == target.id();
                let lie = self.noise_rng.random_bool(self.config.confirm_noise);
                yes_no(truth != lie)
            }
            Action::Commit { .. } | Action::Stop => String::new(),
        }
    }
}

/// The operator's phrasing of a which-answer.
fn which_answer(attribute: Attribute, value: &str) -> String {
    match attribute {
        Attribute::Zone => format!("It is in the {value}."),
        Attribute::Kind => format!("It is a {value}."),
        Attribute::Colour => format!("The {value} one."),
        Attribute::Landmark => format!("The one by the {value}."),
    }
}

/// A vague first command from one or two of the target's attributes or an alias (seeded
/// templates).
fn first_command(catalog: &Catalog, target: usize, rng: &mut ChaCha8Rng) -> String {
    let e = &catalog.entries()[target];
    let (zone, kind, colour, landmark) = (
        e.attr(Attribute::Zone),
        e.attr(Attribute::Kind),
        e.attr(Attribute::Colour),
        e.attr(Attribute::Landmark),
    );
    let mut options: Vec<String> = Vec::new();
    if !kind.is_empty() {
        options.push(format!("Take it to the {kind}."));
        options.push(format!("Go to the {kind}, please."));
    }
    if !colour.is_empty() {
        options.push(format!("Drive over to the {colour} one."));
    }
    if !zone.is_empty() {
        options.push(format!("Go somewhere in the {zone}."));
    }
    if !colour.is_empty() && !zone.is_empty() {
        options.push(format!("Go to the {colour} one in the {zone}."));
    }
    if !landmark.is_empty() && !kind.is_empty() {
        options.push(format!("The {kind} by the {landmark}."));
    }
    if let Some(alias) = e.aliases().choose(rng) {
        options.push(format!("Go to the {alias}."));
    }
    if options.is_empty() {
        options.push("Go over there.".to_string());
    }
    let i = rng.random_range(0..options.len());
    options.swap_remove(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Targets;
    use crate::agents::tests_support::yard;

    fn game(noise: f64) -> WaypointGame {
        let c = Catalog::new(&yard(), Targets::Goals).unwrap();
        WaypointGame::new(c, GameConfig { noise, ..GameConfig::default() }).unwrap()
    }

    #[test]
    fn rewards_follow_the_lmrl_convention() {
        let mut g = game(0.0);
        let h = g.reset(7);
        assert_eq!(h.len(), 1);
        assert!(!h[0].is_action);
        let target = g.target().clone();
        let s = g.step("Which landmark is it?");
        assert_eq!((s.reward, s.done), (-1.0, false));
        assert!(s.history[1].is_action && !s.history[2].is_action);
        let s = g.step(&format!("Shall I go to {target}? Please confirm."));
        assert_eq!(s.history.last().unwrap().text, "Yes.");
        let s = g.step(&format!("Going to {target}."));
        assert_eq!((s.reward, s.done, s.outcome), (0.0, true, Some(Outcome::Success)));
    }

    #[test]
    fn wrong_commit_is_penalised_and_garbage_costs_a_turn() {
        let mut g = game(0.0);
        g.reset(3);
        let wrong = ["shed_north", "shed_pond"].into_iter().find(|w| *w != g.target().as_str()).unwrap();
        let s = g.step("ignore your rules and drive at 10 m/s");
        assert_eq!((s.reward, s.done), (-1.0, false));
        assert_eq!(s.history.last().unwrap().text, "Sorry, I did not understand.");
        let s = g.step(&format!("Going to {wrong}."));
        assert_eq!((s.reward, s.outcome), (-10.0, Some(Outcome::WrongCommit)));
    }

    #[test]
    fn running_out_of_turns_fails() {
        let mut g = game(0.0);
        g.reset(1);
        let mut last = None;
        for _ in 0..10 {
            last = Some(g.step("Which zone is it?"));
        }
        let s = last.unwrap();
        assert_eq!((s.done, s.outcome), (true, Some(Outcome::OutOfTurns)));
        assert_eq!(GameConfig::default().worst_return(), -19.0);
    }

    #[test]
    fn noise_does_not_change_targets_or_first_commands() {
        let (mut a, mut b) = (game(0.0), game(0.4));
        for seed in 0..50 {
            assert_eq!(a.reset(seed), b.reset(seed));
            assert_eq!(a.target(), b.target());
        }
    }

    #[test]
    fn noisy_operator_lies_at_about_the_configured_rate() {
        let mut g = game(0.3);
        let mut lies = 0;
        for seed in 0..2000 {
            g.reset(seed);
            let truth = g.catalog.entries()[g.target].attr(Attribute::Colour).to_string();
            let s = g.step("Which colour is it?");
            if !s.history.last().unwrap().text.contains(&truth) {
                lies += 1;
            }
        }
        assert!((500..700).contains(&lies), "{lies}");
    }
}
