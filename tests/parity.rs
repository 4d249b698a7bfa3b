//! Code that exists twice because the leaf crates never depend on each other, checked for
//! drift: planar geometry (`sim` decides collisions and the geofence, `verification` decides
//! interface sets: a robot "inside" one must be inside the other), and the atomic writes of every
//! crate (temporary file, fsync of the file, rename, fsync of the directory).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use sim::Vec2;

/// Points closer than this to a boundary may round either way in the two implementations.
const BOUNDARY_M: f64 = 1e-9;

/// The same shape in both crates.
fn both(kind: u8, c: (f64, f64), a: f64, b: f64, yaw: f64) -> (sim::Shape, verification::Shape) {
    match kind % 3 {
        0 => (
            sim::Shape::Disc { center: Vec2::new(c.0, c.1), radius_m: a },
            verification::Shape::disc(c.0, c.1, a).expect("disc"),
        ),
        1 => (
            sim::Shape::Box { center: Vec2::new(c.0, c.1), half_extents_m: Vec2::new(a, b), yaw_rad: yaw },
            verification::Shape::rect(c.0, c.1, a, b, yaw).expect("rect"),
        ),
        _ => {
            // A convex pentagon: points on an ellipse in counter-clockwise order.
            let vertices: Vec<(f64, f64)> = (0..5)
                .map(|i| {
                    let t = yaw + std::f64::consts::TAU * f64::from(i) / 5.0;
                    (c.0 + a * t.cos(), c.1 + b * t.sin())
                })
                .collect();
            (
                sim::Shape::Polygon { vertices: vertices.iter().map(|&(x, y)| Vec2::new(x, y)).collect() },
                verification::Shape::polygon(vertices).expect("polygon"),
            )
        }
    }
}

proptest! {
    #[test]
    fn both_crates_agree_on_what_a_shape_contains(
        kind in 0u8..3,
        cx in -50.0f64..50.0, cy in -50.0f64..50.0,
        a in 0.5f64..20.0, b in 0.5f64..20.0, yaw in -4.0f64..4.0,
        px in -80.0f64..80.0, py in -80.0f64..80.0,
    ) {
        let (s, v) = both(kind, (cx, cy), a, b, yaw);
        let p = Vec2::new(px, py);
        let near_boundary = sim::geometry::polygon_boundary_distance(&outline(&s), p) < BOUNDARY_M
            || matches!(s, sim::Shape::Disc { .. } if ((px - cx).hypot(py - cy) - a).abs() < BOUNDARY_M);
        if !near_boundary {
            prop_assert_eq!(sim::geometry::shape_contains(&s, p), v.contains(px, py), "{:?} at ({}, {})", s, px, py);
        }
    }
}

/// The boundary of a polygonal shape (empty for a disc, which is checked by its radius).
fn outline(shape: &sim::Shape) -> Vec<Vec2> {
    match shape {
        sim::Shape::Disc { .. } => Vec::new(),
        sim::Shape::Box { center, half_extents_m: e, yaw_rad } => {
            let (s, c) = yaw_rad.sin_cos();
            [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]
                .iter()
                .map(|(u, v)| {
                    Vec2::new(center.x + c * u * e.x - s * v * e.y, center.y + s * u * e.x + c * v * e.y)
                })
                .collect()
        }
        sim::Shape::Polygon { vertices } => vertices.clone(),
    }
}

#[test]
fn every_atomic_write_syncs_the_file_and_its_directory() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "sim/src", "policies/src", "verification/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut renaming = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        // Each function that renames a file into place, from its `fn` to the next `fn`.
        for body in text.split("\nfn ").flat_map(|f| f.split(" fn ")).filter(|f| f.contains("fs::rename(")) {
            renaming += 1;
            let rename = body.find("fs::rename(").unwrap_or(0);
            let (before, after) = body.split_at(rename);
            assert!(
                before.contains("sync_all()"),
                "{}: a rename into place without an fsync of the file before it",
                file.display()
            );
            assert!(
                after.contains("sync_dir(") || after.contains("sync_all()"),
                "{}: a rename into place without an fsync of the directory after it",
                file.display()
            );
        }
    }
    assert!(renaming >= 4, "found {renaming} atomic writers; the check is looking in the wrong place");
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("list") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
