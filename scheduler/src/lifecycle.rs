//! The lifecycle of a job as pure functions: given the job before, the job a caller wants after
//! and the time, what the change is — the new version and timestamps, the status counters to
//! move, the fair-queue bookkeeping, the history row — or a typed refusal; and which outbox
//! messages a job's new state calls for. The stores (`store/common.rs`) only execute a [`Step`]
//! in their transaction; they decide nothing.

use chrono::{DateTime, Utc};
use contracts::{Channel, Lane};

use crate::error::StoreError;
use crate::job::{Job, Transition};
use crate::outbox::{Destination, Message, compose};
use crate::status::JobStatus;

/// How a change is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A status transition (possibly to the same status, e.g. a requeue): history, counters,
    /// fair-queue bookkeeping, outbox.
    Transition,
    /// Claim or release by an operator: only the job row and its version.
    Claim,
}

/// What the fair queue of a lane must do for a change (see [`crate::fairness`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QueueMoves {
    /// The job leaves its tenant's queue in this lane (it was QUEUED): `(lane, cost)`.
    pub leave: Option<(Lane, f64)>,
    /// A worker started it: the lane's virtual clock advances to the job's start tag.
    pub advance_clock: Option<(Lane, f64)>,
    /// The job joins the back of its tenant's queue in its lane (it is QUEUED now); the store
    /// computes its start tag and priority from the lane's clock and sets them on the job.
    pub join: bool,
}

/// A change decided, for a store to execute in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The job as it must be written (version bumped, timestamps set).
    pub job: Job,
    pub queue: QueueMoves,
    /// Status counter deltas, always in the same order (by status name) so two opposite
    /// transitions lock the counter rows alike and cannot deadlock.
    pub counters: Vec<(JobStatus, i64)>,
    pub history: Option<Transition>,
}

/// Decides the change from `before` to `after`. Refuses a transition the status machine does not
/// allow ([`JobStatus::can_transition_to`]).
pub fn step(
    before: &Job,
    mut after: Job,
    kind: ChangeKind,
    actor: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Step, StoreError> {
    after.version = before.version + 1;
    after.updated_at = now;
    if kind == ChangeKind::Claim {
        return Ok(Step {
            job: after,
            queue: QueueMoves::default(),
            counters: Vec::new(),
            history: None,
        });
    }
    if !before.status.can_transition_to(after.status) {
        return Err(StoreError::IllegalTransition {
            job_id: before.id,
            from: before.status,
            to: after.status,
        });
    }
    after.status_changed_at = now;
    if after.status.is_terminal() {
        after.finished_at = Some(now);
    }
    if after.status == JobStatus::Calculating {
        after.started_at = Some(now);
    }
    let mut queue = QueueMoves::default();
    if before.status == JobStatus::Queued {
        queue.leave = Some((before.lane, before.predicted_seconds.max(0.0)));
        if after.status == JobStatus::Calculating {
            queue.advance_clock = Some((before.lane, before.fair_tag));
        }
    }
    if after.status == JobStatus::Queued {
        queue.join = true;
        after.queued_count = before.queued_count.saturating_add(1);
        after.finished_at = None;
        after.started_at = None;
    }
    let mut counters = Vec::new();
    if before.status != after.status {
        counters = vec![(before.status, -1), (after.status, 1)];
        counters.sort_by_key(|(s, _)| s.as_str());
    }
    let history = Some(Transition {
        job_id: after.id,
        from_status: Some(before.status),
        to_status: after.status,
        version: after.version,
        at: now,
        actor: actor.to_owned(),
        note: note.map(str::to_owned),
    });
    Ok(Step {
        job: after,
        queue,
        counters,
        history,
    })
}

/// What a worker's start does to a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// The job is final already (a late redelivery): nothing changes.
    AlreadyFinished,
    /// The proposed job after the start and its history note: CALCULATING with one more attempt
    /// (a restart after a lost worker is CALCULATING again), or FAILED when `max_attempts` starts
    /// were made (a poison message: `dead_lettered`).
    Change {
        after: Box<Job>,
        note: Option<String>,
        dead_lettered: bool,
    },
}

