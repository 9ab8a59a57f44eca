//! The `mailflow` command line: parses arguments, calls the library, prints, sets the exit
//! code. Exit codes: 0 success; 1 a run that completed but failed its own check; 2 bad input
//! or usage.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use mailflow::capacity;
use mailflow::report;
use mailflow::runner::{self, RunOptions};
use mailflow::scenario::{self, LoadOptions, Scenario, ScenarioFile};
use mailflow::shard::{self, Shard};
use mailflow::sweep;
use mailflow::validate::{self, Size, ValidateOptions};

#[derive(Parser)]
#[command(
    name = "mailflow",
    version,
    about = "Discrete-event throughput simulator for mail routing in hybrid Exchange deployments",
    long_about = "Discrete-event throughput simulator for mail routing in hybrid Exchange deployments.\n\n\
        A scenario (TOML) describes hops, links, routes and load. `run` simulates every routing \
        variant side by side and writes summary.csv, hops.csv, accounting.csv (plus costs.csv \
        for hybrid scenarios and outages.csv when hops fail), .hgrm latency distributions, SVG \
        pictures and manifest.json; `explain` prints each variant's numbered hop list per flow \
        without simulating; `sweep` runs a grid of `--set` values; `capacity` finds the largest \
        load or fewest servers meeting latency SLOs; `validate` checks the simulator against \
        queueing theory.\n\n\
        Exit codes: 0 success; 1 a run that completed but failed its own check; 2 bad input or usage.",
    after_help = "Examples:\n  mailflow run scenarios/hybrid-routing.toml\n  \
        mailflow run scenarios/tandem-mmc.toml --replications 10 --out /tmp/tandem\n  \
        mailflow explain scenarios/hybrid-routing.toml\n  \
        mailflow sweep scenarios/hybrid-routing.toml --set hops.cas2013.servers=10..30:5\n  \
        mailflow capacity scenarios/hybrid-routing.toml --slo \"inbound_to_onprem.p99<=5s\"\n  \
        mailflow validate"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate every variant of a scenario and write the result files
    Run(RunArgs),
    /// Print each variant's numbered hop list per flow, the load, and offered utilizations
    Explain(ExplainArgs),
    /// Run a scenario over a grid of field values (`--set`) and write sweep.csv
    Sweep(SweepArgs),
    /// Find, per variant, the largest load (or with --hop the fewest servers) meeting SLOs
    Capacity(CapacityArgs),
    /// Check the simulator against queueing theory on networks with exact answers
    #[command(long_about = VALIDATE_ABOUT)]
    Validate(ValidateArgs),
    /// Combine the shard directories of a `run --shard`, `sweep --shard` or `capacity --shard`
    /// into the files a single-machine run writes
    #[command(long_about = MERGE_ABOUT)]
    Merge(MergeArgs),
    /// Build a scenario from the organization's message tracking logs or message traces, and
    /// with --check back-test it against them
    #[command(long_about = CALIBRATE_ABOUT, after_help = CALIBRATE_AFTER)]
    Calibrate(CalibrateArgs),
}

const CALIBRATE_ABOUT: &str = "Build a scenario from the organization's own logs, and back-test it.\n\n\
    Reads message tracking logs (MSGTRK*.LOG files or folders of them, from several servers), \
    Get-MessageTrackingLog | Export-Csv files, Exchange Online message trace exports \
    (Get-MessageTrace / Get-MessageTraceV2 | Export-Csv) or detailed reports — one on-premises \
    format and one Exchange Online format per run, detected from the content. Every message \
    (grouped by message-id across servers and across the two sides) becomes one flow of the \
    base scenario, classified once from what both sides show; health-mailbox probes, \
    NDRs/DSNs and system messages are left out and counted. It estimates the busiest-hour \
    arrival rate per source, the hourly curve and weekend factor, recipients per message, the \
    inbound recipients' split, message sizes, spam share (where filtered mail is logged), each \
    on-premises hop's processing time (from Exchange's latency components, else RECEIVE to \
    SEND at low load) and the observed latency per flow — each with its sample size and 95% \
    interval.\n\n\
    Writes into --out, as a whole: calibrated.toml (the base scenario with the estimates, each \
    commented with its source, n and interval; what the logs cannot show is kept from the base \
    and marked), calibration.csv, observed.csv, skipped.csv, manifest.json, report.html, and with \
    --check backtest.csv and backtest.toml.\n\n\
    Exit status: 0 calibrated (and, with --check, the back-test passed); 1 the back-test ran but \
    the model does not reproduce the logs; 2 bad input (nothing is written).";

const CALIBRATE_AFTER: &str = "Examples:\n  \
    mailflow calibrate 'C:\\Logs\\MessageTracking' --accepted-domain contoso.com --out calib\n  \
    mailflow calibrate logs/ --server 'EX*=cas2013' --server 'HUB*=hub2007' --check --current mx=eop,cmt=off\n  \
    mailflow calibrate trace-*.csv --timezone Europe/Berlin --date-format '%d.%m.%Y %H:%M:%S'";

