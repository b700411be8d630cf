//! Rows written before migration 0005 held a scheduler-shaped payload, not the message. The store
//! finishes the unsent ones once when it opens ([`finish`]), from the payload and the job, so a
//! deployment upgraded with rows in its outbox loses none and the relay reads one kind of row.

use contracts::Lane;
use serde::Deserialize;

use super::{Destination, Message, compose};
use crate::error::StoreError;
use crate::job::Job;
use crate::lifecycle::has_subscriber;
use crate::status::JobStatus;

/// What the old payloads said that the job row may no longer say (the job has moved on since).
#[derive(Debug, Deserialize)]
struct Payload {
    version: i64,
    // Run rows.
    lane: Option<Lane>,
    attempt: Option<u32>,
    // Event rows.
    status: Option<JobStatus>,
    quote: Option<serde_json::Value>,
    reason: Option<String>,
}

/// The message an old row stood for, built as the row's own state would build it now; `None`
/// when that state has no subscriber (the CRM rows the old store wrote for every final job).
pub(crate) fn finish(
    destination: Destination,
    payload: &serde_json::Value,
    job: &Job,
) -> Result<Option<Message>, StoreError> {
    let p = Payload::deserialize(payload)
        .map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))?;
    let mut then = job.clone();
    then.version = p.version;
    match destination {
        Destination::Run => {
            then.status = JobStatus::Queued;
            then.lane = p.lane.unwrap_or(job.lane);
            // Rows from before the job counted its queueings: the count then is the count now
            // unless the job was queued again since, and then this row's run is stale anyway.
            then.queued_count = p.attempt.unwrap_or(job.queued_count);
            compose::run(&then).map(Some)
        }
        Destination::Mes | Destination::Crm => {
            then.status = p.status.unwrap_or(job.status);
            then.result = p.quote;
            then.reason = p.reason;
            let listens = has_subscriber(
                destination,
                then.status,
                then.channel,
                then.partner_ref.as_deref(),
            );
            if !listens {
                return Ok(None);
            }
            compose::event(destination, &then)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::NewJob;
    use crate::routing::Routing;
    use chrono::Utc;
    use contracts::{Channel, Contract, Format, PriceRejected, RunJob};
    use serde_json::json;

    fn job() -> Job {
        let new = NewJob {
            tenant: "acme".into(),
            channel: Channel::Website,
            idempotency_key: "k".into(),
            partner_ref: None,
            model_sha256: "ab".repeat(32),
            format: Format::StlBinary,
            triangles: 10,
            alloys: vec!["au750".into()],
            options: json!({}),
            rules_version: None,
        };
        let routing = Routing {
            lane: Lane::Small,
            predicted_seconds: 1.0,
        };
        let mut j = Job::submitted(&new, String::new(), &routing, Utc::now());
        // The job has moved on since the rows were written.
        j.status = JobStatus::PriceCalculated;
        j.queued_count = 3;
        j
    }

    #[test]
    fn old_rows_become_the_messages_of_their_own_state() {
        let j = job();
        let run = finish(
            Destination::Run,
            &json!({"job_id": j.id, "lane": "medium", "version": 2, "attempt": 2}),
            &j,
        )
        .unwrap()
        .unwrap();
        assert_eq!(run.message_id, format!("run_job/{}/2", j.id));
        assert_eq!(RunJob::from_json(&run.body).unwrap().lane, Lane::Medium);
        // Written before attempts were counted: the job's count.
        let run = finish(Destination::Run, &json!({"version": 2}), &j)
            .unwrap()
            .unwrap();
        assert_eq!(run.message_id, format!("run_job/{}/3", j.id));

        let rejected = json!({"version": 4, "status": "REJECTED",
                              "reason": "empty_file: the file is empty", "at": Utc::now()});
        let m = finish(Destination::Mes, &rejected, &j).unwrap().unwrap();
        let body = PriceRejected::from_json(&m.body).unwrap();
        assert_eq!(
            (body.reason_code.as_str(), body.reason.as_str()),
            ("empty_file", "the file is empty")
        );
        // The old store wrote a CRM row for every final job; nobody listens to these.
        assert_eq!(finish(Destination::Crm, &rejected, &j).unwrap(), None);
        assert!(finish(Destination::Mes, &json!({"nope": 1}), &j).is_err());
    }
}
