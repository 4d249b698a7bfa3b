//! Verification of compositional policies.
//!
//! Main types so far: [`Region`], a set of planar [`State`]s (x, y, yaw, speed) built from
//! validated [`Shape`]s (disc, oriented box, convex polygon) intersected together and narrowed
//! by an optional [`HeadingInterval`] (wraps around ±π) and [`SpeedInterval`]; and
//! [`Counterexample`], what exact containment returns when it fails.
//!
//! Data flow: a scenario's entry and exit sets become `Region`s (constructors validate and
//! return [`Error`]); a simulator start is drawn with [`Region::sample`] from a seeded RNG;
//! success is judged with [`Region::contains`]; the high-level model's edges come from
//! [`Region::subset_of`] (exit set of one subtask inside the entry set of the next), which
//! decides containment exactly, not by sampling, and names a state that breaks it otherwise.
//! Tolerances of those decisions: [`TOL_M`], [`TOL_RAD`], [`TOL_MPS`].

#![warn(missing_docs)]

mod error;
mod region;

pub use error::Error;
pub use region::*;
