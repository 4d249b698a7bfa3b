//! Subtask features computed from a (possibly overlaid) scenario: what a subtask's nominal path
//! runs through. Merged tips speak of features, not of subtask ids, so they carry over to
//! variants where a different subtask has the feature.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sim::geometry::{Footprint, footprint_overlaps, shape_contains};

use crate::scenario::Scenario;

/// Friction below which ground counts as low-friction (wet grass is about 0.4; mud 0.2–0.3).
pub const LOW_FRICTION: f64 = 0.4;
/// Grade (rise over run) from which ground counts as steep (about 8.5°).
pub const STEEP_GRADE: f64 = 0.15;
/// Clearance the robot's footprint keeps from obstacles along a nominal path before the path
/// counts as blocked (m).
pub const CLEARANCE_M: f64 = 0.3;
/// Spacing of the samples along a path (m).
const STEP_M: f64 = 0.5;

/// A property of a subtask's nominal path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// The robot's footprint (plus [`CLEARANCE_M`]) hits an obstacle somewhere on the path.
    Blocked,
    /// The path crosses ground with friction below [`LOW_FRICTION`].
    LowFriction,
    /// The path crosses ground with grade at least [`STEEP_GRADE`].
    Steep,
}

impl Feature {
    /// Every feature.
    pub const ALL: [Feature; 3] = [Feature::Blocked, Feature::LowFriction, Feature::Steep];

    /// Name as written in tip files.
    pub fn name(self) -> &'static str {
        match self {
            Feature::Blocked => "blocked",
            Feature::LowFriction => "low_friction",
            Feature::Steep => "steep",
        }
    }

    /// Words for tip texts ("subtasks whose path ...").
    pub fn words(self) -> &'static str {
        match self {
            Feature::Blocked => "is blocked by an obstacle",
            Feature::LowFriction => "crosses low-friction ground",
            Feature::Steep => "crosses steep ground",
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The features of every subtask of one world, by subtask id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    by_subtask: BTreeMap<String, BTreeSet<Feature>>,
}

impl Features {
    /// Features of each subtask's nominal path (entry waypoint, then its via points) in
    /// `world`'s robot and terrain. `world` must have the subtasks of the certified scenario
    /// (an overlay of it).
    pub fn of(world: &Scenario) -> Features {
        let robot = world.robot();
        let w = world.world();
        let mut by_subtask = BTreeMap::new();
        for t in world.subtasks() {
            let start = world.waypoints().iter().map(|wp| wp.position()).find(|p| {
                let s = sim::PlanarState { x_m: p.x, y_m: p.y, yaw_rad: 0.0, speed_mps: 0.0 };
                t.entry().contains(&crate::control::route::region_state(&s))
            });
            let mut path: Vec<sim::Vec2> = start.into_iter().collect();
            path.extend_from_slice(t.via());
            let mut set = BTreeSet::new();
            for pair in path.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let len = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
                let yaw = (b.y - a.y).atan2(b.x - a.x);
                let n = (len / STEP_M).ceil().max(1.0) as usize;
                for k in 0..=n {
                    let f = k as f64 / n as f64;
                    let p = sim::Vec2::new(a.x + f * (b.x - a.x), a.y + f * (b.y - a.y));
                    let fp = Footprint {
                        center: p,
                        yaw_rad: yaw,
                        half_length_m: 0.5 * robot.length_m + CLEARANCE_M,
                        half_width_m: 0.5 * robot.width_m + CLEARANCE_M,
                    };
                    if w.obstacles.iter().any(|o| footprint_overlaps(&o.shape, &fp)) {
                        set.insert(Feature::Blocked);
                    }
                    // Where patches overlap the later one wins, as in the simulator.
                    let patch = w.terrain.iter().rev().find(|t| shape_contains(&t.shape, p));
                    let friction = patch.map_or(w.ground_friction, |t| t.friction);
                    if friction < LOW_FRICTION {
                        set.insert(Feature::LowFriction);
                    }
                    if patch.is_some_and(|t| t.grade >= STEEP_GRADE) {
                        set.insert(Feature::Steep);
                    }
                }
            }
            by_subtask.insert(t.id().to_string(), set);
        }
        Features { by_subtask }
    }

    /// Whether `subtask` has `feature`.
    pub fn has(&self, subtask: &str, feature: Feature) -> bool {
        self.by_subtask.get(subtask).is_some_and(|s| s.contains(&feature))
    }

    /// The features of `subtask` (empty when unknown).
    pub fn of_subtask(&self, subtask: &str) -> impl Iterator<Item = Feature> + '_ {
        self.by_subtask.get(subtask).into_iter().flatten().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_yard_has_no_blocked_certified_path_and_the_pond_bank_is_steep_and_slippery() {
        let s = Scenario::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/warthog_yard/scenario.yaml"),
        )
        .expect("yard");
        let f = Features::of(&s);
        for t in s.subtasks() {
            assert!(!f.has(t.id().as_str(), Feature::Blocked), "{}", t.id());
        }
        assert!(f.has("pond_bank_crossing", Feature::Steep));
        assert!(f.has("pond_bank_crossing", Feature::LowFriction));
        assert!(!f.has("depot_to_dock_south", Feature::LowFriction));
    }
}
