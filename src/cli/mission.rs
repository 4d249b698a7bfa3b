//! `sim2real mission`: a certified bundle drives to a goal in software in the loop.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::ValueEnum;
use sim2real::agents::Understanding;
use sim2real::agents::tips::{IntrospectConfig, TipStore, TipsPlanner};
use sim2real::bundle::deployment::{DeployError, Deployment};
use sim2real::mission::{self, Faults, MissionConfig, MissionError};
use sim2real::msg::{DEFAULT_NAMESPACE, PoseKind, PoseSource, StartPose};
use sim2real::ros::{RosError, TwistKind};

use super::{Code, Failure, FidelityArg};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// The in-process bus, in lockstep on the simulated clock (deterministic).
    Inproc,
    /// r2r nodes over DDS on wall time (feature `ros2`).
    Ros2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Robot {
    /// `sim_bridge` plays the robot.
    Sim,
    /// Another process provides odometry and the scan and consumes `cmd_vel` (ros2 only).
    External,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Bundle directory (scenario, policies, certificate).
    bundle: PathBuf,
    /// Goal waypoint id.
    #[arg(long, required_unless_present_any = ["say", "interactive"], conflicts_with_all = ["say", "interactive"])]
    goal: Option<String>,
    /// What the operator says ("take it to the green shed"): the dialogue agent asks on standard
    /// input until the goal is confirmed, then the mission starts.
    #[arg(long, value_name = "TEXT")]
    say: Option<String>,
    /// Start with the dialogue agent asking on standard input.
    #[arg(long)]
    interactive: bool,
    /// Language model reading the operator's words besides the parser: `none`,
    /// `http://HOST:PORT/v1[?model=NAME]` (OpenAI-compatible server) or `local:PATH.gguf`
    /// (feature `llm-local`).
    #[arg(long, default_value = "none")]
    llm: String,
    /// Simulator playing the robot.
    #[arg(long, value_enum, default_value = "high")]
    fidelity: FidelityArg,
    /// Seed of the start draw and the simulator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Record every topic to this MCAP file.
    #[arg(long)]
    record: Option<PathBuf>,
    /// Append the outcome as one JSON line to this file (what the tips planner reads).
    #[arg(long)]
    missions: Option<PathBuf>,
    /// Run without a passing certificate (bench testing only; recorded in the MCAP).
    #[arg(long)]
    allow_unverified: bool,
    /// Inject a fault: KIND:START[:DURATION[:VALUE]] with KIND one of odom-dropout,
    /// odom-delay (VALUE = delay s), scan-dropout, estop (DURATION = until release),
    /// traction (VALUE = left-wheel factor), policy-nan. Repeatable.
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<String>,
    /// How the nodes talk.
    #[arg(long, value_enum, default_value = "inproc")]
    transport: Transport,
    /// Who plays the robot.
    #[arg(long, value_enum, default_value = "sim")]
    robot: Robot,
    /// ROS namespace (ros2 transport).
    #[arg(long, default_value = DEFAULT_NAMESPACE)]
    namespace: String,
    /// Publish and take `cmd_vel` as TwistStamped (ros2 transport; Clearpath Jazzy, Nav2).
    #[arg(long)]
    stamped: bool,
    /// Let the simulator play a perturbed variant of the bundle's scenario: a scenario overlay
    /// (e.g. scenarios/warthog_yard/variants/rain_gravel_road.yaml). The nodes still use the
    /// certified scenario; the report line names the variant and its conditions.
    #[arg(long, value_name = "FILE")]
    variant: Option<PathBuf>,
    /// Let the tips in this store (`sim2real tips`) order the certified routes; the variant's
    /// conditions decide which tips apply. Tips never add a route.
    #[arg(long, value_name = "STORE")]
    tips: Option<PathBuf>,
    /// Where odometry starts, in the scenario frame: X,Y,YAW_RAD (default: drawn from the
    /// scenario's start set with --seed). Give the robot's real pose with --robot external.
    #[arg(long, value_name = "X,Y,YAW")]
    start_pose: Option<String>,
    /// Where the external robot's lidar sits on it (base_link): X,Y,YAW_RAD, metres forward and
    /// left (default: at the centre, facing forward).
    #[arg(long, value_name = "X,Y,YAW")]
    lidar_mount: Option<String>,
    /// Take the robot's pose from this localisation topic (scenario/map frame, GNSS or lidar
    /// localisation) instead of odometry and --start-pose; --robot external only.
    #[arg(long, value_name = "TOPIC")]
    pose_topic: Option<String>,
    /// Message type on --pose-topic.
    #[arg(long, value_enum, default_value = "pose-with-covariance")]
    pose_type: PoseType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PoseType {
    /// geometry_msgs/PoseWithCovarianceStamped
    PoseWithCovariance,
    /// nav_msgs/Odometry (in the map frame)
    Odometry,
}

fn parse_pose(text: &str) -> Result<StartPose, String> {
    let v: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect::<Option<_>>()
        .ok_or("expected three finite numbers X,Y,YAW_RAD")?;
    match v[..] {
        [x_m, y_m, yaw_rad] => Ok(StartPose { x_m, y_m, yaw_rad }),
        _ => Err("expected three finite numbers X,Y,YAW_RAD".into()),
    }
}

pub fn run(args: Args) -> Result<Code, Failure> {
    let mut faults = Faults::default();
    for spec in &args.faults {
        faults.add_spec(spec).map_err(|e| Failure::invalid(anyhow::anyhow!("--fault {spec}: {e}")))?;
    }
    if args.transport == Transport::Inproc && args.robot == Robot::External {
        return Err(Failure::invalid(anyhow::anyhow!("--robot external needs --transport ros2")));
    }
    if args.transport == Transport::Ros2 && (!faults.links.is_empty() || faults.estop.is_some()) {
        let msg = "link faults and the e-stop are injected in process; over ROS 2 an external peer does that";
        return Err(Failure::invalid(anyhow::anyhow!(msg)));
    }
    let lidar_mount = match &args.lidar_mount {
        None => sim::LidarMount::default(),
        Some(text) => {
            let p = parse_pose(text)
                .map_err(|e| Failure::invalid(anyhow::anyhow!("--lidar-mount {text}: {e}")))?;
            sim::LidarMount { x_m: p.x_m, y_m: p.y_m, yaw_rad: p.yaw_rad }
        }
    };
    let pose = match &args.pose_topic {
        None => PoseSource::Odometry,
        Some(_) if args.robot != Robot::External => {
            return Err(Failure::invalid(anyhow::anyhow!("--pose-topic needs --robot external")));
        }
        Some(topic) => PoseSource::Localisation {
            topic: topic.clone(),
            kind: match args.pose_type {
                PoseType::PoseWithCovariance => PoseKind::PoseWithCovariance,
                PoseType::Odometry => PoseKind::Odometry,
            },
        },
    };
    let start = match &args.start_pose {
        None => None,
        Some(text) => Some(
            parse_pose(text).map_err(|e| Failure::invalid(anyhow::anyhow!("--start-pose {text}: {e}")))?,
        ),
    };
    let spec = sim2real::llm::LlmSpec::parse(&args.llm).map_err(Failure::invalid)?;
    let deployment = Arc::new(Deployment::open(&args.bundle, args.allow_unverified).map_err(refusal)?);
    let goal = match &args.goal {
        Some(goal) => goal.clone(),
        None => {
            let understanding = Understanding::from(sim2real::llm::open(&spec).map_err(Failure::invalid)?);
            let stdin = std::io::stdin();
            let said = super::chat::converse(
                deployment.bundle().scenario(),
                args.say.as_deref(),
                &mut stdin.lock(),
                understanding,
            )?;
            match said {
                Some(goal) => goal,
                None => {
                    println!("no goal: the robot stays where it is");
                    return Ok(Code::Runtime);
                }
            }
        }
    };
    if args.allow_unverified {
        eprintln!(
            "WARNING: --allow-unverified: the certificate of {} is NOT checked; bench testing only",
            args.bundle.display()
        );
    }
    // Refuse an uncertified goal before anything moves.
    deployment.routes(&goal).map_err(refusal)?;
    let world = match &args.variant {
        None => None,
        Some(path) => Some(world_override(&args.bundle, path)?),
    };
    let preference = match &args.tips {
        None => Default::default(),
        Some(path) => {
            let mut planner = TipsPlanner::new(Arc::clone(&deployment), IntrospectConfig::default());
            let store = TipStore::load(path, planner.check()).map_err(Failure::invalid)?;
            let (name, conditions) = match &world {
                Some(w) => {
                    planner.add_variant(&w.name, &w.scenario);
                    (Some(w.name.as_str()), w.conditions.clone())
                }
                None => (None, Vec::new()),
            };
            planner.preference(store.tips(), name, &conditions).map_err(Failure::invalid)?
        }
    };
    let config = MissionConfig {
        goal,
        fidelity: args.fidelity.into(),
        seed: args.seed,
        record: args.record.clone(),
        start,
        faults,
        transport: match args.transport {
            Transport::Inproc => mission::Transport::InProcess,
            Transport::Ros2 => mission::Transport::Ros2 {
                namespace: args.namespace.clone(),
                twist: TwistKind::from_use_stamped(args.stamped),
                simulated: args.robot == Robot::Sim,
            },
        },
        world,
        preference,
        lidar_mount,
        pose,
    };
    let report = mission::run(deployment, &config).map_err(|e| match e {
        MissionError::Ros(RosError::NotBuilt) => Failure::invalid(e),
        e => Failure::runtime(e),
    })?;
    for s in &report.statuses {
        println!("{:7.2} s  {:<9} {}", s.stamp_s, format!("{:?}", s.phase).to_lowercase(), s.detail);
    }
    if let Some(f) = &report.sim_failure {
        println!("simulator: {f}");
    }
    println!(
        "mission to `{}`: {} after {:.1} s (seed {}, {} fidelity{})",
        report.goal,
        format!("{:?}", report.phase).to_lowercase(),
        report.duration_s,
        report.seed,
        sim::Fidelity::from(args.fidelity).name(),
        if report.unverified { ", UNVERIFIED bundle" } else { "" }
    );
    let d = report.driven;
    println!(
        "drove {:.1} m by odometry, {:.1} % of it forward ({:.1} m in reverse)",
        d.forward_m + d.reverse_m,
        100.0 * d.forward_share(),
        d.reverse_m
    );
    if let Some(path) = &args.missions {
        append_line(path, &report).map_err(Failure::runtime)?;
    }
    if let Some(path) = &args.record {
        println!("recording: {}", path.display());
    }
    Ok(if report.succeeded() { Code::Success } else { Code::Runtime })
}

/// `mission --interactive` with every default: what `sim2real chat` runs.
pub fn chat(bundle: &std::path::Path, llm: &str) -> Result<Code, Failure> {
    #[derive(clap::Parser)]
    struct Line {
        #[command(flatten)]
        args: Args,
    }
    let argv: [&std::ffi::OsStr; 5] =
        ["mission".as_ref(), bundle.as_os_str(), "--interactive".as_ref(), "--llm".as_ref(), llm.as_ref()];
    let line = <Line as clap::Parser>::try_parse_from(argv).map_err(Failure::invalid)?;
    run(line.args)
}

/// The bundle's scenario with the overlay at `path` applied, for the simulator to play.
pub fn world_override(
    bundle: &std::path::Path,
    path: &std::path::Path,
) -> Result<mission::WorldOverride, Failure> {
    let overlay = sim2real::scenario::Overlay::load(path).map_err(Failure::invalid)?;
    let scenario =
        overlay.apply_to_file(&sim2real::bundle::Bundle::scenario_file(bundle)).map_err(Failure::invalid)?;
    Ok(mission::WorldOverride {
        name: overlay.name().to_string(),
        conditions: overlay.conditions().to_vec(),
        scenario: Arc::new(scenario),
    })
}

/// Exit 3 for integrity and certification refusals, 2 for unreadable input.
pub fn refusal(e: DeployError) -> Failure {
    let code = match e {
        DeployError::Certificate { .. } | DeployError::NotCertified { .. } => Code::Verification,
        _ => Code::InvalidInput,
    };
    Failure { code, error: e.into() }
}

fn append_line(path: &std::path::Path, report: &sim2real::msg::MissionReport) -> anyhow::Result<()> {
    let line = serde_json::to_string(report).context("encoding the mission report")?;
    sim2real::files::append_line(path, &line).with_context(|| format!("{}: cannot append", path.display()))
}
