//! The subtask graph derived from interface sets (DESIGN §9: edges are never declared).
//!
//! Subtask b may follow subtask a when the exit set of a lies inside the entry set of b
//! (exact containment). A subtask is available at the start when the start set lies inside its
//! entry set, and it reaches goal waypoint g when g's position lies in its exit set.

use super::{Subtask, Waypoint, WaypointId};
use std::collections::BTreeMap;

/// A sequence of subtask indices from the start to a goal.
pub type Route = Vec<usize>;

/// Which subtask may follow which.
#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceGraph {
    initial: Vec<usize>,
    /// High-level state reached by each subtask: the index of the first subtask with the same
    /// exit set (mutual containment), so subtasks ending in one place share a state.
    exit_state: Vec<usize>,
    successors: Vec<Vec<usize>>,
    goal_reachers: BTreeMap<WaypointId, Vec<usize>>,
}

impl InterfaceGraph {
    pub(crate) fn derive(start: &verification::Region, subtasks: &[Subtask], goals: &[&Waypoint]) -> Self {
        let initial = (0..subtasks.len()).filter(|&b| start.subset_of(&subtasks[b].entry).is_ok()).collect();
        let successors = subtasks
            .iter()
            .map(|a| (0..subtasks.len()).filter(|&b| a.exit.subset_of(&subtasks[b].entry).is_ok()).collect())
            .collect();
        let same =
            |a: &Subtask, b: &Subtask| a.exit.subset_of(&b.exit).is_ok() && b.exit.subset_of(&a.exit).is_ok();
        let exit_state =
            subtasks.iter().map(|a| subtasks.iter().position(|b| same(a, b)).unwrap_or_default()).collect();
        let goal_reachers = goals
            .iter()
            .map(|g| {
                let p = g.position;
                let at_goal = |s: &Subtask| s.exit.shapes().iter().all(|shape| shape.contains(p.x, p.y));
                (g.id.clone(), (0..subtasks.len()).filter(|&a| at_goal(&subtasks[a])).collect())
            })
            .collect();
        Self { initial, exit_state, successors, goal_reachers }
    }

    /// Subtasks whose entry set contains the start set.
    pub fn initial(&self) -> &[usize] {
        &self.initial
    }

    /// The high-level state subtask `a` ends in: the lowest index of a subtask with the same
    /// exit set.
    pub fn exit_state(&self, a: usize) -> usize {
        self.exit_state.get(a).copied().unwrap_or(a)
    }

    /// Subtasks that may follow subtask `a`.
    pub fn successors(&self, a: usize) -> &[usize] {
        self.successors.get(a).map_or(&[], Vec::as_slice)
    }

    /// Subtasks whose exit set contains the goal's position.
    pub fn goal_reachers(&self, goal: &WaypointId) -> &[usize] {
        self.goal_reachers.get(goal).map_or(&[], Vec::as_slice)
    }

    /// Every simple route from the start to `goal` (no high-level state visited twice),
    /// shortest first, ties broken by subtask indices. A route ends at the first subtask that
    /// reaches the goal.
    pub fn routes(&self, goal: &WaypointId) -> Vec<Route> {
        let reachers = self.goal_reachers(goal);
        let mut routes = Vec::new();
        let mut path = Vec::new();
        for &a in &self.initial {
            self.extend(a, reachers, &mut path, &mut routes);
        }
        routes.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        routes
    }

    fn extend(&self, a: usize, reachers: &[usize], path: &mut Route, routes: &mut Vec<Route>) {
        if path.iter().any(|&p| self.exit_state[p] == self.exit_state[a]) {
            return;
        }
        path.push(a);
        if reachers.contains(&a) {
            routes.push(path.clone());
        } else {
            for &b in self.successors(a) {
                self.extend(b, reachers, path, routes);
            }
        }
        path.pop();
    }

    /// Subtasks that lie on no route to any goal.
    pub fn unused(&self) -> Vec<usize> {
        let mut used = vec![false; self.successors.len()];
        for goal in self.goal_reachers.keys() {
            for a in self.routes(goal).into_iter().flatten() {
                used[a] = true;
            }
        }
        (0..used.len()).filter(|&a| !used[a]).collect()
    }
}
