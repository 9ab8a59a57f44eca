//! Calibration from a folder of BOTH sides' logs — on-premises tracking logs and the Exchange
//! Online message trace — generated from the seed topology's known model ([`super::synth`]):
//! each message is joined across the two by its message id and classified once, every source
//! (the cloud-only ones included), the spam share and the inbound recipients' split are
//! recovered within their sampling error, calibrated.toml writes them, and the back-test
//! compares every flow and passes.
//!
//! Tolerances are 3.3 standard errors of each estimate (a two-sided 0.1% band per check; the
//! standard error is the estimate's own 95% interval half-width ÷ 1.96, on the log scale for
//! rates): with the ~10 checks here a correct estimator fails one with probability about 1%
//! for a random seed; the seed is fixed, so the test is deterministic.

use std::path::{Path, PathBuf};

use super::classify::Source as S;
use super::pipeline::{self, Calibrated, Settings};
use super::synth::{self, Flow, SynthModel, SynthOutput, SynthTruth};
use super::{LogFormat, backtest};

const SE: f64 = 3.3;

/// The generator's flows and the sources they calibrate, inbound first.
const SOURCES: [(Flow, S); 7] = [
    (Flow::Inbound, S::Inbound),
    (Flow::OutboundFromOnprem, S::OutboundFromOnprem),
    (Flow::OutboundFromCloud, S::OutboundFromCloud),
    (Flow::OnpremToCloud, S::OnpremToCloud),
    (Flow::CloudToOnprem, S::CloudToOnprem),
    (Flow::InternalOnprem, S::OnpremInternal),
    (Flow::InternalCloud, S::CloudInternal),
];

/// The seed topology at 2% of the example's rates over two weekdays (about 25,000 messages):
/// MX at EOP, CMT off, so spam is filtered in EOP and cloud-only mail never reaches
/// on-premises.
fn model() -> SynthModel {
    let mut m = SynthModel::seed_example(11);
    m.days = 2;
    for r in m.peak_per_s.values_mut() {
        *r *= 0.02;
    }
    m
}

fn calibrate(dir: &Path) -> Calibrated {
    pipeline::calibrate(Settings {
        inputs: vec![dir.to_path_buf()],
        base: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/hybrid-routing.toml"),
        current: None,
        servers: vec![],
        accepted_domains: vec![],
        timezone: None,
        date_format: None,
        bad_lines: 0.01,
        progress: None,
    })
    .unwrap()
}

fn generate(dir: &Path) -> SynthTruth {
    synth::generate(&model(), &SynthOutput::default(), dir).unwrap()
}

fn near(what: &str, est: f64, truth: f64, se: f64) {
    assert!(
        (est - truth).abs() <= SE * se,
        "{what}: estimated {est}, true {truth}, tolerance {SE} × {se}"
    );
}

fn total(c: &Calibrated, s: S) -> u64 {
    c.cal
        .peak_rates
        .iter()
        .find(|(x, _, _)| *x == s)
        .map_or(0, |r| r.2)
}

