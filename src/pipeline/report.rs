//! The bundle's `report.md` and `plots/`: what the pipeline trained, why, and what was proven.

use std::fmt::Write as _;
use std::path::Path;

use plotters::style::{BLUE, RGBColor};
use verification::{Certificate, Fidelity, floor_to};

use super::{Outcome, PipelineError};
use crate::bundle::{BundleWriter, Deployment};
use crate::mission::{self, Faults, MissionConfig, Transport};
use crate::msg::MissionReport;
use crate::plot::bars::paired_bars_png;
use crate::plot::lines::{Lines, Panel, Series, XLabels, lines_png};
use crate::plot::{PlotError, Track, map_png};
use crate::scenario::Scenario;
use std::sync::Arc;

/// Writes `report.md` and the plots into the bundle `out`.
pub fn write(out: &Path, scenario: &Scenario, outcome: &Outcome) -> Result<(), PipelineError> {
    let bundle = BundleWriter::create(out)?;
    let id = |c: usize| scenario.subtasks()[c].id().to_string();
    let icrl = &outcome.icrl;
    let trained: Vec<usize> = (0..icrl.steps.len()).filter(|&c| icrl.steps[c] > 0).collect();

    estimates_png(&bundle.plot("estimates.png")?, scenario, outcome, &trained)?;
    curves_png(&bundle.plot("learning_curves.png")?, scenario, outcome)?;
    let missions = sample_missions(out, outcome)?;
    if let Some(cert) = &outcome.certificate {
        fidelity_png(&bundle.plot("low_vs_high.png")?, cert)?;
        for g in &cert.goals {
            if let Some(route) = g.routes.first() {
                let highlight: Vec<usize> =
                    route.subtasks.iter().filter_map(|s| scenario.subtask_index(s)).collect();
                let title =
                    format!("goal {}: certified route, Pr ≥ {:.3}", g.goal, floor_to(route.lower_bound, 3));
                let tracks: Vec<Track<'_>> = missions
                    .iter()
                    .filter(|(_, r)| r.goal == g.goal)
                    .map(|(fidelity, r)| Track {
                        label: format!("{} fidelity: {}", fidelity.name(), phase_name(r)),
                        points: &r.track,
                        colour: if *fidelity == sim::Fidelity::Low { BLUE } else { RGBColor(160, 0, 160) },
                    })
                    .collect();
                map_png(
                    &bundle.plot(&format!("route_{}.png", g.goal))?,
                    &title,
                    scenario,
                    &highlight,
                    &tracks,
                )?;
            }
        }
    }

    let mut md = String::new();
    writeln!(md, "# {}: pipeline report\n", scenario.name())?;
    let verdict = match &outcome.certificate {
        Some(c) if c.certified => {
            "**certified** (every goal has a route meeting certified θ in high fidelity)"
        }
        Some(_) => "**not certified**",
        None => "**not certified** (training never met θ, so nothing was verified)",
    };
    writeln!(
        md,
        "Result: {verdict}. Training loop ended: {:?}. {} ICRL iterations, {} training steps.\n",
        outcome.ending,
        icrl.history.len().saturating_sub(1),
        icrl.steps.iter().sum::<u64>()
    )?;
    writeln!(md, "## Training (low fidelity)\n")?;
    writeln!(
        md,
        "| subtask | steps | p̂ (low fidelity) | planner's p (high-fidelity bound once refined) | retired |\n|---|---|---|---|---|"
    )?;
    let planning = icrl.planning_p();
    for &c in &trained {
        let retired = if icrl.spent[c] { "yes" } else { "no" };
        writeln!(
            md,
            "| {} | {} | {:.3} | {:.3} | {retired} |",
            id(c),
            icrl.steps[c],
            icrl.p_hat[c],
            planning[c]
        )?;
    }
    let untouched: Vec<String> = (0..icrl.steps.len()).filter(|c| !trained.contains(c)).map(id).collect();
    writeln!(
        md,
        "\nNever trained (no route needed them): {}.\n",
        if untouched.is_empty() { "none".into() } else { untouched.join(", ") }
    )?;
    writeln!(md, "![estimates](plots/estimates.png)\n\n![learning curves](plots/learning_curves.png)\n")?;
    writeln!(
        md,
        "| iteration | trained | total steps | reach per goal ({}) |\n|---|---|---|---|",
        scenario.goals().iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", ")
    )?;
    for (i, it) in icrl.history.iter().enumerate() {
        let reach: Vec<String> = it.reach.iter().map(|r| format!("{r:.3}")).collect();
        writeln!(
            md,
            "| {i} | {} | {} | {} |",
            it.trained.map_or("(initial estimates)".into(), id),
            it.total_steps,
            reach.join(", ")
        )?;
    }
    if !outcome.refinements.is_empty() {
        writeln!(md, "\n## Refinement (high fidelity)\n")?;
        writeln!(
            md,
            "| round | subtask | low-fidelity success | high-fidelity success | action |\n|---|---|---|---|---|"
        )?;
        for r in &outcome.refinements {
            writeln!(
                md,
                "| {} | {} | {:.3} | {:.3} | planned at its high-fidelity lower bound {:.3} and retired from training |",
                r.round, r.subtask, r.low_rate, r.high_rate, r.high_bound
            )?;
        }
    }
    if let Some(cert) = &outcome.certificate {
        writeln!(md, "\n## Verification\n")?;
        writeln!(
            md,
            "| subtask | fidelity | trials | successes | lower bound | required | pass |\n|---|---|---|---|---|---|---|"
        )?;
        for r in &cert.subtasks {
            writeln!(
                md,
                "| {} | {} | {} | {} | {:.4} | {:.4} | {} |",
                r.subtask,
                r.fidelity,
                r.trials,
                r.successes,
                floor_to(r.lower_bound, 4),
                r.required_p,
                if r.pass { "yes" } else { "no" }
            )?;
        }
        writeln!(md, "\n![low vs high](plots/low_vs_high.png)\n")?;
        for g in &cert.goals {
            match g.routes.first() {
                None => writeln!(md, "- goal **{}**: no route meets θ", g.goal)?,
                Some(_) => {
                    for r in &g.routes {
                        writeln!(
                            md,
                            "- goal **{}**: Pr(goal) ≥ {:.4} with confidence ≥ {:.2} ({} fidelity) via {}",
                            g.goal,
                            floor_to(r.lower_bound, 4),
                            floor_to(r.confidence, 2),
                            r.fidelity,
                            r.subtasks.join(" → ")
                        )?;
                    }
                    for (fidelity, r) in missions.iter().filter(|(_, r)| r.goal == g.goal) {
                        writeln!(
                            md,
                            "  - sample mission (seed {}) in {} fidelity: {} after {:.1} s — {}",
                            r.seed,
                            fidelity.name(),
                            phase_name(r),
                            r.duration_s,
                            r.detail
                        )?;
                    }
                    writeln!(md, "\n  ![route](plots/route_{}.png)\n", g.goal)?;
                }
            }
        }
        if !cert.fidelity_gaps.is_empty() {
            writeln!(md, "\nSignificant low/high gap (Fisher exact): {}.", cert.fidelity_gaps.join(", "))?;
        }
    }
    bundle.report(&md)?;
    Ok(())
}

