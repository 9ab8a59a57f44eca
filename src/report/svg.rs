//! Pictures (SVG, drawn with plotters): latency percentile curves per flow with the variants
//! overlaid, p99 against load scale with the SLO line, and hop utilization per variant.
//!
//! The percentile axis is stretched toward the tail as HdrHistogram's plotter does: x is
//! log10(1 / (1 − p)), so 90%, 99%, 99.9% … sit one unit apart. Latency axes turn
//! logarithmic when the figures span more than two decades (`YAxis::fit`). Legends sit in
//! their own column beside the plot, never over data; a grid sweep draws small multiples
//! (`figure_panels`: one panel per value of the other axes, one colour per variant). Text is emitted as SVG `<text>`
//! elements in a generic `sans-serif` family, so the files need no fonts installed to render;
//! label sizes are estimated, not measured. This module turns figures into SVG text; writing
//! the files is `report`'s job, and nothing here reads the simulation's internals beyond the
//! summaries it is handed.

use hdrhistogram::Histogram;
use plotters::prelude::*;

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
const COLORS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

const FONT: &str = "sans-serif";
const SIZE: (u32, u32) = (960, 600);

/// A drawing failed; the message is plotters'.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the picture: {0}")]
pub struct SvgError(String);

fn err<E: std::fmt::Debug>(e: E) -> SvgError {
    SvgError(format!("{e:?}"))
}

/// Percentile label of x = log10(1/(1−p)): 0 → `0%`, 1 → `90%`, 3 → `99.9%`.
fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let decimals = (x.round() as i64 - 2).clamp(0, 6) as usize;
    format!("{p:.decimals$}%")
}

/// Width of the legend column for `labels` (estimated: about 7.5 px per character at 14 px).
fn legend_width(labels: &[String]) -> u32 {
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u32;
    (longest * 15 / 2 + 56).clamp(120, 420)
}

/// What a legend entry shows beside its label.
#[derive(Clone, Copy)]
enum Mark {
    Line(RGBColor),
    Box(RGBColor),
}