/// A worker asks to start `before`.
pub fn start(before: &Job, worker_id: &str, max_attempts: u32) -> Result<Start, StoreError> {
    match before.status {
        JobStatus::Queued | JobStatus::Calculating => {}
        s if s.is_terminal() => return Ok(Start::AlreadyFinished),
        s => {
            return Err(StoreError::IllegalTransition {
                job_id: before.id,
                from: s,
                to: JobStatus::Calculating,
            });
        }
    }
    let mut after = before.clone();
    if before.attempts >= max_attempts.max(1) {
        after.status = JobStatus::Failed;
        after.reason = Some(format!(
            "retries exhausted after {} attempts",
            before.attempts
        ));
        return Ok(Start::Change {
            note: after.reason.clone(),
            after: Box::new(after),
            dead_lettered: true,
        });
    }
    after.status = JobStatus::Calculating;
    after.attempts += 1;
    after.worker_id = Some(worker_id.to_owned());
    Ok(Start::Change {
        after: Box::new(after),
        note: (before.status == JobStatus::Calculating)
            .then(|| "restarted after a lost worker".to_owned()),
        dead_lettered: false,
    })
}

/// The job a worker's reported outcome makes of `before`: priced, rejected, queued again (a
/// retryable failure with starts left) or FAILED. The reason is also the history note.
pub fn complete(before: &Job, outcome: &crate::work::Outcome, max_attempts: u32) -> Job {
    use crate::work::Outcome;
    let mut after = before.clone();
    match outcome {
        Outcome::Priced {
            quote,
            rules_version,
        } => {
            after.status = JobStatus::PriceCalculated;
            after.result = Some(quote.clone());
            after.rules_version = Some(rules_version.clone());
            after.reason = None;
        }
        Outcome::Rejected { reason } => {
            after.status = JobStatus::Rejected;
            after.reason = Some(reason.clone());
        }
        Outcome::Failed { reason, retryable } => {
            if *retryable && before.attempts < max_attempts.max(1) {
                after.status = JobStatus::Queued;
                after.reason = Some(reason.clone());
            } else {
                after.status = JobStatus::Failed;
                after.reason = Some(if *retryable {
                    format!(
                        "{reason} (retries exhausted after {} attempts)",
                        before.attempts
                    )
                } else {
                    reason.clone()
                });
            }
        }
    }
    after
}

/// An operator's retry of a FAILED job: QUEUED again with its attempts reset.
pub fn retry(before: &Job) -> Result<Job, StoreError> {
    if before.status != JobStatus::Failed {
        return Err(StoreError::IllegalTransition {
            job_id: before.id,
            from: before.status,
            to: JobStatus::Queued,
        });
    }
    let mut after = before.clone();
    after.status = JobStatus::Queued;
    after.attempts = 0;
    after.reason = None;
    after.worker_id = None;
    Ok(after)
}

/// A new job's first two steps, decided: SUBMITTED, then at once QUEUED or (with a cached quote
/// for the same model, options, channel and rules) PRICE_CALCULATED. One row is written, both
/// steps are in the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    /// Version 2, in its status after the second step. When `join_queue`, the store sets the
    /// start tag, priority and ETA from the lane before writing it.
    pub job: Job,
    pub join_queue: bool,
    pub history: [Transition; 2],
    /// The counter to raise (the job's status after the second step).
    pub counter: JobStatus,
}

/// Decides a new job's first steps. `job` is [`Job::submitted`]; `cached` the quote found for it.
pub fn submission(
    mut job: Job,
    cached: Option<serde_json::Value>,
    now: DateTime<Utc>,
) -> Submitted {
    job.version = 2;
    let (note, join_queue) = match cached {
        Some(quote) => {
            job.status = JobStatus::PriceCalculated;
            job.result = Some(quote);
            job.finished_at = Some(now);
            ("served from the quote cache", false)
        }
        None => {
            job.status = JobStatus::Queued;
            job.queued_count = 1;
            ("routed to lane", true)
        }
    };
    let created = Transition {
        job_id: job.id,
        from_status: None,
        to_status: JobStatus::Submitted,
        version: 1,
        at: now,
        actor: format!("api:{}", job.channel),
        note: None,
    };
    let routed = Transition {
        from_status: Some(JobStatus::Submitted),
        to_status: job.status,
        version: 2,
        note: Some(note.to_owned()),
        ..created.clone()
    };
    Submitted {
        counter: job.status,
        job,
        join_queue,
        history: [created, routed],
    }
}

/// Whether a job in `status` has a message for `destination`: every run and every final state for
/// MES; for the CRM only a priced partner order with the partner's reference (the CRM creates
/// orders, nothing else). Rows are written only where this holds.
pub fn has_subscriber(
    destination: Destination,
    status: JobStatus,
    channel: Channel,
    partner_ref: Option<&str>,
) -> bool {
    match destination {
        Destination::Run => status == JobStatus::Queued,
        Destination::Mes => status.is_terminal(),
        Destination::Crm => {
            status == JobStatus::PriceCalculated
                && channel == Channel::Partner
                && partner_ref.is_some_and(|r| !r.trim().is_empty())
        }
    }
}

