//! Transport realism: outages, retries and expiry, back pressure, connection limits, spam
//! filtering and the SMTP-rewriting device. Every run also passes the conservation check
//! (`runner::run` fails otherwise).

use mailflow::report::csv::cost_rows;
use mailflow::report::num::Sig;
use mailflow::runner::{self, RunOptions, StudyOutcome};
use mailflow::scenario::{self, LoadOptions, Scenario};

fn scenario(text: &str) -> Scenario {
    scenario::from_text(text, "test.toml", "test", LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn run(text: &str) -> StudyOutcome {
    runner::run(&scenario(text), RunOptions::default(), &|| {}).unwrap()
}

fn flow<'a>(
    s: &'a StudyOutcome,
    variant: &str,
    flow: &str,
) -> &'a mailflow::stats::summary::FlowSummary {
    let v = s
        .variants
        .iter()
        .find(|v| v.name == variant)
        .unwrap_or_else(|| panic!("no variant {variant}"));
    &v.flows
        .iter()
        .find(|(f, _)| f == flow)
        .unwrap_or_else(|| panic!("no flow {flow}"))
        .1
}

/// One hop at utilization 0.2, down from t = 1000 s for `outage` seconds; senders retry every
/// 60 s (transient) then every 120 s; messages expire after `expiry` seconds.
fn outage_scenario(messages: u64, outage: u64, expiry: u64) -> String {
    format!(
        r#"
        [run]
        messages = {messages}
        warmup_s = 0
        seed = 5
        [transport]
        transient_retry_count = 3
        transient_retry_interval_s = 60
        message_retry_interval_s = 120
        expiration_timeout_s = {expiry}
        [sources.a]
        rate_per_s = 10
        route = "r"
        [hops.h]
        servers = 5
        service_ms = {{ dist = "exponential", mean = 100 }}
        outages = [{{ start_s = 1000, duration_s = {outage} }}]
        [routes.r]
        steps = ["h"]
        deliver = "f"
        "#
    )
}

/// An outage of length T at arrival rate λ leaves a backlog peak of about λT: the arrivals
/// during the outage are a Poisson count with mean λT = 6000 and standard deviation √6000 ≈ 77;
/// the queue at the outage's start adds a handful. 5 standard deviations bound it. With T
/// below the expiration timeout every message is delivered after recovery, and the backlog
/// drains within one message retry interval (120 s) plus the time to serve it.
#[test]
fn outage_backlog_peaks_near_lambda_t_and_all_is_delivered() {
    let s = run(&outage_scenario(40_000, 600, 86_400));
    let v = &s.variants[0];
    assert_eq!(v.outages.len(), 1);
    let o = &v.outages[0].1;
    let expected = 10.0 * 600.0;
    assert!(
        (o.peak_backlog as f64 - expected).abs() < 5.0 * expected.sqrt() + 10.0,
        "peak backlog {}",
        o.peak_backlog
    );
    let a = v.accounting;
    assert_eq!(
        a.delivered, a.generated,
        "every message delivered after recovery: {a:?}"
    );
    assert_eq!((a.expired, a.in_flight), (0, 0));
    let drain = (o.drained.unwrap() - o.end.unwrap()).as_secs_f64();
    assert!(drain <= 120.0 + 60.0, "drained in {drain} s");
    // Deferred copies pay the retry delay: the flow's mean retry delay is positive and the
    // worst latency is at least the outage's length for the first copies refused.
    let f = flow(&s, "test", "f");
    assert!(f.deferrals.mean > expected * 0.9);
    assert!(f.max_ms.mean >= 600_000.0 * 0.95, "max {}", f.max_ms.mean);
}

/// An outage longer than the expiration timeout expires the messages that wait too long; they
/// are all accounted for, and attributed to the outage and the flow.
#[test]
fn outage_longer_than_expiry_expires_messages() {
    let s = run(&outage_scenario(40_000, 2000, 300));
    let v = &s.variants[0];
    let a = v.accounting;
    assert!(a.expired > 1000, "{a:?}");
    assert_eq!(a.delivered + a.expired, a.generated);
    assert_eq!(a.in_flight, 0);
    assert_eq!(
        v.outages[0].1.expired, a.expired,
        "every expiry waited for the failed hop"
    );
    assert_eq!(flow(&s, "test", "f").expired.mean as u64, a.expired);
}

