//! The deterministic dialogue agent (research spec §5): a Bayesian belief over the target
//! waypoints, questions chosen by expected information gain, confirmation before every commit,
//! and stop words that always win.
//!
//! Belief: the operator is modelled as answering attribute questions wrongly with probability
//! `answer_noise` (a wrong which-answer is uniform over the other values), so one wrong answer
//! lowers the truth's probability instead of eliminating it, and later answers can recover it.
//! Free-text slots (the first command, extra words in an answer) are evidence with the same
//! noise. Confirmations are modelled with `confirm_noise`.
//!
//! Decision, each turn: stop if the operator said stop (ever); commit to the most probable
//! waypoint only if the operator has just confirmed *that* waypoint (answering the previous
//! turn: a confirmation followed by any other action is void) and its probability is at least
//! `commit_threshold`; ask to confirm it when its probability reaches `confirm_threshold` (or
//! when only two turns are left); otherwise ask the attribute question with the largest expected
//! information gain (ties: [`Attribute::ALL`] order, the which-question before yes/no questions,
//! then values alphabetically). Nothing here reads a clock or a random generator.

use super::error::check_range;
use super::parser::{Parser, Reading, Subject};
use super::understanding::{self, LlmReader, LlmStats, Understanding};
use super::waypoint_game::History;
use super::{Action, AgentError, Attribute, Catalog};
use crate::scenario::WaypointId;

/// Settings of the agent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DialogueConfig {
    /// Assumed probability in [0.001, 0.49] that an attribute answer is wrong.
    pub answer_noise: f64,
    /// Assumed probability in [0.001, 0.49] that a confirmation answer is wrong.
    pub confirm_noise: f64,
    /// Belief in (0, 1] at which the agent asks to confirm its best guess.
    pub confirm_threshold: f64,
    /// Belief in (0, 1] a confirmed waypoint needs before the agent commits to it.
    pub commit_threshold: f64,
    /// Agent turns available (the game's turn limit, 2..=50).
    pub turn_limit: u32,
}

impl Default for DialogueConfig {
    fn default() -> Self {
        Self {
            answer_noise: 0.1,
            confirm_noise: 0.02,
            confirm_threshold: 0.75,
            commit_threshold: 0.9,
            turn_limit: 10,
        }
    }
}

impl DialogueConfig {
    /// Checks every field; NaN fails.
    pub fn validate(&self) -> Result<(), AgentError> {
        check_range("answer_noise", self.answer_noise, 0.001, 0.49, "[0.001, 0.49]")?;
        check_range("confirm_noise", self.confirm_noise, 0.001, 0.49, "[0.001, 0.49]")?;
        check_range("confirm_threshold", self.confirm_threshold, 1e-9, 1.0, "(0, 1]")?;
        check_range("commit_threshold", self.commit_threshold, 1e-9, 1.0, "(0, 1]")?;
        check_range("turn_limit", f64::from(self.turn_limit), 2.0, 50.0, "2..=50")
    }
}

/// A probability distribution over the catalog's targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Belief {
    /// Catalog indices of the targets.
    targets: Vec<usize>,
    /// Probability of each target, same order.
    p: Vec<f64>,
}

impl Belief {
    /// Uniform over the targets.
    pub fn uniform(catalog: &Catalog) -> Self {
        let n = catalog.targets().len();
        Self { targets: catalog.targets().to_vec(), p: vec![1.0 / n as f64; n] }
    }

    /// Multiplies by a likelihood (per catalog index) and renormalises; a likelihood that is
    /// zero everywhere is ignored rather than destroying the belief.
    pub fn update(&mut self, likelihood: impl Fn(usize) -> f64) {
        let post: Vec<f64> = self.targets.iter().zip(&self.p).map(|(&w, &p)| p * likelihood(w)).collect();
        let total: f64 = post.iter().sum();
        if total > 0.0 && total.is_finite() {
            self.p = post.into_iter().map(|q| q / total).collect();
        }
    }

    /// The most probable target (catalog index) and its probability; ties go to the lower index.
    pub fn map(&self) -> (usize, f64) {
        let mut best = (self.targets[0], self.p[0]);
        for (&w, &p) in self.targets.iter().zip(&self.p).skip(1) {
            if p > best.1 + 1e-12 {
                best = (w, p);
            }
        }
        best
    }

