//! Every chart the stack draws, in one style: white background, [`FONT`] captions of
//! [`CAPTION`] points, [`PALETTE`] colours in series order, legends boxed in black. Each chart is
//! written atomically through [`png`].
//!
//! [`map`] draws the site with routes and trajectories; [`lines`] draws series against a shared
//! x axis (estimates, learning curves) in one or more panels; [`bars`] compares two rates per
//! row (low vs high fidelity); [`learning_curve`] is `sim2real train`'s two-panel curve.

pub mod bars;
pub mod learning_curve;
pub mod lines;
pub mod map;

pub use map::{Track, map_png};

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

/// Font family of every text.
pub const FONT: &str = "sans-serif";
/// Caption size (points).
pub const CAPTION: u32 = 20;
/// Series colours, in order (the Tableau 10 colours).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// A chart's drawing area.
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// What plotters reports while drawing.
pub type DrawError = Box<dyn std::error::Error + Send + Sync>;

/// Why a chart was not written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// Drawing or encoding failed (fonts, the PNG encoder, a file system error).
    #[error("{}: cannot draw the chart: {source}", file.display())]
    Draw {
        /// The chart file.
        file: PathBuf,
        /// The cause.
        source: DrawError,
    },
}

/// Draws a `size` (pixels) PNG at `path` on a white background with `draw`; the file appears
/// only when complete (temporary file, then rename).
pub fn png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<(), DrawError>,
) -> Result<(), PlotError> {
    crate::files::with_temp(path, |tmp| -> Result<(), DrawError> {
        let root = BitMapBackend::new(tmp, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
        Ok(())
    })
    .map_err(|source| PlotError::Draw { file: path.into(), source })
}

/// A legend entry for a line of `colour`.
pub(crate) fn line_legend(colour: RGBColor, width: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(width))
}
