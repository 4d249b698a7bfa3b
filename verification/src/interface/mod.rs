//! The interface checker: which subtask may follow which (exit set inside entry set, decided
//! exactly), where the start and the goals connect, whether every exit set stays inside the
//! geofence, and, for what fails, a state that shows why.
//!
//! Input is plain data the caller builds from a scenario: each subtask's [`Interface`], the
//! start [`Region`], the goals as [`GoalPoint`]s and the geofence as a simple polygon. Output
//! is an [`InterfaceReport`].

mod geofence;

use std::fmt;

use crate::{Counterexample, Error, Region, State};
use geofence::{check_geofence, geofence_breach};

/// A subtask's interface: its entry and exit sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Interface {
    /// Subtask id, as in the scenario.
    pub id: String,
    /// Entry set I_c: where the subtask may start.
    pub entry: Region,
    /// Exit set F_c: where it must end.
    pub exit: Region,
}

/// A goal waypoint.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalPoint {
    /// Waypoint id.
    pub id: String,
    /// Position x, metres.
    pub x_m: f64,
    /// Position y, metres.
    pub y_m: f64,
}

/// How a goal connects.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalReach {
    /// Waypoint id.
    pub goal: String,
    /// Subtasks (indices) whose exit set contains the goal's position.
    pub reached_by: Vec<usize>,
    /// Whether a chain of subtasks leads from the start to one of `reached_by`.
    pub reachable: bool,
}

/// An exit set that leaves the geofence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeofenceBreach {
    /// The subtask (index).
    pub subtask: usize,
    /// The geofence edge (from vertex i to i + 1, in the order given) that cuts into the
    /// exit set; `None` when the exit set lies wholly outside.
    pub edge: Option<usize>,
    /// A state of the exit set outside the geofence.
    pub state: State,
}

/// An expected edge that is missing: exit(from) lies where entry(to) is (their bounding boxes
/// overlap) but is not contained in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearMiss {
    /// The subtask that would run first (index).
    pub from: usize,
    /// The subtask that would follow (index).
    pub to: usize,
    /// A state of exit(from) outside entry(to).
    pub counterexample: Counterexample,
}

/// Result of [`check_interfaces`]. Subtasks are referred to by index into `subtasks`.
#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceReport {
    /// Subtask ids, by index.
    pub subtasks: Vec<String>,
    /// `(a, b)`: b may follow a, exit(a) ⊆ entry(b). Sorted.
    pub edges: Vec<(usize, usize)>,
    /// Subtasks whose entry set contains the start set, ascending.
    pub initial: Vec<usize>,
    /// Per goal, in the order given.
    pub goals: Vec<GoalReach>,
    /// Exit sets not inside the geofence, one per subtask, ascending.
    pub breaches: Vec<GeofenceBreach>,
    /// Subtasks on no chain from the start to a goal, ascending.
    pub unused: Vec<usize>,
    /// Missing edges between overlapping sets, sorted by (from, to).
    pub near_misses: Vec<NearMiss>,
}

impl InterfaceReport {
    /// Whether the interfaces are fit to certify: every goal is reachable from the start and
    /// every exit set lies inside the geofence. Unused subtasks and near misses are warnings.
    pub fn passed(&self) -> bool {
        self.breaches.is_empty() && self.goals.iter().all(|g| g.reachable)
    }

    /// One line for a certificate: the verdict, counts and the first problem.
    pub fn summary(&self) -> String {
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        let mut s = format!(
            concat!(
                "{}: {} subtasks, {} edges, {} of {} goals reachable, ",
                "{} geofence breaches, {} unused, {} near misses"
            ),
            verdict,
            self.subtasks.len(),
            self.edges.len(),
            self.goals.iter().filter(|g| g.reachable).count(),
            self.goals.len(),
            self.breaches.len(),
            self.unused.len(),
            self.near_misses.len()
        );
        if let Some(g) = self.goals.iter().find(|g| !g.reachable) {
            s.push_str(&format!("; goal {} unreachable", g.goal));
        }
        if let Some(b) = self.breaches.first() {
            s.push_str(&format!("; exit of {} leaves the geofence", self.name(b.subtask)));
        }
        s
    }

    fn name(&self, i: usize) -> &str {
        self.subtasks.get(i).map_or("?", String::as_str)
    }
}

fn fmt_state(s: &State) -> String {
    format!("(x {:.3} m, y {:.3} m, yaw {:.3} rad, speed {:.3} m/s)", s.x_m, s.y_m, s.yaw_rad, s.speed_mps)
}

