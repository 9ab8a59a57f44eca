//! Sweeps: a scenario run over a grid of `--set path=values` overrides.
//!
//! Each `--set` is an axis (a dotted path and a list or range of values); the grid is their
//! cartesian product, the first axis varying slowest. Every point is built from the file with
//! its overrides and validated like a file would be, all before anything is simulated, so a bad
//! path or value fails at once. Points × variants × replications then run as one pool of work
//! units on the runner, so the sweep is as parallel as it is large and its results do not
//! depend on the thread count.
//!
//! A variant whose offered load exceeds a station's capacity at some point is not simulated
//! there unless asked (`allow_unstable`): its rows say `unstable`. This module computes; it
//! writes no files and prints nothing.

use toml::Value;

use crate::runner::{self, RunError, RunOptions, StudyOutcome};
use crate::scenario::{LoadOptions, Override, Scenario, ScenarioError, ScenarioFile};

/// Most points a sweep may have: beyond this, the grid is almost surely a typo.
pub const MAX_POINTS: usize = 100_000;

/// One `--set`: a path and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub path: String,
    pub values: Vec<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("bad `--set {arg}`: {message}")]
    Set { arg: String, message: String },
    #[error(
        "the grid has {points} points, more than {MAX_POINTS}; use fewer values or a coarser step"
    )]
    TooLarge { points: usize },
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Run(#[from] RunError),
}

impl SweepError {
    /// The process exit code this error calls for (see [`crate::error`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            SweepError::Set { .. } | SweepError::TooLarge { .. } | SweepError::Scenario(_) => {
                crate::error::BAD_INPUT
            }
            SweepError::Run(e) => e.exit_code(),
        }
    }
}

fn set_err(arg: &str, message: impl Into<String>) -> SweepError {
    SweepError::Set {
        arg: arg.to_string(),
        message: message.into(),
    }
}

/// Parses `path=values`, where values is a range `a..b` (whole numbers, step 1), `a..b:step`,
/// or a comma list `1,2,4` (numbers, `true`/`false`, or words such as `unlimited`).
pub fn parse_axis(arg: &str) -> Result<Axis, SweepError> {
    let Some((path, spec)) = arg.split_once('=') else {
        return Err(set_err(
            arg,
            "write `path=values`, e.g. `hops.<name>.servers=1..8`, `load.scale=0.5..3:0.25` or `run.duration_s=600,1200`",
        ));
    };
    let path = path.trim();
    if path.is_empty()
        || path.split('.').any(|s| {
            s.is_empty()
                || !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
    {
        return Err(set_err(
            arg,
            format!("`{path}` is not a dotted path of field names, such as hops.<name>.servers"),
        ));
    }
    let spec = spec.trim();
    let values = if let Some((a, rest)) = spec.split_once("..") {
        range(a, rest).map_err(|m| set_err(arg, m))?
    } else {
        spec.split(',')
            .map(|item| list_item(item.trim()).map_err(|m| set_err(arg, m)))
            .collect::<Result<Vec<_>, _>>()?
    };
    if values.is_empty() {
        return Err(set_err(arg, "gives no values"));
    }
    Ok(Axis {
        path: path.to_string(),
        values,
    })
}

/// `a..b` or `a..b:step`, inclusive of `b` when a step lands on it.
fn range(a: &str, rest: &str) -> Result<Vec<Value>, String> {
    let (b, step) = match rest.split_once(':') {
        Some((b, s)) => (b.trim(), Some(s.trim())),
        None => (rest.trim(), None),
    };
    let a = a.trim();
    let usage = "a range is `start..end` or `start..end:step`, e.g. `1..8` or `0.5..3:0.25`";
    if let (Ok(x), Ok(y), Ok(st)) = (
        a.parse::<i64>(),
        b.parse::<i64>(),
        step.map_or(Ok(1), str::parse::<i64>),
    ) {
        if st <= 0 {
            return Err(format!("the step must be greater than 0, got {st}"));
        }
        if y < x {
            return Err(format!("the end {y} is below the start {x}; {usage}"));
        }
        let n = ((y - x) / st) as usize + 1;
        if n > MAX_POINTS {
            return Err(format!("gives {n} values, more than {MAX_POINTS}"));
        }
        return Ok((0..n as i64).map(|i| Value::Integer(x + i * st)).collect());
    }
    let num = |s: &str, what: &str| -> Result<f64, String> {
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("the {what} `{s}` is not a number; {usage}"))
    };
    let x = num(a, "start")?;
    let y = num(b, "end")?;
    let st = match step {
        Some(s) => num(s, "step")?,
        None => 1.0,
    };
    if st <= 0.0 {
        return Err(format!("the step must be greater than 0, got {st}"));
    }
    if y < x {
        return Err(format!("the end {y} is below the start {x}; {usage}"));
    }
    // Steps that land within a millionth of a step of the end count as reaching it.
    let n = ((y - x) / st + 1e-6).floor() as usize + 1;
    if n > MAX_POINTS {
        return Err(format!("gives {n} values, more than {MAX_POINTS}"));
    }
    Ok((0..n)
        .map(|i| Value::Float(round12(x + i as f64 * st)))
        .collect())
}

/// Rounds to 12 significant digits, so `0.1 * 3` reads `0.3` in file names and CSV cells.
fn round12(v: f64) -> f64 {
    format!("{v:.11e}").parse().unwrap_or(v)
}

fn list_item(item: &str) -> Result<Value, String> {
    if item.is_empty() {
        return Err("a list item is empty; write values separated by commas, e.g. `1,2,4`".into());
    }
    if let Ok(i) = item.parse::<i64>() {
        return Ok(Value::Integer(i));
    }
    if let Ok(f) = item.parse::<f64>()
        && f.is_finite()
    {
        return Ok(Value::Float(f));
    }
    match item {
        "true" => return Ok(Value::Boolean(true)),
        "false" => return Ok(Value::Boolean(false)),
        _ => {}
    }
    let word = item.trim_matches('"');
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Ok(Value::String(word.to_string()));
    }
    Err(format!(
        "`{item}` is not a number, true/false or a plain word"
    ))
}

