//! Calibration against logs from the generator's known model ([`super::synth`]): every
//! parameter the logs can show is recovered within its sampling error, and the back-test of
//! the calibrated scenario passes.
//!
//! One model, small enough to run in a second or two: a week (weekdays and a weekend) of
//! three flows through one on-premises Hub with one worker and slow processing (median 12 s),
//! so that about 6000 messages make the Hub busy (peak utilization about 0.5) and queue.
//! Tolerances are 3.3 standard errors of each estimate (a two-sided 0.1% band): with the 30
//! or so checks below, a correct estimator fails one of them with probability about 3% for a
//! random seed; the seed is fixed, so the test is deterministic.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::pipeline::{self, Calibrated, Settings};
use super::synth::{
    self, Flow, LogNormalSpec, Mx, SynthModel, SynthOutput, SynthTruth, TrackingVersion,
};
use super::{backtest, scenario_out};

const SE: f64 = 3.3;

fn model() -> SynthModel {
    let mut m = SynthModel::example(7);
    m.peak_per_s = BTreeMap::from([
        (Flow::Inbound, 0.016),
        (Flow::OutboundFromOnprem, 0.012),
        (Flow::OnpremToCloud, 0.008),
    ]);
    m.mx = Mx::OnPrem;
    m.centralized = true;
    m.spam_share = 0.0;
    m.servers = vec!["HUB01".into()];
    m.hub_workers = 1;
    m.hub_ms = LogNormalSpec {
        median: 12_000.0,
        sigma: 0.5,
    };
    m.probes_per_server_hour = 1.0;
    m
}

fn calibrated(dir: &std::path::Path) -> (SynthTruth, Calibrated) {
    calibrated_from(dir, model())
}

fn calibrated_from(dir: &std::path::Path, m: SynthModel) -> (SynthTruth, Calibrated) {
    let out = SynthOutput {
        trace_rows_per_file: None,
        ..SynthOutput::default()
    };
    let truth = synth::generate(&m, &out, dir).unwrap();
    let c = pipeline::calibrate(Settings {
        inputs: vec![dir.join("HUB01")],
        base: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/hybrid-routing.toml"),
        current: Some(scenario_out::parse_current("mx=onprem,cmt=on").unwrap()),
        servers: vec![("HUB*".into(), "hub2007".into())],
        accepted_domains: vec![m.domain.clone()],
        timezone: None,
        date_format: None,
        bad_lines: 0.01,
        progress: None,
    })
    .unwrap();
    (truth, c)
}

fn near(what: &str, est: f64, truth: f64, se: f64) {
    assert!(
        (est - truth).abs() <= SE * se,
        "{what}: estimated {est}, true {truth}, tolerance {SE} × {se}"
    );
}

