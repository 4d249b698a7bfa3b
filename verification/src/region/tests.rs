//! Hand cases and property tests of regions against dense sampling.

use std::f64::consts::{PI, TAU};

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

fn disc(x: f64, y: f64, r: f64) -> Shape {
    Shape::disc(x, y, r).unwrap()
}

fn region(shapes: Vec<Shape>) -> Region {
    Region::new(shapes, None, None).unwrap()
}

fn state(x_m: f64, y_m: f64) -> State {
    State { x_m, y_m, yaw_rad: 0.0, speed_mps: 0.0 }
}

/// The contract of `subset_of`, checked against 2000 samples of `a`.
fn check_subset_claim(a: &Region, b: &Region, seed: u64) -> Result<(), TestCaseError> {
    match a.subset_of(b) {
        Ok(()) => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for _ in 0..2000 {
                let Some(s) = a.sample(&mut rng) else { break };
                prop_assert!(b.contains(&s), "Ok claimed but sample {s:?} of a is outside b");
            }
        }
        Err(c) => {
            prop_assert!(a.contains(&c.state), "counterexample {c} not in a");
            prop_assert!(!b.contains(&c.state), "counterexample {c} is in b");
            prop_assert!(c.excess > 0.0);
        }
    }
    Ok(())
}

#[test]
fn disc_in_disc() {
    let small = region(vec![disc(1.0, 0.0, 1.0)]);
    let big = region(vec![disc(0.0, 0.0, 2.0)]);
    assert_eq!(small.subset_of(&big), Ok(()));
    let c = big.subset_of(&small).unwrap_err();
    assert_eq!(c.part, Part::Planar { shape: 0 });
    // The maximiser is the far point of the big disc from (1, 0): (-2, 0), 2 m outside.
    assert!((c.excess - 2.0).abs() < 1e-9);
    assert!(big.contains(&c.state) && !small.contains(&c.state));
    let shifted = region(vec![disc(1.0 + 1e-6, 0.0, 1.0)]);
    let c = shifted.subset_of(&big).unwrap_err();
    assert!((c.excess - 1e-6).abs() < 1e-12, "{c}");
    assert!(shifted.contains(&c.state) && !big.contains(&c.state));
}

#[test]
fn box_in_polygon() {
    let hexagon: Vec<(f64, f64)> =
        (0..6).map(|k| (3.0 * (k as f64 * PI / 3.0).cos(), 3.0 * (k as f64 * PI / 3.0).sin())).collect();
    let hex = region(vec![Shape::polygon(hexagon).unwrap()]);
    let b = region(vec![Shape::rect(0.0, 0.0, 1.5, 1.0, PI / 6.0).unwrap()]);
    assert_eq!(b.subset_of(&hex), Ok(()));
    // A 5.8 m x 1 m box: its corner (2.9, 0.5) is past the hexagon's edge (x <= 2.71 there).
    let long = region(vec![Shape::rect(0.0, 0.0, 2.9, 0.5, 0.0).unwrap()]);
    let c = long.subset_of(&hex).unwrap_err();
    assert!(long.contains(&c.state) && !hex.contains(&c.state));
    assert_eq!(hex.subset_of(&b).map_err(|c| c.part), Err(Part::Planar { shape: 0 }));
}

#[test]
fn disc_cut_by_box_fits_where_the_disc_alone_does_not() {
    // Disc of radius 2 at the origin cut to its right half by a box; the half fits in the
    // disc of radius 1.5 around (1, 0)? Far points: (0, ±2) at distance √5 ≈ 2.24: no.
    // The half fits in the disc of radius √5 + ε around (1, 0), while the whole disc (whose
    // far point (-2, 0) is 3 m away) does not.
    let d = disc(0.0, 0.0, 2.0);
    let half = region(vec![d.clone(), Shape::rect(2.0, 0.0, 2.0, 3.0, 0.0).unwrap()]);
    let whole = region(vec![d]);
    let target = region(vec![disc(1.0, 0.0, 5f64.sqrt() + 1e-6)]);
    assert_eq!(half.subset_of(&target), Ok(()));
    let c = whole.subset_of(&target).unwrap_err();
    assert!((c.state.x_m + 2.0).abs() < 1e-3 && c.state.y_m.abs() < 1e-3, "{c}");
    let tight = region(vec![disc(1.0, 0.0, 5f64.sqrt() - 1e-6)]);
    let c = half.subset_of(&tight).unwrap_err();
    assert!((c.state.x_m).abs() < 1e-3 && (c.state.y_m.abs() - 2.0).abs() < 1e-3, "{c}");
    assert!(half.contains(&c.state) && !tight.contains(&c.state));
}

