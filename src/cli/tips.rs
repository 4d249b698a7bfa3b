//! `sim2real tips`: introspect `missions.jsonl` into a tip store file (or roll it back).

use std::path::PathBuf;
use std::sync::Arc;

use sim2real::agents::tips::{
    IntrospectConfig, LlmRewriter, Source, TipStore, TipsError, TipsPlanner, read_missions,
};
use sim2real::bundle::Deployment;

use super::{Code, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Bundle directory (its certified routes are what tips may choose among).
    bundle: PathBuf,
    /// The tip store file (JSON; created when absent, replaced atomically).
    #[arg(long)]
    store: PathBuf,
    /// The robot's own missions (`mission --missions FILE`). Repeatable.
    #[arg(long)]
    missions: Vec<PathBuf>,
    /// Expert demonstrations: recorded missions, of which the successful ones count. Repeatable.
    #[arg(long)]
    expert: Vec<PathBuf>,
    /// A variant overlay the missions ran in (for merged feature tips). Repeatable.
    #[arg(long)]
    variant: Vec<PathBuf>,
    /// Write merged feature tips (across variants) instead of per-subtask tips.
    #[arg(long)]
    merged: bool,
    /// Language model that words new tips (`none`: the deterministic words; `http://HOST:PORT/v1`;
    /// `local:PATH.gguf`). An unusable answer keeps the deterministic words.
    #[arg(long, default_value = "none")]
    llm: String,
    /// Go back to the previous version of the store instead.
    #[arg(long, conflicts_with_all = ["missions", "expert", "merged"])]
    rollback: bool,
}

pub fn run(args: Args) -> Result<Code, Failure> {
    let deployment = Arc::new(Deployment::open(&args.bundle, false).map_err(super::mission::refusal)?);
    let mut planner = TipsPlanner::new(Arc::clone(&deployment), IntrospectConfig::default());
    let spec = sim2real::llm::LlmSpec::parse(&args.llm).map_err(Failure::invalid)?;
    if let Some(backend) = sim2real::llm::open(&spec).map_err(Failure::invalid)? {
        planner = planner.with_rewriter(Box::new(LlmRewriter::new(backend)));
    }
    let invalid = |e: TipsError| Failure::invalid(e);
    if args.rollback {
        let mut store = TipStore::load(&args.store, planner.check()).map_err(invalid)?;
        let version = store.rollback().map_err(invalid)?;
        store.save(&args.store).map_err(Failure::runtime)?;
        println!("{}: rolled back to version {version}", args.store.display());
        return Ok(Code::Success);
    }
    for path in &args.variant {
        let world = super::mission::world_override(&args.bundle, path)?;
        planner.add_variant(&world.name, &world.scenario);
    }
    let mut records = Vec::new();
    for (files, source) in [(&args.missions, Source::Own), (&args.expert, Source::Expert)] {
        for f in files {
            records.extend(read_missions(f, source).map_err(invalid)?);
        }
    }
    let tips = if args.merged { planner.merged_tips(&records) } else { planner.own_tips(&records) };
    let mut store = if args.store.exists() {
        TipStore::load(&args.store, planner.check()).map_err(invalid)?
    } else {
        planner.empty_store()
    };
    // A refused update (too many tips, an invalid rule) leaves the file as it was.
    let version = planner.update(&mut store, tips).map_err(invalid)?;
    store.save(&args.store).map_err(Failure::runtime)?;
    println!(
        "{}: version {version}, {} tip(s) from {} mission(s)",
        args.store.display(),
        store.tips().len(),
        records.len()
    );
    for t in store.tips() {
        println!("  - {}", t.text);
    }
    Ok(Code::Success)
}
