//! The introspective-tips planner with the baseline bundle (two certified routes per goal):
//! overlays, the tip store, route preferences that stay on certified routes, reading
//! missions.jsonl, and tips raising success in a perturbed world.

use std::path::Path;
use std::sync::Arc;

use crate::support::sim2real;
use rand::SeedableRng;
use sim2real::agents::tips::{
    Action, IntrospectConfig, Rule, Scope, Source, Support, Tip, TipCheck, TipStore, TipsError, TipsPlanner,
    read_missions,
};
use sim2real::bundle::deployment::{Deployment, PreferenceError, RoutePreference};
use sim2real::eval::tips::{self, Condition, EvalConfig, Suite};
use sim2real::msg::{Msg, Odom, StartPose};
use sim2real::runtime::node::{Node, Outbox};
use sim2real::runtime::nodes::mission_executive::{ExecutiveConfig, MissionExecutive};

const BUNDLE: &str = "scenarios/warthog_yard/baseline_bundle";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn deployment() -> Arc<Deployment> {
    Arc::new(Deployment::open(&root().join(BUNDLE), false).expect("the baseline bundle is certified"))
}

fn tip(action: Action, scope: Scope, condition: Option<&str>, text: &str) -> Tip {
    Tip {
        rule: Rule { action, scope, condition: condition.map(str::to_string) },
        text: text.into(),
        support: Support { attempts: 3, failures: 3 },
        variants: vec![],
    }
}

fn avoid(subtask: &str) -> Tip {
    tip(
        Action::Avoid,
        Scope::Subtask(subtask.into()),
        Some("rain"),
        &format!("Under rain, avoid `{subtask}`."),
    )
}