impl fmt::Display for InterfaceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed() { "PASSED" } else { "FAILED" };
        writeln!(f, "Interface check: {verdict}")?;
        let w = self.subtasks.iter().map(String::len).chain([7]).max().unwrap_or(7);
        writeln!(f, "  {:<w$}  {:<7}  {:<6}  followed by", "subtask", "initial", "used")?;
        for (i, id) in self.subtasks.iter().enumerate() {
            let next: Vec<&str> = self.edges.iter().filter(|e| e.0 == i).map(|e| self.name(e.1)).collect();
            let initial = if self.initial.contains(&i) { "yes" } else { "no" };
            let used = if self.unused.contains(&i) { "UNUSED" } else { "yes" };
            let next = if next.is_empty() { "-".to_owned() } else { next.join(", ") };
            writeln!(f, "  {id:<w$}  {initial:<7}  {used:<6}  {next}")?;
        }
        for g in &self.goals {
            let by: Vec<&str> = g.reached_by.iter().map(|&i| self.name(i)).collect();
            let by = if by.is_empty() { "no subtask".to_owned() } else { by.join(", ") };
            let reach = if g.reachable { "reachable" } else { "UNREACHABLE" };
            writeln!(f, "  goal {}: {reach}; exit sets containing it: {by}", g.goal)?;
        }
        for b in &self.breaches {
            let edge =
                b.edge.map_or_else(|| "lies wholly outside".to_owned(), |e| format!("is cut by edge {e}"));
            writeln!(
                f,
                "  GEOFENCE: exit of {} {edge}; e.g. state {} is outside",
                self.name(b.subtask),
                fmt_state(&b.state)
            )?;
        }
        for m in &self.near_misses {
            writeln!(
                f,
                "  near miss: {} -> {}: exit not inside entry: {}",
                self.name(m.from),
                self.name(m.to),
                m.counterexample
            )?;
        }
        Ok(())
    }
}

fn overlap(a: &Region, b: &Region) -> bool {
    let ((al, alo), (ah, aho)) = a.bounding_box();
    let ((bl, blo), (bh, bho)) = b.bounding_box();
    al <= ah && alo <= aho && bl <= bh && blo <= bho && al <= bh && bl <= ah && alo <= bho && blo <= aho
}

/// Marks every node reachable from `seeds` along `next`.
fn reach(seeds: &[usize], next: &[Vec<usize>]) -> Vec<bool> {
    let mut seen = vec![false; next.len()];
    let mut stack: Vec<usize> = seeds.to_vec();
    while let Some(a) = stack.pop() {
        if !std::mem::replace(&mut seen[a], true) {
            stack.extend(next[a].iter().copied().filter(|&b| !seen[b]));
        }
    }
    seen
}

/// Checks the interfaces of a scenario.
///
/// Edges: b may follow a iff exit(a) ⊆ entry(b) ([`Region::subset_of`], exact), including
/// a = b. Initial: start ⊆ entry. A goal is reached by the subtasks whose exit set's planar
/// part contains its position, and is reachable when a chain of edges leads from an initial
/// subtask to one of them. A subtask is unused when it lies on no such chain to any goal.
/// Near misses: pairs a ≠ b without an edge whose bounding boxes overlap.
///
/// Geofence: each exit set's planar part is tested exactly against the (possibly non-convex)
/// polygon, discs included, up to [`TOL_M`](crate::TOL_M): a compact convex set P lies in a
/// closed simple polygon G iff no edge of G enters P's interior and one interior point of P is
/// in G. The interior is taken as P eroded by `TOL_M`, so a fence that only grazes P's
/// boundary (an exit flush with the fence) passes. An exit thinner than 2·`TOL_M` is judged by
/// one of its points. Heading and speed play no part.
///
/// `geofence`: a simple polygon, metres, either orientation (counter-clockwise expected);
/// errors on fewer than 3 vertices, non-finite coordinates, crossing edges, or a non-finite
/// goal position.
pub fn check_interfaces(
    subtasks: &[Interface],
    start: &Region,
    goals: &[GoalPoint],
    geofence: &[(f64, f64)],
) -> Result<InterfaceReport, Error> {
    let orient = check_geofence(geofence)?;
    for g in goals {
        for (field, value) in [("goals.x_m", g.x_m), ("goals.y_m", g.y_m)] {
            if !value.is_finite() {
                return Err(Error::NonFinite { field, value });
            }
        }
    }
    let n = subtasks.len();
    let mut edges = Vec::new();
    let mut near_misses = Vec::new();
    let mut next = vec![Vec::new(); n];
    let mut prev = vec![Vec::new(); n];
    for (a, sa) in subtasks.iter().enumerate() {
        for (b, sb) in subtasks.iter().enumerate() {
            match sa.exit.subset_of(&sb.entry) {
                Ok(()) => {
                    edges.push((a, b));
                    next[a].push(b);
                    prev[b].push(a);
                }
                Err(counterexample) if a != b && overlap(&sa.exit, &sb.entry) => {
                    near_misses.push(NearMiss { from: a, to: b, counterexample });
                }
                Err(_) => {}
            }
        }
    }
    let initial: Vec<usize> = (0..n).filter(|&b| start.subset_of(&subtasks[b].entry).is_ok()).collect();
    let forward = reach(&initial, &next);
    let mut all_reachers = Vec::new();
    let goals: Vec<GoalReach> = goals
        .iter()
        .map(|g| {
            let reached_by: Vec<usize> = (0..n)
                .filter(|&a| subtasks[a].exit.shapes().iter().all(|s| s.contains(g.x_m, g.y_m)))
                .collect();
            all_reachers.extend(reached_by.iter().copied().filter(|&a| forward[a]));
            let reachable = reached_by.iter().any(|&a| forward[a]);
            GoalReach { goal: g.id.clone(), reached_by, reachable }
        })
        .collect();
    let backward = reach(&all_reachers, &prev);
    let unused = (0..n).filter(|&a| !(forward[a] && backward[a])).collect();
    let breaches = subtasks
        .iter()
        .enumerate()
        .filter_map(|(i, s)| geofence_breach(i, &s.exit, geofence, orient))
        .collect();
    Ok(InterfaceReport {
        subtasks: subtasks.iter().map(|s| s.id.clone()).collect(),
        edges,
        initial,
        goals,
        breaches,
        unused,
        near_misses,
    })
}

#[cfg(test)]
mod tests;
