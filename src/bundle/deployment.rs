//! [`Deployment`]: a bundle cleared to drive the robot, and the certified routes it may drive.
//!
//! Opening one checks the seal (every file's sha256 against `certificate.yaml`, DESIGN §9) and
//! then re-derives, from the certificate's evidence rather than its `certified` flag, which
//! routes each goal may use: a route counts only when its bound rests on high-fidelity
//! evidence, every subtask on it has a passing high-fidelity record, the product of those
//! records' lower bounds meets the scenario's certified θ, and the bundle holds the controller
//! the evidence was collected with. A hand-edited `certified: true` therefore unlocks nothing.
//!
//! `--allow-unverified` (bench testing only) skips all of this: any route of the interface
//! graph may be driven, and every status message says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use verification::{Certificate, Controller, Fidelity};

use crate::bundle::{Bundle, BundleError};
use crate::scenario::Scenario;

/// Why a bundle or a goal was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The bundle does not open (scenario or policy files).
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The certificate is missing, malformed or does not match the files (tampering).
    #[error("{}: {source}", dir.display())]
    Certificate {
        /// The bundle.
        dir: PathBuf,
        /// The cause (names the file that does not match).
        source: verification::Error,
    },
    /// The goal is not one of the scenario's goals.
    #[error("goal `{goal}` is not a goal of this bundle (goals: {known})")]
    UnknownGoal {
        /// The goal asked for.
        goal: String,
        /// The bundle's goals.
        known: String,
    },
    /// No route to the goal is certified in high fidelity.
    #[error("goal `{goal}`: no certified high-fidelity route ({reason})")]
    NotCertified {
        /// The goal.
        goal: String,
        /// Why each candidate was refused (names the subtask).
        reason: String,
    },
}

/// A route the robot may drive to a goal.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Subtask indices in order.
    pub subtasks: Vec<usize>,
    /// Certified lower bound on reaching the goal (none when unverified).
    pub lower_bound: Option<f64>,
}

/// A bundle cleared for deployment.
#[derive(Debug)]
pub struct Deployment {
    bundle: Bundle,
    controllers: Vec<Option<Controller>>,
    routes: BTreeMap<String, Result<Vec<Route>, String>>,
    unverified: bool,
}

impl Deployment {
    /// Opens `dir`, checks its seal and derives the certified routes (module documentation).
    /// With `allow_unverified` the certificate is not needed.
    pub fn open(dir: &Path, allow_unverified: bool) -> Result<Deployment, DeployError> {
        let certificate = if allow_unverified {
            None
        } else {
            Some(
                Certificate::load_verified(dir)
                    .map_err(|source| DeployError::Certificate { dir: dir.to_path_buf(), source })?,
            )
        };
        let bundle = Bundle::open(dir)?;
        let scenario = bundle.scenario();
        let n = scenario.subtasks().len();
        let mut controllers = vec![None; n];
        let mut routes = BTreeMap::new();
        match &certificate {
            None => {
                for (a, d) in controllers.iter_mut().enumerate() {
                    *d = Some(if bundle.policy(a).is_some() {
                        Controller::Policy
                    } else {
                        Controller::PurePursuit
                    });
                }
                for goal in scenario.goals() {
                    let mut found: Vec<Route> = scenario
                        .graph()
                        .routes(goal)
                        .into_iter()
                        .map(|r| Route { subtasks: r.to_vec(), lower_bound: None })
                        .collect();
                    found.sort_by_key(|r| r.subtasks.len());
                    routes.insert(goal.to_string(), Ok(found));
                }
            }
            Some(cert) => {
                let theta = scenario.certify().theta;
                for goal in scenario.goals() {
                    let record = cert.goals.iter().find(|g| g.goal == goal.as_str());
                    let mut accepted = Vec::new();
                    let mut reasons = Vec::new();
                    for route in record.map_or(&[][..], |g| &g.routes[..]) {
                        match check_route(&bundle, cert, route, theta) {
                            Ok((route, route_controllers)) => {
                                for (&a, c) in route.subtasks.iter().zip(route_controllers) {
                                    controllers[a] = Some(c);
                                }
                                accepted.push(route);
                            }
                            Err(reason) => reasons.push(reason),
                        }
                    }
                    if record.is_none() {
                        reasons.push("certificate.yaml lists no routes for it".into());
                    }
                    accepted.sort_by(|a, b| {
                        b.lower_bound.partial_cmp(&a.lower_bound).unwrap_or(std::cmp::Ordering::Equal)
                    });
                    let entry = if accepted.is_empty() { Err(reasons.join("; ")) } else { Ok(accepted) };
                    routes.insert(goal.to_string(), entry);
                }
            }
        }
        Ok(Deployment { bundle, controllers, routes, unverified: allow_unverified })
    }

