//! mailflow: a discrete-event throughput simulator for mail transport routing in hybrid
//! Exchange deployments. See ARCHITECTURE.md for the map.
//!
//! The binary is a thin layer over this library: load a scenario, run it, summarize.
//!
//! ```
//! use mailflow::runner::{self, RunOptions};
//! use mailflow::scenario::{self, LoadOptions};
//!
//! // An M/M/1 queue at utilization 0.5: mean time in system 1/(μ − λ) = 200 ms.
//! let text = r#"
//!     [run]
//!     duration_s = 2000
//!     replications = 4
//!     [sources.arrivals]
//!     rate_per_s = 5
//!     route = "r"
//!     [hops.q]
//!     servers = 1
//!     service_ms = { dist = "exponential", rate_per_s = 10 }
//!     [routes.r]
//!     steps = ["q"]
//!     deliver = "done"
//! "#;
//! let scn = scenario::from_text(text, "mm1.toml", "mm1", LoadOptions::default())?;
//! let study = runner::run(&scn, RunOptions::default(), &|| {})?;
//! let (flow, summary) = &study.variants[0].flows[0];
//! assert_eq!(flow, "done");
//! // A loose bound for an example (about 9000 deliveries per replication put the standard
//! // error near 1%); `mailflow validate` makes the precise checks.
//! assert!((summary.mean_ms.mean - 200.0).abs() < 20.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod calibrate;
pub mod capacity;
pub mod engine;
pub mod error;
pub mod hybrid;
pub mod load;
pub mod model;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod shard;
pub mod stats;
pub mod sweep;
pub mod validate;
