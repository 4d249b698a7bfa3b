//! The labyrinth file: raw serde types with unknown keys denied, then validation whose errors
//! name the file and the field.

use std::path::Path;

use sim::GridWorld;
use sim::gridworld::{Dir, State};

use super::env::same_set;
use super::{Labyrinth, LabyrinthError, Subtask, Training};
use crate::scenario::{self, Problem, ScenarioError};

impl Labyrinth {
    /// Reads, parses and validates a labyrinth file.
    pub fn load(path: &Path) -> Result<Self, LabyrinthError> {
        Self::parse(&scenario::read_file(path)?, path)
    }

    /// Parses and validates labyrinth text; `file` only names the source in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Self, LabyrinthError> {
        let raw: raw::File = scenario::parse_yaml(text, file)?;
        validate(raw).map_err(|problems| ScenarioError::Invalid { file: file.into(), problems }.into())
    }
}

/// The file as written (unknown keys denied).
mod raw {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct File {
        pub name: String,
        pub layout: Layout,
        pub slip_p: f64,
        pub start: State,
        pub goal: State,
        pub subtasks: Vec<Subtask>,
        pub task: Task,
        pub training: Training,
    }

    /// Exactly one of the two (checked in `validate`, so the error names the field).
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Layout {
        pub builtin: Option<String>,
        pub map: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct State {
        pub x: i64,
        pub y: i64,
        pub dir: Dir,
    }

    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    pub enum Dir {
        Index(i64),
        Word(String),
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Subtask {
        pub id: String,
        pub entry: State,
        pub exit: State,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Task {
        pub theta: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Training {
        pub chunk_steps: u64,
        pub budget_steps: u64,
        pub estimation_rollouts: u64,
        pub subtask_horizon_steps: u64,
        pub meta_horizon_steps: u64,
        pub episode_max_steps: u64,
        pub max_iterations: u64,
        pub max_total_steps: u64,
    }
}

/// Built-in layouts a file may name.
const BUILTINS: &str = "icaps_labyrinth";

fn validate(raw: raw::File) -> Result<Labyrinth, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut report = |path: String, allowed: &str, value: String| {
        problems.push(Problem { path, allowed: allowed.to_string(), value });
    };
    if !is_id(&raw.name) {
        report("name".into(), "lower-case letters, digits and _", format!("{:?}", raw.name));
    }
    if !(0.0..=1.0).contains(&raw.slip_p) {
        report("slip_p".into(), "must be in [0, 1]", raw.slip_p.to_string());
    }
    let slip = if (0.0..=1.0).contains(&raw.slip_p) { raw.slip_p } else { 0.0 };
    let world = match (&raw.layout.builtin, &raw.layout.map) {
        (Some(name), None) if name == "icaps_labyrinth" => GridWorld::icaps_labyrinth(slip).ok(),
        (Some(name), None) => {
            report("layout.builtin".into(), &format!("one of: {BUILTINS}"), format!("{name:?}"));
            None
        }
        (None, Some(map)) => match GridWorld::parse(map, slip) {
            Ok(w) => Some(w),
            Err(e) => {
                report("layout.map".into(), "an ASCII map of # . D L", e.to_string());
                None
            }
        },
        (builtin, map) => {
            let value = format!("builtin {}, map {}", builtin.is_some(), map.is_some());
            report("layout".into(), "exactly one of builtin and map", value);
            None
        }
    };
    let mut states = |path: &str, s: &raw::State| -> Vec<State> {
        let dirs = match &s.dir {
            raw::Dir::Index(i) => match u8::try_from(*i).ok().and_then(Dir::from_index) {
                Some(d) => vec![d],
                None => {
                    report(
                        format!("{path}.dir"),
                        "0 (east), 1 (south), 2 (west), 3 (north) or any",
                        i.to_string(),
                    );
                    return Vec::new();
                }
            },
            raw::Dir::Word(w) if w == "any" => Dir::ALL.to_vec(),
            raw::Dir::Word(w) => {
                report(
                    format!("{path}.dir"),
                    "0 (east), 1 (south), 2 (west), 3 (north) or any",
                    format!("{w:?}"),
                );
                return Vec::new();
            }
        };
        let Some(world) = &world else { return Vec::new() };
        let (Ok(x), Ok(y)) = (u32::try_from(s.x), u32::try_from(s.y)) else {
            report(path.to_string(), "coordinates inside the grid", format!("({}, {})", s.x, s.y));
            return Vec::new();
        };
        if x >= world.width() || y >= world.height() {
            let allowed = format!("x in 0..{}, y in 0..{}", world.width(), world.height());
            report(path.to_string(), &allowed, format!("({x}, {y})"));
            return Vec::new();
        }
        let cell = world.cell(x, y);
        if !world.can_start(State::new(x, y, Dir::East)) {
            report(path.to_string(), "a floor or open-door cell", format!("({x}, {y}) is {cell:?}"));
            return Vec::new();
        }
        dirs.into_iter().map(|dir| State::new(x, y, dir)).collect()
    };
    let start = states("start", &raw.start);
    let goal = states("goal", &raw.goal);
    let mut subtasks = Vec::with_capacity(raw.subtasks.len());
    for (i, s) in raw.subtasks.iter().enumerate() {
        let entry = states(&format!("subtasks[{i}].entry"), &s.entry);
        let exit = states(&format!("subtasks[{i}].exit"), &s.exit);
        subtasks.push(Subtask { id: s.id.clone(), entry, exit });
    }
    if subtasks.is_empty() {
        report("subtasks".into(), "at least one subtask", "none".into());
    }
    for (i, s) in subtasks.iter().enumerate() {
        if !is_id(&s.id) {
            report(format!("subtasks[{i}].id"), "lower-case letters, digits and _", format!("{:?}", s.id));
        }
        if subtasks[..i].iter().any(|o| o.id == s.id) {
            report(format!("subtasks[{i}].id"), "unique", format!("{:?}", s.id));
        }
        if s.entry.is_empty() || s.exit.is_empty() {
            continue; // already reported
        }
        let chained = same_set(&s.entry, &start) || subtasks.iter().any(|o| same_set(&o.exit, &s.entry));
        if !chained {
            let value = format!("{:?}", s.entry.iter().map(ToString::to_string).collect::<Vec<_>>());
            report(format!("subtasks[{i}].entry"), "the start or another subtask's exit", value);
        }
        if same_set(&s.entry, &s.exit) {
            report(format!("subtasks[{i}].exit"), "different from the entry", s.exit[0].to_string());
        }
    }
    if !goal.is_empty() && !subtasks.is_empty() && !subtasks.iter().any(|s| same_set(&s.exit, &goal)) {
        report("goal".into(), "the exit of at least one subtask", goal[0].to_string());
    }
    if !(raw.task.theta > 0.0 && raw.task.theta <= 1.0) {
        report("task.theta".into(), "must be in (0, 1]", raw.task.theta.to_string());
    }
    let t = &raw.training;
    for (field, v) in [
        ("chunk_steps", t.chunk_steps),
        ("budget_steps", t.budget_steps),
        ("estimation_rollouts", t.estimation_rollouts),
        ("subtask_horizon_steps", t.subtask_horizon_steps),
        ("meta_horizon_steps", t.meta_horizon_steps),
        ("episode_max_steps", t.episode_max_steps),
        ("max_iterations", t.max_iterations),
        ("max_total_steps", t.max_total_steps),
    ] {
        if v == 0 {
            report(format!("training.{field}"), "at least 1", "0".into());
        }
    }
    if t.max_total_steps < t.chunk_steps {
        report(
            "training.max_total_steps".into(),
            "at least training.chunk_steps",
            t.max_total_steps.to_string(),
        );
    }
    match world {
        Some(world) if problems.is_empty() => Ok(Labyrinth {
            name: raw.name,
            world,
            start,
            goal,
            subtasks,
            training: Training {
                theta: raw.task.theta,
                chunk_steps: t.chunk_steps,
                budget_steps: t.budget_steps,
                estimation_rollouts: t.estimation_rollouts,
                subtask_horizon_steps: t.subtask_horizon_steps,
                meta_horizon_steps: t.meta_horizon_steps,
                episode_max_steps: t.episode_max_steps,
                max_iterations: t.max_iterations,
                max_total_steps: t.max_total_steps,
            },
        }),
        _ => Err(problems),
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
