//! The perturbation suite of `sim2real eval-tips`: repeated missions in scenario variants under
//! four conditions — no tips; own-experience tips learned online; own tips plus expert
//! demonstrations; merged feature tips learned on the training variants and applied zero-shot
//! to the held-out ones.
//!
//! Every mission runs in high fidelity in process (deterministic); the seeds of a variant's
//! missions are the same under every condition, so the conditions differ only in the tips.
//! Cells run in parallel, each one sequential (online learning), so results do not depend on
//! the thread count.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::agents::tips::{Action, MissionRecord, Scope, Source, TipStore, TipsError, TipsPlanner};
use crate::bundle::deployment::{DeployError, PreferenceError};
use crate::bundle::{Deployment, RoutePreference};
use crate::mission::{self, Faults, MissionConfig, MissionError, Transport, WorldOverride};
use crate::scenario::{Overlay, Scenario, ScenarioError};

/// Why a suite could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SuiteError {
    /// The suite file could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Read {
        /// The suite file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The suite file is malformed (the message names the field).
    #[error("{}: {message}", file.display())]
    Invalid {
        /// The suite file.
        file: PathBuf,
        /// The field and what is wrong with it.
        message: String,
    },
    /// A variant's overlay does not apply (names the overlay file and field).
    #[error(transparent)]
    Overlay(Box<ScenarioError>),
    /// A variant's goal has no certified route.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// A mission of the suite could not run.
    #[error("mission: {0}")]
    Mission(#[from] MissionError),
    /// The tips could not be learned or applied.
    #[error(transparent)]
    Tips(#[from] TipsError),
    /// A route preference does not fit the scenario.
    #[error(transparent)]
    Preference(#[from] PreferenceError),
}

/// What a variant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Teaches the merged tips.
    Train,
    /// Tests the merged tips zero-shot.
    HeldOut,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    variants: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    file: PathBuf,
    goal: String,
    role: Role,
}

/// One variant of the suite.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The overlay.
    pub overlay: Overlay,
    /// The overlaid scenario the simulator plays.
    pub world: Arc<Scenario>,
    /// Goal of its missions.
    pub goal: String,
    /// Train or held out.
    pub role: Role,
}

/// A suite file (`variants/suite.yaml`) with its overlays applied to a base scenario.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The variants in file order.
    pub variants: Vec<Variant>,
}

impl Suite {
    /// Reads the suite at `path` (overlay files relative to it) and applies each overlay to the
    /// `base` scenario file. Errors name the suite or overlay file and the field.
    pub fn load(path: &Path, base: &Path, goals: &[String]) -> Result<Suite, SuiteError> {
        let suite_err = |message: String| SuiteError::Invalid { file: path.into(), message };
        let text =
            std::fs::read_to_string(path).map_err(|source| SuiteError::Read { file: path.into(), source })?;
        let de = serde_yaml_ng::Deserializer::from_str(&text);
        let raw: RawSuite = serde_path_to_error::deserialize(de).map_err(|e| suite_err(e.to_string()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut variants = Vec::new();
        for (i, e) in raw.variants.into_iter().enumerate() {
            if !goals.contains(&e.goal) {
                return Err(suite_err(format!(
                    "variants[{i}].goal: `{}` is not a goal of the bundle ({})",
                    e.goal,
                    goals.join(", ")
                )));
            }
            let file = dir.join(&e.file);
            let overlay = Overlay::load(&file).map_err(|e| SuiteError::Overlay(Box::new(e)))?;
            let world = overlay.apply_to_file(base).map_err(|e| SuiteError::Overlay(Box::new(e)))?;
            variants.push(Variant { overlay, world: Arc::new(world), goal: e.goal, role: e.role });
        }
        if variants.is_empty() {
            return Err(suite_err("variants: the suite is empty".into()));
        }
        Ok(Suite { variants })
    }
}

/// The four conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The certified order of routes.
    NoTips,
    /// Tips learned online from the robot's own missions in the variant.
    Own,
    /// Own tips with expert demonstrations as extra evidence from the start.
    OwnExpert,
    /// Merged feature tips from the training variants, fixed (held-out variants only).
    Merged,
}

/// Settings of a suite run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalConfig {
    /// Missions per variant and condition.
    pub episodes: usize,
    /// Seed of every mission seed.
    pub seed: u64,
    /// Expert demonstrations recorded per certified route of a variant's goal (only the
    /// successful ones count).
    pub demos_per_route: usize,
}

