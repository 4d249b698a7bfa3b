//! Verification of compositional policies.
//!
//! Main types: [`Region`], a set of planar [`State`]s (x, y, yaw, speed) built from
//! validated [`Shape`]s (disc, oriented box, convex polygon) intersected together and narrowed
//! by an optional [`HeadingInterval`] (wraps around ±π) and [`SpeedInterval`]; and
//! [`Counterexample`], what exact containment returns when it fails. [`InterfaceReport`], the
//! result of [`check_interfaces`]: edges, initial subtasks, goal reachability, exit sets that
//! leave the geofence, unused subtasks and near misses, each failure with a state that shows
//! it. [`Hlm`], the high-level model (interface sets as states, subtasks as actions that
//! succeed with probability p_a or fall into [`HlmState::Fail`]), with its optimal
//! [`MetaPolicy`] and the subtask [`Requirements`]. In [`stats`]: [`clopper_pearson`] bounds
//! ([`ConfidenceInterval`]), [`wilson`], campaign sizes ([`trials_needed`] and relatives),
//! [`split_confidence`] (Bonferroni), the early-stopping [`SequentialTest`] and
//! [`fisher_exact`]. [`SubtaskEvidence`] (a campaign's counts) composed into a
//! [`ComposedBound`] by [`route_bound`] / [`best_bound`], and [`fidelity_gap`]. [`Certificate`],
//! the bundle's `certificate.yaml`, sealed by [`hash_bundle`].
//!
//! Data flow: a scenario's entry and exit sets become `Region`s (constructors validate and
//! return [`Error`]); a simulator start is drawn with [`Region::sample`] from a seeded RNG;
//! success is judged with [`Region::contains`]; the high-level model's edges come from
//! [`Region::subset_of`] (exit set of one subtask inside the entry set of the next), which
//! decides containment exactly, not by sampling, and names a state that breaks it otherwise;
//! [`check_interfaces`] runs it over every pair and adds the start, goal and geofence checks.
//! Tolerances of those decisions: [`TOL_M`], [`TOL_RAD`], [`TOL_MPS`].
//! Those edges build an [`Hlm`]. Training uses point estimates p̂: [`Hlm::max_reach`] gives
//! the reach probability and meta-policy, [`Hlm::requirements`] the smallest p* that meets θ
//! (and, via [`Requirements::largest_gap`], what to train next). Certification replaces p̂ by
//! Clopper-Pearson lower bounds from campaigns sized by [`trials_needed`], each claim at the
//! error [`split_confidence`] allots, and composes them along a route ([`route_bound`], or
//! [`best_bound`] through [`Hlm::max_reach`]: reach is monotone in every p_a), giving
//! "Pr(goal) ≥ X with confidence ≥ 1 − δ". The results go into a [`Certificate`] together with
//! the sha256 of every bundle file; [`Certificate::load_verified`] refuses a bundle that
//! changed since. Everything except the certificate's file I/O is pure and deterministic: no
//! clock, no global state.

#![warn(missing_docs)]

mod certificate;
mod composition;
mod error;
pub mod hlm;
mod interface;
mod region;
pub mod stats;

pub use certificate::{
    CERTIFICATE_FILE, Certificate, Controller, Fidelity, GoalRecord, InterfaceRecord, PLOTS_DIR, REPORT_FILE,
    RouteRecord, SubtaskRecord, check_sealed, hash_bundle,
};
pub use composition::{
    ComposedBound, GapVerdict, SubtaskEvidence, best_bound, fidelity_gap, floor_to, route_bound,
};
pub use error::{Error, RouteProblem};
pub use hlm::{Hlm, HlmState, MetaPolicy, Requirements};
pub use interface::{
    GeofenceBreach, GoalPoint, GoalReach, Interface, InterfaceReport, NearMiss, check_interfaces,
};
pub use region::*;
pub use stats::{
    ConfidenceInterval, Decision, SequentialTest, Sides, clopper_pearson, fisher_exact, hoeffding_trials,
    split_confidence, trials_needed, trials_needed_with_failures, wilson,
};
