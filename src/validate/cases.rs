//! The suite's cases: networks with exact answers, each written as an ordinary scenario
//! (TOML text, loaded through [`crate::scenario::from_text`] like any user's file) together
//! with the figures theory predicts for it.
//!
//! Time scale: every server's mean service time is 10 ms unless a case says otherwise, so
//! answers are tens to hundreds of milliseconds, where the latency histograms (3 significant
//! digits, microseconds) resolve 0.1%.

use std::fmt::Write;

use super::theory::{Jackson, Mmc, pollaczek_khinchine_wait};

/// How long the suite runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// The published table: about a minute on 2 cores.
    Full,
    /// A quarter of the customers per replication and half the replications, for `cargo test`.
    Quick,
}

impl Size {
    /// Replications when the caller gives none. Twenty keep the Student-t quantile of the
    /// pass criterion (19 degrees of freedom) close to the normal one; ten still leave the
    /// wrong-model test a wide margin (see the tests in `super`).
    pub fn default_replications(self) -> u32 {
        match self {
            Size::Full => 20,
            Size::Quick => 10,
        }
    }

    fn customer_scale(self) -> f64 {
        match self {
            Size::Full => 1.0,
            Size::Quick => 0.25,
        }
    }
}

/// A latency quantile the run's summaries hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantile {
    P50,
    P90,
    P99,
}

impl Quantile {
    pub fn p(self) -> f64 {
        match self {
            Quantile::P50 => 0.5,
            Quantile::P90 => 0.9,
            Quantile::P99 => 0.99,
        }
    }
}

/// What a metric measures and where the simulated value comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Measure {
    /// Mean end-to-end latency of the case's one flow, ms.
    FlowMean,
    /// End-to-end latency of the flow at a quantile, ms.
    FlowQuantile(Quantile),
    /// Mean wait before service at station `0` (network order), ms.
    MeanWait(usize),
    /// Waiting time at a station at a quantile (P90 or P99: stations keep no median), ms.
    WaitQuantile(usize, Quantile),
    /// Share of copies that waited at a station.
    WaitProbability(usize),
    /// Arrivals per second at a station (external plus fed back).
    ArrivalRate(usize),
}

/// One figure of a case: its name (a CSV cell), what theory says, and how it is measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub name: String,
    pub theory: f64,
    pub measure: Measure,
}

/// A case: a scenario text and its metrics.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: &'static str,
    /// One line for `--help` and the docs.
    pub about: &'static str,
    kind: Kind,
}

#[derive(Clone, Copy, Debug)]
enum Service {
    Exponential,
    Deterministic,
    /// Log-normal with this sigma (of the log), mean kept at the case's mean service time.
    LogNormal(f64),
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// One station, c servers at rate μ each, utilization ρ, with the given service law.
    Single {
        c: u32,
        rho: f64,
        service: Service,
        /// Customers per replication (statistics window) at full size.
        customers: f64,
    },
    Tandem,
    Feedback,
}

/// Service rate of one server, per second (mean service time 10 ms).
const MU: f64 = 100.0;

/// Every case, in the order the table lists them.
pub fn all() -> Vec<Case> {
    use Kind::*;
    use Service::*;
    // Customers per replication at full size. The standard error of a mean wait over n
    // customers of M/M/1 is sqrt(v/n) relative, with v = (2+5ρ−4ρ²+ρ³)/(ρ(1−ρ)²)
    // (Blomqvist 1967): v ≈ 29 at ρ = 0.5, 124 at 0.8, 1680 at 0.95. The sizes below give
    // those means a relative standard error of 0.3–0.7% over 20 replications at full size,
    // spending the customers where the variance is.
    let single = |c, rho, service, customers| Single {
        c,
        rho,
        service,
        customers,
    };
    vec![
        Case {
            name: "mm1_rho0.50",
            about: "M/M/1 at utilization 0.5",
            kind: single(1, 0.5, Exponential, 2e5),
        },
        Case {
            name: "mm1_rho0.80",
            about: "M/M/1 at utilization 0.8",
            kind: single(1, 0.8, Exponential, 5e5),
        },
        Case {
            name: "mm1_rho0.95",
            about: "M/M/1 at utilization 0.95",
            kind: single(1, 0.95, Exponential, 2e6),
        },
        Case {
            name: "mmc_c4_rho0.90",
            about: "M/M/4 at utilization 0.9 (Erlang C)",
            kind: single(4, 0.9, Exponential, 1e6),
        },
        Case {
            name: "mmc_c16_rho0.90",
            about: "M/M/16 at utilization 0.9 (Erlang C)",
            kind: single(16, 0.9, Exponential, 1e6),
        },
        Case {
            name: "md1_rho0.80",
            about: "M/D/1 at utilization 0.8 (Pollaczek-Khinchine)",
            kind: single(1, 0.8, Deterministic, 5e5),
        },
        Case {
            name: "mg1_lognormal_rho0.80",
            about: "M/G/1, log-normal service (sigma 1), utilization 0.8 (Pollaczek-Khinchine)",
            kind: single(1, 0.8, LogNormal(1.0), 1e6),
        },
        Case {
            name: "jackson_tandem",
            about: "three M/M/c stations in series, each at utilization 0.75",
            kind: Tandem,
        },
        Case {
            name: "jackson_feedback",
            about: "M/M/2 then M/M/1 with 25% fed back, then M/M/3 (traffic equations)",
            kind: Feedback,
        },
    ]
}

