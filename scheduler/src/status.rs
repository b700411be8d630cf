//! The job lifecycle and the set of allowed transitions.
//!
//! The same set is seeded into the `allowed_transitions` table, which the history table references
//! by foreign key, so the database refuses an illegal transition even if a caller bypasses
//! [`JobStatus::can_transition_to`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a pricing job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    /// Accepted and recorded, not yet routed to a lane.
    Submitted,
    /// Routed to a lane; a "run" message is in the outbox or on the queue.
    Queued,
    /// A worker has started it (`attempts` counts the starts).
    Calculating,
    /// Priced; the quote is in `result`.
    PriceCalculated,
    /// The model is bad or unmanufacturable; the reason is in `reason`. Terminal.
    Rejected,
    /// Retries exhausted and dead-lettered; an operator may re-queue it.
    Failed,
}

impl JobStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Submitted,
        JobStatus::Queued,
        JobStatus::Calculating,
        JobStatus::PriceCalculated,
        JobStatus::Rejected,
        JobStatus::Failed,
    ];

    /// The text stored in the database and shown in the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Submitted => "SUBMITTED",
            JobStatus::Queued => "QUEUED",
            JobStatus::Calculating => "CALCULATING",
            JobStatus::PriceCalculated => "PRICE_CALCULATED",
            JobStatus::Rejected => "REJECTED",
            JobStatus::Failed => "FAILED",
        }
    }

    /// True when nothing will happen to the job without an operator.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::PriceCalculated | JobStatus::Rejected | JobStatus::Failed
        )
    }

    /// Whether `self -> to` is in the allowed set.
    ///
    /// - `SUBMITTED -> PRICE_CALCULATED` is a quote served from the quote cache.
    /// - `CALCULATING -> CALCULATING` is a restart after a worker died mid-job and the broker
    ///   redelivered the message (attempts grows, so a poison job ends in FAILED).
    /// - `CALCULATING -> QUEUED` is an automatic retry; `FAILED -> QUEUED` an operator's retry.
    pub const fn can_transition_to(self, to: JobStatus) -> bool {
        use JobStatus::*;
        matches!(
            (self, to),
            (Submitted, Queued | Rejected | PriceCalculated | Failed)
                | (Queued, Calculating | Rejected | Failed)
                | (
                    Calculating,
                    Calculating | Queued | PriceCalculated | Rejected | Failed
                )
                | (Failed, Queued)
        )
    }

    /// Every allowed `(from, to)` pair; used to seed the database and by tests.
    pub fn allowed_transitions() -> Vec<(JobStatus, JobStatus)> {
        let mut out = Vec::new();
        for from in Self::ALL {
            for to in Self::ALL {
                if from.can_transition_to(to) {
                    out.push((from, to));
                }
            }
        }
        out
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status text that is not one of [`JobStatus::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown job status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for JobStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::JobStatus::{self, *};

    #[test]
    fn transition_table() {
        // (from, to, allowed) for every pair: 36 cases, written out so a change is deliberate.
        let cases = [
            (Submitted, Submitted, false),
            (Submitted, Queued, true),
            (Submitted, Calculating, false),
            (Submitted, PriceCalculated, true),
            (Submitted, Rejected, true),
            (Submitted, Failed, true),
            (Queued, Submitted, false),
            (Queued, Queued, false),
            (Queued, Calculating, true),
            (Queued, PriceCalculated, false),
            (Queued, Rejected, true),
            (Queued, Failed, true),
            (Calculating, Submitted, false),
            (Calculating, Queued, true),
            (Calculating, Calculating, true),
            (Calculating, PriceCalculated, true),
            (Calculating, Rejected, true),
            (Calculating, Failed, true),
            (PriceCalculated, Submitted, false),
            (PriceCalculated, Queued, false),
            (PriceCalculated, Calculating, false),
            (PriceCalculated, PriceCalculated, false),
            (PriceCalculated, Rejected, false),
            (PriceCalculated, Failed, false),
            (Rejected, Submitted, false),
            (Rejected, Queued, false),
            (Rejected, Calculating, false),
            (Rejected, PriceCalculated, false),
            (Rejected, Rejected, false),
            (Rejected, Failed, false),
            (Failed, Submitted, false),
            (Failed, Queued, true),
            (Failed, Calculating, false),
            (Failed, PriceCalculated, false),
            (Failed, Rejected, false),
            (Failed, Failed, false),
        ];
        assert_eq!(cases.len(), 36);
        for (from, to, allowed) in cases {
            assert_eq!(from.can_transition_to(to), allowed, "{from} -> {to}");
        }
        assert_eq!(JobStatus::allowed_transitions().len(), 13);
    }

    #[test]
    fn migrations_seed_exactly_the_allowed_set() {
        for sql in [
            include_str!("../migrations/postgres/0001_job_store.sql"),
            include_str!("../migrations/sqlite/0001_job_store.sql"),
        ] {
            let seed = sql
                .split("INSERT INTO allowed_transitions")
                .nth(1)
                .and_then(|rest| rest.split(';').next())
                .unwrap();
            assert_eq!(
                seed.matches("('").count(),
                JobStatus::allowed_transitions().len()
            );
            for (from, to) in JobStatus::allowed_transitions() {
                assert!(
                    sql.contains(&format!("('{from}', '{to}')")),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn text_round_trip() {
        for st in JobStatus::ALL {
            assert_eq!(st.as_str().parse::<JobStatus>(), Ok(st));
            assert_eq!(
                serde_json::to_string(&st).unwrap(),
                format!("\"{}\"", st.as_str())
            );
        }
        assert!("DONE".parse::<JobStatus>().is_err());
    }
}
