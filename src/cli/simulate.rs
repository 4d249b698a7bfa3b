//! `sim2real simulate`: one baseline run of a route, with a CSV trajectory and a map.

use super::{Code, Failure, FidelityArg};
use anyhow::Context;
use sim2real::control::route::{self, RouteRun};
use sim2real::files;
use sim2real::plot::{self, Track};
use sim2real::scenario::Scenario;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file.
    scenario: PathBuf,
    /// Which simulator.
    #[arg(long, value_enum)]
    fidelity: FidelityArg,
    /// Goal waypoint: drive its shortest route (default: the first goal).
    #[arg(long, conflicts_with = "route")]
    goal: Option<String>,
    /// Explicit route: comma-separated subtask ids.
    #[arg(long, value_delimiter = ',')]
    route: Option<Vec<String>>,
    /// Seed of the start state, noise and randomisation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Directory for trajectory.csv and trajectory.png.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<Code, Failure> {
    let scenario = super::load(&args.scenario)?;
    let route =
        pick_route(&scenario, args.goal.as_deref(), args.route.as_deref()).map_err(Failure::invalid)?;
    let names: Vec<&str> = route.iter().map(|&a| scenario.subtasks()[a].id().as_str()).collect();
    let fidelity: sim::Fidelity = args.fidelity.into();
    let mut sim = scenario.simulator(fidelity).map_err(Failure::invalid)?;
    let start = route::start_state(&scenario, &route, args.seed).ok_or_else(|| {
        Failure::invalid(anyhow::anyhow!("cannot sample a start state for route {names:?}"))
    })?;
    tracing::info!("{} fidelity, route {}", fidelity.name(), names.join(" → "));
    let run = route::drive_baseline(sim.as_mut(), &scenario, &route, start, args.seed);

    for s in &run.subtasks {
        let what = match s.outcome {
            route::Outcome::Collision { obstacle } => {
                format!("collision with {}", scenario.obstacle_id(obstacle))
            }
            o => o.name().to_string(),
        };
        let dt = scenario.robot().control_dt_s();
        println!(
            "{:<24} {:<28} {:>6} steps {:>7.1} s",
            scenario.subtasks()[s.subtask].id(),
            what,
            s.steps,
            s.steps as f64 * dt
        );
    }
    let reached = run.reached(&route);
    println!("{}", if reached { "route completed" } else { "route FAILED" });

    if let Some(out) = &args.out {
        write_outputs(out, &scenario, &route, &run, fidelity).map_err(Failure::runtime)?;
        println!("wrote {}/trajectory.csv and {}/trajectory.png", out.display(), out.display());
    }
    Ok(if reached { Code::Success } else { Code::Runtime })
}

/// The route to drive: explicit ids, or the shortest route to the goal (default: first goal).
fn pick_route(s: &Scenario, goal: Option<&str>, ids: Option<&[String]>) -> anyhow::Result<Vec<usize>> {
    if let Some(ids) = ids {
        let route = ids
            .iter()
            .map(|id| {
                s.subtask_index(id).with_context(|| format!("--route: no subtask `{id}` in the scenario"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        for pair in route.windows(2) {
            anyhow::ensure!(
                s.graph().successors(pair[0]).contains(&pair[1]),
                "--route: `{}` cannot follow `{}` (its exit set is not inside the next entry set)",
                s.subtasks()[pair[1]].id(),
                s.subtasks()[pair[0]].id()
            );
        }
        anyhow::ensure!(!route.is_empty(), "--route: empty");
        return Ok(route);
    }
    let goal = match goal {
        Some(g) => s.goals().iter().find(|w| w.as_str() == g).with_context(|| {
            let goals: Vec<&str> = s.goals().iter().map(|g| g.as_str()).collect();
            format!("--goal: `{g}` is not a goal of the scenario (goals: {})", goals.join(", "))
        })?,
        None => s.goals().first().context("the scenario has no goals")?,
    };
    s.graph().routes(goal).into_iter().next().with_context(|| format!("no route reaches `{goal}`"))
}

fn write_outputs(
    out: &Path,
    s: &Scenario,
    route: &[usize],
    run: &RouteRun,
    fidelity: sim::Fidelity,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut csv = String::from("time_s,subtask,x_m,y_m,yaw_rad,speed_mps,cmd_linear_mps,cmd_angular_rps\n");
    for p in &run.samples {
        let st = &p.state;
        writeln!(
            csv,
            "{:.3},{},{:.4},{:.4},{:.5},{:.4},{:.4},{:.4}",
            p.time_s,
            s.subtasks()[p.subtask].id(),
            st.x_m,
            st.y_m,
            st.yaw_rad,
            st.speed_mps,
            p.cmd.linear_mps,
            p.cmd.angular_rps
        )?;
    }
    let csv_path = out.join("trajectory.csv");
    files::write_atomic(&csv_path, csv.as_bytes())
        .with_context(|| format!("writing {}", csv_path.display()))?;
    let points: Vec<sim::Vec2> =
        run.samples.iter().map(|p| sim::Vec2::new(p.state.x_m, p.state.y_m)).collect();
    let label = format!("{} fidelity", fidelity.name());
    let track = Track { label, points: &points, colour: plotters::style::RGBColor(20, 60, 200) };
    let title = format!("{} — {} fidelity baseline run", s.name(), fidelity.name());
    let png = out.join("trajectory.png");
    plot::map_png(&png, &title, s, route, &[track]).with_context(|| format!("writing {}", png.display()))
}