#[test]
fn calibration_recovers_the_generators_parameters_and_the_backtest_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let (truth, c) = calibrated(tmp.path());
    let m = model();
    let cal = &c.cal;
    // Probes are left out and counted; every mail message is classified.
    assert_eq!(
        cal.messages,
        truth.messages.values().sum::<u64>(),
        "{:?}",
        c.classify.skipped
    );
    assert!(c.classify.skipped.values().sum::<u64>() >= truth.probes);
    // The busiest hour is the model's (09:00) and each source's rate there is the model's
    // peak rate, within the estimate's own delta-method standard error (its 95% interval's
    // log half-width ÷ 1.96: the source's count over the week and the busiest hour's pooled
    // count that the curve is relative to).
    assert_eq!(cal.peak_hour_of_day, 9);
    let t = 5.0 * 3600.0;
    for (flow, src) in [
        (Flow::Inbound, super::classify::Source::Inbound),
        (
            Flow::OutboundFromOnprem,
            super::classify::Source::OutboundFromOnprem,
        ),
        (Flow::OnpremToCloud, super::classify::Source::OnpremToCloud),
    ] {
        let r = m.peak_per_s[&flow];
        let (_, e, total) = cal.peak_rates.iter().find(|(s, _, _)| *s == src).unwrap();
        assert_eq!(*total, truth.messages[&flow], "{flow:?}");
        let (lo, hi) = e.ci95.unwrap();
        near(
            flow.name(),
            e.value,
            r,
            e.value * (hi / lo).ln() / 2.0 / 1.96,
        );
    }
    // Hourly weights: hour h's pooled weekday count over the busiest hour's; se from the
    // count's Poisson variance (the busiest hour's own error is the smaller term, ignored).
    let top = m.hourly_weights.iter().copied().fold(0.0, f64::max);
    let peak_total: f64 = m.peak_per_s.values().sum();
    for (h, w) in cal.hourly_weights.iter().enumerate() {
        let w = w.unwrap();
        let truth_w = m.hourly_weights[h] / top;
        let n = (truth_w * peak_total * t).max(1.0);
        near(
            &format!("weight of hour {h}"),
            w.value,
            truth_w,
            truth_w.max(1.0 / n) / n.sqrt() * 1.2,
        );
    }
    // Weekend factor: its delta-method standard error is half the 95% interval's log width.
    let wf = cal.weekend_factor.unwrap();
    let (lo, hi) = wf.ci95.unwrap();
    near(
        "weekend factor",
        wf.value,
        m.weekend_factor,
        wf.value * (hi / lo).ln() / 2.0 / 1.96,
    );
    // Recipients per message: each weight a binomial share.
    let n = cal.mean_recipients.n as f64;
    let total_w: f64 = m.recipients.iter().map(|(_, w)| w).sum();
    for (k, w) in &m.recipients {
        let p = w / total_w;
        let est = cal
            .recipients
            .iter()
            .find(|(c, _)| c == k)
            .map_or(0.0, |(_, e)| e.value);
        near(
            &format!("share of {k}-recipient messages"),
            est,
            p,
            (p * (1.0 - p) / n).sqrt(),
        );
    }
    // Inbound recipients' split (MX on-premises shows every inbound message).
    let s = cal.onprem_share.unwrap();
    let p = m.inbound_onprem_share;
    near(
        "on-premises share",
        s.value,
        p,
        (p * (1.0 - p) / s.n as f64).sqrt(),
    );
    // Sizes: a log-normal, accepted by the test; ln median ± σ/√n, σ ± σ/√(2n).
    let size = cal.size.as_ref().unwrap();
    let f = size.fit.unwrap();
    assert!(f.accepted(), "{f:?}");
    let sn = f.n as f64;
    near(
        "ln size median",
        f.median.ln(),
        m.size_kb.median.ln(),
        m.size_kb.sigma / sn.sqrt(),
    );
    near(
        "size sigma",
        f.sigma,
        m.size_kb.sigma,
        m.size_kb.sigma / (2.0 * sn).sqrt(),
    );
    // The Hub: processing from the latency components is the generator's own draws (the log
    // rounds to 1 ms, the histogram to 0.1%) without the probes', which calibration leaves
    // out: the generator's mean includes them (2.5% of the messages, cv 0.53, so the means
    // differ by 0.025 × 0.53/√180 ≈ 0.1% sd: 0.5% is 5 sd); its median is the model's within
    // the order-statistic interval; one worker, and it queued.
    let hub = cal.hops.iter().find(|h| h.hop == "hub2007").unwrap();
    assert_eq!(hub.n, truth.hub_messages - truth.probes);
    let mean_s = hub.mean_ms.value / 1e3;
    assert!(
        (mean_s - truth.hub_mean_processing_s).abs() < 5e-3 * truth.hub_mean_processing_s,
        "{mean_s} {}",
        truth.hub_mean_processing_s
    );
    let (lo, hi) = hub.p50_ms.ci95.unwrap();
    near(
        "hub median",
        hub.p50_ms.value,
        m.hub_ms.median,
        (hi - lo) / 2.0 / 1.96,
    );
    assert_eq!(hub.max_concurrency, 1);
    // Waits: the same messages less the probes; waits are autocorrelated, so 3% (the probes'
    // share of the mean wait varies more than their share of the processing).
    let wait = hub.wait_mean_ms.unwrap().value / 1e3;
    assert!(
        (wait - truth.hub_mean_wait_s).abs() < 0.03 * truth.hub_mean_wait_s,
        "{wait} {}",
        truth.hub_mean_wait_s
    );
    assert!(c.toml.contains("servers = 1"), "servers not calibrated");

    // The back-test: hourly volumes of the compared flows and the Hub's volume and queue
    // waits agree with the simulation within their intervals.
    let bt = backtest::run(&c, 5, &|| {}).unwrap();
    assert!(bt.compared >= 3, "{:#?}", bt.rows);
    assert!(bt.passed, "{}\n{:#?}", bt.verdict.join("\n"), bt.rows);
}

