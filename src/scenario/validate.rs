//! Raw file → validated [`Scenario`]: every field checked, every problem collected.

use super::check::{Checker, is_id};
use super::graph::InterfaceGraph;
use super::raw;
use super::{
    ActionScale, CertifySpec, Problem, Scenario, Subtask, SubtaskId, TaskSpec, TrainingSpec, Waypoint,
    WaypointId,
};
use sim::Vec2;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Largest site edge we accept (m): a typo guard, not a physical limit.
const MAX_COORD_M: f64 = 10_000.0;

pub(super) fn validate(raw: raw::Scenario) -> Result<Scenario, Vec<Problem>> {
    let mut c = Checker::default();
    if raw.name.trim().is_empty() {
        c.report("name", "must not be empty", "\"\"");
    }
    let (robot, action_scale) = robot(&mut c, &raw.robot);
    let (world, obstacle_ids, terrain_ids) = world(&mut c, &raw.world);
    let waypoints = waypoints(&mut c, &raw.waypoints, &world);
    let by_id: BTreeMap<&str, &Waypoint> = waypoints.iter().map(|w| (w.id.as_str(), w)).collect();

    let training = training(&mut c, &raw.training);
    let subtasks = subtasks(&mut c, &raw, &by_id, training.budget_steps);
    let start = region(&mut c, "hlm.start", &raw.hlm.start, &by_id);

    let mut goals = Vec::new();
    for (i, g) in raw.hlm.goals.iter().enumerate() {
        match by_id.get(g.as_str()) {
            Some(w) if goals.contains(&w.id) => c.report(format!("hlm.goals[{i}]"), "must not repeat", g),
            Some(w) => goals.push(w.id.clone()),
            None => c.report(format!("hlm.goals[{i}]"), "must be the id of a waypoint", g),
        }
    }
    if raw.hlm.goals.is_empty() {
        c.report("hlm.goals", "must list at least one goal waypoint", "[]");
    }
    for (id, steps) in &raw.training.budget_overrides {
        let path = format!("training.budget_overrides.{id}");
        if !raw.subtasks.iter().any(|s| &s.id == id) {
            c.report(&path, "must name a subtask", id);
        }
        c.count(&path, *steps, 1, i64::MAX);
    }

    let task = TaskSpec { theta: c.range("task.theta", raw.task.theta, 0.0, 1.0) };
    let certify = CertifySpec {
        theta: c.range("certify.theta", raw.certify.theta, 0.0, 1.0),
        delta: open_unit(&mut c, "certify.delta", raw.certify.delta),
        routes_per_goal: c.count("certify.routes_per_goal", raw.certify.routes_per_goal, 1, 16) as u32,
    };
    let (low, high) = fidelity(&mut c, &raw.fidelity, &robot);

    // The graph needs every region valid; report its problems only on an otherwise clean file.
    let (Some(start), true) = (start, c.is_clean()) else { return Err(c.problems) };
    let subtasks: Vec<Subtask> = subtasks.into_iter().flatten().collect();
    let goal_wps: Vec<&Waypoint> = goals.iter().filter_map(|g| by_id.get(g.as_str()).copied()).collect();
    let graph = InterfaceGraph::derive(&start, &subtasks, &goal_wps);
    if graph.initial().is_empty() {
        c.report(
            "hlm.start",
            "must lie inside the entry set of at least one subtask",
            "no subtask starts here",
        );
    }
    for (i, g) in goals.iter().enumerate() {
        if graph.goal_reachers(g).is_empty() {
            c.report(format!("hlm.goals[{i}]"), "must lie inside the exit set of some subtask", g);
        } else if graph.routes(g).is_empty() {
            c.report(
                format!("hlm.goals[{i}]"),
                "must be reachable from hlm.start through the subtask graph",
                g,
            );
        }
    }
    if !c.is_clean() {
        return Err(c.problems);
    }
    Ok(Scenario {
        name: raw.name,
        description: raw.description.unwrap_or_default(),
        robot,
        action_scale,
        world: Arc::new(world),
        obstacle_ids,
        terrain_ids,
        waypoints,
        subtasks,
        start,
        goals,
        task,
        certify,
        training,
        low,
        high,
        graph,
    })
}