/// A full hop refuses: with a queue limit of 5 the queue never grows past it, refusals are
/// counted, deferred messages are retried and delivered.
#[test]
fn bounded_queue_refuses_and_senders_retry() {
    let s = run(r#"
        [run]
        messages = 20000
        warmup_s = 0
        [transport]
        transient_retry_interval_s = 1
        message_retry_interval_s = 1
        [sources.a]
        rate_per_s = 9
        route = "r"
        [hops.h]
        servers = 1
        service_ms = { dist = "exponential", rate_per_s = 10 }
        queue_limit = 5
        [routes.r]
        steps = ["h"]
        deliver = "f"
        "#);
    let st = &s.variants[0].stations[0].summary;
    assert!(st.max_queue_len.mean <= 5.0);
    assert!(st.refusals.mean > 100.0, "refusals {}", st.refusals.mean);
    let a = s.variants[0].accounting;
    assert_eq!(a.delivered, a.generated);
}

/// A link's connection cap queues messages at the sender: 1.5 msg/s over 2 connections that
/// each take 1 s is an M/D/2 at utilization 0.75, so copies wait; uncapped, none do.
#[test]
fn link_connection_limit_queues_at_the_sender() {
    let text = |cap: &str| {
        format!(
            r#"
            [run]
            duration_s = 5000
            [sources.a]
            rate_per_s = 1.5
            route = "r"
            [links.l]
            latency_ms = {{ dist = "deterministic", value = 1000 }}
            {cap}
            [routes.r]
            steps = ["l"]
            deliver = "f"
            "#
        )
    };
    let capped = run(&text("max_connections = 2"));
    let st = &capped.variants[0].stations[0];
    assert_eq!(st.servers, Some(2));
    assert!(
        st.summary.mean_wait_ms.mean > 50.0,
        "wait {}",
        st.summary.mean_wait_ms.mean
    );
    let u = st.summary.utilization.unwrap().mean;
    assert!((u - 0.75).abs() < 0.03, "utilization {u}");
    let free = run(&text(""));
    assert_eq!(free.variants[0].stations[0].summary.mean_wait_ms.mean, 0.0);
}

/// Shadow redundancy or not, failing hops lose nothing: random failures on two hops, one of
/// each kind, with bounded queues, in a drained run.
#[test]
fn random_failures_lose_nothing_with_or_without_shadow_redundancy() {
    for shadow in [true, false] {
        let s = run(&format!(
            r#"
            [run]
            messages = 30000
            warmup_s = 0
            seed = 9
            [transport]
            transient_retry_interval_s = 30
            message_retry_interval_s = 60
            [sources.a]
            rate_per_s = 20
            route = "r"
            [hops.a]
            servers = 4
            service_ms = {{ dist = "exponential", mean = 100 }}
            shadow_redundancy = {shadow}
            failures = {{ mtbf_s = 200, mttr_s = 20 }}
            queue_limit = 50
            [hops.b]
            servers = 4
            service_ms = {{ dist = "lognormal", median = 80, sigma = 0.5 }}
            shadow_redundancy = {}
            failures = {{ mtbf_s = 300, mttr_s = 30 }}
            [routes.r]
            steps = ["a", "b"]
            deliver = "f"
            "#,
            !shadow
        ));
        let v = &s.variants[0];
        assert!(v.outages.len() > 5, "failures happened");
        let a = v.accounting;
        assert_eq!(a.delivered, a.generated, "shadow {shadow}: {a:?}");
    }
}

fn hybrid(extra_hybrid: &str, load: &str, duration: u32) -> String {
    format!(
        r#"
        [run]
        duration_s = {duration}
        warmup_s = 200
        seed = 4
        replications = 4
        [hybrid]
        {extra_hybrid}
        [load]
        {load}
        "#
    )
}

/// MX at EOP with spam share s and EOP catching all of it cuts the inbound load on the first
/// on-premises hop by s compared with MX on-premises, where the Hub receives everything. The
/// variants see the same arrivals (common random numbers), so the ratio is the ham share of
/// one Poisson stream: binomial, standard error √(s(1−s)/N) ≈ 0.002 here; 5 of them bound it.
#[test]
fn mx_at_eop_cuts_onprem_inbound_load_by_the_spam_share() {
    let s_share: f64 = 0.5;
    let s = run(&hybrid(
        r#"variants = [{ mx = "eop", centralized_mail_transport = true }, { mx = "onprem", centralized_mail_transport = false }]
        spam_detection = { eop = 1.0, onprem = 0.0, eop_behind_onprem = 0.0 }"#,
        &format!(
            "onprem_recipient_share = 0.5\nspam_share = {s_share}\nrates_per_s = {{ inbound = 20, outbound_from_onprem = 1e-9, outbound_from_cloud = 1e-9, onprem_to_cloud = 1e-9, cloud_to_onprem = 1e-9 }}"
        ),
        1200,
    ));
    let arrivals = |variant: &str, hop: &str| {
        let v = s.variants.iter().find(|v| v.name == variant).unwrap();
        v.stations
            .iter()
            .find(|st| st.name == hop)
            .unwrap()
            .summary
            .arrival_rate_per_s
            .mean
    };
    let eop = arrivals("mx-eop_cmt-on", "cas2013");
    let onprem = arrivals("mx-onprem_cmt-off", "hub2007");
    let ratio = eop / onprem;
    let n = 20.0 * 1000.0 * 4.0;
    let se = (s_share * (1.0 - s_share) / n).sqrt();
    assert!((ratio - (1.0 - s_share)).abs() < 5.0 * se, "ratio {ratio}");
    let filtered: f64 = ["inbound_to_onprem", "inbound_to_cloud"]
        .iter()
        .map(|f| flow(&s, "mx-eop_cmt-on", f).filtered_spam.mean)
        .sum();
    assert!(filtered > 0.0);
}

/// The SMTP-rewriting device raises quarantine and latency for cross-premises flows only.
/// Flows that never cross it see only second-order effects through shared hops (their mean
/// moves by well under 3%), while cross-premises flows gain the external processing (median
/// 300 ms on a mean of 1.0–1.4 s).
#[test]
fn rewriting_device_hurts_cross_premises_flows_only() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("scenarios/smtp-rewriting-device.toml")).unwrap();
    let text = text
        .replace("duration_s = 3600", "duration_s = 1200")
        .replace("replications = 3", "replications = 4");
    let s = run(&text);
    let (off, on) = ("mx-eop_cmt-off", "mx-eop_cmt-off_appliance");
    for f in ["onprem_to_cloud", "cloud_to_onprem"] {
        assert!(flow(&s, on, f).quarantined.mean > 0.0, "{f} quarantined");
        assert_eq!(flow(&s, off, f).quarantined.mean, 0.0);
        let (a, b) = (flow(&s, off, f).mean_ms.mean, flow(&s, on, f).mean_ms.mean);
        assert!(b > a + 200.0, "{f}: {a} → {b}");
    }
    for f in [
        "inbound_to_cloud",
        "outbound_from_onprem",
        "outbound_from_cloud",
    ] {
        assert_eq!(flow(&s, on, f).quarantined.mean, 0.0, "{f}");
        let (a, b) = (flow(&s, off, f).mean_ms.mean, flow(&s, on, f).mean_ms.mean);
        assert!((b - a).abs() < 0.03 * a, "{f}: {a} → {b}");
    }
}