#[test]
fn a_bad_overlay_is_refused_naming_the_file_and_the_field() {
    let dir = tempfile::tempdir().expect("tmp");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "name: bad\nset:\n  world.terrain.gravel_road.friction: [0.2]\n").expect("write");
    let out =
        sim2real(&["mission", BUNDLE, "--goal", "dock_south", "--variant", bad.to_str().expect("utf8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.yaml") && stderr.contains("world.terrain.gravel_road.friction"), "{stderr}");
    std::fs::write(&bad, "name: bad\nset:\n  world.obstacles.no_such_thing.height_m: 2\n").expect("write");
    let out =
        sim2real(&["mission", BUNDLE, "--goal", "dock_south", "--variant", bad.to_str().expect("utf8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no item with id `no_such_thing`"), "{stderr}");
}

#[test]
fn the_tip_store_is_bounded_versioned_and_rolls_back_and_a_refused_update_leaves_the_file() {
    let d = deployment();
    let check = TipCheck::new(&d);
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("tips.json");
    let mut store = TipStore::new(2);
    assert_eq!(store.propose(vec![avoid("depot_to_dock_south")], &check).expect("valid"), 1);
    store.save(&path).expect("save");
    let on_disk = std::fs::read(&path).expect("read");

    let refused: Vec<(Vec<Tip>, &str)> = vec![
        (
            vec![
                avoid("depot_to_dock_south"),
                avoid("gate_west_to_crossroads"),
                avoid("crossroads_to_dock_east"),
            ],
            "at most 2",
        ),
        (vec![avoid("no_such_subtask")], "not in the scenario"),
        // On no certified route: a tip cannot bring it into play.
        (vec![avoid("pond_bank_crossing")], "no certified route"),
        (
            vec![tip(Action::Avoid, Scope::Subtask("depot_to_dock_south".into()), None, &"word ".repeat(26))],
            "25 words",
        ),
        (vec![avoid("depot_to_dock_south"), avoid("depot_to_dock_south")], "same rule"),
    ];
    for (tips, why) in refused {
        let e = TipStore::update_file(&path, 2, tips.clone(), &check).expect_err(why).to_string();
        assert!(e.contains(why), "{e}");
        assert_eq!(std::fs::read(&path).expect("read"), on_disk, "file unchanged after: {e}");
        let e = store.propose(tips, &check).expect_err(why);
        assert!(matches!(e, TipsError::TooManyTips { .. } | TipsError::InvalidTip { .. }), "{e}");
        assert_eq!(store.version(), 1, "the previous version is kept");
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1, "no temporary files left");

    let v2 = TipStore::update_file(&path, 2, vec![avoid("gate_west_to_crossroads")], &check).expect("valid");
    assert_eq!(v2, 2);
    let mut loaded = TipStore::load(&path, &check).expect("load");
    assert_eq!(loaded.version(), 2);
    assert_eq!(loaded.rollback().expect("has v1"), 1);
    assert_eq!(loaded.tips(), &[avoid("depot_to_dock_south")]);
    assert_eq!(loaded.rollback().expect("has v0"), 0);
    assert!(loaded.tips().is_empty());
    assert!(matches!(loaded.rollback(), Err(TipsError::NoEarlierVersion)));

    // A hand-edited file with an invalid tip does not load.
    let text = std::fs::read_to_string(&path)
        .expect("read")
        .replace("gate_west_to_crossroads", "pond_bank_crossing");
    std::fs::write(&path, text).expect("write");
    let e = TipStore::load(&path, &check).expect_err("invalid tip").to_string();
    assert!(e.contains("tips.json") && e.contains("pond_bank_crossing"), "{e}");
}

/// The route the executive starts on, from the depot, with `preference`.
fn first_route(d: &Arc<Deployment>, goal: &str, preference: RoutePreference) -> Vec<String> {
    let scenario = d.bundle().scenario();
    let s = scenario.start().sample(&mut rand_chacha::ChaCha8Rng::seed_from_u64(3)).expect("start");
    let start = StartPose { x_m: s.x_m, y_m: s.y_m, yaw_rad: s.yaw_rad };
    let config =
        ExecutiveConfig { start, pose: Default::default(), goal: Some(goal.into()), safety_hold_s: 1.0 };
    let mut exec = MissionExecutive::new(Arc::clone(d), config).with_preference(preference);
    let mut out = Outbox::new();
    let state = sim::PlanarState { x_m: 0.0, y_m: 0.0, yaw_rad: 0.0, speed_mps: 0.0 };
    exec.on_message(0.0, &Msg::Odom(Odom { stamp_s: 0.0, state, yaw_rate_rps: 0.0 }), &mut out);
    out.drain()
        .find_map(|m| match m {
            Msg::MissionStatus(s) => Some(s.route),
            _ => None,
        })
        .expect("a status")
}

#[test]
fn tips_reorder_certified_routes_only() {
    let d = deployment();
    let scenario = d.bundle().scenario();
    let certified = |goal: &str| -> Vec<Vec<String>> {
        d.routes(goal)
            .expect("certified")
            .iter()
            .map(|r| r.subtasks.iter().map(|&a| scenario.subtasks()[a].id().to_string()).collect())
            .collect()
    };
    let pref =
        |ids: &[&str]| RoutePreference::new(scenario, ids.iter().map(|s| (*s, 1.0))).expect("known ids");
    for goal in ["dock_east", "shed_pond", "dock_south", "shed_north"] {
        let routes = certified(goal);
        assert_eq!(routes.len(), 2, "{goal}");
        assert_eq!(
            first_route(&d, goal, RoutePreference::default()),
            routes[0],
            "no tips: the best certified"
        );
        // Avoiding a subtask only on the first route moves the robot to the second.
        let only_first: Vec<&str> =
            routes[0].iter().filter(|s| !routes[1].contains(s)).map(String::as_str).collect();
        assert_eq!(first_route(&d, goal, pref(&only_first)), routes[1], "{goal}");
        // Every certified subtask penalised alike: still the best certified route.
        let every: Vec<&str> = routes.iter().flatten().map(String::as_str).collect();
        assert_eq!(first_route(&d, goal, pref(&every)), routes[0], "{goal}");
        // Penalising everything except the uncertified pond-bank crossing never drives it.
        let all_but_pond: Vec<&str> = scenario
            .subtasks()
            .iter()
            .map(|s| s.id().as_str())
            .filter(|id| *id != "pond_bank_crossing")
            .collect();
        let chosen = first_route(&d, goal, pref(&all_but_pond));
        assert!(routes.contains(&chosen) && !chosen.iter().any(|s| s == "pond_bank_crossing"), "{chosen:?}");
    }
    assert!(matches!(
        RoutePreference::new(scenario, [("no_such_subtask", 1.0)]),
        Err(PreferenceError::UnknownSubtask { .. })
    ));
    assert!(matches!(
        RoutePreference::new(scenario, [("depot_to_dock_south", f64::NAN)]),
        Err(PreferenceError::BadPenalty { .. })
    ));
}

#[test]
fn missions_jsonl_is_read_back_and_a_broken_line_is_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("missions.jsonl");
    let variant = root().join("scenarios/warthog_yard/variants/blocked_container_lane.yaml");
    let out = sim2real(&[
        "mission",
        BUNDLE,
        "--goal",
        "dock_east",
        "--variant",
        variant.to_str().expect("utf8"),
        "--missions",
        file.to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "the parked truck blocks the default route");
    let records = read_missions(&file, Source::Own).expect("reads");
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.variant.as_deref(), Some("blocked_container_lane"));
    assert_eq!(r.conditions, ["blocked"]);
    assert!(!r.success);
    let last = r.attempts.last().expect("attempts");
    assert_eq!((last.subtask.as_str(), last.success), ("gate_west_to_crossroads", false), "{:?}", r.attempts);

    let mut text = std::fs::read_to_string(&file).expect("read");
    text.push_str("{\"goal\": \"dock_east\", \"phase\": \n");
    std::fs::write(&file, text).expect("write");
    let e = read_missions(&file, Source::Own).expect_err("broken line").to_string();
    assert!(e.contains("missions.jsonl") && e.contains("line 2"), "{e}");
}

