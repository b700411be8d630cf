//! Pure helpers the store implementations share: state kept in memory, validation, value
//! conversions between Rust and SQL types.

use std::sync::atomic::AtomicU32;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::config::StoreConfig;
use crate::cost::CostModel;
use crate::error::StoreError;
use crate::hashing::is_sha256_hex;
use crate::job::NewJob;
use crate::status::JobStatus;
use crate::work::WorkerInfo;
use contracts::Lane;

/// Counter rows per status: concurrent transactions pick a shard by job id and rarely wait on
/// each other's counter row.
pub(crate) const COUNT_SHARDS: u8 = 16;

/// How long the list of live workers (ETA capacity) is reused before it is read again. Heartbeats
/// come every few seconds, so a second of staleness does not change an estimate.
const WORKERS_CACHE_TTL: Duration = Duration::from_secs(1);

/// Longest idempotency key, tenant and similar short texts accepted.
const MAX_SHORT_TEXT: usize = 200;

/// In-memory state of one store instance.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: StoreConfig,
    pub model: RwLock<CostModel>,
    /// Observations recorded since the last refit by this instance.
    pub observed: AtomicU32,
    workers: Mutex<Option<(Instant, Vec<WorkerInfo>)>>,
}

impl Shared {
    pub fn new(config: StoreConfig) -> Self {
        Self {
            config,
            model: RwLock::new(CostModel::default()),
            observed: AtomicU32::new(0),
            workers: Mutex::new(None),
        }
    }

    pub fn cached_workers(&self) -> Option<Vec<WorkerInfo>> {
        let guard = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|(at, _)| at.elapsed() < WORKERS_CACHE_TTL)
            .map(|(_, w)| w.clone())
    }

    pub fn cache_workers(&self, workers: Vec<WorkerInfo>) {
        *self.workers.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), workers));
    }

    pub fn forget_workers(&self) {
        *self.workers.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub fn model(&self) -> CostModel {
        // A poisoned lock only means a writer panicked mid-assignment of a whole value.
        self.model.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_model(&self, m: CostModel) {
        *self.model.write().unwrap_or_else(|e| e.into_inner()) = m;
    }
}

/// Now, at the microsecond precision both databases keep, so a value read back equals the one
/// written (cursors depend on it).
pub(crate) fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

pub(crate) fn shard_of(id: Uuid) -> i16 {
    i16::from(id.as_bytes()[15] % COUNT_SHARDS)
}

pub(crate) fn to_i64(v: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Invalid(format!("{what} too large")))
}

pub(crate) fn parse_status(s: &str) -> Result<JobStatus, StoreError> {
    s.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))
}

pub(crate) fn parse_lane(s: &str) -> Result<Lane, StoreError> {
    s.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))
}

/// Lanes as stored in `workers.lanes`: comma-separated names.
pub(crate) fn lanes_text(lanes: &[Lane]) -> String {
    lanes
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn parse_lanes(s: &str) -> Vec<Lane> {
    s.split(',').filter_map(|p| p.trim().parse().ok()).collect()
}

/// Refuses a submission the store cannot keep meaningfully.
pub(crate) fn validate(job: &NewJob) -> Result<(), StoreError> {
    let short = |v: &str, what: &str| {
        if v.trim().is_empty() || v.len() > MAX_SHORT_TEXT {
            Err(StoreError::Invalid(format!(
                "{what} must be 1..={MAX_SHORT_TEXT} characters"
            )))
        } else {
            Ok(())
        }
    };
    short(&job.tenant, "tenant")?;
    short(&job.idempotency_key, "idempotency key")?;
    if !is_sha256_hex(&job.model_sha256) {
        return Err(StoreError::Invalid(
            "model_sha256 must be 64 lower-case hex digits".into(),
        ));
    }
    to_i64(job.triangles, "triangle count")?;
    Ok(())
}

/// Seconds between two instants (negative if `to` is before `from`).
pub(crate) fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from)
        .num_microseconds()
        .map_or(0.0, |us| us as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use contracts::Channel;

    fn job() -> NewJob {
        NewJob {
            tenant: "t".into(),
            channel: Channel::Website,
            idempotency_key: "k".into(),
            partner_ref: None,
            model_sha256: "a".repeat(64),
            format: contracts::Format::StlBinary,
            triangles: 10,
            alloys: vec![],
            options: serde_json::json!({}),
            rules_version: None,
        }
    }

    #[test]
    fn validation_cases() {
        let cases: Vec<(&str, NewJob, bool)> = vec![
            ("ok", job(), true),
            (
                "empty tenant",
                NewJob {
                    tenant: " ".into(),
                    ..job()
                },
                false,
            ),
            (
                "long key",
                NewJob {
                    idempotency_key: "k".repeat(201),
                    ..job()
                },
                false,
            ),
            (
                "upper-case sha",
                NewJob {
                    model_sha256: "A".repeat(64),
                    ..job()
                },
                false,
            ),
            (
                "short sha",
                NewJob {
                    model_sha256: "a".repeat(63),
                    ..job()
                },
                false,
            ),
            (
                "huge count",
                NewJob {
                    triangles: u64::MAX,
                    ..job()
                },
                false,
            ),
        ];
        for (name, j, ok) in cases {
            assert_eq!(validate(&j).is_ok(), ok, "{name}");
        }
    }

    #[test]
    fn lanes_round_trip() {
        let lanes = vec![Lane::Small, Lane::Large];
        assert_eq!(parse_lanes(&lanes_text(&lanes)), lanes);
        assert_eq!(
            parse_lanes("small, bogus,medium"),
            vec![Lane::Small, Lane::Medium]
        );
        assert!(parse_lanes("").is_empty());
    }
}