/// A probability strictly between 0 and 1.
fn open_unit(c: &mut Checker, path: &str, v: f64) -> f64 {
    if !(v > 0.0 && v < 1.0) {
        c.report(path, "must be in (0, 1)", v);
    }
    v
}

fn robot(c: &mut Checker, r: &raw::Robot) -> (sim::RobotParams, ActionScale) {
    let mut p = sim::RobotParams::default();
    let mut set = |field: &str, v: Option<f64>, lo: f64, hi: f64, dst: &mut f64| {
        if let Some(v) = v {
            *dst = c.range(format!("robot.{field}"), v, lo, hi);
        }
    };
    set("mass_kg", r.mass_kg, 50.0, 2000.0, &mut p.mass_kg);
    set("max_speed_mps", r.max_speed_mps, 0.1, 5.0, &mut p.max_speed_mps);
    set("max_yaw_rate_rps", r.max_yaw_rate_rps, 0.1, 4.0, &mut p.max_yaw_rate_rps);
    set("max_accel_mps2", r.max_accel_mps2, 0.1, 20.0, &mut p.max_accel_mps2);
    set("max_decel_mps2", r.max_decel_mps2, 0.1, 50.0, &mut p.max_decel_mps2);
    set("max_yaw_accel_rps2", r.max_yaw_accel_rps2, 0.1, 40.0, &mut p.max_yaw_accel_rps2);
    set("max_yaw_decel_rps2", r.max_yaw_decel_rps2, 0.1, 80.0, &mut p.max_yaw_decel_rps2);
    set("motor_force_max_n", r.motor_force_max_n, 10.0, 20_000.0, &mut p.motor_force_max_n);
    set("motor_lag_s", r.motor_lag_s, 0.0, 2.0, &mut p.motor_lag_s);
    set("control_hz", r.control_hz, 1.0, 1000.0, &mut p.control_hz);
    let mut scale = ActionScale::default();
    if let Some(a) = &r.action_scale {
        scale.linear_mps = c.range("robot.action_scale.linear_mps", a.linear_mps, 0.1, p.max_speed_mps);
        scale.angular_rps = c.range("robot.action_scale.angular_rps", a.angular_rps, 0.1, p.max_yaw_rate_rps);
        if let Some(v) = a.reverse_mps {
            scale.reverse_mps = c.range("robot.action_scale.reverse_mps", v, 0.0, scale.linear_mps);
        }
    }
    scale.reverse_mps = scale.reverse_mps.min(scale.linear_mps);
    (p, scale)
}

fn point(c: &mut Checker, path: &str, p: raw::Point) -> Vec2 {
    for (axis, v) in ["x", "y"].iter().zip(p) {
        if v.is_nan() || v.abs() > MAX_COORD_M {
            c.report(
                format!("{path}.{axis}"),
                format!("must be a finite coordinate within ±{MAX_COORD_M} m"),
                v,
            );
        }
    }
    Vec2::new(p[0], p[1])
}

