//! The suite of `sim2real eval-dialogue`: random, greedy, optimal (and optionally PPO and
//! greedy+LLM) questioners play the same episodes of the waypoint game at noise 0 and at an
//! operator's noise level; the table reports success, wrong commits, questions, return and the
//! LMRL-Gym normalised score ([`crate::agents::episodes`]).

use std::fmt::Write as _;

use crate::agents::baselines::{OptimalQuestioner, RandomQuestioner};
use crate::agents::dialogue::{DialogueAgent, DialogueConfig};
use crate::agents::episodes::{Metrics, normalised_score, run_episodes};
use crate::agents::learned::{self, LearnedAgent};
use crate::agents::waypoint_game::{GameConfig, WaypointGame};
use crate::agents::{AgentError, Catalog, LlmStats, Targets, Understanding};
use crate::llm::ChatBackend;
use crate::scenario::Scenario;

/// What `sim2real eval-dialogue` runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalConfig {
    /// Episodes per agent and noise level (≥ 1).
    pub episodes: u64,
    /// Operator answer noise of the second block (the first block is noise-free).
    pub noise: f64,
    /// Seed of the episodes and the random baseline.
    pub seed: u64,
    /// Which waypoints the hidden goal ranges over.
    pub targets: Targets,
    /// Game settings other than the noise.
    pub game: GameConfig,
    /// When set, also train the PPO move policy for this many steps at each noise level (seeded
    /// by `seed`) and add a `ppo` row.
    pub ppo_steps: Option<u64>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            episodes: 500,
            noise: 0.1,
            seed: 0,
            targets: Targets::Goals,
            game: GameConfig::default(),
            ppo_steps: None,
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Operator answer noise.
    pub noise: f64,
    /// `random`, `greedy`, `optimal`, `ppo` or `greedy+llm`.
    pub agent: &'static str,
    /// What it achieved.
    pub metrics: Metrics,
    /// Normalised score.
    pub score: f64,
    /// The language model's calls and unusable answers (`greedy+llm` rows).
    pub llm: Option<LlmStats>,
    /// `greedy+llm` rows: the parser-only greedy agent on the same (fewer) episodes, the fair
    /// comparison.
    pub parser_only: Option<Metrics>,
}

/// The agent's assumed answer noise for an operator noise level: the true level, kept away from
/// 0 so that a single contradicting answer never zeroes the truth's probability.
pub fn assumed_noise(noise: f64) -> f64 {
    noise.clamp(0.05, 0.45)
}

/// The agents' assumed confirmation noise for an operator level: at least 0.02 (an operator can
/// always slip).
pub fn assumed_confirm_noise(noise: f64) -> f64 {
    noise.clamp(0.02, 0.45)
}

/// Random, greedy and optimal agents at noise 0 and at `noise`.
pub fn evaluate(scenario: &Scenario, cfg: &EvalConfig) -> Result<Vec<Row>, AgentError> {
    evaluate_inner(scenario, cfg, None).map(|(rows, _)| rows)
}

/// [`evaluate`] plus a `greedy+llm` row at each noise level: the greedy agent reading with the
/// language model (and the parser as fallback) on the first `llm_episodes` episodes (the same
/// episodes as the other rows' first ones). Gives the backend back.
pub fn evaluate_with_llm(
    scenario: &Scenario,
    cfg: &EvalConfig,
    backend: Box<dyn ChatBackend>,
    llm_episodes: u64,
) -> Result<(Vec<Row>, Box<dyn ChatBackend>), AgentError> {
    if llm_episodes == 0 {
        return Err(AgentError::OutOfRange { field: "llm_episodes", allowed: "≥ 1", value: 0.0 });
    }
    let (rows, backend) = evaluate_inner(scenario, cfg, Some((backend, llm_episodes)))?;
    Ok((rows, backend.expect("evaluate_inner gives the backend back")))
}

type LlmRun = (Box<dyn ChatBackend>, u64);
type Evaluated = (Vec<Row>, Option<Box<dyn ChatBackend>>);

