//! A job's state → the messages its subscribers get, finished: the contract, its dedup id, the
//! job's idempotency key as correlation id, a `traceparent` whose trace is the job, the JSON
//! body. Pure; the store calls it inside the transaction that makes the change.
//!
//! | job                                   | message                                  |
//! |---------------------------------------|------------------------------------------|
//! | QUEUED                                | `RunJob` → jobs exchange, lane key       |
//! | PRICE_CALCULATED, for MES             | `PriceCalculated` → `price.calculated`   |
//! | REJECTED, for MES                     | `PriceRejected` → `price.rejected`       |
//! | FAILED, for MES                       | `PriceFailed` → `price.failed`           |
//! | PRICE_CALCULATED partner order + ref  | `OrderReady` → `crm.order.ready`         |
//!
//! Which destinations a state has is [`crate::lifecycle::has_subscriber`]'s decision.

use contracts::{
    Contract, Exchange, OrderReady, PriceCalculated, PriceFailed, PriceRejected, QuoteSummary,
    Reason, ResultEvent, RunJob, SchemaVersion, trace,
};
use serde_json::Value;

use super::{Destination, Headers, Message};
use crate::error::StoreError;
use crate::job::Job;
use crate::status::JobStatus;

/// The work order for a queued job, on its lane with the fair queue's priority.
pub fn run(job: &Job) -> Result<Message, StoreError> {
    let message = RunJob {
        schema_version: SchemaVersion,
        job_id: job.id,
        model_sha256: job.model_sha256.clone(),
        format: job.format,
        triangles: job.triangles,
        lane: job.lane,
        alloys: job.alloys.clone(),
        channel: job.channel,
        tenant: job.tenant.clone(),
        partner_ref: job.partner_ref.clone(),
        units: job.units(),
        correlation_id: Some(job.idempotency_key.clone()),
        // Deterministic for the queueing, so a republished row keeps its `message_id`.
        attempt: job.queued_count.max(1),
    };
    let lane = job.lane.as_str().to_owned();
    finish(
        Destination::Run,
        Exchange::Jobs,
        lane,
        job,
        &message,
        job.priority,
    )
}