/// The messages `job`'s new state calls for, finished ([`compose`]): a run message when it is
/// QUEUED (with the priority the fair queue gave it), the MES event when it is final and the
/// CRM's when it is a priced partner order ([`has_subscriber`]), nothing otherwise.
pub fn messages(job: &Job) -> Result<Vec<Message>, StoreError> {
    let mut out = Vec::new();
    for destination in [Destination::Run, Destination::Mes, Destination::Crm] {
        if !has_subscriber(
            destination,
            job.status,
            job.channel,
            job.partner_ref.as_deref(),
        ) {
            continue;
        }
        let message = match destination {
            Destination::Run => Some(compose::run(job)?),
            Destination::Mes | Destination::Crm => compose::event(destination, job)?,
        };
        out.extend(message);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use contracts::Format;

    use super::*;
    use crate::job::NewJob;
    use crate::routing::Routing;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).single().unwrap()
    }

    fn job(status: JobStatus) -> Job {
        let new = NewJob {
            tenant: "acme".into(),
            channel: Channel::Partner,
            idempotency_key: "k".into(),
            partner_ref: Some("PO-1".into()),
            model_sha256: "ab".repeat(32),
            format: Format::StlBinary,
            triangles: 1000,
            alloys: vec!["au750y".into()],
            options: serde_json::json!({}),
            rules_version: None,
        };
        let routing = Routing {
            lane: Lane::Medium,
            predicted_seconds: 3.0,
        };
        let mut j = Job::submitted(&new, "h".into(), &routing, at(0));
        j.status = status;
        j.version = 5;
        j.fair_tag = 42.0;
        j.priority = 7;
        j
    }

    fn to(before: &Job, status: JobStatus) -> Job {
        Job {
            status,
            ..before.clone()
        }
    }

    use JobStatus::*;

    /// Every (from, to) pair: allowed ones become a step, the others a typed refusal.
    #[test]
    fn transitions_follow_the_status_machine() {
        for from in JobStatus::ALL {
            for status in JobStatus::ALL {
                let before = job(from);
                let got = step(
                    &before,
                    to(&before, status),
                    ChangeKind::Transition,
                    "t",
                    None,
                    at(9),
                );
                match (from.can_transition_to(status), got) {
                    (true, Ok(s)) => {
                        assert_eq!(s.job.version, 6, "{from} -> {status}");
                        assert_eq!(s.job.status_changed_at, at(9));
                        let h = s.history.unwrap();
                        assert_eq!(
                            (h.from_status, h.to_status, h.version),
                            (Some(from), status, 6)
                        );
                    }
                    (false, Err(StoreError::IllegalTransition { from: f, to: t, .. })) => {
                        assert_eq!((f, t), (from, status));
                    }
                    (allowed, got) => panic!("{from} -> {status}: allowed {allowed}, got {got:?}"),
                }
            }
        }
    }

    /// (from, to): timestamps, queue moves and counters.
    #[test]
    fn bookkeeping_per_transition() {
        struct Case {
            from: JobStatus,
            to: JobStatus,
            started: bool,
            finished: bool,
            leave: bool,
            advance: bool,
            join: bool,
        }
        let case = |from, to, started, finished, leave, advance, join| Case {
            from,
            to,
            started,
            finished,
            leave,
            advance,
            join,
        };
        let cases = [
            case(Submitted, Queued, false, false, false, false, true),
            case(Queued, Calculating, true, false, true, true, false),
            case(Queued, Failed, false, true, true, false, false),
            case(Calculating, Calculating, true, false, false, false, false),
            case(Calculating, Queued, false, false, false, false, true),
            case(
                Calculating,
                PriceCalculated,
                false,
                true,
                false,
                false,
                false,
            ),
            case(Calculating, Rejected, false, true, false, false, false),
            case(Failed, Queued, false, false, false, false, true),
        ];
        for c in cases {
            let mut before = job(c.from);
            // A job that ran before and failed: its old times must not survive a requeue.
            before.started_at = Some(at(1));
            before.finished_at = Some(at(2));
            let s = step(
                &before,
                to(&before, c.to),
                ChangeKind::Transition,
                "w",
                Some("n"),
                at(9),
            )
            .unwrap();
            let name = format!("{} -> {}", c.from, c.to);
            assert_eq!(s.job.started_at == Some(at(9)), c.started, "{name} started");
            assert_eq!(
                s.job.finished_at == Some(at(9)),
                c.finished,
                "{name} finished"
            );
            if c.join {
                assert_eq!(
                    (s.job.started_at, s.job.finished_at),
                    (None, None),
                    "{name}"
                );
            }
            // Each queueing is counted: the run message's attempt.
            let queued = before.queued_count + u32::from(c.join);
            assert_eq!(s.job.queued_count, queued, "{name} queued count");
            assert_eq!(
                s.queue.leave,
                c.leave.then_some((Lane::Medium, 3.0)),
                "{name}"
            );
            assert_eq!(
                s.queue.advance_clock,
                c.advance.then_some((Lane::Medium, 42.0)),
                "{name}"
            );
            assert_eq!(s.queue.join, c.join, "{name}");
            let want: Vec<(JobStatus, i64)> = if c.from == c.to {
                Vec::new()
            } else {
                let mut v = vec![(c.from, -1), (c.to, 1)];
                v.sort_by_key(|(s, _)| s.as_str());
                v
            };
            assert_eq!(s.counters, want, "{name}");
            assert_eq!(s.history.unwrap().note.as_deref(), Some("n"));
        }
    }

    #[test]
    fn a_claim_bumps_the_version_only() {
        let before = job(Calculating);
        let mut after = before.clone();
        after.claimed_by = Some("ana".into());
        let s = step(
            &before,
            after,
            ChangeKind::Claim,
            "operator:ana",
            None,
            at(9),
        )
        .unwrap();
        assert_eq!((s.job.version, s.job.updated_at), (6, at(9)));
        assert_eq!(s.job.status_changed_at, before.status_changed_at);
        assert_eq!(
            (s.history, s.counters, s.queue),
            (None, vec![], QueueMoves::default())
        );
    }

    #[test]
    fn a_submission_is_queued_or_answered_from_the_cache() {
        // A website job with rules named, as the API submits it.
        let mut fresh = job(Submitted);
        fresh.version = 1;
        fresh.channel = Channel::Website;
        fresh.partner_ref = None;
        fresh.rules_version = Some("r1".into());
        let cases = [
            (None, Queued, true, None, "routed to lane"),
            (
                Some(serde_json::json!({"total": "1"})),
                PriceCalculated,
                false,
                Some(at(0)),
                "served from the quote cache",
            ),
        ];
        for (cached, status, join, finished, note) in cases {
            let s = submission(fresh.clone(), cached.clone(), at(0));
            assert_eq!(
                (s.job.status, s.job.version, s.join_queue),
                (status, 2, join)
            );
            assert_eq!((s.job.result, s.job.finished_at), (cached, finished));
            assert_eq!(s.counter, status);
            assert_eq!(s.job.queued_count, u32::from(join));
            let [created, routed] = s.history;
            assert_eq!(
                (created.from_status, created.to_status, created.version),
                (None, Submitted, 1)
            );
            assert_eq!(
                (routed.from_status, routed.to_status, routed.version),
                (Some(Submitted), status, 2)
            );
            assert_eq!(
                (created.actor.as_str(), routed.note.as_deref()),
                ("api:website", Some(note))
            );
        }
    }

    /// QUEUED: one run message on the lane's key with the job's priority; final: MES and CRM
    /// events; otherwise none.
    #[test]
    fn messages_per_status() {
        let cases = [
            (Submitted, vec![]),
            (Queued, vec![(Destination::Run, "medium", 7)]),
            (Calculating, vec![]),
            (
                PriceCalculated,
                vec![
                    (Destination::Mes, "price.calculated", 0),
                    (Destination::Crm, "crm.order.ready", 0),
                ],
            ),
            (Rejected, vec![(Destination::Mes, "price.rejected", 0)]),
            (Failed, vec![(Destination::Mes, "price.failed", 0)]),
        ];
        for (status, want) in cases {
            let j = job(status);
            let rows = messages(&j).unwrap();
            let got: Vec<_> = rows
                .iter()
                .map(|r| (r.destination, r.routing_key.as_str(), r.priority))
                .collect();
            assert_eq!(got, want, "{status}");
            for r in rows {
                let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                assert_eq!(body["job_id"], serde_json::json!(j.id), "{status}");
                if r.destination == Destination::Run {
                    // A job queued for the first time (the count is still 0 in this fixture)
                    // carries attempt 1.
                    assert_eq!(body["attempt"], 1, "{status}");
                    assert_eq!(r.message_id, format!("run_job/{}/1", j.id));
                }
            }
        }
    }

    #[test]
    fn start_cases() {
        // (status, attempts so far, max) -> (status after, attempts after, dead-lettered, note)
        let cases = [
            (Queued, 0, 3, Some((Calculating, 1, false, None))),
            (
                Calculating,
                1,
                3,
                Some((Calculating, 2, false, Some("restarted after a lost worker"))),
            ),
            (
                Calculating,
                3,
                3,
                Some((Failed, 3, true, Some("retries exhausted after 3 attempts"))),
            ),
            (Queued, 0, 0, Some((Calculating, 1, false, None))),
            (PriceCalculated, 1, 3, None),
            (Rejected, 1, 3, None),
            (Failed, 1, 3, None),
        ];
        for (status, attempts, max, want) in cases {
            let mut before = job(status);
            before.attempts = attempts;
            match (start(&before, "w1", max).unwrap(), want) {
                (Start::AlreadyFinished, None) => assert!(status.is_terminal()),
                (
                    Start::Change {
                        after,
                        note,
                        dead_lettered,
                    },
                    Some((s, a, d, n)),
                ) => {
                    assert_eq!(
                        (after.status, after.attempts, dead_lettered),
                        (s, a, d),
                        "{status}"
                    );
                    assert_eq!(note.as_deref(), n, "{status}");
                    if !d {
                        assert_eq!(after.worker_id.as_deref(), Some("w1"));
                    }
                }
                (got, want) => panic!("{status}: got {got:?}, want {want:?}"),
            }
        }
        assert!(matches!(
            start(&job(Submitted), "w1", 3),
            Err(StoreError::IllegalTransition { .. })
        ));
    }

    #[test]
    fn completion_cases() {
        use crate::work::Outcome;
        let failed = |retryable| Outcome::Failed {
            reason: "boom".into(),
            retryable,
        };
        let priced = Outcome::Priced {
            quote: serde_json::json!({"total": "1"}),
            rules_version: "r2".into(),
        };
        // (outcome, attempts so far, status after, reason after)
        let cases = [
            (priced, 1, PriceCalculated, None),
            (
                Outcome::Rejected {
                    reason: "open".into(),
                },
                1,
                Rejected,
                Some("open"),
            ),
            (failed(true), 1, Queued, Some("boom")),
            (
                failed(true),
                3,
                Failed,
                Some("boom (retries exhausted after 3 attempts)"),
            ),
            (failed(false), 1, Failed, Some("boom")),
        ];
        for (outcome, attempts, status, reason) in cases {
            let mut before = job(Calculating);
            before.attempts = attempts;
            before.reason = Some("earlier".into());
            let after = complete(&before, &outcome, 3);
            assert_eq!(
                (after.status, after.reason.as_deref()),
                (status, reason),
                "{outcome:?}"
            );
            if status == PriceCalculated {
                assert_eq!(after.rules_version.as_deref(), Some("r2"));
                assert!(after.result.is_some());
            }
            // Whatever the outcome, the transition it proposes is one the machine allows.
            assert!(step(&before, after, ChangeKind::Transition, "w", None, at(9)).is_ok());
        }
    }

    #[test]
    fn an_operator_retries_only_a_failed_job() {
        let mut failed = job(Failed);
        failed.attempts = 3;
        failed.reason = Some("boom".into());
        failed.worker_id = Some("w1".into());
        let after = retry(&failed).unwrap();
        assert_eq!((after.status, after.attempts), (Queued, 0));
        assert_eq!((after.reason, after.worker_id), (None, None));
        for status in [Submitted, Queued, Calculating, PriceCalculated, Rejected] {
            assert!(retry(&job(status)).is_err(), "{status}");
        }
    }

    /// The CRM gets a row only for a priced partner order with a reference.
    #[test]
    fn crm_rows_only_for_priced_partner_orders() {
        let cases = [
            (Channel::Partner, Some("PO-1"), true),
            (Channel::Partner, Some("  "), false),
            (Channel::Partner, None, false),
            (Channel::Website, Some("PO-1"), false),
            (Channel::Mes, Some("PO-1"), false),
        ];
        for (channel, partner_ref, crm) in cases {
            let mut j = job(PriceCalculated);
            j.channel = channel;
            j.partner_ref = partner_ref.map(str::to_owned);
            let got: Vec<Destination> = messages(&j)
                .unwrap()
                .iter()
                .map(|r| r.destination)
                .collect();
            let want = if crm {
                vec![Destination::Mes, Destination::Crm]
            } else {
                vec![Destination::Mes]
            };
            assert_eq!(got, want, "{channel} {partner_ref:?}");
        }
    }
}