/// Converts the shape keys of an obstacle or terrain patch into a simulator shape.
fn sim_shape(c: &mut Checker, path: &str, k: raw::ShapeKeys<'_>) -> Option<sim::Shape> {
    let given = [k.disc.is_some(), k.rect.is_some(), k.polygon.is_some()].iter().filter(|&&b| b).count();
    if given != 1 {
        c.report(path, "must have exactly one of `disc`, `box`, `polygon`", format!("{given} of them"));
        return None;
    }
    let before = c.problems.len();
    let shape = if let Some(d) = k.disc {
        let center = point(c, &format!("{path}.disc.center"), d.center);
        sim::Shape::Disc { center, radius_m: c.positive(format!("{path}.disc.radius_m"), d.radius_m) }
    } else if let Some(b) = k.rect {
        let center = point(c, &format!("{path}.box.center"), b.center);
        let hx = c.positive(format!("{path}.box.half_extents_m[0]"), b.half_extents_m[0]);
        let hy = c.positive(format!("{path}.box.half_extents_m[1]"), b.half_extents_m[1]);
        let yaw = c.finite(format!("{path}.box.yaw_deg"), b.yaw_deg);
        sim::Shape::Box { center, half_extents_m: Vec2::new(hx, hy), yaw_rad: yaw.to_radians() }
    } else {
        let pts = k.polygon.unwrap_or_default();
        let mut vertices: Vec<Vec2> =
            pts.iter().enumerate().map(|(i, p)| point(c, &format!("{path}.polygon[{i}]"), *p)).collect();
        if sim::geometry::signed_area(&vertices) < 0.0 {
            vertices.reverse();
        }
        if !sim::geometry::is_convex_ccw(&vertices) {
            c.report(
                format!("{path}.polygon"),
                "must be a convex polygon of at least 3 distinct vertices",
                format!("{pts:?}"),
            );
        }
        sim::Shape::Polygon { vertices }
    };
    (c.problems.len() == before).then_some(shape)
}

fn world(c: &mut Checker, w: &raw::World) -> (sim::World, Vec<String>, Vec<String>) {
    if w.kind != raw::WorldKind::Continuous {
        c.report("world.kind", "`continuous` (grid worlds are not supported by this version)", "grid");
    }
    let geofence: Vec<Vec2> =
        w.geofence.iter().enumerate().map(|(i, p)| point(c, &format!("world.geofence[{i}]"), *p)).collect();
    let mut geofence = geofence;
    if sim::geometry::signed_area(&geofence) < 0.0 {
        geofence.reverse();
    }
    if geofence.len() < 3 || !sim::geometry::is_simple_polygon(&geofence) {
        c.report(
            "world.geofence",
            "must be a simple polygon of at least 3 vertices",
            format!("{:?}", w.geofence),
        );
    }
    let mut world = sim::World::open(Vec2::new(0.0, 0.0), Vec2::new(1.0, 1.0));
    world.geofence = geofence;
    world.ground_friction = c.range("world.ground_friction", w.ground_friction, 0.05, 2.0);
    world.terrain_seed = w.terrain_seed;

    let mut ids = BTreeSet::new();
    let mut unique_id = |c: &mut Checker, path: String, id: &str| {
        if !is_id(id) {
            c.report(path, "must be 1-64 of a-z, 0-9, _ starting with a letter", id);
        } else if !ids.insert(id.to_string()) {
            c.report(path, "must be unique among obstacles and terrain", id);
        }
    };
    let mut obstacle_ids = Vec::new();
    for (i, o) in w.obstacles.iter().enumerate() {
        let path = format!("world.obstacles[{i}]");
        unique_id(c, format!("{path}.id"), &o.id);
        let height_m = c.range(format!("{path}.height_m"), o.height_m, 0.01, 100.0);
        if let Some(shape) = sim_shape(c, &path, o.shape_keys()) {
            world.obstacles.push(sim::Obstacle { shape, height_m });
            obstacle_ids.push(o.id.clone());
        }
    }
    let mut terrain_ids = Vec::new();
    for (i, t) in w.terrain.iter().enumerate() {
        let path = format!("world.terrain[{i}]");
        unique_id(c, format!("{path}.id"), &t.id);
        let grade = c.range(format!("{path}.grade"), t.grade, 0.0, 1.0);
        let downhill = c.finite(format!("{path}.downhill_deg"), t.downhill_deg);
        let roughness_m = c.range(format!("{path}.roughness_m"), t.roughness_m, 0.0, 0.5);
        let friction = c.range(format!("{path}.friction"), t.friction, 0.05, 2.0);
        if let Some(shape) = sim_shape(c, &path, t.shape_keys()) {
            world.terrain.push(sim::TerrainPatch {
                shape,
                grade,
                downhill_yaw_rad: downhill.to_radians(),
                roughness_m,
                friction,
            });
            terrain_ids.push(t.id.clone());
        }
    }
    (world, obstacle_ids, terrain_ids)
}