/// The names of every case, for the command line's `--case`.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|c| c.name).collect()
}

/// The tandem network: 90/s through 4 × 30/s, 2 × 60/s and 8 × 15/s (the bundled
/// `scenarios/tandem-mmc.toml`).
fn tandem() -> Jackson {
    Jackson {
        stations: vec![(4, 30.0), (2, 60.0), (8, 15.0)],
        external: vec![90.0, 0.0, 0.0],
        routing: vec![
            vec![0.0, 1.0, 0.0],
            vec![0.0, 0.0, 1.0],
            vec![0.0, 0.0, 0.0],
        ],
    }
}

/// The feedback network: 60/s enter s1 (2 × 50/s), go on to s2 (1 × 100/s), from which a
/// quarter return to s1 and the rest go to s3 (3 × 40/s) and leave. Traffic equations:
/// Λ1 = Λ2 = 60 / 0.75 = 80/s (utilization 0.8 each), Λ3 = 60/s (0.5).
const FEEDBACK_P: f64 = 0.25;
fn feedback() -> Jackson {
    Jackson {
        stations: vec![(2, 50.0), (1, 100.0), (3, 40.0)],
        external: vec![60.0, 0.0, 0.0],
        routing: vec![
            vec![0.0, 1.0, 0.0],
            vec![FEEDBACK_P, 0.0, 1.0 - FEEDBACK_P],
            vec![0.0, 0.0, 0.0],
        ],
    }
}

/// Customers per replication of the network cases at full size.
const NETWORK_CUSTOMERS: f64 = 5e5;

fn ms(seconds: f64) -> f64 {
    seconds * 1e3
}

impl Case {
    /// What theory predicts, one metric per row of the table.
    pub fn metrics(&self) -> Vec<Metric> {
        let m = |name: &str, theory: f64, measure| Metric {
            name: name.to_string(),
            theory,
            measure,
        };
        match self.kind {
            Kind::Single {
                c,
                rho,
                service: Service::Exponential,
                ..
            } => {
                let q = Mmc {
                    lambda: rho * f64::from(c) * MU,
                    mu: MU,
                    c,
                };
                if c == 1 {
                    let mut v = vec![
                        m("mean_wait_ms", ms(q.mean_wait()), Measure::MeanWait(0)),
                        m("mean_sojourn_ms", ms(q.mean_sojourn()), Measure::FlowMean),
                    ];
                    for (name, p) in [
                        ("sojourn_p50_ms", Quantile::P50),
                        ("sojourn_p90_ms", Quantile::P90),
                        ("sojourn_p99_ms", Quantile::P99),
                    ] {
                        v.push(m(
                            name,
                            ms(q.mm1_sojourn_quantile(p.p())),
                            Measure::FlowQuantile(p),
                        ));
                    }
                    v
                } else {
                    vec![
                        m(
                            "wait_probability",
                            q.wait_probability(),
                            Measure::WaitProbability(0),
                        ),
                        m("mean_wait_ms", ms(q.mean_wait()), Measure::MeanWait(0)),
                        m(
                            "wait_p90_ms",
                            ms(q.wait_quantile(0.9)),
                            Measure::WaitQuantile(0, Quantile::P90),
                        ),
                        m(
                            "wait_p99_ms",
                            ms(q.wait_quantile(0.99)),
                            Measure::WaitQuantile(0, Quantile::P99),
                        ),
                    ]
                }
            }
            Kind::Single { rho, service, .. } => {
                let lambda = rho * MU;
                let mean = 1.0 / MU;
                let second = match service {
                    Service::Deterministic => mean * mean,
                    // E[S²] = E[S]²·exp(σ²) for a log-normal.
                    Service::LogNormal(sigma) => mean * mean * (sigma * sigma).exp(),
                    Service::Exponential => unreachable!("handled above"),
                };
                vec![m(
                    "mean_wait_ms",
                    ms(pollaczek_khinchine_wait(lambda, mean, second)),
                    Measure::MeanWait(0),
                )]
            }
            Kind::Tandem => vec![m(
                "mean_sojourn_ms",
                ms(tandem().mean_sojourn()),
                Measure::FlowMean,
            )],
            Kind::Feedback => {
                let j = feedback();
                vec![
                    m("mean_sojourn_ms", ms(j.mean_sojourn()), Measure::FlowMean),
                    m(
                        "s1_arrival_rate_per_s",
                        j.arrival_rates()[0],
                        Measure::ArrivalRate(0),
                    ),
                ]
            }
        }
    }

