//! Both simulators on the real yard scenario: control steps per second on one core while the
//! pure-pursuit baseline drives the slope route (depot → dock_south → pond bank → shed_pond),
//! with the scenario's noise, randomisation and latency. Run: `cargo bench --bench yard`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim::Fidelity;
use sim2real::control::route;
use sim2real::scenario::Scenario;
use std::path::Path;

fn yard(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/warthog_yard/scenario.yaml");
    let s = Scenario::load(&path).expect("yard loads");
    let goal = s.goals().iter().find(|g| g.as_str() == "shed_pond").expect("goal");
    let slope_route = s.graph().routes(goal).into_iter().next().expect("route");
    let start = route::start_state(&s, &slope_route, 1).expect("start");
    let mut group = c.benchmark_group("yard_slope_route");
    for fidelity in [Fidelity::Low, Fidelity::High] {
        let mut sim = s.simulator(fidelity).expect("simulator");
        let steps = route::drive_baseline(sim.as_mut(), &s, &slope_route, start, 1).samples.len();
        group.throughput(Throughput::Elements(steps as u64));
        group.bench_function(fidelity.name(), |b| {
            b.iter(|| route::drive_baseline(sim.as_mut(), &s, &slope_route, start, 1).samples.len())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = yard
}
criterion_main!(benches);