/// The README's worked example at a smaller scale: the base scenario's own topology (an
/// Exchange 2013 hybrid server and a 2007 Hub, each mapped by its logged version), MX at EOP
/// and CMT off, every source but cloud-only mail. Routing is inferred; the rates, recipients,
/// both hops' processing times are recovered within their sampling error (3.3 standard
/// errors, as above), and the back-test passes.
#[test]
fn the_seed_topology_calibrates_by_itself_and_its_backtest_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut m = SynthModel::seed_example(11);
    for r in m.peak_per_s.values_mut() {
        *r *= 0.02;
    }
    let out = SynthOutput {
        trace_rows_per_file: None,
        ..SynthOutput::default()
    };
    let truth = synth::generate(&m, &out, tmp.path()).unwrap();
    let c = pipeline::calibrate(Settings {
        inputs: vec![tmp.path().to_path_buf()],
        base: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/hybrid-routing.toml"),
        current: None,
        servers: vec![],
        accepted_domains: vec![],
        timezone: None,
        date_format: None,
        bad_lines: 0.01,
        progress: None,
    })
    .unwrap();
    assert_eq!(
        c.routing.variant.name(),
        "mx-eop_cmt-off",
        "{}",
        c.routing.how
    );
    let cal = &c.cal;
    use super::classify::Source as S;
    // Sources the on-premises logs show whole: rate within its delta-method interval.
    for (flow, src) in [
        (Flow::OutboundFromOnprem, S::OutboundFromOnprem),
        (Flow::OnpremToCloud, S::OnpremToCloud),
        (Flow::CloudToOnprem, S::CloudToOnprem),
        (Flow::InternalOnprem, S::OnpremInternal),
    ] {
        let (_, e, total) = cal.peak_rates.iter().find(|(s, _, _)| *s == src).unwrap();
        assert_eq!(*total, truth.messages[&flow], "{flow:?}");
        let (lo, hi) = e.ci95.unwrap();
        near(
            flow.name(),
            e.value,
            m.peak_per_s[&flow],
            e.value * (hi / lo).ln() / 2.0 / 1.96,
        );
        // Written into calibrated.toml (internal mail included).
        assert!(
            c.toml
                .lines()
                .any(|l| l.starts_with(&format!("{} = ", src.name()))),
            "{} not written",
            src.name()
        );
    }
    // Inbound: only messages with an on-premises recipient reach on-premises (EXO splits);
    // the rate written is scaled up by the base's recipient split, which is the generator's.
    let plan = scenario_out::Plan {
        cal: &c.cal,
        routing: &c.routing,
        sides: c.sides,
        base: &c.base,
        model_sources: scenario_out::model_sources(),
    };
    let (inbound, _) = scenario_out::scenario_rate(&plan, S::Inbound).unwrap();
    let (lo, hi) = inbound.ci95.unwrap();
    let true_inbound = m.peak_per_s[&Flow::Inbound] * (1.0 - m.spam_share);
    near(
        "inbound",
        inbound.value,
        true_inbound,
        inbound.value * (hi / lo).ln() / 2.0 / 1.96,
    );
    // Recipients per message from the sources shown whole: the model's mean, se = sd/√n.
    let r = &cal.mean_recipients;
    let (lo, hi) = r.ci95.unwrap();
    near(
        "recipients mean",
        r.value,
        m.mean_recipients(),
        (hi - lo) / 2.0 / 1.96,
    );
    // Both hops, mapped by their logged versions; the Hub (no latency components) timed by
    // RECEIVE to SEND at low load, where its 20 workers never queue.
    for (hop, spec) in [
        ("cas2013", m.hub_ms),
        ("hub2007", m.seed_topology.as_ref().unwrap().hub_ms),
    ] {
        let h = cal.hops.iter().find(|h| h.hop == hop).unwrap();
        let (lo, hi) = h.mean_ms.ci95.unwrap();
        near(
            &format!("{hop} processing mean"),
            h.mean_ms.value,
            spec.mean(),
            (hi - lo) / 2.0 / 1.96,
        );
        assert_eq!(
            h.visits,
            truth.per_hop[hop].visits - if hop == "cas2013" { truth.probes } else { 0 }
        );
    }
    let bt = backtest::run(&c, 3, &|| {}).unwrap();
    assert!(bt.compared >= 6, "{:#?}", bt.rows);
    assert!(bt.passed, "{}\n{:#?}", bt.verdict.join("\n"), bt.rows);
}

/// Every row of two calibrations' `calibration.csv` agrees: the same quantities, the same
/// sample sizes, and values within a quarter of the row's standard error (its 95% interval's
/// half-width ÷ 1.96), or 0.1% where a row has no interval. The logs compared hold the same
/// messages (the generator's draws do not depend on the format), so any difference comes
/// from what the format records, and must be far inside the sampling error.
fn same_estimates(what: &str, a: &Calibrated, b: &Calibrated) {
    let key = |c: &Calibrated| -> Vec<(String, String)> {
        c.calibration
            .iter()
            .map(|r| (r.quantity.clone(), r.flow_or_hop.clone()))
            .collect()
    };
    assert_eq!(key(a), key(b), "{what}: other quantities estimated");
    for (x, y) in a.calibration.iter().zip(&b.calibration) {
        let label = format!("{what}: {} {}", x.quantity, x.flow_or_hop);
        assert_eq!(x.n, y.n, "{label}: sample size");
        let tol = match (x.ci95_lo, x.ci95_hi) {
            (Some(lo), Some(hi)) => 0.25 * (hi - lo) / 2.0 / 1.96,
            _ => 1e-3 * x.value.abs(),
        };
        assert!(
            (x.value - y.value).abs() <= tol,
            "{label}: {} vs {} (tolerance {tol})",
            x.value,
            y.value
        );
    }
}