    /// Probability of a catalog index (0 for non-targets).
    pub fn prob(&self, w: usize) -> f64 {
        self.targets.iter().position(|&t| t == w).map_or(0.0, |i| self.p[i])
    }

    /// (catalog index, probability) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.targets.iter().copied().zip(self.p.iter().copied())
    }

    /// Shannon entropy in bits.
    pub fn entropy_bits(&self) -> f64 {
        entropy(&self.p)
    }
}

fn entropy(p: &[f64]) -> f64 {
    p.iter().filter(|&&q| q > 0.0).map(|&q| -q * q.log2()).sum()
}

/// The attribute questions worth asking about the targets, in tie-break order.
pub(crate) fn question_pool(catalog: &Catalog) -> Vec<Action> {
    let mut pool = Vec::new();
    for a in Attribute::ALL {
        let values = catalog.target_values(a);
        if values.len() < 2 {
            continue;
        }
        pool.push(Action::AskWhich { attribute: a });
        pool.extend(values.into_iter().map(|v| Action::Ask { attribute: a, value: v.to_string() }));
    }
    pool
}

/// P(answer | target) for a question under the noise model, as a table: one row per possible
/// answer, one column per target of the belief. Empty for non-questions.
fn answer_model(catalog: &Catalog, belief: &Belief, q: &Action, eps: f64) -> Vec<Vec<f64>> {
    let attr_of = |w: usize, a: Attribute| catalog.entries()[w].attr(a);
    match q {
        Action::Ask { attribute, value } => {
            let yes: Vec<f64> = belief
                .targets
                .iter()
                .map(|&w| if attr_of(w, *attribute) == value { 1.0 - eps } else { eps })
                .collect();
            let no = yes.iter().map(|y| 1.0 - y).collect();
            vec![yes, no]
        }
        Action::AskWhich { attribute } => {
            let values = catalog.target_values(*attribute);
            let k = values.len().max(2) as f64;
            values
                .iter()
                .map(|v| {
                    belief
                        .targets
                        .iter()
                        .map(|&w| if attr_of(w, *attribute) == *v { 1.0 - eps } else { eps / (k - 1.0) })
                        .collect()
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Expected information gain (bits) of a question under the noise model.
pub fn expected_information_gain(catalog: &Catalog, belief: &Belief, q: &Action, eps: f64) -> f64 {
    let h0 = belief.entropy_bits();
    let mut expected_h = 0.0;
    for row in answer_model(catalog, belief, q, eps) {
        let joint: Vec<f64> = row.iter().zip(&belief.p).map(|(l, p)| l * p).collect();
        let po: f64 = joint.iter().sum();
        if po > 0.0 {
            let post: Vec<f64> = joint.iter().map(|j| j / po).collect();
            expected_h += po * entropy(&post);
        }
    }
    h0 - expected_h
}

/// What the agent tracks between turns; shared with the random baseline.
#[derive(Debug, Clone)]
pub(crate) struct Tracker {
    pub(crate) belief: Belief,
    /// The waypoint the operator confirmed in answer to the last action (catalog index).
    pub(crate) confirmed: Option<usize>,
    pub(crate) stopped: bool,
    /// The agent's previous action (what the operator's next words answer).
    pub(crate) last: Option<Action>,
    /// Agent turns taken.
    pub(crate) turns: u32,
    /// History items already read.
    seen: usize,
}

impl Tracker {
    pub(crate) fn new(catalog: &Catalog) -> Self {
        Self {
            belief: Belief::uniform(catalog),
            confirmed: None,
            stopped: false,
            last: None,
            turns: 0,
            seen: 0,
        }
    }

    /// Updates the belief from one operator utterance, read as an answer to the last action.
    pub(crate) fn absorb(&mut self, catalog: &Catalog, r: &Reading, eps: f64, eps_confirm: f64) {
        if r.stop {
            self.stopped = true;
            return;
        }
        let attr = |w: usize, a: Attribute| catalog.entries()[w].attr(a).to_string();
        let mut answered: Option<Attribute> = None;
        match &self.last {
            Some(Action::Ask { attribute, value }) => {
                if let Some(yes) = r.answer() {
                    self.belief
                        .update(|w| if (attr(w, *attribute) == *value) == yes { 1.0 - eps } else { eps });
                }
            }
            Some(Action::AskWhich { attribute }) => {
                if let Some(v) = r.value_of(*attribute) {
                    let k = catalog.target_values(*attribute).len().max(2) as f64;
                    self.belief
                        .update(|w| if attr(w, *attribute) == v { 1.0 - eps } else { eps / (k - 1.0) });
                    answered = Some(*attribute);
                }
            }
            Some(Action::Confirm { waypoint }) => {
                if let (Some(yes), Some(c)) = (r.answer(), catalog.find(waypoint.as_str())) {
                    let lik = |w: usize| if (w == c) == yes { 1.0 - eps_confirm } else { eps_confirm };
                    self.belief.update(lik);
                    if yes {
                        self.confirmed = Some(c);
                    } else if self.confirmed == Some(c) {
                        self.confirmed = None;
                    }
                }
            }
            _ => {}
        }
        for c in &r.constraints {
            if let (Some(a), Subject::Attr(b, _)) = (answered, &c.subject)
                && a == *b
                && !c.negated
            {
                continue; // already used as the answer
            }
            self.belief.update(|w| if c.holds(catalog, w) { 1.0 - eps } else { eps });
        }
    }

    /// Reads the operator utterances added to the history since the last call; a history
    /// shorter than what was read means a new episode.
    pub(crate) fn read_history(
        &mut self,
        catalog: &Catalog,
        parser: &Parser,
        history: &History,
        eps: f64,
        eps_confirm: f64,
    ) {
        if history.len() < self.seen {
            *self = Self::new(catalog);
        }
        for u in &history[self.seen..] {
            if !u.is_action {
                let r = parser.read(&u.text);
                self.absorb(catalog, &r, eps, eps_confirm);
            }
        }
        self.seen = history.len();
    }

    /// The rule-bound part of every belief-based agent's decision; `None` means "ask a
    /// question". Stop wins; a commit goes only to the most probable waypoint, only if the
    /// operator confirmed that very waypoint, and only at `commit_threshold`; a confirmation is
    /// asked at `confirm_threshold`, or when two turns are left (confirm + commit).
    pub(crate) fn protocol(&self, catalog: &Catalog, config: &DialogueConfig) -> Option<Action> {
        if self.stopped {
            return Some(Action::Stop);
        }
        if let Some(a @ Action::Commit { .. }) = &self.last {
            return Some(a.clone()); // committed: the dialogue is over
        }
        let (best, p) = self.belief.map();
        if self.confirmed == Some(best) && p >= config.commit_threshold {
            return Some(Action::Commit { waypoint: catalog.entries()[best].id().clone() });
        }
        let turns_left = config.turn_limit.saturating_sub(self.turns);
        if self.confirmed != Some(best) && (p >= config.confirm_threshold || turns_left <= 2) {
            return Some(self.confirm_best(catalog));
        }
        None
    }

    /// Asks to confirm the most probable waypoint.
    pub(crate) fn confirm_best(&self, catalog: &Catalog) -> Action {
        Action::Confirm { waypoint: catalog.entries()[self.belief.map().0].id().clone() }
    }

    /// Records the agent's action. A confirmation is valid for the very next decision only: any
    /// other action voids it, so a commit always directly follows the operator's "yes".
    pub(crate) fn record(&mut self, a: &Action) {
        if !matches!(a, Action::Commit { .. }) {
            self.confirmed = None;
        }
        self.turns += 1;
        self.seen += 1; // the environment appends the action to the history
        self.last = Some(a.clone());
    }
}

/// The greedy information-gain dialogue agent.
#[derive(Debug)]
pub struct DialogueAgent {
    catalog: Catalog,
    parser: Parser,
    config: DialogueConfig,
    pool: Vec<Action>,
    state: Tracker,
    /// The language model, when the agent reads with one ([`Understanding::Llm`]).
    llm: Option<LlmReader>,
    /// Why the model's reading of the last utterance was not used, if it was not.
    last_fallback: Option<String>,
}

impl DialogueAgent {
    /// An agent over the catalog's targets that reads with the deterministic parser.
    pub fn new(catalog: Catalog, config: DialogueConfig) -> Result<Self, AgentError> {
        Self::with_understanding(catalog, config, Understanding::Parser)
    }

    /// An agent that reads operator text with `understanding` (a language model's readings are
    /// checked against the catalog and merged with the parser's; see [`understanding`]).
    pub fn with_understanding(
        catalog: Catalog,
        config: DialogueConfig,
        understanding: Understanding,
    ) -> Result<Self, AgentError> {
        config.validate()?;
        let parser = Parser::new(&catalog);
        let pool = question_pool(&catalog);
        let state = Tracker::new(&catalog);
        let llm = match understanding {
            Understanding::Parser => None,
            Understanding::Llm(backend) => Some(LlmReader::new(&catalog, backend)),
        };
        Ok(Self { catalog, parser, config, pool, state, llm, last_fallback: None })
    }

    /// Gives the understanding back (to reuse a loaded model in another agent).
    pub fn into_understanding(self) -> Understanding {
        match self.llm {
            None => Understanding::Parser,
            Some(reader) => Understanding::Llm(reader.into_backend()),
        }
    }

    /// What reads the operator's words, in one line.
    pub fn understanding(&self) -> String {
        match &self.llm {
            None => understanding::PARSER_LINE.into(),
            Some(r) => understanding::llm_line(&r.describe()),
        }
    }

    /// Counts of the language model's calls and unusable answers since the agent was built
    /// (kept across [`DialogueAgent::reset`]); `None` without a model.
    pub fn llm_stats(&self) -> Option<LlmStats> {
        self.llm.as_ref().map(|r| r.stats)
    }

    /// Why the model's reading of the last utterance was unusable (the parser's reading was used
    /// and the agent lost one turn); `None` when it was used or there is no model.
    pub fn last_fallback(&self) -> Option<&str> {
        self.last_fallback.as_deref()
    }

    /// Agent turns used in this dialogue, including those lost to unusable model answers.
    pub fn turns(&self) -> u32 {
        self.state.turns
    }

    /// Forgets the dialogue.
    pub fn reset(&mut self) {
        self.state = Tracker::new(&self.catalog);
        self.last_fallback = None;
    }

    /// The parser the agent reads with.
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// Reads one operator utterance and replies (for a live dialogue without a [`History`]).
    pub fn respond(&mut self, operator_text: &str) -> Action {
        self.hear(operator_text);
        let a = self.decide();
        self.state.record(&a);
        a
    }

    /// Reads the new operator turns of an LMRL-style history and replies.
    pub fn act(&mut self, history: &History) -> Action {
        if history.len() < self.state.seen {
            self.reset();
        }
        for u in &history[self.state.seen..] {
            if !u.is_action {
                self.hear(&u.text);
            }
        }
        self.state.seen = history.len();
        let a = self.decide();
        self.state.record(&a);
        a
    }

    /// Reads one utterance (parser, and the model when there is one) into the belief. An unusable
    /// model answer costs one turn of the budget.
    fn hear(&mut self, text: &str) {
        let parsed = self.parser.read(text);
        self.last_fallback = None;
        let reading = match &mut self.llm {
            // A stop word needs no second opinion: it wins whatever a model would say.
            Some(llm) if !parsed.stop => match llm.read(&self.catalog, self.state.last.as_ref(), text) {
                Ok(read) => understanding::merge(parsed, read, self.state.last.as_ref()),
                Err(why) => {
                    tracing::debug!(%why, "language model answer unusable; the parser's reading is used");
                    self.state.turns += 1;
                    self.last_fallback = Some(why);
                    parsed
                }
            },
            _ => parsed,
        };
        self.state.absorb(&self.catalog, &reading, self.config.answer_noise, self.config.confirm_noise);
    }

    /// The current belief: (waypoint id, probability) per target.
    pub fn belief(&self) -> Vec<(WaypointId, f64)> {
        self.state.belief.iter().map(|(w, p)| (self.catalog.entries()[w].id().clone(), p)).collect()
    }

    /// The goal committed to, once the agent has committed.
    pub fn goal(&self) -> Option<&WaypointId> {
        match &self.state.last {
            Some(Action::Commit { waypoint }) if !self.state.stopped => Some(waypoint),
            _ => None,
        }
    }

    fn decide(&self) -> Action {
        if let Some(a) = self.state.protocol(&self.catalog, &self.config) {
            return a;
        }
        let mut choice: Option<(&Action, f64)> = None;
        for q in &self.pool {
            let gain =
                expected_information_gain(&self.catalog, &self.state.belief, q, self.config.answer_noise);
            if choice.is_none_or(|(_, g)| gain > g + 1e-12) {
                choice = Some((q, gain));
            }
        }
        match choice {
            Some((q, gain)) if gain > 1e-9 => q.clone(),
            _ => self.state.confirm_best(&self.catalog),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Targets;
    use crate::agents::tests_support::yard;

    fn agent(targets: Targets) -> DialogueAgent {
        DialogueAgent::new(Catalog::new(&yard(), targets).unwrap(), DialogueConfig::default()).unwrap()
    }

    #[test]
    fn asks_then_confirms_then_commits() {
        let mut a = agent(Targets::Goals);
        let q = a.respond("take it to the shed");
        // Colour and landmark both name every goal apart; colour comes first in the tie order.
        assert_eq!(q, Action::AskWhich { attribute: Attribute::Colour });
        let c = a.respond("the green one");
        assert!(matches!(&c, Action::Confirm { waypoint } if waypoint.as_str() == "shed_pond"), "{c}");
        let g = a.respond("yes");
        assert!(matches!(&g, Action::Commit { waypoint } if waypoint.as_str() == "shed_pond"), "{g}");
        assert_eq!(a.goal().map(WaypointId::as_str), Some("shed_pond"));
    }

    #[test]
    fn one_wrong_answer_is_recoverable() {
        let mut a = agent(Targets::Goals);
        a.respond("take it to the shed");
        // Truth: shed_pond. The operator wrongly says north, then gives the pond landmark twice.
        a.respond("it is in the north");
        let mut last = a.respond("no");
        for _ in 0..4 {
            if matches!(last, Action::Confirm { .. }) {
                break;
            }
            last = a.respond("the one by the pond");
        }
        assert!(matches!(&last, Action::Confirm { waypoint } if waypoint.as_str() == "shed_pond"), "{last}");
    }

    #[test]
    fn no_commit_without_confirmation_even_when_certain() {
        let mut a = agent(Targets::Goals);
        for text in ["the green shed by the pond in the east", "the green shed", "just go!", "pond", "go now"]
        {
            let act = a.respond(text);
            assert!(!matches!(act, Action::Commit { .. }), "{text}: {act}");
        }
    }

    #[test]
    fn a_no_to_the_confirmation_moves_on() {
        let mut a = agent(Targets::Goals);
        a.respond("the loading dock");
        let first = a.respond("the blue one");
        assert!(
            matches!(&first, Action::Confirm { waypoint } if waypoint.as_str() == "dock_east"),
            "{first}"
        );
        let next = a.respond("no");
        assert!(!matches!(next, Action::Commit { .. }));
    }

    #[test]
    fn stop_wins_at_any_turn() {
        for turn in 0..5 {
            let mut a = agent(Targets::All);
            let script = ["the shed", "in the east", "yes", "yes", "yes"];
            for (i, text) in script.iter().enumerate() {
                let text = if i == turn { "cancel that" } else { text };
                let act = a.respond(text);
                if i >= turn {
                    assert_eq!(act, Action::Stop, "turn {i}");
                    assert_eq!(a.goal(), None);
                }
            }
        }
    }

    #[test]
    fn information_gain_prefers_splitting_questions() {
        let c = Catalog::new(&yard(), Targets::Goals).unwrap();
        let b = Belief::uniform(&c);
        let which =
            expected_information_gain(&c, &b, &Action::AskWhich { attribute: Attribute::Landmark }, 0.0);
        assert!((which - 2.0).abs() < 1e-9, "{which}");
        let yes_no = Action::Ask { attribute: Attribute::Kind, value: "shed".into() };
        assert!((expected_information_gain(&c, &b, &yes_no, 0.0) - 1.0).abs() < 1e-9);
    }
}