/// One mission per goal in each simulator, driven by the runtime nodes exactly as
/// `sim2real mission` does (seed 0): the sample trajectories on the route maps. Only for a
/// certified bundle, since only that one may drive.
fn sample_missions(
    out: &Path,
    outcome: &Outcome,
) -> Result<Vec<(sim::Fidelity, MissionReport)>, PipelineError> {
    if !outcome.certificate.as_ref().is_some_and(|c| c.certified) {
        return Ok(Vec::new());
    }
    let deployment = Arc::new(Deployment::open(out, false)?);
    let mut runs = Vec::new();
    for goal in deployment.bundle().scenario().goals() {
        for fidelity in [sim::Fidelity::Low, sim::Fidelity::High] {
            let config = MissionConfig {
                goal: goal.to_string(),
                fidelity,
                seed: 0,
                record: None,
                start: None,
                faults: Faults::default(),
                transport: Transport::InProcess,
                world: None,
                preference: Default::default(),
                lidar_mount: Default::default(),
                pose: Default::default(),
            };
            runs.push((fidelity, mission::run(Arc::clone(&deployment), &config)?));
        }
    }
    Ok(runs)
}

fn phase_name(r: &MissionReport) -> String {
    if r.succeeded() { "reached the goal".into() } else { format!("{:?}", r.phase).to_lowercase() }
}

/// A [0, 1] chart of one panel.
fn unit_lines(
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    x_max: f64,
    reference: Option<(String, f64)>,
    series: Vec<Series>,
) -> Lines {
    Lines {
        caption: caption.into(),
        x_desc: x_desc.into(),
        x_max,
        x_labels: XLabels::Plain,
        panels: vec![Panel { y_desc: y_desc.into(), y_range: Some((0.0, 1.02)), reference, series }],
    }
}

/// p̂ of every trained subtask against the iteration, with θ.
fn estimates_png(
    path: &Path,
    scenario: &Scenario,
    outcome: &Outcome,
    trained: &[usize],
) -> Result<(), PlotError> {
    let history = &outcome.icrl.history;
    let theta = scenario.task().theta;
    let id = |c: usize| scenario.subtasks()[c].id().to_string();
    let series = trained
        .iter()
        .map(|&c| {
            Series::line(id(c), history.iter().enumerate().map(|(i, it)| (i as f64, it.p_hat[c])).collect())
        })
        .collect();
    lines_png(
        path,
        &unit_lines(
            "estimated success per subtask against ICRL iteration (low fidelity)",
            "iteration",
            "estimated success",
            history.len().saturating_sub(1) as f64,
            Some((format!("θ = {theta}"), theta)),
            series,
        ),
    )
}

/// Training success rate (last 100 episodes) against the subtask's own steps.
fn curves_png(path: &Path, scenario: &Scenario, outcome: &Outcome) -> Result<(), PlotError> {
    let x_max = outcome.curves.values().filter_map(|c| c.last()).map(|p| p.0).max().unwrap_or(1) as f64;
    let id = |c: usize| scenario.subtasks()[c].id().to_string();
    let series = outcome
        .curves
        .iter()
        .map(|(&c, curve)| Series::line(id(c), curve.iter().map(|&(s, r)| (s as f64, r)).collect()))
        .collect();
    lines_png(
        path,
        &unit_lines(
            "learning curves: training success (last 100 episodes)",
            "environment steps of the subtask",
            "success",
            x_max,
            None,
            series,
        ),
    )
}

/// Verification success rate per subtask, low beside high.
fn fidelity_png(path: &Path, cert: &Certificate) -> Result<(), PlotError> {
    let mut ids: Vec<&str> = cert.subtasks.iter().map(|r| r.subtask.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rate = |id: &str, f: Fidelity| {
        cert.subtasks
            .iter()
            .find(|r| r.subtask == id && r.fidelity == f)
            .map(|r| r.successes as f64 / r.trials.max(1) as f64)
    };
    let rows: Vec<_> =
        ids.iter().map(|id| (id.to_string(), rate(id, Fidelity::Low), rate(id, Fidelity::High))).collect();
    paired_bars_png(
        path,
        "verification success rate: low (blue, lower bar) vs high (orange) fidelity",
        "success rate",
        &rows,
    )
}