#[test]
fn lens_of_two_discs_fits_in_a_box() {
    let lens = region(vec![disc(0.0, 0.0, 1.0), disc(1.0, 0.0, 1.0)]);
    let h = 0.75f64.sqrt();
    let snug = region(vec![Shape::rect(0.5, 0.0, 0.5, h, 0.0).unwrap()]);
    assert_eq!(lens.subset_of(&snug), Ok(()));
    let short = region(vec![Shape::rect(0.5, 0.0, 0.5, h - 1e-6, 0.0).unwrap()]);
    let c = lens.subset_of(&short).unwrap_err();
    assert_eq!(c.part, Part::Planar { shape: 0 });
    assert!(lens.contains(&c.state) && !short.contains(&c.state));
    let ((xl, yl), (xh, yh)) = lens.bounding_box();
    assert!(xl.abs() < 1e-12 && (xh - 1.0).abs() < 1e-12 && (yh - h).abs() < 1e-12 && (yl + h).abs() < 1e-12);
}

#[test]
fn wrap_around_headings() {
    let deg = f64::to_radians;
    let with = |from: f64, to: f64| {
        Region::new(vec![disc(0.0, 0.0, 1.0)], Some(HeadingInterval::new(deg(from), deg(to)).unwrap()), None)
            .unwrap()
    };
    let narrow = with(175.0, -175.0);
    let wide = with(170.0, -170.0);
    assert_eq!(narrow.subset_of(&wide), Ok(()));
    let c = wide.subset_of(&narrow).unwrap_err();
    assert_eq!(c.part, Part::Heading);
    assert!(wide.contains(&c.state) && !narrow.contains(&c.state));
    // Unconstrained heading is not inside an arc, but every arc is inside it.
    let any = region(vec![disc(0.0, 0.0, 1.0)]);
    assert_eq!(any.subset_of(&wide).unwrap_err().part, Part::Heading);
    assert_eq!(wide.subset_of(&any), Ok(()));
    let full = with(-180.0, 180.0);
    assert_eq!(any.subset_of(&full), Ok(()));
    // Arcs through 0 and through 180 do not overlap.
    assert_eq!(with(-5.0, 5.0).subset_of(&wide).unwrap_err().part, Part::Heading);
    assert_eq!(with(-10.0, 190.0).subset_of(&with(-20.0, -160.0)), Ok(()));
}

#[test]
fn speed_containment() {
    let with = |lo, hi| {
        Region::new(vec![disc(0.0, 0.0, 1.0)], None, Some(SpeedInterval::new(lo, hi).unwrap())).unwrap()
    };
    assert_eq!(with(0.5, 1.0).subset_of(&with(0.0, 1.0)), Ok(()));
    let c = with(0.0, 1.5).subset_of(&with(0.0, 1.0)).unwrap_err();
    assert_eq!((c.part, c.state.speed_mps), (Part::Speed, 1.5));
    let c = with(-1.0, 0.5).subset_of(&with(0.0, 1.0)).unwrap_err();
    assert_eq!((c.part, c.state.speed_mps), (Part::Speed, -1.0));
    let any = region(vec![disc(0.0, 0.0, 1.0)]);
    let c = any.subset_of(&with(0.0, 1.0)).unwrap_err();
    assert!(any.contains(&c.state) && !with(0.0, 1.0).contains(&c.state));
    assert_eq!(with(0.0, 1.0).subset_of(&any), Ok(()));
}

#[test]
fn empty_region_is_inside_everything_and_samples_nothing() {
    let empty = region(vec![disc(0.0, 0.0, 1.0), disc(3.0, 0.0, 1.0)]);
    assert!(empty.is_empty());
    assert_eq!(empty.subset_of(&region(vec![disc(100.0, 0.0, 0.1)])), Ok(()));
    assert_eq!(empty.sample(&mut ChaCha8Rng::seed_from_u64(1)), None);
    // Touching discs share one point: not empty, but too thin to sample.
    let touching = region(vec![disc(0.0, 0.0, 1.0), disc(2.0, 0.0, 1.0)]);
    assert!(!touching.is_empty());
    assert_eq!(Region::new(vec![], None, None), Err(crate::Error::NoShapes));
}

#[test]
fn sampling_is_deterministic_and_inside() {
    let r = Region::new(
        vec![disc(0.0, 0.0, 2.0), Shape::rect(1.0, 0.0, 1.0, 1.0, 0.4).unwrap()],
        Some(HeadingInterval::new(3.0, -3.0).unwrap()),
        Some(SpeedInterval::new(0.2, 0.4).unwrap()),
    )
    .unwrap();
    let draw = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..100).map(|_| r.sample(&mut rng).unwrap()).collect::<Vec<_>>()
    };
    let a = draw(7);
    assert_eq!(a, draw(7));
    assert!(a.iter().all(|s| r.contains(s) && s.yaw_rad.abs() >= 3.0));
}

#[test]
fn contains_rejects_nan() {
    let r = region(vec![disc(0.0, 0.0, 1.0)]);
    assert!(r.contains(&state(0.0, 0.0)));
    assert!(!r.contains(&state(f64::NAN, 0.0)));
    assert!(!r.contains(&State { yaw_rad: f64::NAN, ..state(0.0, 0.0) }));
    assert!(!r.contains(&State { speed_mps: f64::NAN, ..state(0.0, 0.0) }));
}