#[derive(Args)]
struct CalibrateArgs {
    /// Log files or folders of them (read recursively): MSGTRK*.LOG tracking logs,
    /// Get-MessageTrackingLog exports, Exchange Online message trace CSVs or detailed reports
    /// (one on-premises and one Exchange Online format may be combined)
    #[arg(value_name = "LOG-OR-DIR", required = true)]
    inputs: Vec<PathBuf>,
    /// Scenario whose topology, variants and unlogged values the calibrated scenario keeps
    #[arg(
        long,
        value_name = "FILE",
        default_value = "scenarios/hybrid-routing.toml"
    )]
    base: PathBuf,
    /// Output directory [default: results/<base name>-calibrated]; replaced as a whole
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Also run calibrated.toml over the logged period and compare it with the logs
    /// (backtest.csv and a verdict)
    #[arg(long)]
    check: bool,
    /// The routing when the logs were written, for the back-test and for what the logs can
    /// show; inferred from the logs (and printed) when not given
    #[arg(long, value_name = "mx=eop|onprem,cmt=on|off")]
    current: Option<String>,
    /// Map servers to hops of the base scenario (NAME may use * wildcards; repeatable); by
    /// default Exchange 2013 servers (15.00) map to cas2013 and 2007 servers (8.x) to hub2007
    #[arg(long = "server", value_name = "NAME=HOP")]
    servers: Vec<String>,
    /// A domain of the organization (repeatable); without one, the domains of on-premises
    /// senders are used (and printed)
    #[arg(long = "accepted-domain", value_name = "DOMAIN")]
    accepted_domains: Vec<String>,
    /// IANA time zone of local-time timestamps (PowerShell exports), and of the hours of day
    /// in the diurnal curve [default: UTC]
    #[arg(long, value_name = "TZ")]
    timezone: Option<String>,
    /// strftime format of timestamps that are not ISO 8601, e.g. '%m/%d/%Y %I:%M:%S %p'
    /// [default: the common export formats are tried]
    #[arg(long, value_name = "FORMAT")]
    date_format: Option<String>,
    /// Largest share of unreadable lines that is reported rather than refused (1% or 0.01)
    #[arg(long, value_name = "SHARE", default_value = "1%")]
    bad_lines: String,
    /// Replications of the back-test (with --check)
    #[arg(long, value_name = "N", default_value_t = 5)]
    replications: u32,
    /// Print nothing but errors and warnings
    #[arg(long, short)]
    quiet: bool,
}

const MERGE_ABOUT: &str = "Combine shard directories into the files a single-machine run writes.\n\n\
    Each DIR is the --out of one `mailflow run --shard K/N`, `mailflow sweep --shard K/N` or \
    `mailflow capacity --shard K/N` (whose shards hold variants, not replications). \
    merge checks that every shard comes from the same program version, scenario (SHA-256), \
    seed, replications and sweep axes, that every work unit is present exactly once, re-loads \
    the scenario, and writes summary.csv, hops.csv, accounting.csv, the .hgrm files (or \
    sweep.csv, or capacity.csv and capacity_steps.csv) byte-identical to an unsharded run with \
    the same seed. It refuses, naming the \
    units, when a unit is missing, present twice, or from another study.\n\n\
    Exit status: 0 merged; 1 a merged capacity search with an infeasible variant; 2 refused input (missing, doubled or foreign units, changed \
    scenario, unreadable shard).";

