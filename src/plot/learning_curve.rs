//! `sim2real train`'s learning curve: mean return and success rate of the last 100 training
//! episodes against steps, with the deterministic checkpoint evaluations as dots.

use std::path::Path;

use super::PlotError;
use super::lines::{Lines, Mark, Panel, Series, XLabels, lines_png};

/// One point of a training run: steps, mean return and success rate of the last 100 episodes.
pub type CurvePoint = (u64, Option<f64>, Option<f64>);

/// Writes the curve of subtask `id` from `curve` and the checkpoint evaluations `checks`
/// ((steps, deterministic success) on `episodes` held-out starts each).
pub fn learning_curve_png(
    path: &Path,
    id: &str,
    curve: &[CurvePoint],
    checks: &[(u64, f64)],
    episodes: u64,
) -> Result<(), PlotError> {
    let some = |pick: fn(&CurvePoint) -> Option<f64>| -> Vec<(f64, f64)> {
        curve.iter().filter_map(|p| Some((p.0 as f64, pick(p)?))).collect()
    };
    let lines = Lines {
        caption: format!("{id}: training (last 100 episodes)"),
        x_desc: "environment steps".into(),
        x_max: curve.last().map_or(1, |c| c.0) as f64,
        x_labels: XLabels::Steps,
        panels: vec![
            Panel {
                y_desc: "mean return".into(),
                y_range: None,
                reference: None,
                series: vec![Series::line("mean return", some(|p| p.1))],
            },
            Panel {
                y_desc: "success rate".into(),
                y_range: Some((0.0, 1.0)),
                reference: None,
                series: vec![
                    Series::line("training episodes (stochastic)", some(|p| p.2)),
                    Series {
                        label: format!("checkpoints (deterministic, {episodes} held-out starts)"),
                        points: checks.iter().map(|&(s, r)| (s as f64, r)).collect(),
                        mark: Mark::Dots,
                    },
                ],
            },
        ],
    };
    lines_png(path, &lines)
}
