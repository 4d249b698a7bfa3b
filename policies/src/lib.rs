//! Policies and their training (PPO), vectorised rollouts and policy files.

#![warn(missing_docs)]