#[test]
fn tracking_logs_and_message_trace_join_calibrate_and_backtest() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = generate(tmp.path());
    let m = model();
    let c = calibrate(tmp.path());
    assert!(c.sides.both(), "{:?}", c.read.formats());
    assert_eq!(c.sides.onprem, Some(LogFormat::TrackingLog));
    assert_eq!(c.sides.cloud, Some(LogFormat::MessageTrace));
    assert_eq!(
        c.routing.variant.name(),
        "mx-eop_cmt-off",
        "{}",
        c.routing.how
    );
    // Every mail message once: the generator's messages plus the spam EOP filtered (which
    // only the trace shows); none split into an on-premises and a cloud half.
    let mail: u64 = truth.messages.values().sum();
    assert_eq!(
        c.cal.messages,
        mail + truth.spam,
        "{:?}",
        c.classify.skipped
    );
    for &(flow, src) in &SOURCES[1..] {
        assert_eq!(total(&c, src), truth.messages[&flow], "{flow:?}");
    }
    assert_eq!(
        total(&c, S::Inbound),
        truth.messages[&Flow::Inbound] + truth.spam
    );
    // Joined: each cross-premises message, and each legitimate inbound one with an
    // on-premises recipient.
    let cross = truth.messages[&Flow::OnpremToCloud] + truth.messages[&Flow::CloudToOnprem];
    assert!(
        c.classify.joined >= cross && c.classify.joined <= cross + truth.messages[&Flow::Inbound],
        "{} joined, {cross} cross-premises",
        c.classify.joined
    );

    // Every source's busiest-hour rate, inbound with its spam (the scenario filters
    // spam_share of it at EOP), within its delta-method interval.
    for (flow, src) in SOURCES {
        let (_, e, _) = c.cal.peak_rates.iter().find(|(s, _, _)| *s == src).unwrap();
        let (lo, hi) = e.ci95.unwrap();
        near(
            flow.name(),
            e.value,
            m.peak_per_s[&flow],
            e.value * (hi / lo).ln() / 2.0 / 1.96,
        );
        // Written into calibrated.toml with its source, n and interval.
        let at = c
            .toml
            .find(&format!("\n{} = ", src.name()))
            .unwrap_or_else(|| panic!("{} not written", src.name()));
        let comment = &c.toml[..at];
        let comment = &comment[comment.rfind("# calibrated: busiest-hour rate").unwrap()..];
        assert!(
            comment.contains(&format!("n = {} messages", e.n)) && comment.contains("95% CI"),
            "{comment}"
        );
        if matches!(src, S::OutboundFromCloud | S::CloudInternal) {
            assert!(
                comment.contains("from the Exchange Online message traces"),
                "{comment}"
            );
        }
    }
    // Spam share: FilteredAsSpam messages of all inbound; Wilson se.
    let spam = c.cal.spam_share.unwrap();
    let (lo, hi) = spam.ci95.unwrap();
    near(
        "spam share",
        spam.value,
        m.spam_share,
        (hi - lo) / 2.0 / 1.96,
    );
    assert!(c.toml.contains(&format!(
        "# calibrated: share of inbound messages filtered as spam from the message trace (FilteredAsSpam and Quarantined rows), n = {} messages",
        spam.n
    )));
    // The legitimate inbound recipients' split: on-premises deliveries of all the trace
    // shows. Recipients are placed independently, so the Wilson se holds.
    let share = c.cal.onprem_share.unwrap();
    let (lo, hi) = share.ci95.unwrap();
    near(
        "on-premises recipient share",
        share.value,
        m.inbound_onprem_share,
        (hi - lo) / 2.0 / 1.96,
    );
    assert!(c.toml.contains("\nonprem_recipient_share = "));
    // Every legitimate inbound recipient placed on one side or the other.
    assert_eq!(share.n, truth.recipients[&Flow::Inbound]);
    // Recipients per message over every source (all shown whole): se = sd/√n.
    let r = &c.cal.mean_recipients;
    let (lo, hi) = r.ci95.unwrap();
    near(
        "recipients mean",
        r.value,
        m.mean_recipients(),
        (hi - lo) / 2.0 / 1.96,
    );
    assert_eq!(r.n, mail + truth.spam);
    // The mailbox profile is gone: every source is calibrated.
    assert!(!c.toml.contains("\nmailboxes = "));

    // The back-test compares all eight flows (each one's copies the two sides show together)
    // and both hops, and passes.
    let bt = backtest::run(&c, 5, &|| {}).unwrap();
    assert_eq!(bt.compared, 10, "{:#?}", bt.rows);
    assert!(bt.passed, "{}\n{:#?}", bt.verdict.join("\n"), bt.rows);
}

/// Get-MessageTraceV2 pages newest first, and exports come as files in any order: the join
/// must not depend on the trace's order. The same folder with every trace file's rows
/// reversed (and the files renamed so their name order is reversed too) classifies the same.
#[test]
fn the_join_does_not_depend_on_the_traces_row_or_file_order() {
    let tmp = tempfile::tempdir().unwrap();
    generate(tmp.path());
    let forward = calibrate(tmp.path());
    let trace = tmp.path().join("trace");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&trace)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() > 2);
    let n = files.len();
    for (i, f) in files.iter().enumerate() {
        let text = std::fs::read_to_string(f).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1..].reverse();
        std::fs::remove_file(f).unwrap();
        std::fs::write(
            trace.join(format!("export-{:03}.csv", n - i)),
            lines.join("\r\n") + "\r\n",
        )
        .unwrap();
    }
    let reversed = calibrate(tmp.path());
    assert_eq!(reversed.cal.messages, forward.cal.messages);
    assert_eq!(reversed.classify.joined, forward.classify.joined);
    assert!(reversed.classify.joined > 0);
    for s in S::ALL {
        assert_eq!(total(&reversed, s), total(&forward, s), "{s:?}");
    }
    assert_eq!(reversed.cal.spam_share, forward.cal.spam_share);
    assert_eq!(
        reversed.cal.onprem_share.map(|e| e.value),
        forward.cal.onprem_share.map(|e| e.value)
    );
}
