//! Runs the iterative compositional RL loop on the ICAPS labyrinth for one seed and prints one
//! JSON line (what `bench/labyrinth.sh` tabulates).
//!
//! ```text
//! cargo run --release --example labyrinth_icrl -- [seed] [labyrinth.yaml]
//! ```

use std::path::PathBuf;

use anyhow::Context;
use sim2real::training::icrl::Ending;
use sim2real::training::labyrinth::Labyrinth;
use sim2real::training::labyrinth::icrl;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed: u64 = args.first().map_or(Ok(0), |s| s.parse()).context("seed")?;
    let path = args.get(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/labyrinth/labyrinth.yaml"),
        PathBuf::from,
    );
    let lab = Labyrinth::load(&path)?;
    let r = icrl::run(&lab, seed)?;
    let ending = match &r.ending {
        Ending::Met => "met".to_string(),
        Ending::NoRoute { goal } => format!("no_route:{goal}"),
        Ending::Capped => "capped".to_string(),
    };
    let list = |v: &[String]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(",");
    let ids: Vec<String> = lab.subtasks().iter().map(|s| s.id().to_string()).collect();
    let steps: Vec<String> = ids.iter().zip(&r.steps).map(|(id, n)| format!("\"{id}\":{n}")).collect();
    let p_hat: Vec<String> = ids.iter().zip(&r.p_hat).map(|(id, p)| format!("\"{id}\":{p:.3}")).collect();
    let order: Vec<String> = r.order.iter().map(|&c| ids[c].clone()).collect();
    println!(
        "{{\"seed\":{seed},\"ending\":\"{ending}\",\"iterations\":{},\"total_steps\":{},\
         \"steps\":{{{}}},\"p_hat\":{{{}}},\"predicted\":{:.4},\"empirical\":{:.4},\"route\":[{}],\"order\":[{}],\
         \"wall_clock_s\":{:.1},\"threads\":{}}}",
        r.iterations,
        r.total_steps,
        steps.join(","),
        p_hat.join(","),
        r.predicted,
        r.empirical,
        list(&r.route),
        list(&order),
        r.wall_clock_s,
        rayon::current_num_threads()
    );
    Ok(())
}
