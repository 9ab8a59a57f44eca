//! mailflow: a discrete-event throughput simulator for mail transport routing in hybrid
//! Exchange deployments. See ARCHITECTURE.md for the map.

pub mod capacity;
pub mod engine;
pub mod load;
pub mod model;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod shard;
pub mod stats;
pub mod sweep;
pub mod validate;