#[test]
fn own_tips_raise_success_in_a_blocked_yard() {
    let d = deployment();
    let dir = tempfile::tempdir().expect("tmp");
    let suite_file = dir.path().join("suite.yaml");
    let variant = root().join("scenarios/warthog_yard/variants/blocked_container_lane.yaml");
    std::fs::write(
        &suite_file,
        format!("variants:\n  - {{file: {}, goal: dock_east, role: train}}\n", variant.display()),
    )
    .expect("write");
    let goals: Vec<String> = d.bundle().scenario().goals().iter().map(|g| g.to_string()).collect();
    let suite = Suite::load(&suite_file, &root().join(BUNDLE).join("scenario.yaml"), &goals).expect("suite");
    let mut planner = TipsPlanner::new(Arc::clone(&d), IntrospectConfig::default());
    planner.add_variant("blocked_container_lane", &suite.variants[0].world);
    let config = EvalConfig { episodes: 6, seed: 5, demos_per_route: 3 };
    let results = tips::run_suite(&d, &planner, &suite, config, &|_| {}).expect("runs");
    let cell = |c: Condition| results.cells.iter().find(|x| x.condition == c).expect("cell");
    // The parked truck stops every mission on the default route; after a couple of failures
    // the own tips move the robot to the certified route by the south dock.
    assert_eq!(cell(Condition::NoTips).successes, 0);
    assert!(cell(Condition::Own).successes >= 3, "{}", cell(Condition::Own).successes);
    let steer = |c: Condition| cell(c).failures_before_steering.expect("the tips steered");
    assert!(
        steer(Condition::OwnExpert) <= steer(Condition::Own),
        "expert demonstrations never slow it down here"
    );
    let tips = cell(Condition::Own).store.as_ref().expect("store").tips().to_vec();
    assert!(
        tips.iter().any(|t| t.rule.scope == Scope::Subtask("gate_west_to_crossroads".into())
            && t.rule.condition.as_deref() == Some("blocked")),
        "{tips:?}"
    );
    // Same seed, same missions, same tips.
    let again = tips::run_suite(&d, &planner, &suite, config, &|_| {}).expect("runs");
    for (a, b) in results.cells.iter().zip(&again.cells) {
        assert_eq!((a.successes, a.failures_before_steering), (b.successes, b.failures_before_steering));
        assert_eq!(a.store, b.store);
    }
    // Merged over this one variant: the blocked-path feature.
    let merged = planner.merged_tips(&cell(Condition::Own).records);
    assert!(merged.iter().any(|t| t.text.contains("blocked")), "{merged:?}");
}

#[test]
fn eval_tips_refuses_an_uncertified_bundle_and_a_bad_llm_spec() {
    // The yard's own directory holds the scenario but no certificate.
    let out = sim2real(&["eval-tips", "scenarios/warthog_yard/scenario.yaml", "--episodes", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
    let scenario = format!("{BUNDLE}/scenario.yaml");
    let out = sim2real(&["eval-tips", &scenario, "--llm", "ftp://localhost:8080/v1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ftp://localhost:8080/v1"), "{stderr}");
}

#[test]
fn missions_then_tips_then_a_mission_that_takes_the_other_certified_route() {
    let dir = tempfile::tempdir().expect("tmp");
    let (missions, store) = (dir.path().join("missions.jsonl"), dir.path().join("tips.json"));
    let (missions, store) = (missions.to_str().expect("utf8"), store.to_str().expect("utf8"));
    let variant = "scenarios/warthog_yard/variants/rain_gravel_road.yaml";
    let fly = |seed: &str, extra: &[&str]| {
        let mut args = vec!["mission", BUNDLE, "--goal", "dock_south", "--seed", seed, "--variant", variant];
        args.extend_from_slice(extra);
        sim2real(&args)
    };
    for seed in ["1", "2"] {
        assert_eq!(fly(seed, &["--missions", missions]).status.code(), Some(1), "mud on the gravel road");
    }
    let out = sim2real(&["tips", BUNDLE, "--missions", missions, "--store", store]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("version 1") && stdout.contains("Under rain, avoid `depot_to_dock_south`"),
        "{stdout}"
    );
    let out = fly("3", &["--tips", store]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("starting with `depot_to_gate_west`"), "{stdout}");
    // Without rain the tip does not apply: the best certified route, straight down the road.
    let out = sim2real(&["mission", BUNDLE, "--goal", "dock_south", "--tips", store]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("starting with `depot_to_dock_south`"), "{stdout}");
    let out = sim2real(&["tips", BUNDLE, "--store", store, "--rollback"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("version 0"));
}
