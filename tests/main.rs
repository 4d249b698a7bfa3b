//! Cross-crate and system tests: one binary, one module per area.

mod cli;
mod labyrinth;
mod mission;
mod pipeline;
mod routes;
mod scenario;
mod train;
mod verify;