#[derive(Args)]
struct MergeArgs {
    /// Shard directories (the --out of each shard), in any order
    #[arg(value_name = "DIR", required = true)]
    dirs: Vec<PathBuf>,
    /// Output directory for the merged result files
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Scenario file to re-load instead of the path recorded in the shards (its SHA-256 must
    /// match)
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Print nothing but errors
    #[arg(long, short)]
    quiet: bool,
    /// The variant the others are compared with in compare.csv (as for `run`) [default: the
    /// first variant]
    #[arg(long, value_name = "VARIANT")]
    baseline: Option<String>,
}

/// Sharding for `run` and `sweep`.
#[derive(Args)]
struct ShardArgs {
    /// Run only shard K of N (K from 0 to N-1) of the work units (point × variant ×
    /// replication, unit i in shard i % N) and write its raw results (shard.json, units.json,
    /// units.hlog) into --out for `mailflow merge`. Without it, a Slurm array task
    /// (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT) or a Kubernetes
    /// indexed Job pod (JOB_COMPLETION_INDEX of MAILFLOW_SHARD_COUNT) runs its shard
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    shard: Option<Shard>,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    Shard::parse(s).map_err(|e| e.to_string())
}

impl ShardArgs {
    /// The shard from the flag, else from the batch system's environment (said on stderr).
    fn resolve(&self, quiet: bool) -> anyhow::Result<Option<Shard>> {
        if self.shard.is_some() {
            return Ok(self.shard);
        }
        let found = Shard::from_env(|v| std::env::var(v).ok())?;
        if let Some((s, var)) = found.filter(|_| !quiet) {
            eprintln!("running shard {s} (from {var}); merge the shards with `mailflow merge`");
        }
        Ok(found.map(|(s, _)| s))
    }
}

const VALIDATE_ABOUT: &str = "Check the simulator against queueing theory.\n\n\
    Simulates networks with exact answers (M/M/1 at utilization 0.5, 0.8, 0.95; M/M/4 and \
    M/M/16 at 0.9; M/D/1 and M/G/1 with log-normal service; an M/M/2/5 loss system whose full \
    hop rejects, against its blocking probability; a tandem and a feedback Jackson network) through the same path as `run`, with independent replications, and prints theory \
    against the simulated mean and its 95% confidence interval. A metric passes when \
    |simulated - theory| is within the Student-t interval at family-wise 95% confidence over all \
    the suite's checks (Bonferroni), plus the histograms' resolution for quantiles. Writes \
    validation.csv (case,metric,theory,simulated,ci95_lo,ci95_hi,pass) into --out.\n\n\
    Exit status: 0 when every check passes, 1 when any fails, 2 for bad usage.";

#[derive(Args)]
struct ValidateArgs {
    /// Output directory for validation.csv
    #[arg(long, value_name = "DIR", default_value = "results/validation")]
    out: PathBuf,
    /// Master seed; each case's seed derives from it and the case's place in the suite
    #[arg(long, value_name = "N", default_value_t = validate::DEFAULT_SEED)]
    seed: u64,
    /// Independent replications per case (2 or more) [default: 20, or 10 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..))]
    replications: Option<u32>,
    /// Worker threads (results are identical whatever the count) [default: one per core]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
    /// A quarter of the customers and half the replications: seconds instead of a minute,
    /// with wider intervals
    #[arg(long)]
    quick: bool,
    /// Run only this case (repeat for several) [default: every case]
    #[arg(long = "case", value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(validate::cases::names()))]
    cases: Vec<String>,
    /// Multiply every simulated service rate by F while theory keeps the true rates: a
    /// deliberately wrong model, to see the checks fail (1.1 = servers 10% too fast)
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    service_rate_factor: f64,
    /// Print nothing but errors and the failing checks; no progress bar
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
struct RunArgs {
    /// Scenario file (TOML); see README.md for the schema
    scenario: PathBuf,
    /// Output directory [default: results/<scenario name>, or results/<scenario
    /// name>-shards/K-of-N with --shard]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Set a scenario field before running, PATH=VALUE (e.g. hops.<name>.servers=30 or
    /// load.scale=1.5), through the same checks as a value written in the file; repeat for
    /// several
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    #[command(flatten)]
    study: StudyArgs,
    #[command(flatten)]
    shard: ShardArgs,
    /// The variant the others are compared with in compare.csv and the "vs baseline" view
    /// (paired differences across replications) [default: the first variant]
    #[arg(long, value_name = "VARIANT")]
    baseline: Option<String>,
}

/// Flags shared by `run`, `sweep` and `capacity`.
#[derive(Args)]
struct StudyArgs {
    /// Master seed; every random stream derives from it [default: the scenario's run.seed]
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Independent replications per variant, for confidence intervals [default: run.replications]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    replications: Option<u32>,
    /// Worker threads (results are identical whatever the count) [default: one per core]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
    /// Simulate hops whose offered load meets or exceeds capacity instead of refusing them
    #[arg(long)]
    allow_unstable: bool,
    /// Run a study beyond the run-size budget (2e10 events or 8 GiB of memory, estimated
    /// before it starts) instead of refusing it
    #[arg(long)]
    allow_long: bool,
    /// Print nothing but errors; no progress bar
    #[arg(long, short)]
    quiet: bool,
    /// Add replications in rounds until every reported figure's 95% half-width (for
    /// `capacity`: every SLO figure's, per configuration tried) is within this share of its
    /// value, e.g. 2% (or 0.02); the first round runs --replications. The replications chosen
    /// are the fewest that meet it, the same whatever --threads; not with --shard
    #[arg(long, value_name = "X%", value_parser = parse_precision)]
    precision: Option<f64>,
    /// With --precision: stop at N replications even if some figure is still wider (they are
    /// named in the terminal, precision.csv and the manifest) [default: 100]
    #[arg(long, value_name = "N", requires = "precision", value_parser = clap::value_parser!(u32).range(2..))]
    max_replications: Option<u32>,
}

fn parse_precision(s: &str) -> Result<f64, String> {
    runner::precision::parse_share(s)
}

impl StudyArgs {
    /// The worker threads a study will use.
    fn threads(&self) -> usize {
        self.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |t| t as usize,
        )
    }

    /// `--precision` and `--max-replications`, when given.
    fn precision(&self) -> Option<runner::precision::Precision> {
        self.precision.map(|share| runner::precision::Precision {
            share,
            max_replications: self
                .max_replications
                .unwrap_or(runner::precision::DEFAULT_MAX_REPLICATIONS),
        })
    }