fn waypoints(c: &mut Checker, raw: &[raw::Waypoint], world: &sim::World) -> Vec<Waypoint> {
    let mut out: Vec<Waypoint> = Vec::new();
    if raw.is_empty() {
        c.report("waypoints", "must list at least one waypoint", "[]");
    }
    for (i, w) in raw.iter().enumerate() {
        let path = format!("waypoints[{i}]");
        if !is_id(&w.id) {
            c.report(format!("{path}.id"), "must be 1-64 of a-z, 0-9, _ starting with a letter", &w.id);
            continue;
        }
        if out.iter().any(|o| o.id.as_str() == w.id) {
            c.report(format!("{path}.id"), "must be unique among waypoints", &w.id);
            continue;
        }
        let Some(p) = w.position else {
            c.report(format!("{path}.position"), "is required: [x, y] in metres", "nothing");
            continue;
        };
        let position = point(c, &format!("{path}.position"), p);
        if world.geofence.len() >= 3 && !sim::geometry::polygon_contains(&world.geofence, position) {
            c.report(format!("{path}.position"), "must lie inside world.geofence", format!("{p:?}"));
        }
        for (field, v) in
            [("zone", &w.zone), ("kind", &w.kind), ("colour", &w.colour), ("landmark", &w.landmark)]
        {
            if v.trim().is_empty() {
                c.report(format!("{path}.{field}"), "must not be empty", "\"\"");
            }
        }
        out.push(Waypoint {
            id: WaypointId(w.id.clone()),
            position,
            zone: w.zone.clone(),
            kind: w.kind.clone(),
            colour: w.colour.clone(),
            landmark: w.landmark.clone(),
            aliases: w.aliases.clone(),
        });
    }
    out
}

fn training(c: &mut Checker, t: &raw::Training) -> TrainingSpec {
    TrainingSpec {
        chunk_steps: c.count("training.chunk_steps", t.chunk_steps, 1, i64::MAX),
        budget_steps: c.count("training.budget_steps", t.budget_steps, 1, i64::MAX),
        max_iterations: c.count("training.max_iterations", t.max_iterations, 1, 1_000_000),
        max_total_steps: c.count("training.max_total_steps", t.max_total_steps, 1, i64::MAX),
        estimation_rollouts: c.count("training.estimation_rollouts", t.estimation_rollouts, 1, 1_000_000),
    }
}

fn subtasks(
    c: &mut Checker,
    raw: &raw::Scenario,
    waypoints: &BTreeMap<&str, &Waypoint>,
    default_budget: u64,
) -> Vec<Option<Subtask>> {
    if raw.subtasks.is_empty() {
        c.report("subtasks", "must list at least one subtask", "[]");
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, s) in raw.subtasks.iter().enumerate() {
        let path = format!("subtasks[{i}]");
        if !is_id(&s.id) {
            c.report(format!("{path}.id"), "must be 1-64 of a-z, 0-9, _ starting with a letter", &s.id);
        } else if !seen.insert(s.id.as_str()) {
            c.report(format!("{path}.id"), "must be unique among subtasks", &s.id);
        }
        let entry = region(c, &format!("{path}.entry"), &s.entry, waypoints);
        let exit = region(c, &format!("{path}.exit"), &s.exit, waypoints);
        let horizon_steps = c.count(format!("{path}.horizon_steps"), s.horizon_steps, 1, 1_000_000) as u32;
        let mut via: Vec<Vec2> =
            s.via.iter().enumerate().map(|(j, p)| point(c, &format!("{path}.via[{j}]"), *p)).collect();
        let budget_steps =
            raw.training.budget_overrides.get(&s.id).map_or(default_budget, |&b| b.max(0) as u64);
        out.push(match (entry, exit) {
            (Some(entry), Some(exit)) => {
                let (lo, hi) = exit.bounding_box();
                via.push(Vec2::new(0.5 * (lo.0 + hi.0), 0.5 * (lo.1 + hi.1)));
                Some(Subtask {
                    id: SubtaskId(s.id.clone()),
                    description: s.description.clone().unwrap_or_default(),
                    entry,
                    exit,
                    horizon_steps,
                    via,
                    budget_steps,
                })
            }
            _ => None,
        });
    }
    out
}