/// Exchange 2010's 26-field logs (no network-message-id, submissions and deliveries in the
/// transport log, a plain TOTAL in the latency components) of the busy-Hub model calibrate
/// to the same estimates as its 2016 logs, and the back-test passes on them too.
#[test]
fn exchange_2010_logs_calibrate_like_2016_logs() {
    let (t16, t10) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, c16) = calibrated_from(t16.path(), model());
    let mut m = model();
    m.tracking = TrackingVersion::Exchange2010;
    let (truth, c10) = calibrated_from(t10.path(), m);
    // The files are 2010's: 26 fields, no mailbox submission or delivery logs.
    let first = &truth.files[0];
    let text = std::fs::read_to_string(first).unwrap();
    assert!(text.contains("#Version: 14.03."), "{}", first.display());
    let fields = text
        .lines()
        .find_map(|l| l.strip_prefix("#Fields: "))
        .unwrap();
    assert_eq!(fields.split(',').count(), 26);
    assert!(!fields.contains("network-message-id"));
    assert!(truth.files.iter().all(|f| {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        !name.starts_with("MSGTRKMS") && !name.starts_with("MSGTRKMD")
    }));
    assert_eq!(c10.cal.messages, c16.cal.messages);
    same_estimates("2010 vs 2016", &c16, &c10);
    let bt = backtest::run(&c10, 5, &|| {}).unwrap();
    assert!(bt.passed, "{}\n{:#?}", bt.verdict.join("\n"), bt.rows);
}

/// Exchange Online's detailed (extended) report of a week, UTF-16 LE with a BOM and snake_case
/// columns, calibrates to the same estimates as the message trace of the same messages for
/// every quantity both exports determine alike: the inbound rate and its spam share, the 24
/// hourly weights, the weekend factor and the sizes (same n, within a quarter of a standard
/// error, as [`same_estimates`]).
/// Inbound and cloud senders' Internet mail are compared too, and the recipients. Not
/// compared: how the cloud mailboxes' mail splits between `onprem_to_cloud` and
/// `cloud_internal`. A trace alone cannot tell an on-premises sender from a cloud one (one
/// accepted domain), so it counts all of it cloud-internal (here 0 and 11049 messages); the
/// detailed report's events place 2293 of them as from on-premises (2293 and 8756); whether
/// that is every on-premises sender's message is not checked yet.
#[test]
fn a_detailed_report_calibrates_like_the_message_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let mut m = SynthModel::seed_example(3);
    for r in m.peak_per_s.values_mut() {
        *r *= 0.01;
    }
    let out = SynthOutput {
        tracking: false,
        detailed_report: true,
        ..SynthOutput::default()
    };
    synth::generate(&m, &out, tmp.path()).unwrap();
    let cal = |sub: &str| {
        pipeline::calibrate(Settings {
            inputs: vec![tmp.path().join(sub)],
            base: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/hybrid-routing.toml"),
            current: Some(scenario_out::parse_current("mx=eop,cmt=off").unwrap()),
            servers: vec![],
            accepted_domains: vec![m.domain.clone()],
            timezone: None,
            date_format: None,
            bad_lines: 0.01,
            progress: None,
        })
        .unwrap()
    };
    let (mut trace, mut detailed) = (cal("trace"), cal("detailed"));
    assert_eq!(
        detailed.read.files[0].format,
        super::record::LogFormat::DetailedReport
    );
    assert_eq!(detailed.read.files[0].encoding, "UTF-16LE");
    let alike = |r: &scenario_out::CalibrationRow| {
        (matches!(r.flow_or_hop.as_str(), "inbound" | "outbound_from_cloud")
            && matches!(
                r.quantity.as_str(),
                "messages_logged" | "busiest_hour_rate" | "spam_share"
            ))
            || matches!(r.quantity.as_str(), "hourly_weight" | "weekend_factor")
            || r.quantity.starts_with("size_")
            || r.quantity.starts_with("recipients_")
    };
    for c in [&mut trace, &mut detailed] {
        c.calibration.retain(|r| alike(r));
    }
    assert!(trace.calibration.len() >= 30, "{:#?}", trace.calibration);
    same_estimates("detailed report vs message trace", &trace, &detailed);
}
