//! Mission records: what the planner reads from `missions.jsonl` (one mission report per line,
//! as `sim2real mission --missions FILE` appends them) and the subtask attempts in each.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::TipsError;
use crate::msg::MissionReport;
use crate::msg::{MissionPhase, MissionStatus, SubtaskEvent, SubtaskOutcome};

/// Whose mission it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The robot's own mission, steered by the tips of its time.
    Own,
    /// An expert demonstration: a recorded successful mission.
    Expert,
}

/// One subtask attempt of a mission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Subtask id.
    pub subtask: String,
    /// Whether it reached its exit set.
    pub success: bool,
}

/// What the planner keeps of a mission.
#[derive(Debug, Clone, PartialEq)]
pub struct MissionRecord {
    /// Goal waypoint.
    pub goal: String,
    /// The variant the world was (none: the certified world).
    pub variant: Option<String>,
    /// Its condition tags.
    pub conditions: Vec<String>,
    /// Whether the goal was reached.
    pub success: bool,
    /// Subtask attempts in order.
    pub attempts: Vec<Attempt>,
    /// Own mission or expert demonstration.
    pub source: Source,
}

/// The fields of a report line the planner needs; other fields are ignored, so later
/// additions to the report do not break old planners.
#[derive(Debug, Deserialize)]
struct Line {
    goal: String,
    phase: MissionPhase,
    statuses: Vec<MissionStatus>,
    events: Vec<SubtaskEvent>,
    sim_failure: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    conditions: Vec<String>,
}

impl MissionRecord {
    /// From a mission report.
    pub fn from_report(report: &MissionReport, source: Source) -> MissionRecord {
        Self::build(
            Line {
                goal: report.goal.clone(),
                phase: report.phase,
                statuses: report.statuses.clone(),
                events: report.events.clone(),
                sim_failure: report.sim_failure.clone(),
                variant: report.variant.clone(),
                conditions: report.conditions.clone(),
            },
            source,
        )
    }

    fn build(line: Line, source: Source) -> MissionRecord {
        let mut attempts: Vec<Attempt> = line
            .events
            .iter()
            .map(|e| Attempt { subtask: e.subtask.clone(), success: e.outcome == SubtaskOutcome::Success })
            .collect();
        // A collision, geofence breach or tip-over ends the run before the executor reports
        // the subtask: it failed the subtask that was running then.
        if line.sim_failure.is_some()
            && let Some(active) = line
                .statuses
                .iter()
                .rev()
                .find_map(|s| s.route.get(s.step).filter(|_| s.phase == MissionPhase::Running))
        {
            attempts.push(Attempt { subtask: active.clone(), success: false });
        }
        MissionRecord {
            goal: line.goal,
            variant: line.variant,
            conditions: line.conditions,
            success: line.phase == MissionPhase::Succeeded && line.sim_failure.is_none(),
            attempts,
            source,
        }
    }
}

/// Reads `missions.jsonl`: one report per line, blank lines skipped. A line that is not a
/// mission report is an error naming the file and the line number.
pub fn read_missions(path: &Path, source: Source) -> Result<Vec<MissionRecord>, TipsError> {
    let text = std::fs::read_to_string(path).map_err(|source| TipsError::Io { file: path.into(), source })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(line).map_err(|e| TipsError::MissionLine {
            file: path.into(),
            line: i + 1,
            message: e.to_string(),
        })?;
        out.push(MissionRecord::build(parsed, source));
    }
    Ok(out)
}
