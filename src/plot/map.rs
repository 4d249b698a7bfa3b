//! Map plots: the site with obstacles, terrain, waypoints, subtask paths and trajectories.

use std::path::Path;

use plotters::prelude::*;
use sim::{Shape, Vec2};

use super::{Area, CAPTION, DrawError, FONT, PlotError, png};
use crate::scenario::Scenario;

/// A trajectory to draw on the map.
#[derive(Debug, Clone)]
pub struct Track<'a> {
    /// Legend label.
    pub label: String,
    /// Points (m).
    pub points: &'a [Vec2],
    /// Line colour.
    pub colour: RGBColor,
}

/// Writes a PNG map of the scenario with `tracks` drawn on it; `highlight` lists subtasks whose
/// nominal paths are drawn boldly.
pub fn map_png(
    path: &Path,
    title: &str,
    scenario: &Scenario,
    highlight: &[usize],
    tracks: &[Track<'_>],
) -> Result<(), PlotError> {
    let (lo, hi) = scenario.world().bounds();
    let (w, h) = (hi.x - lo.x + 2.0 * PAD_M, hi.y - lo.y + 2.0 * PAD_M);
    let px_w = 1400u32;
    let px_h = ((px_w as f64 - 60.0) * h / w + 90.0) as u32;
    png(path, (px_w, px_h), |root| draw(root, title, scenario, highlight, tracks))
}

/// Margin around the site's bounds (m).
const PAD_M: f64 = 5.0;

fn draw(
    root: &Area<'_>,
    title: &str,
    scenario: &Scenario,
    highlight: &[usize],
    tracks: &[Track<'_>],
) -> Result<(), DrawError> {
    let world = scenario.world();
    let (lo, hi) = world.bounds();
    let pad = PAD_M;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, CAPTION))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d((lo.x - pad)..(hi.x + pad), (lo.y - pad)..(hi.y + pad))?;
    chart.configure_mesh().x_desc("x (m)").y_desc("y (m)").light_line_style(WHITE.mix(0.0)).draw()?;

    let mut fence: Vec<(f64, f64)> = world.geofence.iter().map(|p| (p.x, p.y)).collect();
    fence.extend(fence.first().copied());
    chart
        .draw_series(std::iter::once(PathElement::new(fence, RED.stroke_width(2))))?
        .label("geofence")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    for t in &world.terrain {
        let colour = RGBColor(150, 110, 60).mix(0.25 + 0.5 * t.grade.min(1.0));
        chart.draw_series(std::iter::once(Polygon::new(outline(&t.shape), colour.filled())))?;
    }
    let lidar_height_m = scenario.robot().lidar_height_m;
    for o in &world.obstacles {
        // Obstacles the range sensor cannot see (water, kerbs) in blue: they are the treacherous ones.
        let colour = if o.height_m < lidar_height_m { RGBColor(70, 130, 200) } else { RGBColor(90, 90, 90) };
        chart.draw_series(std::iter::once(Polygon::new(outline(&o.shape), colour.filled())))?;
    }
    for (i, s) in scenario.subtasks().iter().enumerate() {
        let style = if highlight.contains(&i) {
            RGBColor(255, 140, 0).stroke_width(3)
        } else {
            RGBColor(180, 180, 220).stroke_width(1)
        };
        let (elo, ehi) = s.entry().bounding_box();
        let mut pts = vec![(0.5 * (elo.0 + ehi.0), 0.5 * (elo.1 + ehi.1))];
        pts.extend(s.via().iter().map(|p| (p.x, p.y)));
        chart.draw_series(std::iter::once(PathElement::new(pts, style)))?;
    }
    for wp in scenario.waypoints() {
        let p = wp.position();
        let is_goal = scenario.goals().contains(wp.id());
        let colour = if is_goal { RGBColor(0, 140, 0) } else { BLACK };
        chart.draw_series(std::iter::once(Circle::new((p.x, p.y), 5, colour.filled())))?;
        chart.draw_series(std::iter::once(Text::new(
            wp.id().to_string(),
            (p.x + 1.5, p.y + 1.5),
            (FONT, 15).into_font().color(&colour),
        )))?;
    }
    for t in tracks {
        let colour = t.colour;
        chart
            .draw_series(LineSeries::new(t.points.iter().map(|p| (p.x, p.y)), colour.stroke_width(2)))?
            .label(t.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        if let Some(end) = t.points.last() {
            chart.draw_series(std::iter::once(Cross::new((end.x, end.y), 6, colour.stroke_width(2))))?;
        }
    }
    if !tracks.is_empty() {
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    }
    Ok(())
}

/// Polygon approximation of a shape for drawing.
fn outline(shape: &Shape) -> Vec<(f64, f64)> {
    match shape {
        Shape::Disc { center, radius_m } => (0..32)
            .map(|i| {
                let a = std::f64::consts::TAU * i as f64 / 32.0;
                (center.x + radius_m * a.cos(), center.y + radius_m * a.sin())
            })
            .collect(),
        Shape::Box { center, half_extents_m: e, yaw_rad } => {
            let (s, c) = yaw_rad.sin_cos();
            [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]
                .iter()
                .map(|(u, v)| {
                    let (dx, dy) = (u * e.x, v * e.y);
                    (center.x + c * dx - s * dy, center.y + s * dx + c * dy)
                })
                .collect()
        }
        Shape::Polygon { vertices } => vertices.iter().map(|p| (p.x, p.y)).collect(),
    }
}
