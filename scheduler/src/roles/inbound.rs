//! MES submitting jobs as messages: `SubmitJob` on the inbound queue becomes a job through the
//! same intake as an HTTP upload (`crate::intake`), and the answer is the job's `price.*`
//! event on the results exchange, whose `correlation_id` is the request id (the job's
//! idempotency key, see `crate::outbox::compose`).
//!
//! A request that cannot become a job (unknown model, bad format, reused request id with other
//! content...) is answered at once with `price.rejected`, under a job id derived from the
//! request so that a redelivered request gets the same answer with the same `message_id`.
//! Resubmitting a request id returns the existing job and publishes nothing new: its answer is
//! already on its way through the outbox.

use std::sync::Arc;
use std::time::Duration;

use crate::intake::{self, IntakeError, IntakeRequest, StoredModel};
use crate::{BlobError, StoreError};
use contracts::{
    Channel, ModelRef, PriceFailed, PriceRejected, ResultEvent, SchemaVersion, SubmitJob,
};
use messaging::{Delivery, Publish};
use pricing_core::{FormatHint, Limits, Units};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{RoleContext, RoleError};
use crate::hashing as ids;

#[derive(Debug, Clone)]
pub struct InboundConfig {
    /// Requests handled at once.
    pub prefetch: u16,
    /// Size limits applied when probing the model.
    pub limits: Limits,
    /// Pause before returning a request after the store or blob storage failed the first
    /// time; doubled for each later delivery ([`crate::backoff::retry_pause`]).
    pub retry_after: Duration,
}

impl Default for InboundConfig {
    fn default() -> Self {
        InboundConfig {
            prefetch: 2,
            limits: Limits::default(),
            retry_after: Duration::from_secs(2),
        }
    }
}

/// Why a request gets a `price.rejected` answer instead of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

fn refusal(code: &str, message: impl Into<String>) -> Refusal {
    Refusal {
        code: code.to_owned(),
        message: message.into(),
    }
}

/// The intake request for a `SubmitJob` naming a stored model, and that model's hash.
/// `rules_version` is the version of the rules this process prices with: recorded on the job and
/// used for the quote cache, as an HTTP submission does.
pub fn intake_request(
    submit: &SubmitJob,
    rules_version: &str,
) -> Result<(IntakeRequest, String), Refusal> {
    let sha256 = match &submit.model {
        ModelRef::Stored { sha256 } => sha256.clone(),
        ModelRef::Url { .. } => {
            return Err(refusal(
                "unsupported_model_source",
                "models must be uploaded first and referenced by sha256; URLs are not fetched",
            ));
        }
    };
    let channel = match submit.options.channel.as_deref() {
        None => Channel::Mes,
        Some(name) => name
            .parse::<Channel>()
            .map_err(|e| refusal("unknown_channel", e.to_string()))?,
    };
    let format_hint = match submit.format.as_deref() {
        None => None,
        Some(name) => Some(
            name.parse::<FormatHint>()
                .map_err(|e| refusal("unsupported_format", e.to_string()))?,
        ),
    };
    let units = submit
        .options
        .units
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::parse::<Units>)
        .transpose()
        .map_err(|e| refusal("unknown_units", e.to_string()))?;
    let request = IntakeRequest {
        tenant: submit.tenant.clone(),
        channel,
        idempotency_key: submit.request_id.clone(),
        partner_ref: submit.partner_ref.clone(),
        alloys: submit.options.alloys.clone(),
        units,
        format_hint,
        // The quote cache is keyed by channel too, so a cached MES quote is a MES quote.
        rules_version: Some(rules_version.to_owned()),
    };
    intake::validate(&request).map_err(|e| refusal("invalid_request", e.to_string()))?;
    Ok((request, sha256))
}

/// Whether an intake failure is about the request (answer it) or about our services (retry).
pub fn classify(error: IntakeError) -> Result<Refusal, IntakeError> {
    match error {
        IntakeError::Model(e) => Ok(refusal(e.code(), e.to_string())),
        IntakeError::Invalid(m) => Ok(refusal("invalid_request", m)),
        IntakeError::Blob(BlobError::NotFound(sha)) => Ok(refusal(
            "model_not_found",
            format!("no model {sha} in blob storage"),
        )),
        IntakeError::Blob(BlobError::BadHash(h)) => Ok(refusal(
            "invalid_request",
            format!("{h:?} is not a SHA-256"),
        )),
        IntakeError::Store(StoreError::IdempotencyKeyReused { job_id }) => Ok(refusal(
            "request_id_reused",
            format!("request id already used for job {job_id} with another model or options"),
        )),
        IntakeError::Store(StoreError::Invalid(m)) => Ok(refusal("invalid_request", m)),
        other => Err(other),
    }
}

/// Consumes the MES inbound queue until `shutdown`.
pub async fn run_mes_inbound(
    ctx: RoleContext,
    shutdown: CancellationToken,
) -> Result<(), RoleError> {
    run_mes_inbound_with(ctx, InboundConfig::default(), shutdown).await
}