/// The result of one variant under one condition.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// Variant name.
    pub variant: String,
    /// Condition.
    pub condition: Condition,
    /// Missions run.
    pub missions: usize,
    /// Missions that reached the goal.
    pub successes: usize,
    /// Failed missions before the first mission the tips steered (none: the tips never did).
    pub failures_before_steering: Option<usize>,
    /// Expert demonstrations used.
    pub demonstrations: usize,
    /// The tip store at the end.
    pub store: Option<TipStore>,
    /// Retrain requests among the final tips (subtask ids).
    pub retrain: Vec<String>,
    /// Records of the missions (not in the JSON).
    #[serde(skip)]
    pub records: Vec<MissionRecord>,
}

impl Cell {
    /// Tips in the final store.
    pub fn tips(&self) -> usize {
        self.store.as_ref().map_or(0, |s| s.tips().len())
    }
}

/// Everything a suite run produced.
#[derive(Debug, Clone, Serialize)]
pub struct EvalResults {
    /// Per variant and condition, in suite order.
    pub cells: Vec<Cell>,
    /// The merged tips applied to the held-out variants.
    pub merged: TipStore,
}

fn mix(mut z: u64) -> u64 {
    // splitmix64: child seeds derived from the run seed, never drawn.
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn mission_seed(seed: u64, variant: usize, stream: u64, episode: usize) -> u64 {
    mix(mix(mix(seed) ^ variant as u64) ^ stream.wrapping_mul(0x1000_0000) ^ episode as u64)
}

struct Runner<'a> {
    deployment: &'a Arc<Deployment>,
    planner: &'a TipsPlanner,
    config: EvalConfig,
}