/// `--set PATH=VALUE` arguments that each give one value (as `capacity` takes them), as
/// overrides in the order given.
pub fn single_overrides(args: &[String]) -> Result<Vec<Override>, SweepError> {
    let mut overrides = Vec::new();
    for arg in args {
        let axis = parse_axis(arg)?;
        let [value] = axis.values.as_slice() else {
            return Err(SweepError::Set {
                arg: arg.clone(),
                message: "takes one value per path here; use `mailflow sweep` for several".into(),
            });
        };
        overrides.push(Override {
            path: axis.path.clone(),
            value: value.clone(),
        });
    }
    Ok(overrides)
}

/// Every combination of the axes' values, the first axis varying slowest.
pub fn grid(axes: &[Axis]) -> Result<Vec<Vec<Override>>, SweepError> {
    for (i, a) in axes.iter().enumerate() {
        if let Some(b) = axes[..i]
            .iter()
            .find(|b| overrides_field(b) == overrides_field(a))
        {
            return Err(set_err(
                &a.path,
                format!(
                    "`{}` is swept twice (also as `{}`); give each path once",
                    a.path, b.path
                ),
            ));
        }
    }
    let points = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
        .unwrap_or(usize::MAX);
    if points > MAX_POINTS {
        return Err(SweepError::TooLarge { points });
    }
    let mut out = vec![Vec::new()];
    for a in axes {
        out = out
            .into_iter()
            .flat_map(|prefix: Vec<Override>| {
                a.values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push(Override {
                        path: a.path.clone(),
                        value: v.clone(),
                    });
                    p
                })
            })
            .collect();
    }
    Ok(out)
}

fn overrides_field(a: &Axis) -> String {
    Override {
        path: a.path.clone(),
        value: Value::Boolean(true),
    }
    .field()
    .to_string()
}

/// Why a variant was not simulated at a point.
#[derive(Clone, Debug, PartialEq)]
pub struct Unstable {
    /// The station whose offered utilization is highest, and that utilization.
    pub station: String,
    pub utilization: f64,
}

