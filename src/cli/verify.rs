//! `sim2real verify` and `sim2real verify-merge`: verification campaigns, their shards, and
//! the certificate (exit 3 when it does not hold).

use super::progress::Progress;
use super::{Code, Failure};
use anyhow::{Context, anyhow};
use sim2real::bundle::{Bundle, BundleWriter};
use sim2real::campaign::{Campaign, Plan, Shard};
use sim2real::files;
use std::path::{Path, PathBuf};
use std::time::Instant;
use verification::{Certificate, Fidelity, floor_to};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Fidelities {
    Low,
    High,
    /// Low, then high.
    All,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bundle directory (scenario.yaml, policies/).
    bundle: PathBuf,
    /// Simulators to run the trials in; the certificate's claims rest on high fidelity.
    #[arg(long, value_enum)]
    fidelity: Fidelities,
    /// Trials per subtask and fidelity (default: sized from certified θ and δ, DESIGN §9).
    #[arg(long)]
    trials: Option<u64>,
    /// Joint confidence 1 − δ of the certificate (default: the scenario's 1 − certify.delta).
    #[arg(long)]
    confidence: Option<f64>,
    /// Stop each subtask's campaign early once its bound settles (up to twice the fixed-N
    /// trials; not with --shard).
    #[arg(long, conflicts_with = "shard")]
    sequential: bool,
    /// Run only shard I of N (trials i with i mod N = I); writes the shard's evidence to --out
    /// for `verify-merge`.
    #[arg(long, value_parser = Shard::parse)]
    shard: Option<Shard>,
    /// Campaign seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Drive subtasks without a policy in the bundle with the pure-pursuit baseline.
    #[arg(long)]
    baseline: bool,
    /// Write the certificate (or, with --shard, the shard's evidence) here too, pass or fail.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run no trials: check the bundle's certificate against its files and print it.
    #[arg(long, conflicts_with_all = ["trials", "shard", "out", "baseline"])]
    check: bool,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Shard files written by `verify --shard I/N --out FILE`.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// Where to write the certificate of the merged campaign.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<Code, Failure> {
    if args.check {
        return check(&args.bundle);
    }
    let bundle = Bundle::open(&args.bundle).map_err(Failure::invalid)?;
    let scenario = bundle.scenario();
    let delta = match args.confidence {
        Some(c) if c > 0.0 && c < 1.0 => 1.0 - c,
        Some(c) => return Err(Failure::invalid(anyhow!("--confidence: must be in (0, 1), got {c}"))),
        None => scenario.certify().delta,
    };
    if args.trials == Some(0) {
        return Err(Failure::invalid(anyhow!("--trials: must be at least 1")));
    }
    // `--shard 0/1` is a (one-shard) shard run too: its output is evidence for verify-merge.
    let sharded = args.shard.is_some();
    let shard = args.shard.unwrap_or(Shard::WHOLE);
    if sharded && args.out.is_none() {
        return Err(Failure::invalid(anyhow!("--shard needs --out FILE for the shard's evidence")));
    }
    if let Some(out) = &args.out {
        refuse_inside(out, &args.bundle)?;
    }
    let fidelities = match args.fidelity {
        Fidelities::Low => vec![sim::Fidelity::Low],
        Fidelities::High => vec![sim::Fidelity::High],
        Fidelities::All => vec![sim::Fidelity::Low, sim::Fidelity::High],
    };
    let plan = Plan::new(&bundle, fidelities, args.trials, args.sequential, args.baseline, args.seed, delta)
        .map_err(|e| Failure::invalid(anyhow!("{}: {e}", args.bundle.display())))?;
    let total = plan.total_trials().div_ceil(shard.count);
    println!(
        "verifying {} ({}): {} subtask(s) × {} fidelity(ies), {}{total} trials{}",
        args.bundle.display(),
        scenario.name(),
        plan.subtasks.len(),
        plan.fidelities.len(),
        if plan.sequential { "sequential, at most " } else { "" },
        if !sharded { String::new() } else { format!(" (shard {}/{})", shard.index, shard.count) }
    );

    let started = Instant::now();
    let progress = Progress::new(total, "trials");
    let campaign = plan.run(&bundle, shard, &|done| progress.update(done, "")).map_err(Failure::runtime)?;
    progress.finish();
    let elapsed = started.elapsed().as_secs_f64();
    let ran: u64 = campaign.trials.iter().map(|t| t.trials).sum();
    println!("{ran} trials in {elapsed:.1} s ({:.0} trials/min)", ran as f64 * 60.0 / elapsed.max(1e-9));
    if plan.sequential {
        println!(
            "sequential: {ran} of at most {total} trials; each claim's error is spent over {} looks, so its \
             bound holds under the early stop",
            sim2real::campaign::SEQUENTIAL_LOOKS
        );
    }

    if sharded {
        let out = args.out.as_deref().unwrap_or(Path::new("-"));
        write_yaml(out, &campaign)?;
        println!("wrote shard {}/{} evidence to {}", shard.index, shard.count, out.display());
        return Ok(Code::Success);
    }
    let cert = certificate(&campaign)?;
    if let Some(out) = &args.out {
        write_yaml(out, &cert)?;
        println!("wrote {}", out.display());
    }
    if cert.certified {
        // The evidence is about the files hashed when the campaign began; refuse to seal a
        // bundle that changed since.
        verification::check_sealed(&campaign.files, bundle.dir()).map_err(|e| Failure {
            code: Code::Verification,
            error: anyhow!(
                "{}: the bundle changed during verification ({e}); certificate not written",
                args.bundle.display()
            ),
        })?;
        let path = BundleWriter::create(bundle.dir())
            .and_then(|w| w.certificate(&cert))
            .map_err(Failure::runtime)?;
        println!("wrote {}", path.display());
    }
    Ok(verdict(&cert))
}

