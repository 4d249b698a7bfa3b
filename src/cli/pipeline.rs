//! `sim2real pipeline`: scenario → trained, verified, certified bundle (exit 3 when the budget
//! ends without a certificate).

use super::{Code, Failure};
use anyhow::anyhow;
use sim2real::pipeline::{self, Options, report};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file.
    scenario: PathBuf,
    /// Bundle directory to write (scenario.yaml, policies/, certificate.yaml, report.md, plots/).
    #[arg(long)]
    out: PathBuf,
    /// Seed of training, estimation and verification.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Smaller budgets for a quick look: a quarter of each training budget, estimates from 50
    /// rollouts. The yard does not certify in quick mode (its muddy bank and the rubble need
    /// more than a quarter of their budgets); CI runs the full pipeline.
    #[arg(long)]
    quick: bool,
}

pub fn run(args: Args) -> Result<Code, Failure> {
    let scenario = super::load(&args.scenario)?;
    if let Some(n) = args.threads {
        if n == 0 {
            return Err(Failure::invalid(anyhow!("--threads: must be at least 1")));
        }
        rayon::ThreadPoolBuilder::new().num_threads(n).build_global().map_err(Failure::runtime)?;
    }
    let options = Options { seed: args.seed, quick: args.quick };
    let started = Instant::now();
    let log = |line: &str| tracing::info!("{line}");
    let outcome = pipeline::run(&args.scenario, &args.out, &options, &log).map_err(Failure::runtime)?;
    let seconds = started.elapsed().as_secs_f64();
    // Wall-clock time goes to the console, not the report: the bundle reproduces byte for byte.
    report::write(&args.out, &scenario, &outcome).map_err(Failure::runtime)?;
    let steps: u64 = outcome.icrl.steps.iter().sum();
    println!(
        "{} ICRL iterations, {steps} training steps, {seconds:.0} s; report: {}",
        outcome.icrl.history.len().saturating_sub(1),
        args.out.join(verification::REPORT_FILE).display()
    );
    match &outcome.certificate {
        Some(cert) if cert.certified => {
            for g in &cert.goals {
                if let Some(r) = g.routes.first() {
                    println!(
                        "goal {}: Pr(goal) ≥ {:.4} with confidence ≥ {:.2} via {}",
                        g.goal,
                        verification::floor_to(r.lower_bound, 4),
                        verification::floor_to(r.confidence, 2),
                        r.subtasks.join(" → ")
                    );
                }
            }
            println!("CERTIFIED: bundle written to {}", args.out.display());
            Ok(Code::Success)
        }
        Some(_) => {
            println!(
                "NOT CERTIFIED: training ended {:?}, {} refinement(s); see the report",
                outcome.ending,
                outcome.refinements.len()
            );
            Ok(Code::Verification)
        }
        None => {
            println!("NOT CERTIFIED: training ended {:?} before every goal met θ", outcome.ending);
            Ok(Code::Verification)
        }
    }
}
