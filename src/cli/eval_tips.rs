//! `sim2real eval-tips`: the perturbation suite of the introspective-tips planner.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use sim2real::agents::tips::{Action, IntrospectConfig, LlmRewriter, Scope, TipsPlanner};
use sim2real::bundle::Deployment;
use sim2real::eval::tips::{self, Cell, Condition, EvalConfig, EvalResults, Role, Suite, SuiteError};

use super::{Code, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file of a certified bundle (the bundle is the directory holding it), e.g.
    /// scenarios/warthog_yard/baseline_bundle/scenario.yaml.
    scenario: PathBuf,
    /// Missions per variant and condition.
    #[arg(long, default_value_t = 40)]
    episodes: usize,
    /// Seed of every mission seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The suite file (default: variants/suite.yaml beside the bundle, or in its parent).
    #[arg(long)]
    suite: Option<PathBuf>,
    /// Expert demonstrations recorded per certified route (successful ones are kept).
    #[arg(long, default_value_t = 8)]
    demos: usize,
    /// Language model that words the tips (`none`, `http://HOST:PORT/v1`, `local:PATH.gguf`); the
    /// rules, and so the results, are the same with any.
    #[arg(long, default_value = "none")]
    llm: String,
    /// Write the tip stores and results.json here.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn default_suite(bundle: &Path) -> Option<PathBuf> {
    [bundle.join("variants/suite.yaml"), bundle.join("../variants/suite.yaml")]
        .into_iter()
        .find(|p| p.exists())
}

fn rate(c: &Cell) -> String {
    format!("{:.0} % ({}/{})", 100.0 * c.successes as f64 / c.missions.max(1) as f64, c.successes, c.missions)
}

fn tips_error(e: SuiteError) -> Failure {
    match e {
        SuiteError::Read { .. } | SuiteError::Invalid { .. } | SuiteError::Overlay(_) => Failure::invalid(e),
        e => Failure::runtime(e),
    }
}

pub fn run(args: Args) -> Result<Code, Failure> {
    let spec = sim2real::llm::LlmSpec::parse(&args.llm).map_err(Failure::invalid)?;
    if args.episodes == 0 {
        return Err(Failure::invalid(anyhow::anyhow!("--episodes must be at least 1")));
    }
    let bundle =
        args.scenario.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    let deployment = Arc::new(Deployment::open(&bundle, false).map_err(super::mission::refusal)?);
    let suite_path = match args.suite.clone().or_else(|| default_suite(&bundle)) {
        Some(p) => p,
        None => {
            let msg = format!(
                "{}: no variants/suite.yaml beside or above the bundle; give --suite FILE",
                bundle.display()
            );
            return Err(Failure::invalid(anyhow::anyhow!(msg)));
        }
    };
    let goals: Vec<String> = deployment.bundle().scenario().goals().iter().map(|g| g.to_string()).collect();
    let suite = Suite::load(&suite_path, &args.scenario, &goals).map_err(tips_error)?;
    for v in &suite.variants {
        deployment.routes(&v.goal).map_err(super::mission::refusal)?;
    }
    let mut planner = TipsPlanner::new(Arc::clone(&deployment), IntrospectConfig::default());
    if let Some(backend) = sim2real::llm::open(&spec).map_err(Failure::invalid)? {
        eprintln!("eval-tips: tip texts worded by {}", backend.describe());
        planner = planner.with_rewriter(Box::new(LlmRewriter::new(backend)));
    }
    for v in &suite.variants {
        planner.add_variant(v.overlay.name(), &v.world);
    }
    let config = EvalConfig { episodes: args.episodes, seed: args.seed, demos_per_route: args.demos };
    eprintln!(
        "eval-tips: {} variants × conditions, {} missions each, high fidelity, seed {}",
        suite.variants.len(),
        args.episodes,
        args.seed
    );
    let started = Instant::now();
    let progress = |line: &str| eprintln!("{line}");
    let results = tips::run_suite(&deployment, &planner, &suite, config, &progress).map_err(tips_error)?;
    print_table(&suite, &results, &args);
    // What the robot would ask for without tips steering it away: subtasks that keep failing.
    let mut retrain = Vec::new();
    for c in results.cells.iter().filter(|c| c.condition == Condition::NoTips) {
        for t in planner.own_tips(&c.records) {
            if let (Action::Retrain, Scope::Subtask(id)) = (t.rule.action, &t.rule.scope) {
                retrain.push(format!("{id} ({})", c.variant));
            }
        }
    }
    if !retrain.is_empty() {
        println!("Retrain requests from the no-tips missions: {}", retrain.join(", "));
    }
    eprintln!("eval-tips: {:.1} s wall-clock", started.elapsed().as_secs_f64());
    if let Some(dir) = &args.out {
        write_out(dir, &results).map_err(Failure::runtime)?;
        println!("\ntip stores and results.json: {}", dir.display());
    }
    Ok(Code::Success)
}

fn print_table(suite: &Suite, results: &EvalResults, args: &Args) {
    let cell =
        |name: &str, c: Condition| results.cells.iter().find(|x| x.variant == name && x.condition == c);
    println!(
        "Success over {} missions per cell (high fidelity, seed {}, {} expert demonstrations per route):\n",
        args.episodes, args.seed, args.demos
    );
    println!(
        "| variant | role | conditions | goal | no tips | own tips | own + expert | merged (zero-shot) | failures before steering (own / expert / merged) | tips (own / expert / merged) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for v in &suite.variants {
        let name = v.overlay.name();
        let show = |c: Condition| cell(name, c).map_or("—".to_string(), rate);
        let steer = |c: Condition| {
            cell(name, c).map_or("—".to_string(), |x| {
                x.failures_before_steering.map_or("never".into(), |n| n.to_string())
            })
        };
        let tips = |c: Condition| cell(name, c).map_or("—".to_string(), |x| x.tips().to_string());
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} | {} / {} / {} |",
            if v.role == Role::Train { "train" } else { "held out" },
            v.overlay.conditions().join(", "),
            v.goal,
            show(Condition::NoTips),
            show(Condition::Own),
            show(Condition::OwnExpert),
            show(Condition::Merged),
            steer(Condition::Own),
            steer(Condition::OwnExpert),
            steer(Condition::Merged),
            tips(Condition::Own),
            tips(Condition::OwnExpert),
            tips(Condition::Merged),
        );
    }
    println!("\nMerged tips (learned on the training variants):");
    for t in results.merged.tips() {
        println!("  - {}", t.text);
    }
    let retrain: Vec<String> = results
        .cells
        .iter()
        .filter(|c| c.condition == Condition::Own)
        .flat_map(|c| c.retrain.iter().map(move |s| format!("{s} ({})", c.variant)))
        .collect();
    if !retrain.is_empty() {
        println!("Retrain requests in the own tips: {}", retrain.join(", "));
    }
}

fn write_out(dir: &Path, results: &EvalResults) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    for c in &results.cells {
        if let Some(store) = &c.store {
            let name = format!(
                "tips-{}-{}.json",
                c.variant,
                serde_json::to_value(c.condition)?.as_str().unwrap_or("x")
            );
            store.save(&dir.join(name))?;
        }
    }
    results.merged.save(&dir.join("tips-merged.json"))?;
    let json = serde_json::to_string_pretty(results).context("encoding results")?;
    sim2real::files::write_atomic(&dir.join("results.json"), json.as_bytes())
        .with_context(|| format!("{}: cannot write results.json", dir.display()))?;
    Ok(())
}