impl Runner<'_> {
    fn fly(&self, v: &Variant, seed: u64, preference: RoutePreference) -> Result<MissionRecord, SuiteError> {
        let config = MissionConfig {
            goal: v.goal.clone(),
            fidelity: sim::Fidelity::High,
            seed,
            record: None,
            start: None,
            faults: Faults::default(),
            transport: Transport::InProcess,
            world: Some(WorldOverride {
                name: v.overlay.name().to_string(),
                conditions: v.overlay.conditions().to_vec(),
                scenario: Arc::clone(&v.world),
            }),
            preference,
            lidar_mount: Default::default(),
            pose: Default::default(),
        };
        let report = mission::run(Arc::clone(self.deployment), &config)?;
        Ok(MissionRecord::from_report(&report, Source::Own))
    }

    /// Expert demonstrations: missions driven on each certified route of the goal in turn,
    /// kept when they succeeded.
    fn demonstrations(&self, i: usize, v: &Variant) -> Result<Vec<MissionRecord>, SuiteError> {
        let scenario = self.deployment.bundle().scenario();
        let routes = self.deployment.routes(&v.goal)?;
        let mut out = Vec::new();
        for (k, route) in routes.iter().enumerate() {
            let others = routes
                .iter()
                .flat_map(|r| r.subtasks.iter())
                .filter(|a| !route.subtasks.contains(a))
                .map(|&a| (scenario.subtasks()[a].id().as_str(), 1.0));
            let force = RoutePreference::new(scenario, others)?;
            for e in 0..self.config.demos_per_route {
                let seed = mission_seed(self.config.seed, i, 100 + k as u64, e);
                let mut r = self.fly(v, seed, force.clone())?;
                if r.success {
                    r.source = Source::Expert;
                    out.push(r);
                }
            }
        }
        Ok(out)
    }

    fn cell(
        &self,
        i: usize,
        v: &Variant,
        condition: Condition,
        merged: Option<&TipStore>,
    ) -> Result<Cell, SuiteError> {
        let conditions = v.overlay.conditions().to_vec();
        let name = v.overlay.name();
        let demos = if condition == Condition::OwnExpert { self.demonstrations(i, v)? } else { Vec::new() };
        let mut store = match (condition, merged) {
            (Condition::NoTips, _) => None,
            (Condition::Merged, Some(m)) => Some(m.clone()),
            _ => Some(self.planner.empty_store()),
        };
        let mut records = Vec::new();
        let (mut successes, mut failures, mut steered) = (0, 0, None);
        for e in 0..self.config.episodes {
            let preference = match &store {
                Some(s) => self.planner.preference(s.tips(), Some(name), &conditions)?,
                None => RoutePreference::default(),
            };
            if !preference.is_empty() && steered.is_none() {
                steered = Some(failures);
            }
            let r = self.fly(v, mission_seed(self.config.seed, i, 0, e), preference)?;
            if r.success {
                successes += 1;
            } else {
                failures += 1;
            }
            records.push(r);
            if matches!(condition, Condition::Own | Condition::OwnExpert)
                && let Some(s) = store.as_mut()
            {
                let evidence: Vec<MissionRecord> = demos.iter().chain(&records).cloned().collect();
                let tips = self.planner.own_tips(&evidence);
                // A refused update keeps the previous tips; the suite goes on with them.
                let _ = self.planner.update(s, tips);
            }
        }
        let retrain = store
            .iter()
            .flat_map(|s| s.tips())
            .filter(|t| t.rule.action == Action::Retrain)
            .filter_map(|t| match &t.rule.scope {
                Scope::Subtask(id) => Some(id.clone()),
                Scope::Feature(_) => None,
            })
            .collect();
        records.extend(demos.iter().cloned());
        Ok(Cell {
            variant: name.to_string(),
            condition,
            missions: self.config.episodes,
            successes,
            failures_before_steering: if condition == Condition::NoTips { None } else { steered },
            demonstrations: demos.len(),
            store,
            retrain,
            records,
        })
    }
}

/// Runs the suite (module documentation); `progress` hears one line per finished cell.
pub fn run_suite(
    deployment: &Arc<Deployment>,
    planner: &TipsPlanner,
    suite: &Suite,
    config: EvalConfig,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<EvalResults, SuiteError> {
    let runner = Runner { deployment, planner, config };
    let jobs: Vec<(usize, Condition)> = (0..suite.variants.len())
        .flat_map(|i| [Condition::NoTips, Condition::Own, Condition::OwnExpert].map(|c| (i, c)))
        .collect();
    let total = jobs.len() + suite.variants.iter().filter(|v| v.role == Role::HeldOut).count();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let report = |c: &Cell| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress(&format!(
            "[{n}/{total}] {} {:?}: {}/{} reached the goal",
            c.variant, c.condition, c.successes, c.missions
        ));
    };
    let mut cells: Vec<Cell> = jobs
        .par_iter()
        .map(|&(i, c)| {
            let cell = runner.cell(i, &suite.variants[i], c, None)?;
            report(&cell);
            Ok(cell)
        })
        .collect::<Result<_, SuiteError>>()?;
    // Merged tips: everything recorded in the training variants, pooled.
    let train: Vec<MissionRecord> = cells
        .iter()
        .filter(|c| suite.variants.iter().any(|v| v.overlay.name() == c.variant && v.role == Role::Train))
        .flat_map(|c| c.records.iter().cloned())
        .collect();
    let mut merged = planner.empty_store();
    planner.update(&mut merged, planner.merged_tips(&train))?;
    let held: Vec<usize> =
        (0..suite.variants.len()).filter(|&i| suite.variants[i].role == Role::HeldOut).collect();
    let more: Vec<Cell> = held
        .par_iter()
        .map(|&i| {
            let cell = runner.cell(i, &suite.variants[i], Condition::Merged, Some(&merged))?;
            report(&cell);
            Ok(cell)
        })
        .collect::<Result<_, SuiteError>>()?;
    cells.extend(more);
    Ok(EvalResults { cells, merged })
}