pub async fn run_mes_inbound_with(
    ctx: RoleContext,
    config: InboundConfig,
    shutdown: CancellationToken,
) -> Result<(), RoleError> {
    ctx.broker.declare(&ctx.topology).await?;
    let mut consumer = ctx
        .broker
        .consume(&ctx.topology.inbound_queue(), config.prefetch)
        .await?;
    let ctx = Arc::new(ctx);
    let config = Arc::new(config);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            next = consumer.next() => match next {
                Some(delivery) => {
                    let (ctx, config) = (ctx.clone(), config.clone());
                    tasks.spawn(async move { handle(&ctx, &config, delivery).await });
                }
                None => {
                    while tasks.join_next().await.is_some() {}
                    return Err(RoleError::SubscriptionsEnded);
                }
            },
        }
    }
    // Requests are short (a probe and an insert): let them finish, then let go of the queue.
    while tasks.join_next().await.is_some() {}
    drop(consumer);
    Ok(())
}

async fn handle(ctx: &RoleContext, config: &InboundConfig, delivery: Delivery) {
    let submit: SubmitJob = match delivery.decode() {
        Ok(s) => s,
        Err(error) => {
            tracing::error!(%error, "undecodable MES request");
            settle(
                delivery
                    .reject_to_dead_letter(
                        &contracts::Reason::new("undecodable_message", &error.to_string())
                            .to_string(),
                    )
                    .await,
            );
            return;
        }
    };
    let span = tracing::info_span!(
        "mes_submit",
        request_id = %submit.request_id,
        tenant = %submit.tenant,
        trace_id = delivery.traceparent().and_then(contracts::trace::trace_id).unwrap_or(""),
    );
    respond(ctx, config, delivery, submit)
        .instrument(span)
        .await;
}

async fn respond(ctx: &RoleContext, config: &InboundConfig, delivery: Delivery, submit: SubmitJob) {
    let arrived = (std::time::SystemTime::now(), delivery.traceparent());
    match submit_stored(ctx, config, &submit, arrived).await {
        Ok(()) => settle(delivery.ack().await),
        Err(Failure::Refused(r)) => {
            tracing::info!(code = %r.code, reason = %r.message, "MES request refused");
            let answer = PriceRejected {
                schema_version: SchemaVersion,
                job_id: ids::orphan_job_id(&submit.tenant, &submit.request_id),
                tenant: submit.tenant.clone(),
                partner_ref: submit.partner_ref.clone(),
                correlation_id: Some(submit.request_id.clone()),
                reason_code: r.code,
                reason: r.message,
            };
            answer_then_ack(ctx, delivery, &answer).await;
        }
        Err(Failure::Transient(error)) => {
            let last = delivery.delivery_count() >= ctx.topology.delivery_limit();
            tracing::warn!(%error, last, "MES request could not be submitted");
            if !last {
                let attempts = delivery.delivery_count().saturating_add(1);
                tokio::time::sleep(crate::backoff::retry_pause(config.retry_after, attempts)).await;
                settle(delivery.nack(true).await);
                return;
            }
            let answer = PriceFailed {
                schema_version: SchemaVersion,
                job_id: ids::orphan_job_id(&submit.tenant, &submit.request_id),
                tenant: submit.tenant.clone(),
                partner_ref: submit.partner_ref.clone(),
                correlation_id: Some(submit.request_id.clone()),
                reason: contracts::Reason::new("intake_unavailable", &error.to_string())
                    .to_string(),
            };
            match publish_answer(ctx, &delivery, &answer).await {
                Ok(()) => settle(delivery.reject_to_dead_letter(&answer.reason).await),
                Err(e) => {
                    tracing::warn!(error = %e, "answer could not be published; returning the request");
                    settle(delivery.nack(true).await);
                }
            }
        }
    }
}

enum Failure {
    Refused(Refusal),
    Transient(IntakeError),
}

async fn submit_stored(
    ctx: &RoleContext,
    config: &InboundConfig,
    submit: &SubmitJob,
    (arrived, caller): (std::time::SystemTime, Option<&str>),
) -> Result<(), Failure> {
    let (request, sha256) = intake_request(submit, &ctx.rules_version).map_err(Failure::Refused)?;
    let classify_err = |e: IntakeError| match classify(e) {
        Ok(r) => Failure::Refused(r),
        Err(e) => Failure::Transient(e),
    };
    // Only what the probe needs first: the length and the opening bytes. A binary STL is probed
    // from those alone; another format is read whole by the probe, within the limits.
    let (size, prefix) = ctx
        .blobs
        .head_and_prefix(&sha256, intake::PREFIX_BYTES)
        .await
        .map_err(|e| classify_err(IntakeError::Blob(e)))?;
    let model = StoredModel {
        sha256: &sha256,
        size,
        prefix: &prefix,
    };
    let intake = intake::submit_model(
        ctx.store.as_ref(),
        &ctx.blobs,
        model,
        request,
        intake::Probing {
            limits: &config.limits,
            slots: None,
        },
        &intake::Open,
    )
    .await
    .map_err(classify_err)?;
    let job = &intake.submission.job.job;
    tracing::info!(job_id = %job.id, created = intake.submission.created, lane = %job.lane, "MES request submitted");
    if intake.submission.created {
        ctx.outbox_written.notify_one();
        crate::telemetry::record_root(job, arrived, "amqp mes.inbound", caller);
    }
    Ok(())
}