    /// Refuses a study of `scns` beyond the run-size budget (unless --allow-long); `share` is
    /// the fraction of its units this process runs (1 / shards).
    fn check_budget(&self, scns: &[&Scenario], share: f64, what: &str) -> anyhow::Result<()> {
        let threads = self.threads();
        let mut total: Option<scenario::budget::Estimate> = None;
        for scn in scns {
            let reps = self.replications.unwrap_or(scn.run.replications);
            let e = scenario::budget::estimate(scn, reps, threads);
            match &mut total {
                Some(t) => t.add(e),
                None => total = Some(e),
            }
        }
        if let Some(mut e) = total {
            e.events *= share;
            e.units *= share;
            scenario::budget::check(&e, self.allow_long, what)?;
        }
        Ok(())
    }
}

#[derive(Args)]
struct SweepArgs {
    /// Scenario file (TOML)
    scenario: PathBuf,
    /// A field to sweep and its values, PATH=VALUES; repeat for a grid (every combination).
    /// VALUES is a range `1..8` (whole numbers, step 1), `0.5..3:0.25` (start..end:step) or a
    /// list `1,2,4`. PATH is a dotted path in the file (`hops.cas2013.servers`) or `load.scale`,
    /// which multiplies every arrival rate
    #[arg(long = "set", value_name = "PATH=VALUES", required = true)]
    set: Vec<String>,
    /// A latency objective (FLOW.p99<=LIMIT, as for `capacity`) drawn as a line on the p99
    /// against load pictures; repeat for several
    #[arg(long = "slo", value_name = "SLO")]
    slo: Vec<String>,
    /// Output directory [default: results/<scenario name>-sweep, or
    /// results/<scenario name>-sweep-shards/K-of-N with --shard]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    study: StudyArgs,
    #[command(flatten)]
    shard: ShardArgs,
}

#[derive(Args)]
struct CapacityArgs {
    /// Scenario file (TOML)
    scenario: PathBuf,
    /// A latency objective FLOW.FIGURE<=LIMIT; repeat for several. FIGURE is p50, p90, p99,
    /// p999, mean or max; LIMIT has a unit: ms, s or min. Example: inbound_to_onprem.p99<=60s
    #[arg(long = "slo", value_name = "SLO", required = true)]
    slo: Vec<String>,
    /// Search the fewest servers of this hop that meet the SLOs at the load given by --scale,
    /// instead of the largest load
    #[arg(long, value_name = "NAME")]
    hop: Option<String>,
    /// Load scale to start from (load search) or to search servers at (--hop)
    /// [default: the scenario's run.load_scale, 1 if unset]
    #[arg(long, value_name = "X")]
    scale: Option<f64>,
    /// Load search: stop when the bracket (first failing − last passing) is within this
    /// fraction of the last passing scale
    #[arg(long, value_name = "FRACTION", default_value_t = 0.02)]
    bracket: f64,
    /// Treat a configuration whose busiest station is more than this share of its capacity
    /// busy (the upper end of its utilization's 95% interval) as failing, whatever its
    /// latency: e.g. 0.8 keeps 20% headroom
    #[arg(long, value_name = "SHARE")]
    headroom: Option<f64>,
    /// Set a scenario field before searching, PATH=VALUE (e.g. run.duration_s=900 for a
    /// quicker, rougher search); repeat for several
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Output directory [default: results/<scenario name>-capacity, or
    /// results/<scenario name>-capacity-shards/K-of-N with --shard]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    study: StudyArgs,
    /// Search only shard K of N of the variants (variant v in shard v % N, K from 0 to N-1) and
    /// write their answers (shard.json, capacity.json) into --out for `mailflow merge`.
    /// Without it, a Slurm array task or a Kubernetes indexed Job pod picks its shard from the
    /// environment, as for `run`
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    shard: Option<Shard>,
}

#[derive(Args)]
struct ExplainArgs {
    /// Scenario file (TOML)
    scenario: PathBuf,
    /// Explain a scenario whose offered load exceeds a hop's capacity instead of refusing it
    #[arg(long)]
    allow_unstable: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // SIGINT, SIGTERM and SIGHUP: remove unpublished staging directories, so `--out` stays as
    // it was (report::output documents what a reader sees at every moment).
    let _ = ctrlc::set_handler(|| {
        report::output::abandon_all();
        std::process::exit(130);
    });
    // report.html shows the command that made it; "mailflow" rather than argv[0], so the page
    // is the same whether the program ran from PATH, target/release or `cargo run`.
    report::html::set_command(
        std::iter::once("mailflow".to_string()).chain(result_args(std::env::args().skip(1))),
    );
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", error_line(&err));
            ExitCode::from(exit_code(&err))
        }
    }
}

/// The arguments that decide the results: `--quiet` and `--threads` change neither a figure nor
/// a byte of output (as threads and wall time go to `timing.json`, not the manifest), so the
/// command report.html records leaves them out and a committed report is reproduced by the
/// same command with or without them.
fn result_args(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut args = args.peekable();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quiet" | "-q" => {}
            "--threads" => {
                args.next();
            }
            _ if a.starts_with("--threads=") => {}
            _ => out.push(a),
        }
    }
    out
}

/// The error and its causes on one line, `: `-separated, each cause said once: library errors
/// often print their source in their own message (an operating-system error, a conservation
/// failure), and `{:#}` would repeat it.
fn error_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// The exit code the error chain's first library error carries (see `mailflow::error`).
fn exit_code(err: &anyhow::Error) -> u8 {
    mailflow::error::exit_code(err.chain())
}

/// The default output directory: `results/<scenario><suffix>`, or with a shard
/// `results/<scenario><suffix>-shards/K-of-N`.
fn default_out(scenario: &str, suffix: &str, shard: Option<Shard>) -> PathBuf {
    let base = PathBuf::from("results");
    match shard {
        None => base.join(format!("{scenario}{suffix}")),
        Some(sh) => base
            .join(format!("{scenario}{suffix}-shards"))
            .join(format!("{}-of-{}", sh.index, sh.count)),
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => cmd_run(args),
        Command::Explain(args) => cmd_explain(args),
        Command::Validate(args) => cmd_validate(args),
        Command::Sweep(args) => cmd_sweep(args),
        Command::Capacity(args) => cmd_capacity(args),
        Command::Merge(args) => cmd_merge(args),
        Command::Calibrate(args) => cmd_calibrate(args),
    }
}

fn load(path: &std::path::Path, allow_unstable: bool) -> anyhow::Result<Scenario> {
    Ok(scenario::load(path, LoadOptions { allow_unstable })?)
}

impl StudyArgs {
    fn run_options(&self) -> RunOptions {
        RunOptions {
            seed: self.seed,
            replications: self.replications,
            threads: self.threads.map(|t| t as usize),
        }
    }
}

/// A progress bar with ETA on stderr counting `units` simulation runs, or a hidden one when
/// stderr is not a terminal or the user asked for quiet.
fn progress(units: u64, message: String, quiet: bool) -> indicatif::ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(units);
    b.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} runs, ETA {eta}")
            .expect("static template")
            .progress_chars("=> "),
    );
    b.set_message(message);
    b
}

