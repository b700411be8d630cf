//! Store configuration (deserializable, so the service can read it from its TOML file).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cost::CalibrationConfig;
use crate::fairness::FairnessConfig;
use crate::routing::{LaneThresholds, Queueing};

/// Everything the store decides with, besides the database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreConfig {
    pub lanes: LaneThresholds,
    /// Size lanes, or one FIFO queue (the baseline the load bench measures the lanes against).
    pub queueing: Queueing,
    pub fairness: FairnessConfig,
    pub calibration: CalibrationConfig,
    /// Starts allowed before a job is dead-lettered as FAILED.
    pub max_attempts: u32,
    /// Workers assumed per lane for ETAs while no live worker serves it.
    pub assumed_capacity: u32,
    /// A worker not seen for this many seconds is not counted as alive.
    pub worker_ttl_seconds: u64,
    /// Connections in the pool (PostgreSQL; SQLite readers).
    pub max_connections: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            lanes: LaneThresholds::default(),
            queueing: Queueing::default(),
            fairness: FairnessConfig::default(),
            calibration: CalibrationConfig::default(),
            max_attempts: 3,
            assumed_capacity: 1,
            worker_ttl_seconds: 30,
            max_connections: 10,
        }
    }
}

impl StoreConfig {
    pub fn worker_ttl(&self) -> Duration {
        Duration::from_secs(self.worker_ttl_seconds)
    }
}