/// One variant at one point.
#[derive(Clone, Debug)]
pub struct PointVariant {
    pub name: String,
    /// Flow names of the variant's network, in order.
    pub flows: Vec<String>,
    pub max_offered_utilization: f64,
    /// Set when the variant was not simulated because it is unstable.
    pub unstable: Option<Unstable>,
    /// Index into the point's outcome variants when simulated.
    pub outcome: Option<usize>,
}

/// One point of the grid.
#[derive(Clone, Debug)]
pub struct Point {
    pub overrides: Vec<Override>,
    pub load_scale: f64,
    pub variants: Vec<PointVariant>,
    /// Summaries of the simulated variants.
    pub outcome: StudyOutcome,
}

/// A finished sweep.
#[derive(Clone, Debug)]
pub struct SweepOutcome {
    pub axes: Vec<String>,
    pub points: Vec<Point>,
    /// The scenario at the first point, for the manifest.
    pub first: Scenario,
}

/// Builds and validates the scenario at every point of `axes` (stability is judged per
/// variant later). Returns the points' override lists and scenarios, in grid order.
pub fn build_points(
    file: &ScenarioFile,
    axes: &[Axis],
) -> Result<Vec<(Vec<Override>, Scenario)>, SweepError> {
    let opts = LoadOptions {
        allow_unstable: true,
    };
    grid(axes)?
        .into_iter()
        .map(|o| {
            let s = file.build(opts, &o)?;
            Ok((o, s))
        })
        .collect()
}

/// The work units [`run`] will simulate, for a progress bar.
pub fn unit_count(
    points: &[(Vec<Override>, Scenario)],
    opts: RunOptions,
    allow_unstable: bool,
) -> u64 {
    points
        .iter()
        .map(|(_, s)| {
            let reps = u64::from(opts.replications.unwrap_or(s.run.replications));
            let n = s
                .variants
                .iter()
                .filter(|v| allow_unstable || v.is_stable())
                .count() as u64;
            n * reps
        })
        .sum()
}

/// A sweep ready to simulate: what each point's variants are, and the scenarios to run (the
/// points with their runnable variants only).
#[derive(Clone, Debug)]
pub struct Prepared {
    plans: Vec<(Vec<Override>, f64, Vec<PointVariant>)>,
    /// One scenario per point, holding only the variants to simulate; its work units, in
    /// [`runner::Plan`] order, are the sweep's units (what shards select from).
    pub runnable: Vec<Scenario>,
    first: Scenario,
}

/// Decides per point which variants to simulate; unstable variants are skipped unless
/// `allow_unstable`.
pub fn prepare(points: Vec<(Vec<Override>, Scenario)>, allow_unstable: bool) -> Prepared {
    let first = points
        .first()
        .map(|(_, s)| s.clone())
        .expect("a grid has at least one point");
    let mut plans = Vec::with_capacity(points.len());
    let mut runnable = Vec::with_capacity(points.len());
    for (overrides, scn) in points {
        let mut keep = scn.clone();
        keep.variants.clear();
        let mut variants = Vec::new();
        for v in &scn.variants {
            let max_u = v.max_offered_utilization();
            let stable = v.is_stable();
            let unstable = (!stable && !allow_unstable).then(|| {
                let (i, u) = v
                    .offered_utilization()
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, u)| u.map(|u| (i, u)))
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .expect("an unstable variant has a finite station");
                Unstable {
                    station: v.network.stations[i].name.clone(),
                    utilization: u,
                }
            });
            let outcome = unstable.is_none().then(|| {
                keep.variants.push(v.clone());
                keep.variants.len() - 1
            });
            variants.push(PointVariant {
                name: v.name.clone(),
                flows: v.network.flows.clone(),
                max_offered_utilization: max_u,
                unstable,
                outcome,
            });
        }
        plans.push((overrides, scn.run.load_scale, variants));
        runnable.push(keep);
    }
    Prepared {
        plans,
        runnable,
        first,
    }
}

impl Prepared {
    pub fn scenarios(&self) -> Vec<&Scenario> {
        self.runnable.iter().collect()
    }