/// costs.csv: EOP licences follow the MX, and MX on-premises sends inbound cloud copies over
/// the hybrid connector, so more crosses to the cloud than with MX at EOP (CMT off).
#[test]
fn costs_follow_the_routes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("scenarios/hybrid-routing.toml")).unwrap();
    let text = text
        .replace("duration_s = 3600", "duration_s = 900")
        .replace("replications = 5", "replications = 2");
    let s = run(&text);
    let rows = cost_rows(&s);
    assert_eq!(rows.len(), 4);
    let row = |n: &str| rows.iter().find(|r| r.variant == n).unwrap();
    assert_eq!(row("mx-eop_cmt-off").eop_licences, Some(Sig(12000.0)));
    assert_eq!(row("mx-onprem_cmt-off").eop_licences, Some(Sig(0.0)));
    let to_cloud = |n: &str| row(n).to_cloud_messages_per_day.unwrap().0;
    assert!(to_cloud("mx-onprem_cmt-off") > 3.0 * to_cloud("mx-eop_cmt-off"));
    assert!(
        row("mx-eop_cmt-on").onprem_internet_peak_mbps.unwrap()
            > row("mx-eop_cmt-off").onprem_internet_peak_mbps.unwrap()
    );
}

/// Back pressure tarpits before it refuses: each refusal holds the sender 10 s, rising by 5 s
/// per refusal to 55 s, on top of the retry interval (1 s here). Without the tarpit every
/// deferral costs exactly the retry interval, so the per-deferral delay separates the two.
#[test]
fn back_pressure_tarpit_holds_refused_senders() {
    let text = |tarpit: bool| {
        format!(
            r#"
            [run]
            messages = 5000
            warmup_s = 0
            [transport]
            transient_retry_interval_s = 1
            message_retry_interval_s = 1
            [sources.a]
            rate_per_s = 9
            route = "r"
            [hops.h]
            servers = 1
            service_ms = {{ dist = "exponential", rate_per_s = 10 }}
            queue_limit = 5
            tarpit = {tarpit}
            [routes.r]
            steps = ["h"]
            deliver = "f"
            "#
        )
    };
    let per_deferral_ms = |tarpit: bool| {
        let s = run(&text(tarpit));
        let f = flow(&s, "test", "f");
        assert!(f.deferrals.mean > 10.0, "refusals happened");
        f.mean_retry_delay_ms.mean * f.delivered.mean / f.deferrals.mean
    };
    let plain = per_deferral_ms(false);
    assert!((plain - 1000.0).abs() < 1e-6, "{plain}");
    let held = per_deferral_ms(true);
    assert!((11_000.0..=56_000.0).contains(&held), "{held}");
}