/// The result event of `job`'s final state for `destination`, or `None` when that state has
/// no event there.
pub fn event(destination: Destination, job: &Job) -> Result<Option<Message>, StoreError> {
    let correlation_id = Some(job.idempotency_key.clone());
    let quote = job.result.clone().unwrap_or(Value::Null);
    let reason = job.reason.as_deref().unwrap_or_default();
    match (destination, job.status) {
        (Destination::Mes, JobStatus::PriceCalculated) => result(
            destination,
            job,
            &PriceCalculated {
                schema_version: SchemaVersion,
                job_id: job.id,
                tenant: job.tenant.clone(),
                channel: job.channel,
                partner_ref: job.partner_ref.clone(),
                correlation_id,
                rules_version: quote["rules_version"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                quote,
            },
        ),
        (Destination::Mes, JobStatus::Rejected) => {
            let reason = Reason::parse(reason, "rejected");
            result(
                destination,
                job,
                &PriceRejected {
                    schema_version: SchemaVersion,
                    job_id: job.id,
                    tenant: job.tenant.clone(),
                    partner_ref: job.partner_ref.clone(),
                    correlation_id,
                    reason_code: reason.code.to_owned(),
                    reason: reason.message.to_owned(),
                },
            )
        }
        (Destination::Mes, JobStatus::Failed) => result(
            destination,
            job,
            &PriceFailed {
                schema_version: SchemaVersion,
                job_id: job.id,
                tenant: job.tenant.clone(),
                partner_ref: job.partner_ref.clone(),
                correlation_id,
                reason: reason.to_owned(),
            },
        ),
        (Destination::Crm, JobStatus::PriceCalculated) => result(
            destination,
            job,
            &OrderReady {
                schema_version: SchemaVersion,
                job_id: job.id,
                tenant: job.tenant.clone(),
                partner_ref: job
                    .partner_ref
                    .as_deref()
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                correlation_id,
                quote: QuoteSummary::of_quote(&quote),
            },
        ),
        _ => Ok(None),
    }
}

fn result<T: ResultEvent>(
    destination: Destination,
    job: &Job,
    message: &T,
) -> Result<Option<Message>, StoreError> {
    let key = T::ROUTING_KEY.to_owned();
    finish(destination, Exchange::Results, key, job, message, 0).map(Some)
}

fn finish<T: Contract>(
    destination: Destination,
    exchange: Exchange,
    routing_key: String,
    job: &Job,
    message: &T,
    priority: u8,
) -> Result<Message, StoreError> {
    let message_id = message.dedup_key();
    let mut headers = Headers::new();
    headers.insert(
        trace::TRACEPARENT.to_owned(),
        trace::traceparent(job.id, &message_id),
    );
    Ok(Message {
        destination,
        exchange,
        routing_key,
        body: message
            .to_json()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        message_id,
        message_type: T::TYPE.to_owned(),
        correlation_id: Some(job.idempotency_key.clone()),
        headers,
        priority,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::NewJob;
    use crate::routing::Routing;
    use chrono::Utc;
    use contracts::{Channel, Format, Lane, Units, routing};
    use serde_json::json;

    fn job(status: JobStatus, channel: Channel, partner_ref: Option<&str>) -> Job {
        let new = NewJob {
            tenant: "acme".into(),
            channel,
            idempotency_key: "req-1".into(),
            partner_ref: partner_ref.map(str::to_owned),
            model_sha256: "cd".repeat(32),
            format: Format::Obj,
            triangles: 900_000,
            alloys: vec!["au750".into()],
            options: json!({"units": "cm"}),
            rules_version: None,
        };
        let routing = Routing {
            lane: Lane::Medium,
            predicted_seconds: 3.0,
        };
        let mut j = Job::submitted(&new, String::new(), &routing, Utc::now());
        j.status = status;
        j.priority = 4;
        j.queued_count = 2;
        j.result = (status == JobStatus::PriceCalculated)
            .then(|| json!({"rules_version": "2025.1", "currency": "EUR", "alloys": []}));
        j.reason = match status {
            JobStatus::Rejected => Some("not_watertight: the mesh has holes".into()),
            JobStatus::Failed => Some("pricing_timed_out: no result after 5 ms".into()),
            _ => None,
        };
        j
    }

    #[test]
    fn routing_table() {
        let partner = (Channel::Partner, Some("PO-9"));
        let web = (Channel::Website, None);
        // (destination, status, (channel, ref), expected routing key or None)
        let cases = [
            (
                Destination::Mes,
                JobStatus::PriceCalculated,
                partner,
                Some(routing::PRICE_CALCULATED),
            ),
            (
                Destination::Mes,
                JobStatus::Rejected,
                web,
                Some(routing::PRICE_REJECTED),
            ),
            (
                Destination::Mes,
                JobStatus::Failed,
                web,
                Some(routing::PRICE_FAILED),
            ),
            (Destination::Mes, JobStatus::Queued, web, None),
            (
                Destination::Crm,
                JobStatus::PriceCalculated,
                partner,
                Some(routing::CRM_ORDER_READY),
            ),
            (Destination::Crm, JobStatus::Rejected, partner, None),
            (Destination::Crm, JobStatus::Failed, partner, None),
        ];
        for (destination, status, (channel, partner_ref), want) in cases {
            let j = job(status, channel, partner_ref);
            let got = event(destination, &j).unwrap();
            assert_eq!(
                got.as_ref().map(|m| m.routing_key.as_str()),
                want,
                "{destination:?} {status}"
            );
            if let Some(m) = got {
                assert_eq!(m.exchange, Exchange::Results);
                assert_eq!(m.destination, destination);
                assert_eq!(m.correlation_id.as_deref(), Some("req-1"));
                assert_eq!(
                    trace::trace_id(&m.headers[trace::TRACEPARENT]),
                    Some(j.id.simple().to_string().as_str())
                );
                assert_eq!(
                    m.message_id,
                    format!("{}/{}", want.unwrap_or_default(), j.id)
                );
                assert_eq!(m.priority, 0);
            }
        }
    }

    #[test]
    fn events_carry_the_contract_fields() {
        let rejected = job(JobStatus::Rejected, Channel::Partner, Some("PO-9"));
        let m = event(Destination::Mes, &rejected).unwrap().unwrap();
        assert_eq!(m.message_type, PriceRejected::TYPE);
        let body = PriceRejected::from_json(&m.body).unwrap();
        assert_eq!(body.reason_code, "not_watertight");
        assert_eq!(body.reason, "the mesh has holes");
        assert_eq!(body.partner_ref.as_deref(), Some("PO-9"));

        let priced = job(JobStatus::PriceCalculated, Channel::Partner, Some(" PO-9 "));
        let m = event(Destination::Mes, &priced).unwrap().unwrap();
        let body = PriceCalculated::from_json(&m.body).unwrap();
        assert_eq!(body.rules_version, "2025.1");
        assert_eq!(body.channel, Channel::Partner);
        assert_eq!(body.correlation_id.as_deref(), Some("req-1"));

        let m = event(Destination::Crm, &priced).unwrap().unwrap();
        let order = OrderReady::from_json(&m.body).unwrap();
        assert_eq!(order.partner_ref, "PO-9");
        assert_eq!(order.quote.currency, "EUR");

        let failed = job(JobStatus::Failed, Channel::Mes, None);
        let m = event(Destination::Mes, &failed).unwrap().unwrap();
        let body = PriceFailed::from_json(&m.body).unwrap();
        assert_eq!(body.reason, "pricing_timed_out: no result after 5 ms");
    }

    #[test]
    fn queued_jobs_become_run_jobs_on_their_lane() {
        let j = job(JobStatus::Queued, Channel::Website, None);
        let m = run(&j).unwrap();
        assert_eq!(
            (m.exchange, m.routing_key.as_str(), m.priority),
            (Exchange::Jobs, "medium", 4)
        );
        assert_eq!(m.message_id, format!("run_job/{}/2", j.id));
        assert_eq!(m.message_type, RunJob::TYPE);
        let body = RunJob::from_json(&m.body).unwrap();
        assert_eq!(body.channel, Channel::Website);
        assert_eq!(body.units, Some(Units::Cm));
        assert_eq!(body.correlation_id.as_deref(), Some("req-1"));
        assert_eq!((body.triangles, body.attempt), (900_000, 2));
        // The same state gives the same message, byte for byte: a republished row is a copy.
        assert_eq!(run(&j).unwrap(), m);
    }
}