    /// Puts the points' outcomes (one per point, in grid order) into a finished sweep.
    pub fn finish(self, axes: &[Axis], outcomes: Vec<StudyOutcome>) -> SweepOutcome {
        let points = self
            .plans
            .into_iter()
            .zip(outcomes)
            .map(|((overrides, load_scale, variants), outcome)| Point {
                overrides,
                load_scale,
                variants,
                outcome,
            })
            .collect();
        SweepOutcome {
            axes: axes.iter().map(|a| a.path.clone()).collect(),
            points,
            first: self.first,
        }
    }
}

/// Simulates every point; unstable variants are skipped unless `allow_unstable`.
pub fn run(
    points: Vec<(Vec<Override>, Scenario)>,
    axes: &[Axis],
    opts: RunOptions,
    allow_unstable: bool,
    on_unit_done: &(dyn Fn() + Sync),
) -> Result<SweepOutcome, SweepError> {
    let prepared = prepare(points, allow_unstable);
    let outcomes = runner::run_many(&prepared.scenarios(), opts, on_unit_done)?;
    Ok(prepared.finish(axes, outcomes))
}

/// Simulates every point as [`run`] does, each point with replications added in rounds until
/// every figure of its `summary.csv` rows is within `precision` (each point stops on its own;
/// see [`runner::precision`]). `planned(n)` announces each round's runs.
pub fn run_precise(
    points: Vec<(Vec<Override>, Scenario)>,
    axes: &[Axis],
    opts: RunOptions,
    allow_unstable: bool,
    precision: runner::precision::Precision,
    planned: &(dyn Fn(u64) + Sync),
    on_unit_done: &(dyn Fn() + Sync),
) -> Result<SweepOutcome, SweepError> {
    let prepared = prepare(points, allow_unstable);
    let outcomes = runner::precision::run_many_precise(
        &prepared.scenarios(),
        opts,
        precision,
        &|_, v| runner::precision::every_flow_figure(v),
        planned,
        on_unit_done,
    )?;
    Ok(prepared.finish(axes, outcomes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(arg: &str) -> Vec<String> {
        parse_axis(arg)
            .unwrap()
            .values
            .iter()
            .map(crate::scenario::overrides::value_text)
            .collect()
    }

    #[test]
    fn ranges_and_lists_parse() {
        assert_eq!(vals("a.b=1..4"), ["1", "2", "3", "4"]);
        assert_eq!(vals("a.b=1..8:3"), ["1", "4", "7"]);
        assert_eq!(
            vals("load.scale=0.5..1.5:0.25"),
            ["0.5", "0.75", "1", "1.25", "1.5"]
        );
        assert_eq!(vals("x=0.1..0.3:0.1"), ["0.1", "0.2", "0.3"]);
        assert_eq!(vals("x=1,2.5,unlimited"), ["1", "2.5", "unlimited"]);
        assert_eq!(parse_axis("x=3").unwrap().values, vec![Value::Integer(3)]);
    }

    #[test]
    fn bad_axes_say_why() {
        for (arg, needle) in [
            ("hops.x.servers", "path=values"),
            ("hops..servers=1", "dotted path"),
            ("x=5..1", "below the start"),
            ("x=1..5:0", "step must be greater than 0"),
            ("x=1..abc", "not a number"),
            ("x=1,,2", "empty"),
            ("x=1..1000000", "more than"),
            ("x=a b", "plain word"),
        ] {
            let e = parse_axis(arg).unwrap_err().to_string();
            assert!(e.contains(needle), "{arg}: {e}");
            assert!(e.contains("--set"), "{arg}: {e}");
        }
    }

    #[test]
    fn grid_is_the_cartesian_product_first_axis_slowest() {
        let axes = [parse_axis("a=1..2").unwrap(), parse_axis("b=1..3").unwrap()];
        let g = grid(&axes).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(g[1][0].value, Value::Integer(1));
        assert_eq!(g[1][1].value, Value::Integer(2));
        assert_eq!(g[3][0].value, Value::Integer(2));
        let dup = [
            parse_axis("load.scale=1,2").unwrap(),
            parse_axis("run.load_scale=1").unwrap(),
        ];
        assert!(grid(&dup).unwrap_err().to_string().contains("twice"));
    }
}