pub fn merge(args: MergeArgs) -> Result<Code, Failure> {
    let shards = args
        .shards
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
            let de = serde_yaml_ng::Deserializer::from_str(&text);
            let campaign: Campaign = serde_path_to_error::deserialize(de)
                .map_err(|e| anyhow!("{}: {}: {}", path.display(), e.path(), e.inner()))?;
            Ok((path.display().to_string(), campaign))
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(Failure::invalid)?;
    let merged = Campaign::merge(&shards).map_err(Failure::invalid)?;
    let cert = certificate(&merged)?;
    write_yaml(&args.out, &cert)?;
    println!("merged {} shard(s); wrote {}", shards.len(), args.out.display());
    Ok(verdict(&cert))
}

/// `verify --check`: the bundle's certificate, checked against the files it seals.
fn check(dir: &Path) -> Result<Code, Failure> {
    let cert = Certificate::load_verified(dir)
        .map_err(|e| Failure { code: Code::Verification, error: anyhow!("{}: {e}", dir.display()) })?;
    println!("{}: every sealed file matches its sha256 ({} files)", dir.display(), cert.files.len());
    print_certificate(&cert);
    Ok(verdict(&cert))
}

fn certificate(campaign: &Campaign) -> Result<Certificate, Failure> {
    let cert = campaign.certificate().map_err(Failure::invalid)?;
    print_certificate(&cert);
    Ok(cert)
}

/// Exit code and closing line: 0 when every goal has a route meeting θ on the evidence (and,
/// for a deployable certificate, in high fidelity), 3 otherwise.
fn verdict(cert: &Certificate) -> Code {
    let high = cert.subtasks.iter().any(|r| r.fidelity == Fidelity::High);
    let goals_met = cert.interface.passed && cert.goals.iter().all(|g| !g.routes.is_empty());
    if cert.certified {
        println!("CERTIFIED: every goal has a route meeting certified θ in high fidelity");
        Code::Success
    } else if goals_met && !high {
        println!("PASSED in low fidelity only: not deployable until verified in high fidelity");
        Code::Success
    } else {
        let mut why: Vec<String> =
            cert.goals.iter().filter(|g| g.routes.is_empty()).map(|g| g.goal.clone()).collect();
        if !why.is_empty() {
            why = vec![format!("no route meets θ for goal(s) {}", why.join(", "))];
        }
        if !cert.interface.passed {
            why.push(format!("interface check failed: {}", cert.interface.summary));
        }
        println!("NOT CERTIFIED: {}", why.join("; "));
        Code::Verification
    }
}

fn print_certificate(cert: &Certificate) {
    println!(
        "{:<28} {:<12} {:>4} {:>7} {:>7} {:>7} {:>17} {:>8} {:>4}  failures",
        "subtask", "controller", "fid", "trials", "success", "lower", "two-sided", "required", "pass"
    );
    for r in &cert.subtasks {
        let failures: Vec<String> = r.failures.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!(
            "{:<28} {:<12} {:>4} {:>7} {:>7} {:>7.4} [{:>7.4},{:>7.4}] {:>8.4} {:>4}  {}",
            r.subtask,
            r.controller.to_string(),
            r.fidelity.to_string(),
            r.trials,
            r.successes,
            r.lower_bound,
            r.interval[0],
            r.interval[1],
            r.required_p,
            if r.pass { "yes" } else { "no" },
            failures.join(", ")
        );
    }
    if let Some(r) = cert.subtasks.first() {
        println!(
            "(bounds are one-sided Clopper-Pearson at confidence {:.5} per subtask claim)",
            r.confidence
        );
    }
    for g in &cert.goals {
        match g.routes.first() {
            None => println!("goal {}: no route meets θ", g.goal),
            Some(_) => {
                for (k, r) in g.routes.iter().enumerate() {
                    println!(
                        "goal {} route {}: Pr(goal) ≥ {:.4} with confidence ≥ {:.4} (θ {}, {} fidelity) via {}",
                        g.goal,
                        k + 1,
                        floor_to(r.lower_bound, 4),
                        floor_to(r.confidence, 4),
                        r.theta,
                        r.fidelity,
                        r.subtasks.join(" → ")
                    );
                }
            }
        }
    }
    if !cert.fidelity_gaps.is_empty() {
        println!("significant low/high fidelity gap (Fisher exact): {}", cert.fidelity_gaps.join(", "));
    }
}

/// An output file inside the bundle would change the files the campaign hashes (except the
/// unsealed `certificate.yaml` at its root).
fn refuse_inside(out: &Path, bundle: &Path) -> Result<(), Failure> {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let (Ok(dir), Ok(bundle)) = (parent.canonicalize(), bundle.canonicalize()) else {
        return Ok(()); // a missing folder fails clearly when the file is written
    };
    let is_certificate = dir == bundle && out.file_name() == Some(verification::CERTIFICATE_FILE.as_ref());
    if dir.starts_with(&bundle) && !is_certificate {
        return Err(Failure::invalid(anyhow!(
            "--out {}: inside the bundle being verified; write it elsewhere (it would change the sealed files)",
            out.display()
        )));
    }
    Ok(())
}

fn write_yaml<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), Failure> {
    let yaml = serde_yaml_ng::to_string(value).map_err(Failure::runtime)?;
    files::write_atomic(path, yaml.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
        .map_err(Failure::runtime)
}
