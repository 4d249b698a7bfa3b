//! Series against a shared x axis, in one or more panels stacked vertically.

use std::path::Path;

use plotters::prelude::*;

use super::{Area, CAPTION, DrawError, FONT, PALETTE, PlotError, line_legend, png};

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A line through the points, in the next palette colour.
    Line,
    /// A red dot at each point.
    Dots,
}

/// One labelled series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
    /// How it is drawn.
    pub mark: Mark,
}

impl Series {
    /// A line.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series { label: label.into(), points, mark: Mark::Line }
    }
}

/// One panel: a y axis and its series.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// y axis description.
    pub y_desc: String,
    /// y range; `None` fits the data with a 5 % margin.
    pub y_range: Option<(f64, f64)>,
    /// A labelled horizontal reference line (a threshold).
    pub reference: Option<(String, f64)>,
    /// The series.
    pub series: Vec<Series>,
}

/// How x values are labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XLabels {
    /// As numbers.
    Plain,
    /// As step counts: `250k`, `1.5M`.
    Steps,
}

/// A chart of panels over one x axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Lines {
    /// Title.
    pub caption: String,
    /// x axis description.
    pub x_desc: String,
    /// x axis from 0 to this (at least 1).
    pub x_max: f64,
    /// How x values are labelled.
    pub x_labels: XLabels,
    /// Panels, top to bottom.
    pub panels: Vec<Panel>,
}

/// Writes `lines` as a 1000-pixel-wide PNG, 600 pixels for one panel, 350 per panel otherwise.
pub fn lines_png(path: &Path, lines: &Lines) -> Result<(), PlotError> {
    let n = lines.panels.len().max(1) as u32;
    let height = if n == 1 { 600 } else { 50 + 350 * n };
    png(path, (1000, height), |root| {
        let root = root.titled(&lines.caption, (FONT, CAPTION))?;
        for (panel, area) in lines.panels.iter().zip(root.split_evenly((lines.panels.len(), 1))) {
            draw_panel(&area, lines, panel)?;
        }
        Ok(())
    })
}

fn draw_panel(area: &Area<'_>, lines: &Lines, panel: &Panel) -> Result<(), DrawError> {
    let x_max = lines.x_max.max(1.0);
    let (lo, hi) = panel.y_range.unwrap_or_else(|| fit(panel));
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..x_max, lo..hi)?;
    let steps = |x: &f64| if *x >= 1e6 { format!("{}M", x / 1e6) } else { format!("{}k", x / 1e3) };
    let plain = |x: &f64| format!("{x}");
    let formatter: &dyn Fn(&f64) -> String = match lines.x_labels {
        XLabels::Plain => &plain,
        XLabels::Steps => &steps,
    };
    chart
        .configure_mesh()
        .x_desc(lines.x_desc.as_str())
        .y_desc(panel.y_desc.as_str())
        .x_label_formatter(formatter)
        .draw()?;
    if let Some((label, y)) = &panel.reference {
        chart
            .draw_series(LineSeries::new(vec![(0.0, *y), (x_max, *y)], BLACK.stroke_width(1)))?
            .label(label.as_str())
            .legend(line_legend(BLACK, 1));
    }
    let mut colours = PALETTE.iter().cycle();
    for s in &panel.series {
        match s.mark {
            Mark::Line => {
                let colour = *colours.next().unwrap_or(&BLUE);
                chart
                    .draw_series(LineSeries::new(s.points.iter().copied(), colour.stroke_width(2)))?
                    .label(s.label.as_str())
                    .legend(line_legend(colour, 2));
            }
            Mark::Dots => {
                chart
                    .draw_series(s.points.iter().map(|&p| Circle::new(p, 5, RED.filled())))?
                    .label(s.label.as_str())
                    .legend(|(x, y)| Circle::new((x + 10, y), 5, RED.filled()));
            }
        }
    }
    if panel.reference.is_some() || panel.series.len() > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    Ok(())
}

/// The data's y range with a 5 % margin (±1 around a constant or empty panel).
fn fit(panel: &Panel) -> (f64, f64) {
    let ys = panel.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|y| y.is_finite());
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let (lo, hi) = if lo.is_finite() && hi > lo { (lo, hi) } else { (lo.min(0.0) - 1.0, hi.max(0.0) + 1.0) };
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}