fn evaluate_inner(
    scenario: &Scenario,
    cfg: &EvalConfig,
    mut llm: Option<LlmRun>,
) -> Result<Evaluated, AgentError> {
    if cfg.episodes == 0 {
        return Err(AgentError::OutOfRange { field: "episodes", allowed: "≥ 1", value: 0.0 });
    }
    let catalog = Catalog::new(scenario, cfg.targets)?;
    let mut levels = vec![0.0];
    if cfg.noise != 0.0 {
        levels.push(cfg.noise);
    }
    let mut rows = Vec::new();
    let mut optimal_noise_free = None;
    for noise in levels {
        let game_cfg = GameConfig { noise, ..cfg.game };
        let mut game = WaypointGame::new(catalog.clone(), game_cfg)?;
        let agent_cfg = DialogueConfig {
            answer_noise: assumed_noise(noise),
            confirm_noise: assumed_confirm_noise(cfg.game.confirm_noise),
            turn_limit: game_cfg.turn_limit,
            ..DialogueConfig::default()
        };
        let mut random = RandomQuestioner::new(catalog.clone(), agent_cfg, cfg.seed)?;
        let mut greedy = DialogueAgent::new(catalog.clone(), agent_cfg)?;
        let mut optimal = OptimalQuestioner::new(catalog.clone())?;
        let r = run_episodes(&mut game, &mut random, cfg.episodes, cfg.seed);
        let g = run_episodes(&mut game, &mut greedy, cfg.episodes, cfg.seed);
        let o = run_episodes(&mut game, &mut optimal, cfg.episodes, cfg.seed);
        let mut results = vec![("random", r), ("greedy", g), ("optimal", o)];
        if let Some(steps) = cfg.ppo_steps {
            // Trained on episode seeds disjoint from the evaluation's (a different base seed).
            let policy =
                learned::train(&catalog, game_cfg, agent_cfg, steps, cfg.seed ^ 0x0070_706f_5f74_726e)?;
            let mut ppo = LearnedAgent::new(policy, catalog.clone(), agent_cfg)?;
            results.push(("ppo", run_episodes(&mut game, &mut ppo, cfg.episodes, cfg.seed)));
        }
        let mut llm_stats = None;
        let mut parser_only = None;
        if let Some((backend, episodes)) = llm.take() {
            let mut greedy = DialogueAgent::new(catalog.clone(), agent_cfg)?;
            parser_only = Some(run_episodes(&mut game, &mut greedy, episodes, cfg.seed));
            let understanding = Understanding::Llm(backend);
            let mut agent = DialogueAgent::with_understanding(catalog.clone(), agent_cfg, understanding)?;
            results.push(("greedy+llm", run_episodes(&mut game, &mut agent, episodes, cfg.seed)));
            llm_stats = agent.llm_stats();
            if let Understanding::Llm(backend) = agent.into_understanding() {
                llm = Some((backend, episodes));
            }
        }
        let best = *optimal_noise_free.get_or_insert(o.mean_return);
        let worst = game_cfg.worst_return();
        for (agent, metrics) in results {
            let score = normalised_score(metrics.mean_return, worst, r.mean_return, best);
            let (llm, parser_only) =
                if agent == "greedy+llm" { (llm_stats, parser_only) } else { (None, None) };
            rows.push(Row { noise, agent, metrics, score, llm, parser_only });
        }
    }
    Ok((rows, llm.map(|(b, _)| b)))
}

/// The table as Markdown.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| noise | agent | success % | wrong commit % | out of turns % | mean questions | mean return | normalised score |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let m = &r.metrics;
        let _ = writeln!(
            s,
            "| {:.2} | {} | {:.1} | {:.1} | {:.1} | {:.3} | {:.3} | {:.1} |",
            r.noise,
            r.agent,
            100.0 * m.success_rate,
            100.0 * m.wrong_commit_rate,
            100.0 * m.out_of_turns_rate,
            m.mean_questions,
            m.mean_return,
            r.score
        );
    }
    for r in rows {
        if let Some(l) = r.llm {
            let _ = writeln!(
                s,
                "\n`greedy+llm` at noise {:.2} ({} episodes): {} LLM calls, {} invalid answers, {} \
                 errors (timeouts, transport); {} fallbacks to the parser ({:.1} % of calls), each \
                 costing the agent one turn.",
                r.noise,
                r.metrics.episodes,
                l.calls,
                l.invalid,
                l.errors,
                l.fallbacks(),
                100.0 * l.fallback_rate()
            );
            if let Some(p) = r.parser_only {
                let _ = writeln!(
                    s,
                    "The parser-only `greedy` agent on the same {} episodes: success {:.1} %, mean \
                     questions {:.3}, mean return {:.3}.",
                    p.episodes,
                    100.0 * p.success_rate,
                    p.mean_questions,
                    p.mean_return
                );
            }
        }
    }
    s
}
