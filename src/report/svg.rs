//! Pictures (SVG, drawn with plotters): latency percentile curves per flow with the variants
//! overlaid, p99 against load scale with the SLO line, and hop utilization per variant.
//!
//! The percentile axis is stretched toward the tail as HdrHistogram's plotter does: x is
//! log10(1 / (1 − p)), so 90%, 99%, 99.9% … sit one unit apart. Text is emitted as SVG `<text>`
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

/// One latency curve: a name and its histogram (microseconds).
pub struct Curve<'a> {
    pub name: &'a str,
    pub histogram: &'a Histogram<u64>,
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
        .map(|c| {
            (0..=steps)
                .map(|i| {
                    let x = x_max * i as f64 / steps as f64;
                    let p = 1.0 - 10f64.powf(-x);
                    (x, c.histogram.value_at_quantile(p) as f64 / 1e3)
                })
                .collect()
        })
        .collect();
    let y_max = series
        .iter()
        .flatten()
        .map(|p| p.1)
        .fold(0.0, f64::max)
        .max(1e-3)
        * 1.05;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 22))
            .margin(16)
            .margin_right(48)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(x_max as usize + 1)
            .x_label_formatter(&|x| percentile_label(*x))
            .x_desc("percentile (stretched toward the tail: 1/(1-p) on a log scale)")
            .y_desc("latency (ms)")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        for (i, (c, pts)) in curves.iter().zip(series).enumerate() {
            let col = color(i);
            chart
                .draw_series(LineSeries::new(pts, col.stroke_width(2)))
                .map_err(err)?
                .label(c.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// One line of a figure against load scale: (scale, mean, 95% interval) points.
pub struct LoadSeries {
    pub name: String,
    pub points: Vec<(f64, f64, Option<(f64, f64)>)>,
}

/// A figure (ms) against load scale, one line per series with its 95% intervals as error bars,
/// and the SLO as a horizontal red line when given.
pub fn figure_vs_load(
    title: &str,
    y_desc: &str,
    series: &[LoadSeries],
    slo_ms: Option<f64>,
) -> Result<String, SvgError> {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let x_min = all().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let x_max = all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let (x_min, x_max) = if x_min.is_finite() && x_max > x_min {
        let pad = (x_max - x_min) * 0.04;
        (x_min - pad, x_max + pad)
    } else {
        (0.0, 2.0)
    };
    let y_top = all()
        .map(|p| p.2.map_or(p.1, |c| c.1))
        .filter(|v| v.is_finite())
        .fold(slo_ms.unwrap_or(0.0), f64::max)
        .max(1e-3)
        * 1.08;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 22))
            .margin(16)
            .margin_right(48)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(x_min..x_max, 0.0..y_top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("load scale (× the scenario's arrival rates)")
            .y_desc(y_desc)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style((FONT, 14))
            .draw()
            .map_err(err)?;
        for (i, s) in series.iter().enumerate() {
            let col = color(i);
            let mut pts: Vec<_> = s
                .points
                .iter()
                .filter(|p| p.1.is_finite())
                .copied()
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.0, p.1)),
                    col.stroke_width(2),
                ))
                .map_err(err)?
                .label(s.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 3, col.filled())))
                .map_err(err)?;
            let tick = (x_max - x_min) * 0.004;
            chart
                .draw_series(
                    pts.iter()
                        .filter_map(|p| p.2)
                        .zip(&pts)
                        .map(|((lo, hi), p)| {
                            PathElement::new(
                                vec![
                                    (p.0 - tick, lo),
                                    (p.0 + tick, lo),
                                    (p.0, lo),
                                    (p.0, hi),
                                    (p.0 - tick, hi),
                                    (p.0 + tick, hi),
                                ],
                                col.stroke_width(1),
                            )
                        }),
                )
                .map_err(err)?;
        }
        if let Some(slo) = slo_ms {
            chart
                .draw_series(LineSeries::new(
                    [(x_min, slo), (x_max, slo)],
                    RED.stroke_width(2),
                ))
                .map_err(err)?
                .label(format!("SLO {slo} ms"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
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
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0.max(80 * n as u32 + 200), SIZE.1))
            .into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 22))
            .margin(16)
            .margin_right(48)
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
        for (vi, (name, us)) in variants.iter().enumerate() {
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
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], col.filled()));
        }
        chart
            .draw_series(LineSeries::new(
                [(-0.5, 1.0), (n as f64 - 0.5, 1.0)],
                BLACK.mix(0.5).stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
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