fn cmd_run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let overrides = sweep::single_overrides(&args.set)?;
    let scn = ScenarioFile::read(&args.scenario)?.build(
        LoadOptions {
            allow_unstable: args.study.allow_unstable,
        },
        &overrides,
    )?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&scn.name, "", None));
    let opts = args.study.run_options();
    if let Some(b) = &args.baseline {
        runner::baseline_index(scn.variants.iter().map(|v| v.name.as_str()), b)?;
    }
    let precision = args.study.precision();
    if let Some(p) = precision {
        p.first_round(&scn, opts)?;
    }
    if let Some(sh) = args.shard.resolve(args.study.quiet)? {
        if precision.is_some() {
            return Err(runner::RunError::PrecisionSharded.into());
        }
        let out_dir = args
            .out
            .clone()
            .unwrap_or_else(|| default_out(&scn.name, "", Some(sh)));
        let share = 1.0 / f64::from(sh.count);
        args.study.check_budget(&[&scn], share, "this shard")?;
        let output = report::output::prepare(&out_dir)?;
        let key = shard::StudyKey::new(
            "run",
            &[&scn],
            opts,
            args.study.allow_unstable,
            args.set.clone(),
            Vec::new(),
        );
        return run_shard(&[&scn], key, &scn.file, sh, opts, output, args.study.quiet);
    }
    args.study.check_budget(&[&scn], 1.0, "this run")?;
    let output = report::output::prepare(&out_dir)?;
    let units =
        scn.variants.len() as u64 * u64::from(opts.replications.unwrap_or(scn.run.replications));
    let mut study = match precision {
        None => {
            let bar = progress(units, format!("simulating {}", scn.name), args.study.quiet);
            let study = runner::run(&scn, opts, &|| bar.inc(1)).context("simulation failed")?;
            bar.finish_and_clear();
            study
        }
        Some(p) => {
            let bar = progress(
                0,
                format!(
                    "simulating {} to {} precision",
                    scn.name,
                    report::terminal::pct(p.share)
                ),
                args.study.quiet,
            );
            let study = runner::precision::run_many_precise(
                &[&scn],
                opts,
                p,
                &|_, v| runner::precision::every_flow_figure(v),
                &|n| bar.inc_length(n),
                &|| bar.inc(1),
            )
            .context("simulation failed")?
            .pop()
            .expect("one scenario in, one outcome out");
            bar.finish_and_clear();
            study
        }
    };
    if let Some(b) = &args.baseline {
        study.set_baseline(b)?;
    }
    // With `warmup_s = "auto"` the files (manifest's warmup_s) state the warm-up chosen.
    let mut scn = scn;
    if scn.run.warmup_auto {
        scn.run.warmup = study.warmup;
        if !args.study.quiet {
            eprintln!(
                "warm-up chosen by a pilot run (MSER-5): {} s",
                study.warmup.as_secs_f64()
            );
        }
    }
    let written = output.publish(|d| report::write_all(d, &scn, &study))?;
    if !args.study.quiet {
        let mut out = std::io::stdout().lock();
        write!(out, "{}", report::terminal::table(&study))?;
        write!(out, "{}", report::compare::vs_baseline(&study))?;
        write!(out, "{}", report::terminal::precision_text(&study))?;
        eprint!("{}", report::warmup::warnings(&study));
        writeln!(
            out,
            "{} events in {:.2} s wall ({:.2} M events/s, {} threads); {} files in {}",
            study.events(),
            study.wall.as_secs_f64(),
            study.events() as f64 / study.wall.as_secs_f64().max(1e-9) / 1e6,
            study.threads,
            written.len(),
            out_dir.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Simulates one shard of a run or sweep and writes its raw results into `out_dir`.
fn run_shard(
    scns: &[&Scenario],
    key: shard::StudyKey,
    scenario_file: &std::path::Path,
    sh: Shard,
    opts: RunOptions,
    output: report::output::Output,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    if scns.iter().any(|s| s.run.warmup_auto) {
        return Err(runner::RunError::AutoWarmupSharded.into());
    }
    let total = key.total_units;
    let mine = sh.select(total).len();
    let bar = progress(
        mine as u64,
        format!("shard {sh} of {}", key.scenario),
        quiet,
    );
    let start = std::time::Instant::now();
    let (units, results, threads) =
        shard::run(scns, opts, sh, &|| bar.inc(1)).context("simulation failed")?;
    bar.finish_and_clear();
    let events: u64 = results.iter().map(|r| r.events).sum();
    let files = shard::encode(key, scenario_file, sh, scns, opts, &units, results)?;
    let out_dir = output.target().to_path_buf();
    let written = output.publish(|d| report::write_shard(d, &files))?;
    if !quiet {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "shard {sh}: {mine} of {total} units, {events} events in {:.2} s wall ({threads} threads); {} files in {}",
            start.elapsed().as_secs_f64(),
            written.len(),
            out_dir.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_merge(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let output = report::output::prepare(&args.out)?;
    let merged = shard::merge(&args.dirs, args.scenario.as_deref())?;
    let mut out = std::io::stdout().lock();
    match merged {
        shard::Merged::Capacity { scenario, outcome } => {
            let written = output.publish(|d| report::write_capacity(d, &scenario, &outcome))?;
            if !args.quiet {
                write!(
                    out,
                    "{}",
                    report::terminal::capacity_text(&scenario.name, &outcome)
                )?;
                writeln!(
                    out,
                    "merged {} shards: {} configurations simulated; {} files in {}",
                    args.dirs.len(),
                    outcome.simulated,
                    written.len(),
                    args.out.display()
                )?;
            }
            return Ok(capacity_exit(&outcome));
        }
        shard::Merged::Run {
            scenario,
            mut study,
        } => {
            if let Some(b) = &args.baseline {
                study.set_baseline(b)?;
            }
            let written = output.publish(|d| report::write_all(d, &scenario, &study))?;
            if !args.quiet {
                write!(out, "{}", report::terminal::table(&study))?;
                write!(out, "{}", report::compare::vs_baseline(&study))?;
                eprint!("{}", report::warmup::warnings(&study));
                writeln!(
                    out,
                    "merged {} shards: {} events; {} files in {}",
                    args.dirs.len(),
                    study.events(),
                    written.len(),
                    args.out.display()
                )?;
            }
        }
        shard::Merged::Sweep { sweep, slos } => {
            let written = output.publish(|d| report::write_sweep(d, &sweep, &slos))?;
            if !args.quiet {
                write!(out, "{}", report::terminal::sweep_table(&sweep))?;
                writeln!(
                    out,
                    "merged {} shards: {} points; {} files in {}",
                    args.dirs.len(),
                    sweep.points.len(),
                    written.len(),
                    args.out.display()
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let opts = ValidateOptions {
        seed: args.seed,
        replications: args.replications,
        threads: args.threads.map(|t| t as usize),
        size: if args.quick { Size::Quick } else { Size::Full },
        cases: args.cases,
        service_rate_factor: args.service_rate_factor,
    };
    let output = report::output::prepare(&args.out)?;
    let bar = progress(validate::units(&opts), "validating".into(), args.quiet);
    let outcome = validate::run(&opts, &|| bar.inc(1)).context("validation failed to run")?;
    bar.finish_and_clear();
    let csv = args.out.join("validation.csv");
    output.publish(|d| report::validation::write_csv(d, &outcome).map(|p| vec![p]))?;
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for c in outcome.checks.iter().filter(|c| !c.pass) {
            writeln!(
                out,
                "FAIL {} {}: theory {}, simulated {}",
                c.case, c.metric, c.theory, c.simulated
            )?;
        }
    } else {
        write!(out, "{}", report::validation::table(&outcome))?;
        writeln!(
            out,
            "{} events in {:.1} s wall ({} threads); wrote {}",
            outcome.events,
            outcome.wall.as_secs_f64(),
            outcome.threads,
            csv.display()
        )?;
    }
    Ok(if outcome.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn cmd_sweep(args: SweepArgs) -> anyhow::Result<ExitCode> {
    let axes = args
        .set
        .iter()
        .map(|a| sweep::parse_axis(a))
        .collect::<Result<Vec<_>, _>>()?;
    let slos = args
        .slo
        .iter()
        .map(|s| capacity::parse_slo(s))
        .collect::<Result<Vec<_>, _>>()?;
    let file = ScenarioFile::read(&args.scenario)?;
    let points = sweep::build_points(&file, &axes)?;
    capacity::check_slos(&points[0].1, &slos)?;
    let name = points[0].1.name.clone();
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&name, "-sweep", None));
    let opts = args.study.run_options();
    let precision = args.study.precision();
    if let Some(p) = precision {
        for (_, scn) in &points {
            p.first_round(scn, opts)?;
        }
    }
    if let Some(sh) = args.shard.resolve(args.study.quiet)? {
        if precision.is_some() {
            return Err(runner::RunError::PrecisionSharded.into());
        }
        let out_dir = args
            .out
            .clone()
            .unwrap_or_else(|| default_out(&name, "-sweep", Some(sh)));
        let all: Vec<&Scenario> = points.iter().map(|p| &p.1).collect();
        let share = 1.0 / f64::from(sh.count);
        args.study.check_budget(&all, share, "this shard")?;
        let output = report::output::prepare(&out_dir)?;
        let prepared = sweep::prepare(points, args.study.allow_unstable);
        let scns = prepared.scenarios();
        let key = shard::StudyKey::new(
            "sweep",
            &scns,
            opts,
            args.study.allow_unstable,
            args.set.clone(),
            args.slo.clone(),
        );
        return run_shard(&scns, key, &file.path, sh, opts, output, args.study.quiet);
    }
    let all: Vec<&Scenario> = points.iter().map(|p| &p.1).collect();
    args.study.check_budget(&all, 1.0, "this sweep")?;
    let output = report::output::prepare(&out_dir)?;
    let units = sweep::unit_count(&points, opts, args.study.allow_unstable);
    let n_points = points.len();
    let bar = progress(
        if precision.is_some() { 0 } else { units },
        format!("sweeping {name} ({n_points} points)"),
        args.study.quiet,
    );
    let outcome = match precision {
        None => sweep::run(points, &axes, opts, args.study.allow_unstable, &|| {
            bar.inc(1)
        }),
        Some(p) => sweep::run_precise(
            points,
            &axes,
            opts,
            args.study.allow_unstable,
            p,
            &|n| bar.inc_length(n),
            &|| bar.inc(1),
        ),
    }
    .context("simulation failed")?;
    bar.finish_and_clear();
    let units: u64 = outcome
        .points
        .iter()
        .map(|p| p.outcome.variants.len() as u64 * u64::from(p.outcome.replications))
        .sum();
    let written = output.publish(|d| report::write_sweep(d, &outcome, &slos))?;
    if !args.study.quiet {
        let mut out = std::io::stdout().lock();
        write!(out, "{}", report::terminal::sweep_table(&outcome))?;
        write!(out, "{}", report::terminal::sweep_precision_text(&outcome))?;
        writeln!(
            out,
            "{n_points} points, {units} runs in {:.2} s wall; {} files in {}",
            outcome.points[0].outcome.wall.as_secs_f64(),
            written.len(),
            out_dir.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_capacity(args: CapacityArgs) -> anyhow::Result<ExitCode> {
    let mut spec = capacity::spec_from_args(
        &args.slo,
        args.hop.as_deref(),
        args.scale,
        args.bracket,
        args.headroom,
    )?;
    spec.replicate = args.study.precision();
    let overrides = sweep::single_overrides(&args.set)?;
    // Unstable configurations are part of the search (they fail without simulation).
    let scn = ScenarioFile::read(&args.scenario)?.build(
        LoadOptions {
            allow_unstable: true,
        },
        &overrides,
    )?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&scn.name, "-capacity", None));
    // Before anything is written: a search that can end, within the budget over every round
    // it may take (for a shard, its variants only).
    capacity::bounds::check_searchable(&scn, &spec)?;
    let shard_args = ShardArgs { shard: args.shard };
    if let Some(p) = spec.replicate {
        p.first_round(&scn, args.study.run_options())?;
    }
    let sh = shard_args.resolve(args.study.quiet)?;
    if sh.is_some() && spec.replicate.is_some() {
        return Err(runner::RunError::PrecisionSharded.into());
    }
    let which: Vec<usize> = match sh {
        Some(sh) => sh.select(scn.variants.len()),
        None => (0..scn.variants.len()).collect(),
    };
    // With --precision a configuration may take up to --max-replications.
    let replications = match spec.replicate {
        Some(p) => p.max_replications,
        None => args.study.replications.unwrap_or(scn.run.replications),
    };
    let worst =
        capacity::bounds::worst_case(&scn, &spec, &which, replications, args.study.threads());
    let what = match spec.replicate {
        Some(p) => format!(
            "this capacity search, over every round it may take with up to {} replications \
             per configuration (--max-replications),",
            p.max_replications
        ),
        None => "this capacity search, over every round it may take,".to_string(),
    };
    scenario::budget::check(&worst, args.study.allow_long, &what)?;
    if let Some(sh) = sh {
        return capacity_shard(&args, &scn, &spec, sh);
    }
    let output = report::output::prepare(&out_dir)?;
    let bar = progress(0, format!("searching {}", scn.name), args.study.quiet);
    let outcome = capacity::search(
        &scn,
        &spec,
        args.study.run_options(),
        &|n| bar.inc_length(n),
        &|| bar.inc(1),
    )
    .context("capacity search failed")?;
    bar.finish_and_clear();
    let written = output.publish(|d| report::write_capacity(d, &scn, &outcome))?;
    if !args.study.quiet {
        let mut out = std::io::stdout().lock();
        write!(
            out,
            "{}",
            report::terminal::capacity_text(&scn.name, &outcome)
        )?;
        writeln!(
            out,
            "{} configurations simulated in {:.2} s wall; {} files in {}",
            outcome.simulated,
            outcome.wall.as_secs_f64(),
            written.len(),
            out_dir.display()
        )?;
    }
    Ok(capacity_exit(&outcome))
}

/// 1 when some variant has no configuration meeting the SLOs.
fn capacity_exit(outcome: &capacity::CapacityOutcome) -> ExitCode {
    if outcome.answers.iter().all(|a| a.feasible()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Searches one shard of a capacity study's variants and writes their answers. Exits 0 once
/// written, feasible or not: `merge` reports infeasible variants as `capacity` does.
fn capacity_shard(
    args: &CapacityArgs,
    scn: &Scenario,
    spec: &capacity::SearchSpec,
    sh: Shard,
) -> anyhow::Result<ExitCode> {
    if scn.run.warmup_auto {
        return Err(runner::RunError::AutoWarmupSharded.into());
    }
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&scn.name, "-capacity", Some(sh)));
    let output = report::output::prepare(&out_dir)?;
    let opts = args.study.run_options();
    let key = shard::StudyKey::capacity(
        scn,
        opts,
        args.set.clone(),
        args.slo.clone(),
        shard::CapacityKey {
            hop: args.hop.clone(),
            scale: args.scale,
            precision: args.bracket,
            headroom: args.headroom,
        },
    );
    let which = sh.select(scn.variants.len());
    let bar = progress(
        0,
        format!("shard {sh} of {} capacity", scn.name),
        args.study.quiet,
    );
    let outcome =
        capacity::search_variants(scn, spec, opts, &which, &|n| bar.inc_length(n), &|| {
            bar.inc(1)
        })
        .context("capacity search failed")?;
    bar.finish_and_clear();
    let (simulated, wall) = (outcome.simulated, outcome.wall);
    let files = shard::encode_capacity(key, &scn.file, sh, &which, outcome)?;
    let written = output.publish(|d| report::write_shard(d, &files))?;
    if !args.study.quiet {
        writeln!(
            std::io::stdout().lock(),
            "shard {sh}: {} of {} variants, {simulated} configurations simulated in {:.2} s wall; {} files in {}",
            which.len(),
            scn.variants.len(),
            wall.as_secs_f64(),
            written.len(),
            out_dir.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_explain(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let scn = load(&args.scenario, args.allow_unstable)?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", mailflow::report::explain::explain(&scn))?;
    Ok(ExitCode::SUCCESS)
}

/// The bytes under `paths` (files, and files in folders recursively), for the progress bar.
fn input_bytes(paths: &[PathBuf]) -> u64 {
    fn walk(p: &std::path::Path, depth: u32) -> u64 {
        match std::fs::metadata(p) {
            Ok(m) if m.is_file() => m.len(),
            Ok(m) if m.is_dir() && depth < 64 => std::fs::read_dir(p)
                .map(|d| d.flatten().map(|e| walk(&e.path(), depth + 1)).sum())
                .unwrap_or(0),
            _ => 0,
        }
    }
    paths.iter().map(|p| walk(p, 0)).sum()
}

fn cmd_calibrate(args: CalibrateArgs) -> anyhow::Result<ExitCode> {
    use mailflow::calibrate::{backtest, pipeline, scenario_out};
    let current = args
        .current
        .as_deref()
        .map(scenario_out::parse_current)
        .transpose()?;
    let servers = args
        .servers
        .iter()
        .map(|s| pipeline::parse_server(s))
        .collect::<Result<Vec<_>, _>>()?;
    let bad_lines = pipeline::parse_share(&args.bad_lines)?;
    if args.check && args.replications < 2 {
        anyhow::bail!(pipeline::PipelineError::TooFewReplications(
            args.replications
        ));
    }
    let base_name = args
        .base
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario")
        .to_string();
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&base_name, "-calibrated", None));
    let output = report::output::prepare(&out_dir)?;
    let total = input_bytes(&args.inputs);
    let bar = if args.quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "reading logs [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}), ETA {eta}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        b
    };
    let progress_bar = bar.clone();
    let settings = pipeline::Settings {
        inputs: args.inputs.clone(),
        base: args.base.clone(),
        current,
        servers,
        accepted_domains: args.accepted_domains.clone(),
        timezone: args.timezone.clone(),
        date_format: args.date_format.clone(),
        bad_lines,
        progress: Some(Box::new(move |b| progress_bar.set_position(b))),
    };
    let c = pipeline::calibrate(settings)?;
    bar.finish_and_clear();
    for w in c.read.warnings.iter().chain(&c.warnings) {
        eprintln!("warning: {w}");
    }
    let bt = if args.check {
        let bar = progress(
            u64::from(args.replications),
            format!("back-test over {} h", c.cal.period_hours),
            args.quiet,
        );
        let b = backtest::run(&c, args.replications, &|| bar.inc(1))?;
        bar.finish_and_clear();
        Some(b)
    } else {
        None
    };
    let extra = match &bt {
        Some(b) => vec![
            (
                "backtest.csv".to_string(),
                pipeline::csv_bytes(&b.rows, &backtest::HEADER),
            ),
            (
                "backtest.toml".to_string(),
                b.scenario_text.clone().into_bytes(),
            ),
        ],
        None => Vec::new(),
    };
    let files = pipeline::files(&c, &args.base, extra);
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let page = mailflow::calibrate::report::html_report(&c, bt.as_ref(), &calibrate_summary(&c));
    let written = output.publish(|d| {
        let mut w = report::write_shard(d, &refs)?;
        w.push(report::html::write(d, &page)?);
        Ok(w)
    })?;
    if !args.quiet {
        let mut out = std::io::stdout().lock();
        write!(out, "{}", calibrate_summary(&c))?;
        if let Some(b) = &bt {
            writeln!(
                out,
                "back-test: calibrated.toml, routing {}, {} replications over the logged {} h:",
                c.routing.variant.name(),
                b.replications,
                c.cal.period_hours
            )?;
            for v in &b.verdict {
                writeln!(out, "  {v}")?;
            }
            writeln!(
                out,
                "  {} ({} flows compared; backtest.csv has every figure)",
                if b.passed {
                    "PASS: every deciding figure lies inside the simulation's joint prediction interval (95% for all together)"
                } else {
                    "FAIL: some deciding figures lie outside the simulation's joint prediction interval (95% for all together)"
                },
                b.compared
            )?;
        }
        writeln!(out, "{} files in {}", written.len(), out_dir.display())?;
    }
    Ok(match &bt {
        Some(b) if !b.passed => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

/// What calibration read and estimated, for the terminal.
fn calibrate_summary(c: &mailflow::calibrate::pipeline::Calibrated) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let r = &c.read;
    let k = &c.classify;
    let _ = writeln!(
        s,
        "read {}: {} records, {} unreadable lines",
        c.inputs, r.records, r.bad_lines
    );
    let skipped: Vec<String> = k
        .skipped
        .iter()
        .map(|(why, n)| format!("{n} {}", why.name()))
        .collect();
    let _ = writeln!(
        s,
        "classified {} messages over {} hours from {} (hours of day in {}); skipped: {}",
        c.cal.messages,
        c.cal.period_hours,
        c.cal.period_start,
        c.timezone,
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join(", ")
        }
    );
    if c.sides.both() {
        let _ = writeln!(
            s,
            "joined by message id: {} of them seen on both sides ({})",
            k.joined,
            c.sides.describe()
        );
    }
    let _ = writeln!(
        s,
        "accepted domains: {}{}",
        if k.accepted_domains.is_empty() {
            "none".to_string()
        } else {
            k.accepted_domains.join(", ")
        },
        if k.domains_inferred {
            " (inferred from on-premises senders; set them with --accepted-domain)"
        } else {
            ""
        }
    );
    for (server, (hop, how)) in &k.server_hops {
        let _ = writeln!(s, "server {server} → hop {hop} (by {how})");
    }
    for (server, n) in &k.unmapped_servers {
        let _ = writeln!(
            s,
            "server {server} maps to no hop ({n} records; its times are not used): give --server {server}=HOP"
        );
    }
    let _ = writeln!(
        s,
        "routing: {} ({})",
        c.routing.variant.name(),
        c.routing.how
    );
    let _ = writeln!(
        s,
        "estimated (calibration.csv has every figure with n and interval):"
    );
    for row in &c.calibration {
        let show = matches!(
            row.quantity.as_str(),
            "busiest_hour_rate"
                | "weekend_factor"
                | "recipients_mean"
                | "onprem_recipient_share"
                | "spam_share"
                | "size_mean"
                | "processing_mean"
                | "latency_p99"
        );
        if !show {
            continue;
        }
        let ci = match (row.ci95_lo, row.ci95_hi) {
            (Some(a), Some(b)) => format!(" [{}, {}]", sig(a), sig(b)),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "  {:<24} {:<22} {} {}{} (n = {})",
            row.quantity,
            row.flow_or_hop,
            sig(row.value),
            row.unit,
            ci,
            row.n
        );
    }
    s
}

/// Four significant digits for the terminal (the CSVs keep full precision).
fn sig(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn recorded_command_leaves_out_what_does_not_change_results() {
        let args = [
            "run",
            "s.toml",
            "--quiet",
            "--threads",
            "2",
            "-q",
            "--threads=4",
            "--out",
            "d",
        ];
        assert_eq!(
            super::result_args(args.iter().map(|a| a.to_string())),
            ["run", "s.toml", "--out", "d"]
        );
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