/// Converts a region of the file to a verification region; `None` after reporting problems.
fn region(
    c: &mut Checker,
    path: &str,
    r: &raw::Region,
    waypoints: &BTreeMap<&str, &Waypoint>,
) -> Option<verification::Region> {
    let before = c.problems.len();
    let mut parts: Vec<(String, raw::ShapeKeys<'_>)> = Vec::new();
    let own = r.shape_keys();
    let own_given = own.at.is_some() || own.disc.is_some() || own.rect.is_some() || own.polygon.is_some();
    match (&r.all_of, own_given) {
        (Some(all), false) if !all.is_empty() => {
            parts
                .extend(all.iter().enumerate().map(|(i, m)| (format!("{path}.all_of[{i}]"), m.shape_keys())));
        }
        (None, true) => parts.push((path.to_string(), own)),
        _ => c.report(
            path,
            "must have exactly one of `at` (+ `radius_m`), `disc`, `box`, `polygon`, or a non-empty `all_of`",
            "none or several",
        ),
    }
    let shapes: Vec<verification::Shape> =
        parts.into_iter().filter_map(|(p, k)| region_shape(c, &p, k, waypoints)).collect();
    let heading = r.heading_deg.and_then(|[from, to]| {
        let from = c.finite(format!("{path}.heading_deg[0]"), from);
        let to = c.finite(format!("{path}.heading_deg[1]"), to);
        verification::HeadingInterval::new(from.to_radians(), to.to_radians())
            .map_err(|e| c.report(format!("{path}.heading_deg"), e.to_string(), format!("[{from}, {to}]")))
            .ok()
    });
    let speed = r.speed_mps.and_then(|v| {
        let [lo, hi] = c.interval(&format!("{path}.speed_mps"), v, -5.0, 5.0);
        verification::SpeedInterval::new(lo, hi).ok()
    });
    if c.problems.len() != before {
        return None;
    }
    match verification::Region::new(shapes, heading, speed) {
        Ok(region) if !region.is_empty() => Some(region),
        Ok(_) => {
            c.report(path, "must not be empty (its parts do not overlap)", "empty intersection");
            None
        }
        Err(e) => {
            c.report(path, e.to_string(), "invalid region");
            None
        }
    }
}

fn region_shape(
    c: &mut Checker,
    path: &str,
    k: raw::ShapeKeys<'_>,
    waypoints: &BTreeMap<&str, &Waypoint>,
) -> Option<verification::Shape> {
    let given = [k.at.is_some(), k.disc.is_some(), k.rect.is_some(), k.polygon.is_some()];
    if given.iter().filter(|&&b| b).count() != 1 {
        c.report(path, "must have exactly one of `at`, `disc`, `box`, `polygon`", "several");
        return None;
    }
    if k.radius_m.is_some() != k.at.is_some() {
        c.report(format!("{path}.radius_m"), "goes with `at` and only with it", format!("{:?}", k.radius_m));
        return None;
    }
    let shape = if let Some(at) = k.at {
        let Some(w) = waypoints.get(at) else {
            c.report(format!("{path}.at"), "must be the id of a waypoint", at);
            return None;
        };
        let r = c.positive(format!("{path}.radius_m"), k.radius_m.unwrap_or(f64::NAN));
        verification::Shape::disc(w.position.x, w.position.y, r)
    } else {
        let s = sim_shape(c, path, raw::ShapeKeys { at: None, radius_m: None, ..k })?;
        match s {
            sim::Shape::Disc { center, radius_m } => verification::Shape::disc(center.x, center.y, radius_m),
            sim::Shape::Box { center, half_extents_m, yaw_rad } => {
                verification::Shape::rect(center.x, center.y, half_extents_m.x, half_extents_m.y, yaw_rad)
            }
            sim::Shape::Polygon { vertices } => {
                verification::Shape::polygon(vertices.iter().map(|v| (v.x, v.y)).collect())
            }
        }
    };
    shape.map_err(|e| c.report(path, e.to_string(), "invalid shape")).ok()
}

fn fidelity(
    c: &mut Checker,
    f: &raw::Fidelity,
    robot: &sim::RobotParams,
) -> (sim::LowFidelityConfig, sim::HighFidelityConfig) {
    let mut rays = sim::RayConfig::default();
    if let Some(r) = &f.rays {
        rays.count = c.count("fidelity.rays.count", r.count, 1, 1024) as usize;
        rays.fov_rad = c.range("fidelity.rays.fov_deg", r.fov_deg, 1.0, 360.0).to_radians();
        rays.max_range_m = c.range("fidelity.rays.max_range_m", r.max_range_m, 0.5, 200.0);
        if let Some(k) = r.beams_per_ray {
            rays.beams_per_ray = c.count("fidelity.rays.beams_per_ray", k, 1, 64) as usize;
        }
    }
    let noise = |c: &mut Checker, path: &str, n: &raw::Noise| sim::NoiseConfig {
        odom_position_m: c.range(format!("{path}.odom_position_m"), n.odom_position_m, 0.0, 5.0),
        odom_yaw_rad: c.range(format!("{path}.odom_yaw_deg"), n.odom_yaw_deg, 0.0, 45.0).to_radians(),
        odom_speed_mps: c.range(format!("{path}.odom_speed_mps"), n.odom_speed_mps, 0.0, 5.0),
        gyro_rps: c.range(format!("{path}.gyro_rps"), n.gyro_rps, 0.0, 5.0),
        accel_mps2: c.range(format!("{path}.accel_mps2"), n.accel_mps2, 0.0, 50.0),
        range_m: c.range(format!("{path}.range_m"), n.range_m, 0.0, 10.0),
    };
    let mut low = sim::LowFidelityConfig { rays: rays.clone(), ..Default::default() };
    if let Some(n) = f.low.as_ref().and_then(|l| l.noise.as_ref()) {
        low.noise = noise(c, "fidelity.low.noise", n);
    }
    let mut high = sim::HighFidelityConfig { rays, ..Default::default() };
    high.randomisation.mass_kg = sim::Range::fixed(robot.mass_kg);
    if let Some(h) = &f.high {
        if let Some(hz) = h.physics_hz {
            let hz = c.range("fidelity.high.physics_hz", hz, robot.control_hz, 2000.0);
            let ratio = hz / robot.control_hz;
            if (ratio - ratio.round()).abs() > 1e-9 {
                c.report("fidelity.high.physics_hz", "must be a whole multiple of robot.control_hz", hz);
            }
            high.physics_hz = hz;
        }
        if let Some(t) = h.tip_over_deg {
            high.tip_over_rad = c.range("fidelity.high.tip_over_deg", t, 5.0, 89.0).to_radians();
        }
        if let Some(n) = &h.noise {
            high.noise = noise(c, "fidelity.high.noise", n);
        }
        if let Some(r) = &h.randomisation {
            let range = |c: &mut Checker, field: &str, v: [f64; 2], lo: f64, hi: f64| {
                let [a, b] = c.interval(&format!("fidelity.high.randomisation.{field}"), v, lo, hi);
                sim::Range { lo: a, hi: b }
            };
            high.randomisation = sim::Randomisation {
                mass_kg: range(c, "mass_kg", r.mass_kg, 50.0, 2000.0),
                friction_scale: range(c, "friction_scale", r.friction_scale, 0.05, 3.0),
                latency_s: range(c, "latency_s", r.latency_s, 0.0, 1.0),
            };
        }
    }
    (low, high)
}