/// Draws a legend in its own area (beside the plot, never over it): one entry per label.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[(String, Mark)],
) -> Result<(), SvgError>
where
    DB::ErrorType: 'static,
{
    let style = TextStyle::from((FONT, 14).into_font()).color(&BLACK);
    for (i, (label, mark)) in entries.iter().enumerate() {
        let y = 60 + 22 * i as i32;
        match mark {
            Mark::Line(c) => area
                .draw(&PathElement::new(vec![(8, y), (32, y)], c.stroke_width(3)))
                .map_err(err)?,
            Mark::Box(c) => area
                .draw(&Rectangle::new([(12, y - 6), (28, y + 6)], c.filled()))
                .map_err(err)?,
        }
        area.draw(&Text::new(label.clone(), (40, y - 8), style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// A latency axis label: milliseconds with thousands separated by thin spaces.
fn ms_label(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v >= 1000.0 {
        let s = format!("{:.0}", v);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push('\u{2009}');
            }
            out.push(c);
        }
        out
    } else {
        crate::report::num::sig(v, 3).unwrap_or_default()
    }
}

/// The y axis of latency pictures: linear from 0, or logarithmic (drawn as log10 of the value
/// on a linear axis, labelled in ms) when the figures span more than two decades — so a
/// healthy variant in milliseconds is not flattened against an outage in hours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum YAxis {
    Linear { top: f64 },
    Log { lo: f64, hi: f64 },
}

impl YAxis {
    /// The axis for positive figures `ys` (non-positive ones are ignored for the span).
    pub fn fit(ys: impl Iterator<Item = f64> + Clone, floor: f64) -> YAxis {
        let max = ys.clone().filter(|v| v.is_finite()).fold(floor, f64::max);
        let min = ys
            .filter(|v| v.is_finite() && *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        if min.is_finite() && max / min > 100.0 {
            YAxis::Log {
                lo: min.log10().floor(),
                hi: max.log10().ceil().max(min.log10().floor() + 1.0),
            }
        } else {
            YAxis::Linear {
                top: max.max(1e-3) * 1.05,
            }
        }
    }
    fn range(&self) -> std::ops::Range<f64> {
        match *self {
            YAxis::Linear { top } => 0.0..top,
            YAxis::Log { lo, hi } => lo..hi,
        }
    }
    /// The plotted coordinate of value `v`.
    fn y(&self, v: f64) -> f64 {
        match *self {
            YAxis::Linear { .. } => v,
            YAxis::Log { lo, .. } => {
                if v > 0.0 {
                    v.log10().max(lo)
                } else {
                    lo
                }
            }
        }
    }
    fn label(&self, y: f64) -> String {
        match *self {
            YAxis::Linear { .. } => ms_label(y),
            YAxis::Log { .. } => ms_label(10f64.powf(y)),
        }
    }
    fn labels(&self) -> usize {
        match *self {
            YAxis::Linear { .. } => 10,
            YAxis::Log { lo, hi } => (hi - lo) as usize + 1,
        }
    }
    fn desc(&self, what: &str) -> String {
        match self {
            YAxis::Linear { .. } => what.to_string(),
            YAxis::Log { .. } => format!("{what}, log scale"),
        }
    }
}

/// One latency curve: a name and its histogram (microseconds).
pub struct Curve<'a> {
    pub name: &'a str,
    pub histogram: &'a Histogram<u64>,
}

/// `steps + 1` points (x, latency in ms) of one latency curve, x from 0 to `x_max` where the
/// percentile is 1 − 10^−x.
fn curve_points(h: &Histogram<u64>, x_max: f64, steps: usize) -> Vec<(f64, f64)> {
    let xs: Vec<f64> = (0..=steps)
        .map(|i| x_max * i as f64 / steps as f64)
        .collect();
    // The quantiles ascend with x, so one pass over the counts answers them all
    // (`value_at_quantile` per point scanned the counts 401 times: about 12 M instructions
    // per curve, more than the rest of writing the outputs). Same values: the one-pass walk
    // stops at the same bucket for each quantile (a test checks it).
    let ps = xs.iter().map(|x| 1.0 - 10f64.powf(-x));
    xs.iter()
        .zip(h.value_at_quantiles(ps))
        .map(|(&x, v)| (x, v as f64 / 1e3))
        .collect()
}

/// Latency (ms) against percentile, one curve per variant, for flow `flow`.
pub fn latency_curves(title: &str, curves: &[Curve<'_>]) -> Result<String, SvgError> {
    let curves: Vec<&Curve<'_>> = curves.iter().filter(|c| !c.histogram.is_empty()).collect();
    // Plot out to where the tail still has samples: 1/(1−p) up to the count, at most 10^5.
    let total = curves.iter().map(|c| c.histogram.len()).max().unwrap_or(1);
    let x_max = (total as f64).log10().clamp(1.0, 5.0).floor();
    let steps = 400;
    let series: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|c| curve_points(c.histogram, x_max, steps))
        .collect();
    let axis = YAxis::fit(series.iter().flatten().map(|p| p.1), 1e-3);
    let labels: Vec<String> = curves.iter().map(|c| c.name.to_string()).collect();
    let entries: Vec<(String, Mark)> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), Mark::Line(color(i))))
        .collect();
    let lw = legend_width(&labels);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0 + lw, SIZE.1)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (plot, legend) = root.split_horizontally(SIZE.0);
        let mut chart = ChartBuilder::on(&plot)
            .caption(title, (FONT, 22))
            .margin(16)
            .margin_right(24)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(0.0..x_max, axis.range())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(x_max as usize + 1)
            .x_label_formatter(&|x| percentile_label(*x))
            .x_desc("percentile (stretched toward the tail: 1/(1-p) on a log scale)")
            .y_labels(axis.labels())
            .y_desc(axis.desc("latency (ms)"))
            .y_label_formatter(&|y| axis.label(*y))
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        for (i, pts) in series.into_iter().enumerate() {
            chart
                .draw_series(LineSeries::new(
                    pts.into_iter().map(|(x, v)| (x, axis.y(v))),
                    color(i).stroke_width(2),
                ))
                .map_err(err)?;
        }
        draw_legend(&legend, &entries)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// One line of a figure against a swept or searched value: (x, mean, 95% interval) points.