fn arb_shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        (-3.0..3.0f64, -3.0..3.0f64, 0.3..5.0f64).prop_map(|(x, y, r)| disc(x, y, r)),
        (-3.0..3.0f64, -3.0..3.0f64, 0.2..4.0f64, 0.2..4.0f64, -PI..PI)
            .prop_map(|(x, y, hx, hy, yaw)| Shape::rect(x, y, hx, hy, yaw).unwrap()),
        (-3.0..3.0f64, -3.0..3.0f64, 0.5..5.0f64, prop::collection::vec(0.0..TAU, 3..8)).prop_filter_map(
            "degenerate polygon",
            |(x, y, r, mut angles)| {
                // Points on a circle in angular order form a convex polygon.
                angles.sort_by(f64::total_cmp);
                let v = angles.iter().map(|a| (x + r * a.cos(), y + r * a.sin())).collect();
                Shape::polygon(v).ok()
            }
        ),
    ]
}

fn arb_heading() -> impl Strategy<Value = Option<HeadingInterval>> {
    prop::option::of(
        (-PI..PI, 0.0..7.0f64).prop_map(|(from, w)| HeadingInterval::new(from, from + w).unwrap()),
    )
}

fn arb_speed() -> impl Strategy<Value = Option<SpeedInterval>> {
    prop::option::of((-2.0..2.0f64, 0.0..2.0f64).prop_map(|(lo, w)| SpeedInterval::new(lo, lo + w).unwrap()))
}

fn arb_region() -> impl Strategy<Value = Region> {
    (prop::collection::vec(arb_shape(), 1..4), arb_heading(), arb_speed())
        .prop_map(|(s, h, v)| Region::new(s, h, v).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn subset_claims_hold_for_random_pairs(a in arb_region(), b in arb_region(), seed in any::<u64>()) {
        check_subset_claim(&a, &b, seed)?;
    }

    #[test]
    fn a_narrowed_region_is_inside_and_claims_hold(
        b in arb_region(),
        extra in prop::collection::vec(arb_shape(), 0..3),
        seed in any::<u64>(),
    ) {
        // Adding shapes and keeping the intervals can only shrink a region.
        let mut shapes = b.shapes().to_vec();
        shapes.extend(extra);
        let a = Region::new(shapes, b.heading(), b.speed()).unwrap();
        prop_assert_eq!(a.subset_of(&b), Ok(()));
        check_subset_claim(&b, &a, seed)?;
    }

    #[test]
    fn samples_lie_in_the_region_and_the_exact_box(r in arb_region(), seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let ((xl, yl), (xh, yh)) = r.bounding_box();
        for _ in 0..500 {
            let Some(s) = r.sample(&mut rng) else {
                if r.is_empty() {
                    break;
                }
                // Rejection gives up only when the region fills a tiny part of its box
                // (a grid would be fooled by slivers along its diagonal; probe at random).
                let mut probe = ChaCha8Rng::seed_from_u64(seed ^ 1);
                let n = 200;
                let hits = (0..n * n)
                    .filter(|_| {
                        let (x, y) = (probe.random_range(xl..=xh), probe.random_range(yl..=yh));
                        r.shapes().iter().all(|s| s.contains(x, y))
                    })
                    .count();
                prop_assert!(hits < n * n / 200, "region filling {hits} cells not sampled");
                break;
            };
            prop_assert!(!r.is_empty() && r.contains(&s));
            prop_assert!(xl <= s.x_m && s.x_m <= xh && yl <= s.y_m && s.y_m <= yh);
        }
    }

    #[test]
    fn shapes_shrunk_inward_are_inside(x in -3.0..3.0f64, y in -3.0..3.0f64, r in 0.5..4.0f64, k in 0.0..0.99f64) {
        let outer = region(vec![disc(x, y, r)]);
        let inner = region(vec![disc(x + k * r * 0.01, y, r * (1.0 - k * 0.01) - 1e-6)]);
        prop_assert_eq!(inner.subset_of(&outer), Ok(()));
    }

    #[test]
    fn the_exact_bounding_box_is_tight(a in arb_region(), delta in -0.01..0.01f64, seed in any::<u64>()) {
        if a.is_empty() {
            return Ok(());
        }
        let ((xl, yl), (xh, yh)) = a.bounding_box();
        let (cx, cy, hx, hy) = (0.5 * (xl + xh), 0.5 * (yl + yh), 0.5 * (xh - xl), 0.5 * (yh - yl));
        prop_assume!(hx + delta > 0.0 && hy + delta > 0.0);
        let frame = Region::new(vec![Shape::rect(cx, cy, hx + delta, hy + delta, 0.0).unwrap()], None, None).unwrap();
        let around = Region::new(vec![disc(cx, cy, hx.hypot(hy) + delta)], None, None).unwrap();
        // Growing the exact box keeps the region inside; shrinking it cuts an extreme point off.
        if delta > 1e-6 {
            prop_assert_eq!(a.subset_of(&frame), Ok(()));
            prop_assert_eq!(a.subset_of(&around), Ok(()));
        } else if delta < -1e-6 {
            prop_assert!(a.subset_of(&frame).is_err());
        }
        check_subset_claim(&a, &frame, seed)?;
        check_subset_claim(&a, &around, seed)?;
    }
}
