//! Evaluation suites: [`dialogue`] (`sim2real eval-dialogue`: questioners on the waypoint game)
//! and [`tips`] (`sim2real eval-tips`: missions in perturbed worlds with and without tips).

pub mod dialogue;
pub mod tips;