pub struct LoadSeries {
    pub name: String,
    pub points: Vec<(f64, f64, Option<(f64, f64)>)>,
}

/// One panel of a figure: its title (empty for a single panel) and its lines.
pub struct Panel {
    pub title: String,
    pub series: Vec<LoadSeries>,
}

/// A figure (ms) against load scale, one line per series with its 95% intervals as error bars,
/// and the SLO as a horizontal red line when given.
pub fn figure_vs_load(
    title: &str,
    y_desc: &str,
    series: &[LoadSeries],
    slo_ms: Option<f64>,
) -> Result<String, SvgError> {
    let panel = Panel {
        title: String::new(),
        series: series
            .iter()
            .map(|s| LoadSeries {
                name: s.name.clone(),
                points: s.points.clone(),
            })
            .collect(),
    };
    figure_panels(
        title,
        "load scale (× the scenario's arrival rates)",
        y_desc,
        &[panel],
        slo_ms,
    )
}

/// A figure (ms) against `x_desc`, as small multiples: one panel per entry of `panels`, the
/// same axes in each, one colour per series name across panels, the legend in its own column
/// beside the panels (never over data), the SLO as a red line in every panel.
pub fn figure_panels(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    panels: &[Panel],
    slo_ms: Option<f64>,
) -> Result<String, SvgError> {
    let all = || {
        panels
            .iter()
            .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter()))
    };
    let x_min = all().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let x_max = all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    // A search that doubled servers up to a bound spans decades: draw x on a log scale then.
    let log_x = x_min > 0.0 && x_max / x_min > 100.0;
    let xf = |x: f64| if log_x { x.log10() } else { x };
    let (x_min, x_max) = (xf(x_min), xf(x_max));
    let x_desc = if log_x {
        format!("{x_desc}, log scale")
    } else {
        x_desc.to_string()
    };
    let (x_min, x_max) = if x_min.is_finite() && x_max > x_min {
        let pad = (x_max - x_min) * 0.04;
        (x_min - pad, x_max + pad)
    } else if x_min.is_finite() {
        (x_min - 0.5, x_min + 0.5)
    } else {
        (0.0, 2.0)
    };
    let ys = all()
        .flat_map(|p| [Some(p.1), p.2.map(|c| c.1), p.2.map(|c| c.0)])
        .flatten()
        .chain(slo_ms);
    let axis = YAxis::fit(ys.collect::<Vec<_>>().into_iter(), slo_ms.unwrap_or(0.0));
    let mut names: Vec<String> = Vec::new();
    for p in panels {
        for s in &p.series {
            if !names.contains(&s.name) {
                names.push(s.name.clone());
            }
        }
    }
    let mut entries: Vec<(String, Mark)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), Mark::Line(color(i))))
        .collect();
    if let Some(slo) = slo_ms {
        entries.push((format!("SLO {} ms", ms_label(slo)), Mark::Line(RED)));
    }
    let labels: Vec<String> = entries.iter().map(|e| e.0.clone()).collect();
    let lw = legend_width(&labels);
    let n = panels.len().max(1);
    let cols = if n == 1 { 1 } else { n.min(3) };
    let rows = n.div_ceil(cols);
    let (w, h) = if n == 1 {
        SIZE
    } else {
        (SIZE.0.max(380 * cols as u32), 60 + 330 * rows as u32)
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w + lw, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (plots, legend) = root.split_horizontally(w);
        let plots = if n == 1 {
            plots
        } else {
            plots.titled(title, (FONT, 22)).map_err(err)?
        };
        let areas = if n == 1 {
            vec![plots]
        } else {
            plots.split_evenly((rows, cols))
        };
        for (panel, area) in panels.iter().zip(areas.iter()) {
            let caption = if n == 1 { title } else { panel.title.as_str() };
            let mut chart = ChartBuilder::on(area)
                .caption(caption, (FONT, if n == 1 { 22 } else { 16 }))
                .margin(if n == 1 { 16 } else { 8 })
                .margin_right(if n == 1 { 24 } else { 12 })
                .x_label_area_size(if n == 1 { 50 } else { 40 })
                .y_label_area_size(if n == 1 { 90 } else { 70 })
                .build_cartesian_2d(x_min..x_max, axis.range())
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc(x_desc.as_str())
                .x_label_formatter(&|x| ms_label(if log_x { 10f64.powf(*x) } else { *x }))
                .y_desc(axis.desc(y_desc))
                .y_labels(axis.labels())
                .y_label_formatter(&|y| axis.label(*y))
                .label_style((FONT, if n == 1 { 14 } else { 12 }))
                .draw()
                .map_err(err)?;
            for s in &panel.series {
                let col = color(names.iter().position(|x| *x == s.name).unwrap_or(0));
                let mut pts: Vec<_> = s
                    .points
                    .iter()
                    .filter(|p| p.1.is_finite())
                    .map(|p| (xf(p.0), p.1, p.2))
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                chart
                    .draw_series(LineSeries::new(
                        pts.iter().map(|p| (p.0, axis.y(p.1))),
                        col.stroke_width(2),
                    ))
                    .map_err(err)?;
                chart
                    .draw_series(
                        pts.iter()
                            .map(|p| Circle::new((p.0, axis.y(p.1)), 3, col.filled())),
                    )
                    .map_err(err)?;
                let tick = (x_max - x_min) * 0.004;
                chart
                    .draw_series(pts.iter().filter_map(|p| p.2.map(|c| (p.0, c))).map(
                        |(x, (lo, hi))| {
                            let (lo, hi) = (axis.y(lo), axis.y(hi));
                            PathElement::new(
                                vec![
                                    (x - tick, lo),
                                    (x + tick, lo),
                                    (x, lo),
                                    (x, hi),
                                    (x - tick, hi),
                                    (x + tick, hi),
                                ],
                                col.stroke_width(1),
                            )
                        },
                    ))
                    .map_err(err)?;
            }
            if let Some(slo) = slo_ms {
                chart
                    .draw_series(LineSeries::new(
                        [(x_min, axis.y(slo)), (x_max, axis.y(slo))],
                        RED.stroke_width(2),
                    ))
                    .map_err(err)?;
            }
        }
        draw_legend(&legend, &entries)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Measured utilization (0–1) of each station, grouped bars with one bar per variant.
/// `values[v][s]` is variant v's utilization of station s (None: unlimited servers, no bar).
pub fn utilization_bars(
    title: &str,
    stations: &[String],
    variants: &[(String, Vec<Option<f64>>)],
) -> Result<String, SvgError> {
    let n = stations.len().max(1);
    let y_top = variants
        .iter()
        .flat_map(|v| v.1.iter().flatten())
        .fold(1.0f64, |a, b| a.max(*b))
        * 1.05;
    let entries: Vec<(String, Mark)> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| (v.0.clone(), Mark::Box(color(i))))
        .collect();
    let labels: Vec<String> = entries.iter().map(|e| e.0.clone()).collect();
    let lw = legend_width(&labels);
    // Each station's slot is wide enough for its name at the label font (about 7 px a
    // character at 13 px), so long names (`hybrid.bandwidth.to_onprem`) never overlap.
    let longest = stations
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0) as u32;
    let slot = 80.max(7 * longest + 14);
    let w = SIZE.0.max(slot * n as u32 + 200);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w + lw, SIZE.1)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (plot, legend) = root.split_horizontally(w);
        let mut chart = ChartBuilder::on(&plot)
            .caption(title, (FONT, 22))
            .margin(16)
            .margin_right(24)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..y_top)
            .map_err(err)?;
        let names = stations.to_vec();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
            .y_desc("utilization (busy servers ÷ servers)")
            .label_style((FONT, 13))
            .draw()
            .map_err(err)?;
        let nv = variants.len().max(1) as f64;
        let width = 0.8 / nv;
        for (vi, (_, us)) in variants.iter().enumerate() {
            let col = color(vi);
            chart
                .draw_series(us.iter().enumerate().filter_map(|(si, u)| {
                    let u = (*u)?;
                    let x0 = si as f64 - 0.4 + vi as f64 * width;
                    Some(Rectangle::new(
                        [(x0, 0.0), (x0 + width * 0.92, u)],
                        col.filled(),
                    ))
                }))
                .map_err(err)?;
        }
        chart
            .draw_series(LineSeries::new(
                [(-0.5, 1.0), (n as f64 - 0.5, 1.0)],
                BLACK.mix(0.5).stroke_width(1),
            ))
            .map_err(err)?;
        draw_legend(&legend, &entries)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    /// The one-pass curve equals a `value_at_quantile` call per point, on histograms with
    /// gaps, ties at bucket edges and a long tail.
    #[test]
    fn curve_points_match_one_quantile_at_a_time() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        for n in [1u64, 7, 1000, 200_000] {
            let mut h = crate::stats::new_histogram();
            for _ in 0..n {
                let v = if rng.random_bool(0.1) {
                    rng.random_range(0..50_000_000)
                } else {
                    rng.random_range(0..3_000)
                };
                h.record(v).unwrap();
            }
            let x_max = (n as f64).log10().clamp(1.0, 5.0).floor();
            let got = super::curve_points(&h, x_max, 400);
            assert_eq!(got.len(), 401);
            for (i, &(x, ms)) in got.iter().enumerate() {
                assert_eq!(x, x_max * i as f64 / 400.0);
                let want = h.value_at_quantile(1.0 - 10f64.powf(-x)) as f64 / 1e3;
                assert_eq!(ms.to_bits(), want.to_bits(), "n {n}, point {i}");
            }
        }
    }

    use super::*;

    #[test]
    fn percentile_labels_read_as_hdrhistogram_plots() {
        assert_eq!(percentile_label(0.0), "0%");
        assert_eq!(percentile_label(1.0), "90%");
        assert_eq!(percentile_label(2.0), "99%");
        assert_eq!(percentile_label(3.0), "99.9%");
        assert_eq!(percentile_label(5.0), "99.999%");
    }

    #[test]
    fn pictures_are_svg_with_text_and_series() {
        let mut h = crate::stats::new_histogram();
        for v in 1..=10_000u64 {
            h.record(v * 10).unwrap();
        }
        let svg = latency_curves(
            "flow x",
            &[Curve {
                name: "variant-a",
                histogram: &h,
            }],
        )
        .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("variant-a") && svg.contains("99.9%") && svg.contains("<polyline"));
        let svg = figure_vs_load(
            "p99",
            "p99 (ms)",
            &[LoadSeries {
                name: "v".into(),
                points: vec![(1.0, 10.0, Some((9.0, 11.0))), (2.0, 20.0, None)],
            }],
            Some(15.0),
        )
        .unwrap();
        assert!(svg.contains("SLO 15 ms"));
        let svg = utilization_bars(
            "u",
            &["a".into(), "b".into()],
            &[("v".into(), vec![Some(0.5), None])],
        )
        .unwrap();
        assert!(svg.contains("<rect") && svg.contains("\na\n</text>"));
    }
}