    /// The scenario text simulated for this case. `service_rate_factor` multiplies every
    /// server's service rate in the simulated model only (theory keeps the true rates): 1 for
    /// validation, anything else builds a deliberately wrong model to check the checker.
    pub fn scenario_text(&self, size: Size, replications: u32, service_rate_factor: f64) -> String {
        let f = service_rate_factor;
        let mut t = String::new();
        let _ = writeln!(t, "# validation case {}: {}", self.name, self.about);
        let _ = writeln!(t, "name = \"{}\"", self.name);
        let (rate, hops, routes, relax, customers) = match self.kind {
            Kind::Single {
                c,
                rho,
                service,
                customers,
            } => {
                let q = Mmc {
                    lambda: rho * f64::from(c) * MU,
                    mu: MU,
                    c,
                };
                let mean_ms = 1e3 / (MU * f);
                let dist = match service {
                    Service::Exponential => {
                        format!("{{ dist = \"exponential\", rate_per_s = {} }}", MU * f)
                    }
                    Service::Deterministic => {
                        format!("{{ dist = \"deterministic\", value = {mean_ms} }}")
                    }
                    Service::LogNormal(sigma) => format!(
                        "{{ dist = \"lognormal\", median = {}, sigma = {sigma} }}",
                        mean_ms * (-sigma * sigma / 2.0).exp()
                    ),
                };
                // Heavy-traffic relaxation time scales with (1 + c_s²)/2, the service time's
                // squared coefficient of variation (Whitt, "Stochastic-Process Limits", §5.7).
                let cs2 = match service {
                    Service::Exponential => 1.0,
                    Service::Deterministic => 0.0,
                    Service::LogNormal(sigma) => (sigma * sigma).exp() - 1.0,
                };
                let relax = q.relaxation_time() * (1.0 + cs2) / 2.0;
                let hops = format!("[hops.s1]\nservers = {c}\nservice_ms = {dist}\n");
                let routes = "[routes.main]\nsteps = [\"s1\"]\ndeliver = \"sojourn\"\n".to_string();
                (q.lambda, hops, routes, relax, customers)
            }
            Kind::Tandem | Kind::Feedback => {
                let j = if matches!(self.kind, Kind::Tandem) {
                    tandem()
                } else {
                    feedback()
                };
                let relax = j
                    .marginals()
                    .iter()
                    .map(Mmc::relaxation_time)
                    .fold(0.0, f64::max);
                let mut hops = String::new();
                for (i, (c, mu)) in j.stations.iter().enumerate() {
                    let _ = writeln!(
                        hops,
                        "[hops.s{}]\nservers = {c}\nservice_ms = {{ dist = \"exponential\", rate_per_s = {} }}",
                        i + 1,
                        mu * f
                    );
                }
                let routes = if matches!(self.kind, Kind::Tandem) {
                    "[routes.main]\nsteps = [\"s1\", \"s2\", \"s3\"]\ndeliver = \"sojourn\"\n"
                        .to_string()
                } else {
                    format!(
                        "[routes.main]\nsteps = [\"s1\", \"s2\"]\nnext = [{{ p = {FEEDBACK_P}, route = \"main\" }}, {{ p = {}, route = \"out\" }}]\n\n\
                         [routes.out]\nsteps = [\"s3\"]\ndeliver = \"sojourn\"\n",
                        1.0 - FEEDBACK_P
                    )
                };
                let rate = j.external.iter().sum();
                (rate, hops, routes, relax, NETWORK_CUSTOMERS)
            }
        };
        // The statistics window holds the case's customers; the warm-up before it is a tenth
        // of the run (the default) or 20 relaxation times, whichever is longer: the empty
        // start's bias decays like exp(−t/τ), so 20τ leaves e^−20 ≈ 2·10⁻⁹ of it.
        let window = customers * size.customer_scale() / rate;
        let warmup = (window / 9.0).max(20.0 * relax);
        let _ = writeln!(
            t,
            "\n[run]\nduration_s = {}\nwarmup_s = {warmup}\nreplications = {replications}\n",
            window + warmup
        );
        let _ = writeln!(
            t,
            "[sources.arrivals]\nrate_per_s = {rate}\nroute = \"main\"\n"
        );
        let _ = writeln!(t, "{hops}");
        t.push_str(&routes);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadOptions, from_text};

