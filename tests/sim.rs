//! Library-level checks of the simulation: queueing theory sanity, conservation under random
//! topologies, and the bifurcation rules.

use mailflow::runner::{self, RunOptions, Unit};
use mailflow::scenario::{self, LoadOptions, Scenario};
use rand::{Rng, SeedableRng};

fn scenario(text: &str) -> Scenario {
    scenario::from_text(text, "test.toml", "test", LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// M/M/1 at ρ = 0.8 (λ = 8/s, μ = 10/s): FIFO sojourn is exponential with rate μ − λ, so the
/// mean is 0.5 s and the p90 is ln(10)/2 s. 20 replications of 20 000 s give a Student-t
/// interval; the check allows 4 standard errors (P(|T₁₉| > 4) ≈ 0.0008 across seeds), and the
/// interval must be tight enough (under 3% of the mean) for the check to mean something: a
/// service rate 10% off (mean 0.333 s) would be 30 standard errors away.
#[test]
fn mm1_sojourn_matches_closed_form() {
    let scn = scenario(
        r#"
        [run]
        duration_s = 20000
        warmup_s = 500
        seed = 11
        replications = 20
        [sources.a]
        rate_per_s = 8
        route = "r"
        [hops.q]
        servers = 1
        service_ms = { dist = "exponential", rate_per_s = 10 }
        [routes.r]
        steps = ["q"]
        deliver = "f"
        "#,
    );
    let study = runner::run(&scn, RunOptions::default(), &|| {}).unwrap();
    let f = &study.variants[0].flows[0].1;
    let theory_mean = 500.0;
    let (lo, hi) = f.mean_ms.ci95.unwrap();
    let se = (hi - lo) / 2.0 / 2.093; // t(0.975, 19)
    assert!(
        (f.mean_ms.mean - theory_mean).abs() < 4.0 * se,
        "mean {} vs {theory_mean}, se {se}",
        f.mean_ms.mean
    );
    assert!(
        se * 4.0 < 0.03 * theory_mean,
        "interval too wide to test anything: se {se}"
    );
    let theory_p90 = 10f64.ln() / 2.0 * 1000.0;
    let (lo, hi) = f.p90_ms.ci95.unwrap();
    let se = (hi - lo) / 2.0 / 2.093;
    // Histogram buckets add at most 0.1% (3 significant digits) on top of sampling error.
    assert!(
        (f.p90_ms.mean - theory_p90).abs() < 4.0 * se + 0.001 * theory_p90,
        "p90 {} vs {theory_p90}",
        f.p90_ms.mean
    );
    // Utilization ρ = 0.8 and Little's law at the station.
    let st = &study.variants[0].stations[0].summary;
    let u = st.utilization.unwrap();
    let half = (u.ci95.unwrap().1 - u.ci95.unwrap().0) / 2.0;
    assert!(
        (u.mean - 0.8).abs() < 2.0 * half.max(1e-3),
        "utilization {}",
        u.mean
    );
    assert!(
        st.littles_law_rel_err < 0.01,
        "Little's law: {}",
        st.littles_law_rel_err
    );
}

/// Builds a random network: 1–5 hops with random servers and service, routes that feed back
/// with random probabilities, sometimes a split. Loads are kept stable.
fn random_scenario(rng: &mut impl Rng, bounded_by_messages: bool) -> String {
    let hops = rng.random_range(1..=5);
    let mut s = String::from("groups = [\"x\", \"y\"]\n");
    if bounded_by_messages {
        s += &format!(
            "[run]\nmessages = {}\nwarmup_s = 0\nseed = {}\n",
            rng.random_range(1..3000),
            rng.random::<u32>()
        );
    } else {
        s += &format!(
            "[run]\nduration_s = {}\nwarmup_s = 0\nseed = {}\n",
            rng.random_range(1..200),
            rng.random::<u32>()
        );
    }
    s += &format!(
        "[sources.a]\nrate_per_s = {}\nroute = \"r0\"\ngroups = {{ x = 0.5, y = 0.5 }}\nrecipients = {{ counts = [1, 2, 7], weights = [3, 2, 1] }}\n",
        rng.random_range(1..20)
    );
    for h in 0..hops {
        let servers = if rng.random_bool(0.2) {
            "\"unlimited\"".to_string()
        } else {
            rng.random_range(50..100).to_string()
        };
        s += &format!(
            "[hops.h{h}]\nservers = {servers}\nservice_ms = {{ dist = \"exponential\", mean = {} }}\n",
            rng.random_range(1..50)
        );
    }
    for h in 0..hops {
        s += &format!("[routes.r{h}]\nsteps = [\"h{h}\"]\n");
        if h + 1 == hops {
            s += "split = { x = \"out_x\", y = \"out_y\" }\n";
        } else {
            let back = rng.random_range(0..=h);
            let p: f64 = rng.random_range(0.0..0.5);
            s += &format!(
                "next = [{{ p = {p}, route = \"r{back}\" }}, {{ p = {}, route = \"r{}\" }}]\n",
                1.0 - p,
                h + 1
            );
        }
    }
    s += "[routes.out_x]\ndeliver = \"fx\"\n[routes.out_y]\nnext = [{ p = 0.5, deliver = \"fy\" }, { p = 0.5, route = \"r0\" }]\n";
    s
}

/// Nothing is lost: in random networks every generated recipient ends delivered or in flight
/// (the run's own check), and when a run drains (message-bounded) every one is delivered and the
/// flows' latency records account for all of them.
#[test]
fn random_networks_conserve_recipients() {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(99);
    for case in 0..40 {
        let bounded = case % 2 == 0;
        let text = random_scenario(&mut rng, bounded);
        let scn = scenario(&text);
        let r = runner::simulate(
            &scn,
            Unit {
                variant: 0,
                replication: 0,
            },
            scn.run.seed,
        )
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let a = r.accounting;
        assert_eq!(a.generated, a.ended(), "{text}");
        let recorded: u64 = r.flows.iter().map(|f| f.delivered).sum();
        assert_eq!(
            recorded, a.delivered,
            "every delivery is recorded under a flow\n{text}"
        );
        if bounded {
            assert_eq!(
                a.in_flight, 0,
                "a drained run has nothing in flight\n{text}"
            );
            assert_eq!(a.delivered, a.generated);
            assert_eq!(a.messages, scn.run.max_messages.unwrap());
        }
    }
}

/// A split sends one copy per recipient group present, carrying that group's recipients: with
/// every message to 3 recipients, all in group x or spread, x and y deliveries add up to 3 per
/// message.
#[test]
fn split_copies_carry_their_groups_recipients() {
    let scn = scenario(
        r#"
        groups = ["x", "y"]
        [run]
        messages = 5000
        seed = 3
        [sources.a]
        rate_per_s = 10
        route = "in"
        groups = { x = 0.25, y = 0.75 }
        recipients = { counts = [3], weights = [1] }
        [hops.h]
        servers = "unlimited"
        service_ms = { dist = "deterministic", value = 1 }
        [routes.in]
        steps = ["h"]
        split = { x = "to_x", y = "to_y" }
        [routes.to_x]
        deliver = "x"
        [routes.to_y]
        deliver = "y"
        "#,
    );
    let r = runner::simulate(
        &scn,
        Unit {
            variant: 0,
            replication: 0,
        },
        3,
    )
    .unwrap();
    let (x, y) = (&r.flows[0], &r.flows[1]);
    assert_eq!(x.delivered + y.delivered, 15_000);
    // Copies: a message makes a y copy unless all 3 are in x (p = 1/64), an x copy unless none
    // are (p = 27/64). Expected copies 5000 × (2 − 28/64); allow 5 binomial standard errors.
    let copies = (x.copies + y.copies) as f64;
    let expected = 5000.0 * (2.0 - 28.0 / 64.0);
    let se = (5000.0f64 * 0.25).sqrt();
    assert!(
        (copies - expected).abs() < 5.0 * se,
        "{copies} vs {expected}"
    );
    // Share of recipients in x: 0.25 within 5 standard errors of a binomial proportion.
    let share = x.delivered as f64 / 15_000.0;
    assert!(
        (share - 0.25).abs() < 5.0 * (0.25f64 * 0.75 / 15_000.0).sqrt(),
        "{share}"
    );
}

/// Common random numbers: variants of a replication see the same arrivals, so two identical
/// variants give identical results, and a different replication differs.
#[test]
fn replications_differ_and_units_are_reproducible() {
    let scn = scenario(
        r#"
        [run]
        duration_s = 500
        [sources.a]
        rate_per_s = 5
        route = "r"
        [hops.h]
        servers = 1
        service_ms = { dist = "exponential", mean = 100 }
        [routes.r]
        steps = ["h"]
        deliver = "f"
        "#,
    );
    let a = runner::simulate(
        &scn,
        Unit {
            variant: 0,
            replication: 0,
        },
        5,
    )
    .unwrap();
    let b = runner::simulate(
        &scn,
        Unit {
            variant: 0,
            replication: 0,
        },
        5,
    )
    .unwrap();
    let c = runner::simulate(
        &scn,
        Unit {
            variant: 0,
            replication: 1,
        },
        5,
    )
    .unwrap();
    assert_eq!(a.accounting, b.accounting);
    assert_eq!(a.flows[0].sum_ns, b.flows[0].sum_ns);
    assert_ne!(a.flows[0].sum_ns, c.flows[0].sum_ns);
}

/// The per-route scenarios rely on built-in hop and link defaults; the bundled scenario states
/// the same values with their sources. They must not drift apart.
#[test]
fn bundled_scenario_states_the_built_in_defaults() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let full = scenario::load(
        &root.join("scenarios/hybrid-routing.toml"),
        LoadOptions::default(),
    )
    .unwrap();
    let short = scenario::load(
        &root.join("scenarios/mx-eop-cmt-off.toml"),
        LoadOptions::default(),
    )
    .unwrap();
    let describe = |s: &Scenario| -> Vec<String> {
        s.variants[0]
            .network
            .stations
            .iter()
            .map(|st| {
                format!(
                    "{} {:?} {} {}",
                    st.name,
                    st.servers,
                    st.service.describe("ns"),
                    st.per_kb_ns
                )
            })
            .collect()
    };
    assert_eq!(describe(&full), describe(&short));
    assert_eq!(
        full.variants[0].sources.len(),
        short.variants[0].sources.len()
    );
    for (a, b) in full.variants[0]
        .sources
        .iter()
        .zip(&short.variants[0].sources)
    {
        assert_eq!(
            (a.rate_per_s, a.recipients.describe()),
            (b.rate_per_s, b.recipients.describe())
        );
    }
}
