//! Two rates per row, drawn as a pair of horizontal bars (low vs high fidelity).

use std::path::Path;

use plotters::prelude::*;

use super::{CAPTION, FONT, PALETTE, PlotError, png};

/// Writes one row per `(label, first, second)` with bars of the rates in [0, 1] (a missing rate
/// draws no bar): the first in the first palette colour (lower half), the second in the second.
pub fn paired_bars_png(
    path: &Path,
    caption: &str,
    x_desc: &str,
    rows: &[(String, Option<f64>, Option<f64>)],
) -> Result<(), PlotError> {
    let n = rows.len() as u32;
    png(path, (1000, 120 + 40 * n), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, CAPTION))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(230)
            .build_cartesian_2d(0.0..1.02, (0..n).into_segmented())?;
        chart
            .configure_mesh()
            .y_labels(rows.len())
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => rows.get(*i as usize).map_or(String::new(), |r| r.0.clone()),
                _ => String::new(),
            })
            .x_desc(x_desc)
            .draw()?;
        for (i, (_, first, second)) in rows.iter().enumerate() {
            let i = i as u32;
            let halves = [
                (first, SegmentValue::Exact(i), SegmentValue::CenterOf(i), PALETTE[0]),
                (second, SegmentValue::CenterOf(i), SegmentValue::Exact(i + 1), PALETTE[1]),
            ];
            for (rate, from, to, colour) in halves {
                if let Some(r) = *rate {
                    let mut bar = Rectangle::new([(0.0, from), (r, to)], colour.filled());
                    bar.set_margin(3, 3, 0, 0);
                    chart.draw_series(std::iter::once(bar))?;
                }
            }
        }
        Ok(())
    })
}