    /// Theory's utilizations, per station in network order.
    fn theory_utilizations(case: &Case) -> Vec<f64> {
        match case.kind {
            Kind::Single { rho, .. } => vec![rho],
            Kind::Tandem => tandem().marginals().iter().map(Mmc::rho).collect(),
            Kind::Feedback => feedback().marginals().iter().map(Mmc::rho).collect(),
        }
    }

    #[test]
    fn every_case_loads_and_the_model_agrees_on_utilizations() {
        // The loader's traffic equations (fixed-point iteration over the node graph) against
        // theory's (Gaussian elimination): both exact, so they agree to rounding (1e-9).
        for case in all() {
            let text = case.scenario_text(Size::Quick, 10, 1.0);
            let scn = from_text(&text, case.name, case.name, LoadOptions::default())
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(scn.run.replications, 10);
            let model: Vec<f64> = scn.variants[0]
                .offered_utilization()
                .into_iter()
                .map(|u| u.expect("finite servers"))
                .collect();
            let theory = theory_utilizations(&case);
            assert_eq!(model.len(), theory.len(), "{}", case.name);
            for (m, t) in model.iter().zip(&theory) {
                assert!((m - t).abs() < 1e-9, "{}: model {m}, theory {t}", case.name);
            }
            assert!(!case.metrics().is_empty());
        }
    }

    #[test]
    fn a_wrong_model_changes_only_the_simulated_service_rates() {
        let case = &all()[1]; // M/M/1 at 0.8
        let scn = |f| {
            from_text(
                &case.scenario_text(Size::Quick, 10, f),
                "t",
                "t",
                LoadOptions::default(),
            )
            .unwrap()
        };
        let u = |s: crate::scenario::Scenario| s.variants[0].offered_utilization()[0].unwrap();
        assert!((u(scn(1.1)) - 0.8 / 1.1).abs() < 1e-9);
        assert!(
            (case.metrics()[1].theory - 50.0).abs() < 1e-9,
            "theory keeps μ = 100/s"
        );
    }

    #[test]
    fn warmup_covers_twenty_relaxation_times() {
        // M/M/1 at 0.95: τ = 1 / (100 (1 − √0.95)²) = 15.6 s; quick window 5e5 / 95 s.
        let text = all()[2].scenario_text(Size::Quick, 10, 1.0);
        let scn = from_text(&text, "t", "t", LoadOptions::default()).unwrap();
        let warmup = scn.run.warmup.as_secs_f64();
        let window = scn.run.duration.unwrap().as_secs_f64() - warmup;
        assert!((window - 0.25 * 2e6 / 95.0).abs() < 1e-3, "{window}");
        let tau = 1.0 / (100.0 * (1.0 - 0.95f64.sqrt()).powi(2));
        assert!(
            warmup >= 20.0 * tau && warmup >= window / 9.0 - 1e-6,
            "{warmup}"
        );
    }
}