async fn publish_answer<T: ResultEvent>(
    ctx: &RoleContext,
    delivery: &Delivery,
    answer: &T,
) -> messaging::Result<()> {
    let mut publish = Publish::contract(ctx.topology.result_route(T::ROUTING_KEY), answer)?;
    if let Some(request_id) = serde_json::to_value(answer)
        .ok()
        .and_then(|v| v["correlation_id"].as_str().map(str::to_owned))
    {
        publish = publish.with_correlation_id(request_id);
    }
    if let Some(tp) = delivery.traceparent() {
        let state = delivery
            .headers()
            .get(messaging::message::TRACESTATE)
            .cloned();
        publish = publish.with_trace_context(tp, state);
    }
    ctx.broker.publish(&publish).await
}

async fn answer_then_ack<T: ResultEvent>(ctx: &RoleContext, delivery: Delivery, answer: &T) {
    match publish_answer(ctx, &delivery, answer).await {
        Ok(()) => settle(delivery.ack().await),
        Err(error) => {
            tracing::warn!(%error, kind = T::TYPE, "answer could not be published; returning the request");
            settle(delivery.nack(true).await);
        }
    }
}

fn settle(result: messaging::Result<()>) {
    if let Err(error) = result {
        tracing::warn!(%error, "settling the MES request failed; the broker will deliver it again");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use contracts::JobOptions;

    fn submit(model: ModelRef, channel: Option<&str>, format: Option<&str>) -> SubmitJob {
        SubmitJob {
            schema_version: SchemaVersion,
            request_id: "REQ-1".into(),
            tenant: "mes-plant-1".into(),
            partner_ref: Some("WO-77".into()),
            model,
            format: format.map(str::to_owned),
            options: JobOptions {
                alloys: vec!["au750y".into()],
                units: Some("mm".into()),
                channel: channel.map(str::to_owned),
            },
        }
    }

    fn stored() -> ModelRef {
        ModelRef::Stored {
            sha256: "ab".repeat(32),
        }
    }

    #[test]
    fn requests_become_intake_requests() {
        let (req, sha) = intake_request(&submit(stored(), None, None), "2025-01").unwrap();
        assert_eq!(sha, "ab".repeat(32));
        assert_eq!(req.channel, Channel::Mes);
        assert_eq!(req.idempotency_key, "REQ-1");
        assert_eq!(req.partner_ref.as_deref(), Some("WO-77"));
        assert_eq!(req.units, Some(Units::Mm));
        assert_eq!(req.rules_version.as_deref(), Some("2025-01"));
        let (req, _) =
            intake_request(&submit(stored(), Some("partner"), Some("stl")), "2025-01").unwrap();
        assert_eq!(req.channel, Channel::Partner);
        assert_eq!(req.format_hint, Some(FormatHint::Stl));

        let url = ModelRef::Url {
            url: "https://x/y.stl".into(),
        };
        let mut empty_alloys = submit(stored(), None, None);
        empty_alloys.options.alloys.clear();
        let cases = [
            (submit(url, None, None), "unsupported_model_source"),
            (submit(stored(), Some("wholesale"), None), "unknown_channel"),
            (submit(stored(), None, Some("step")), "unsupported_format"),
            (empty_alloys, "invalid_request"),
        ];
        for (s, code) in cases {
            assert_eq!(intake_request(&s, "2025-01").unwrap_err().code, code);
        }
    }

    #[test]
    fn intake_failures_are_answered_or_retried() {
        let answered = [
            (
                IntakeError::Model(pricing_core::ParseError::Empty),
                "empty_file",
            ),
            (IntakeError::Invalid("x".into()), "invalid_request"),
            (
                IntakeError::Blob(BlobError::NotFound("s".into())),
                "model_not_found",
            ),
            (
                IntakeError::Store(StoreError::IdempotencyKeyReused {
                    job_id: uuid::Uuid::nil(),
                }),
                "request_id_reused",
            ),
        ];
        for (error, code) in answered {
            assert_eq!(classify(error).unwrap().code, code);
        }
        let retried = [
            IntakeError::Task("gone".into()),
            IntakeError::Store(StoreError::Contended(uuid::Uuid::nil())),
            IntakeError::Blob(BlobError::Config("down".into())),
        ];
        for error in retried {
            assert!(classify(error).is_err());
        }
    }
}