    /// The bundle.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// Whether it runs without a certificate (`--allow-unverified`).
    pub fn unverified(&self) -> bool {
        self.unverified
    }

    /// What drives subtask `a` (what its evidence was gathered with), if any certified route
    /// uses it.
    pub fn controller(&self, a: usize) -> Option<Controller> {
        self.controllers.get(a).copied().flatten()
    }

    /// The routes to `goal`, best first; an error names why none is certified.
    pub fn routes(&self, goal: &str) -> Result<&[Route], DeployError> {
        match self.routes.get(goal) {
            None => Err(DeployError::UnknownGoal {
                goal: goal.into(),
                known: self.routes.keys().cloned().collect::<Vec<_>>().join(", "),
            }),
            Some(Err(reason)) => Err(DeployError::NotCertified { goal: goal.into(), reason: reason.clone() }),
            Some(Ok(routes)) => Ok(routes),
        }
    }
}

/// A certificate route with its recomputed bound and the controller of each subtask, or why it
/// does not count.
fn check_route(
    bundle: &Bundle,
    cert: &Certificate,
    route: &verification::RouteRecord,
    theta: f64,
) -> Result<(Route, Vec<Controller>), String> {
    let names = route.subtasks.join(" → ");
    if route.fidelity != Fidelity::High {
        return Err(format!("route {names} rests on {} fidelity evidence", route.fidelity));
    }
    let scenario = bundle.scenario();
    let mut bound = 1.0;
    let mut subtasks = Vec::new();
    let mut controllers = Vec::new();
    for id in &route.subtasks {
        let a = scenario.subtask_index(id).ok_or_else(|| format!("subtask `{id}` is not in the scenario"))?;
        let record = cert
            .subtasks
            .iter()
            .find(|r| &r.subtask == id && r.fidelity == Fidelity::High && r.pass)
            .ok_or_else(|| {
                format!("subtask `{id}` has no passing high-fidelity record in certificate.yaml")
            })?;
        if record.controller == Controller::Policy && bundle.policy(a).is_none() {
            return Err(format!("subtask `{id}` was certified with a policy the bundle lacks"));
        }
        bound *= record.lower_bound;
        subtasks.push(a);
        controllers.push(record.controller);
    }
    // A tolerance for the rounding of the bounds written to YAML.
    if bound < theta - 1e-9 {
        return Err(format!(
            "route {names}: composed high-fidelity bound {bound:.4} is below certified θ {theta}"
        ));
    }
    Ok((Route { subtasks, lower_bound: Some(bound) }, controllers))
}

/// Why a route preference was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PreferenceError {
    /// The subtask is not in the scenario.
    #[error("route preference: subtask `{subtask}` is not in the scenario")]
    UnknownSubtask {
        /// The id given.
        subtask: String,
    },
    /// A penalty must be a finite number ≥ 0.
    #[error("route preference: penalty of `{subtask}` must be a finite number ≥ 0 (got {value})")]
    BadPenalty {
        /// The subtask.
        subtask: String,
        /// The value given.
        value: f64,
    },
}

/// A per-subtask penalty that reorders the certified routes: the executive tries routes in
/// order of total penalty, then certified rank, and never leaves the certified set (tips).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoutePreference {
    penalties: BTreeMap<usize, f64>,
}

impl RoutePreference {
    /// Penalties by subtask id; an unknown id or a negative or non-finite penalty is refused.
    /// Penalties of one subtask add up.
    pub fn new<'a>(
        scenario: &Scenario,
        penalties: impl IntoIterator<Item = (&'a str, f64)>,
    ) -> Result<RoutePreference, PreferenceError> {
        let mut out = BTreeMap::new();
        for (id, p) in penalties {
            let a = scenario
                .subtask_index(id)
                .ok_or_else(|| PreferenceError::UnknownSubtask { subtask: id.to_string() })?;
            if !(p.is_finite() && p >= 0.0) {
                return Err(PreferenceError::BadPenalty { subtask: id.to_string(), value: p });
            }
            *out.entry(a).or_insert(0.0) += p;
        }
        Ok(RoutePreference { penalties: out })
    }

    /// No preference: the certified order.
    pub fn is_empty(&self) -> bool {
        self.penalties.values().all(|&p| p == 0.0)
    }

    /// Penalty of subtask `a`.
    pub fn penalty(&self, a: usize) -> f64 {
        self.penalties.get(&a).copied().unwrap_or(0.0)
    }

    /// Total penalty of a route (subtask indices).
    pub fn route_penalty(&self, route: &[usize]) -> f64 {
        route.iter().map(|&a| self.penalty(a)).sum()
    }
}
