//! Outbox rows turned into the published contracts. Pure: the relay fetches what a row does not
//! carry (the job's channel, partner reference and idempotency key) and passes it in.
//!
//! | row                                   | message                                  |
//! |---------------------------------------|------------------------------------------|
//! | run                                   | `RunJob` → jobs exchange, lane key       |
//! | mes, PRICE_CALCULATED                 | `PriceCalculated` → `price.calculated`   |
//! | mes, REJECTED                         | `PriceRejected` → `price.rejected`       |
//! | mes, FAILED                           | `PriceFailed` → `price.failed`           |
//! | crm, PRICE_CALCULATED, partner + ref  | `OrderReady` → `crm.order.ready`         |
//! | crm, anything else                    | nothing (the CRM only creates orders)    |
//!
//! Every message carries its contract's deterministic `message_id`, the job's idempotency key as
//! correlation id (for MES that is its `request_id`) and a `traceparent` whose trace is the job.

use contracts::{
    AlloyTotal, Channel, Contract, OrderReady, PriceCalculated, PriceFailed, PriceRejected,
    QuoteSummary, ResultEvent, RingSizeSummary, RunJob, SchemaVersion, StoneSummary, StonesSummary,
};
use messaging::{Publish, Topology};
use scheduler::outbox::{JobEventPayload, RunJobPayload};
use scheduler::{Destination, Job, JobStatus, OutboxMessage};
use serde::Deserialize;
use serde_json::Value;

use crate::decide::split_reason;
use crate::ids;
use crate::request::units_option;

/// What the relay needs to know about a row's job besides the row.
#[derive(Debug, Clone, PartialEq)]
pub struct JobFacts {
    pub channel: Channel,
    pub partner_ref: Option<String>,
    pub idempotency_key: String,
    /// For run rows: 1 + how many times the job was queued again before this row.
    pub attempt: u32,
}

impl JobFacts {
    pub fn of(job: &Job, attempt: u32) -> Self {
        JobFacts {
            channel: job.channel,
            partner_ref: job.partner_ref.clone(),
            idempotency_key: job.idempotency_key.clone(),
            attempt: attempt.max(1),
        }
    }
}

/// A row that can never be published (its payload does not parse or encode).
#[derive(Debug, thiserror::Error)]
#[error("outbox row {seq}: {detail}")]
pub struct Untranslatable {
    pub seq: i64,
    pub detail: String,
}

/// The message for `row`, or `None` when the row has no subscriber (see the table above).
pub fn translate(
    row: &OutboxMessage,
    facts: &JobFacts,
    topology: &Topology,
) -> Result<Option<Publish>, Untranslatable> {
    let bad = |detail: String| Untranslatable {
        seq: row.seq,
        detail,
    };
    let publish = match row.destination {
        Destination::Run => {
            let payload =
                RunJobPayload::deserialize(&row.payload).map_err(|e| bad(e.to_string()))?;
            let message = run_job(&payload, facts);
            let route = topology.job_route(message.lane);
            Some(Publish::contract(route, &message).map_err(|e| bad(e.to_string()))?)
        }
        Destination::Mes | Destination::Crm => {
            let payload =
                JobEventPayload::deserialize(&row.payload).map_err(|e| bad(e.to_string()))?;
            result_event(row.destination, &payload, facts, topology)
                .map_err(|e| bad(e.to_string()))?
        }
    };
    Ok(publish.map(|p| {
        p.with_correlation_id(facts.idempotency_key.clone())
            .with_trace_context(ids::traceparent(row.job_id, &row.seq.to_string()), None)
    }))
}

/// True when `row` publishes nothing, whatever its job: decided from the row alone, so the
/// relay need not look the job up. The store no longer writes such rows; this drops the ones
/// written before it filtered (CRM rows of jobs that are not priced partner orders).
pub fn is_silent(row: &OutboxMessage) -> bool {
    match row.destination {
        Destination::Run => false,
        Destination::Mes | Destination::Crm => JobEventPayload::deserialize(&row.payload)
            // An unreadable row is not silent: `translate` reports it.
            .is_ok_and(|p| !has_subscriber(row.destination, &p)),
    }
}

/// Whether a result row has a message: the store writes no other rows
/// ([`scheduler::lifecycle::has_subscriber`]); rows written before it filtered are dropped here.
fn has_subscriber(destination: Destination, p: &JobEventPayload) -> bool {
    scheduler::lifecycle::has_subscriber(destination, p.status, p.channel, p.partner_ref.as_deref())
}

/// The work order for a queued job.
pub fn run_job(payload: &RunJobPayload, facts: &JobFacts) -> RunJob {
    RunJob {
        schema_version: SchemaVersion,
        job_id: payload.job_id,
        model_sha256: payload.model_sha256.clone(),
        format: payload.format,
        triangles: payload.triangles,
        lane: payload.lane,
        alloys: payload.alloys.clone(),
        channel: facts.channel,
        tenant: payload.tenant.clone(),
        partner_ref: facts.partner_ref.clone(),
        units: units_option(&payload.options),
        correlation_id: Some(facts.idempotency_key.clone()),
        attempt: facts.attempt,
    }
}

fn event<T: ResultEvent>(topology: &Topology, message: &T) -> messaging::Result<Option<Publish>> {
    Publish::contract(topology.result_route(T::ROUTING_KEY), message).map(Some)
}

fn result_event(
    destination: Destination,
    p: &JobEventPayload,
    facts: &JobFacts,
    topology: &Topology,
) -> messaging::Result<Option<Publish>> {
    if !has_subscriber(destination, p) {
        return Ok(None);
    }
    let correlation_id = Some(facts.idempotency_key.clone());
    let quote = p.quote.clone().unwrap_or(Value::Null);
    let reason = p.reason.clone().unwrap_or_default();
    match (destination, p.status) {
        (Destination::Mes, JobStatus::PriceCalculated) => event(
            topology,
            &PriceCalculated {
                schema_version: SchemaVersion,
                job_id: p.job_id,
                tenant: p.tenant.clone(),
                channel: p.channel,
                partner_ref: p.partner_ref.clone(),
                correlation_id,
                rules_version: text(&quote["rules_version"]).unwrap_or_default(),
                quote,
            },
        ),
        (Destination::Mes, JobStatus::Rejected) => {
            let (code, message) = split_reason(&reason, "rejected");
            event(
                topology,
                &PriceRejected {
                    schema_version: SchemaVersion,
                    job_id: p.job_id,
                    tenant: p.tenant.clone(),
                    partner_ref: p.partner_ref.clone(),
                    correlation_id,
                    reason_code: code.to_owned(),
                    reason: message.to_owned(),
                },
            )
        }
        (Destination::Mes, JobStatus::Failed) => event(
            topology,
            &PriceFailed {
                schema_version: SchemaVersion,
                job_id: p.job_id,
                tenant: p.tenant.clone(),
                partner_ref: p.partner_ref.clone(),
                correlation_id,
                reason,
            },
        ),
        (Destination::Crm, JobStatus::PriceCalculated) => event(
            topology,
            &OrderReady {
                schema_version: SchemaVersion,
                job_id: p.job_id,
                tenant: p.tenant.clone(),
                partner_ref: p
                    .partner_ref
                    .as_deref()
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                correlation_id,
                quote: quote_summary(&quote),
            },
        ),
        _ => Ok(None),
    }
}

/// A string, or a number written as text (decimals are strings in quotes, but be lenient).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What the CRM needs from the quote document.
pub fn quote_summary(quote: &Value) -> QuoteSummary {
    let alloys = quote["alloys"]
        .as_array()
        .map(|alloys| {
            alloys
                .iter()
                .map(|a| AlloyTotal {
                    alloy: text(&a["alloy"]).unwrap_or_default(),
                    status: text(&a["status"]).unwrap_or_default(),
                    weight_g: text(&a["weight_g"]),
                    casting_charge_g: text(&a["weights"]["casting_charge"]["grams"]),
                    finished_g: text(&a["weights"]["finished"]["grams"]),
                    total: text(&a["total"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let ring = &quote["ring"];
    let gems = &quote["gems"];
    QuoteSummary {
        rules_version: text(&quote["rules_version"]).unwrap_or_default(),
        currency: text(&quote["currency"]).unwrap_or_default(),
        alloys,
        ring: ring["inner_diameter_mm"]
            .as_f64()
            .map(|inner_diameter_mm| RingSizeSummary {
                inner_diameter_mm,
                iso_8653: ring["iso_8653"]
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok()),
                us_canada: ring["us_canada"].as_f64(),
                uk_australia: text(&ring["uk_australia"]),
                japan: ring["japan"].as_u64().and_then(|v| u32::try_from(v).ok()),
                note: text(&ring["note"]),
            }),
        stones: gems["count"]
            .as_u64()
            .and_then(|c| u32::try_from(c).ok())
            .map(|count| StonesSummary {
                count,
                total_carat_if_diamond: gems["total_carat_if_diamond"].as_f64().unwrap_or(0.0),
                setting_total: text(&gems["setting_total"]).unwrap_or_default(),
                stones: gems["stones"]
                    .as_array()
                    .map(|rows| {
                        rows.iter()
                            .map(|r| StoneSummary {
                                cut: text(&r["cut"]).unwrap_or_default(),
                                length_mm: r["length_mm"].as_f64().unwrap_or(0.0),
                                width_mm: r["width_mm"].as_f64().unwrap_or(0.0),
                                depth_mm: r["depth_mm"].as_f64().unwrap_or(0.0),
                                carat_if_diamond: r["carat_if_diamond"].as_f64(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
    }
}

/// The `message_id` a run row is published with (for tests and operators).
pub fn run_message_id(payload: &RunJobPayload, facts: &JobFacts) -> String {
    run_job(payload, facts).dedup_key()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use contracts::routing;
    use serde_json::json;
    use uuid::Uuid;

    const JOB: Uuid = Uuid::from_u128(0x42);

    fn facts(channel: Channel, partner_ref: Option<&str>) -> JobFacts {
        JobFacts {
            channel,
            partner_ref: partner_ref.map(str::to_owned),
            idempotency_key: "req-1".into(),
            attempt: 1,
        }
    }

    fn row(destination: Destination, payload: Value) -> OutboxMessage {
        OutboxMessage {
            seq: 7,
            message_id: Uuid::from_u128(9),
            destination,
            routing_key: "ignored".into(),
            job_id: JOB,
            payload,
            priority: 0,
            created_at: Utc::now(),
            sent_at: None,
        }
    }

    fn quote() -> Value {
        json!({
            "rules_version": "2025.1",
            "currency": "EUR",
            "alloys": [
                {"alloy": "au750", "status": "priced", "weight_g": "3.21", "total": "412.50",
                 "weights": {"casting_charge": {"grams": "3.884"}, "finished": {"grams": "3.021"}}},
                {"alloy": "ag925", "status": "needs_review", "weight_g": 1.5, "total": null}
            ],
            "ring": {"inner_diameter_mm": 17.32, "iso_8653": 54, "us_canada": 7.0,
                     "uk_australia": "N 1/2", "japan": 14, "note": null},
            "gems": {"count": 1, "total_carat_if_diamond": 0.03, "setting_total": "6.00",
                     "stones": [{"cut": "round", "length_mm": 2.0, "width_mm": 1.98, "depth_mm": 1.24,
                                 "carat_if_diamond": 0.03, "setting": "6.00"}]}
        })
    }

    fn event_row(destination: Destination, status: JobStatus, f: &JobFacts) -> OutboxMessage {
        let payload = JobEventPayload {
            job_id: JOB,
            tenant: "acme".into(),
            channel: f.channel,
            partner_ref: f.partner_ref.clone(),
            status,
            quote: (status == JobStatus::PriceCalculated).then(quote),
            reason: match status {
                JobStatus::Rejected => Some("not_watertight: the mesh has holes".into()),
                JobStatus::Failed => Some("pricing_timed_out: no result after 5 ms".into()),
                _ => None,
            },
            version: 5,
            at: Utc::now(),
        };
        row(destination, serde_json::to_value(payload).unwrap())
    }

    #[test]
    fn routing_table() {
        let t = Topology::new("p");
        let partner = facts(Channel::Partner, Some("PO-9"));
        let web = facts(Channel::Website, None);
        let partner_no_ref = facts(Channel::Partner, Some("  "));
        // (destination, status, facts, expected routing key or None)
        let cases = [
            (
                Destination::Mes,
                JobStatus::PriceCalculated,
                &partner,
                Some(routing::PRICE_CALCULATED),
            ),
            (
                Destination::Mes,
                JobStatus::Rejected,
                &web,
                Some(routing::PRICE_REJECTED),
            ),
            (
                Destination::Mes,
                JobStatus::Failed,
                &web,
                Some(routing::PRICE_FAILED),
            ),
            (Destination::Mes, JobStatus::Queued, &web, None),
            (
                Destination::Crm,
                JobStatus::PriceCalculated,
                &partner,
                Some(routing::CRM_ORDER_READY),
            ),
            (Destination::Crm, JobStatus::PriceCalculated, &web, None),
            (
                Destination::Crm,
                JobStatus::PriceCalculated,
                &partner_no_ref,
                None,
            ),
            (Destination::Crm, JobStatus::Rejected, &partner, None),
            (Destination::Crm, JobStatus::Failed, &partner, None),
        ];
        for (destination, status, f, want) in cases {
            let row = event_row(destination, status, f);
            assert_eq!(is_silent(&row), want.is_none(), "{destination:?} {status}");
            let got = translate(&row, f, &t).unwrap();
            assert_eq!(
                got.as_ref().map(|p| p.route.routing_key.as_str()),
                want,
                "{destination:?} {status}"
            );
            if let Some(p) = got {
                assert_eq!(p.route.exchange, "p.results");
                assert_eq!(p.correlation_id.as_deref(), Some("req-1"));
                assert!(ids::trace_id(&p.headers["traceparent"]).is_some());
                assert_eq!(p.message_id, format!("{}/{JOB}", want.unwrap_or_default()));
            }
        }
    }

    #[test]
    fn events_carry_the_contract_fields() {
        let t = Topology::new("p");
        let f = facts(Channel::Partner, Some("PO-9"));
        let p = translate(
            &event_row(Destination::Mes, JobStatus::Rejected, &f),
            &f,
            &t,
        )
        .unwrap()
        .unwrap();
        let rejected = PriceRejected::from_json(&p.payload).unwrap();
        assert_eq!(rejected.reason_code, "not_watertight");
        assert_eq!(rejected.reason, "the mesh has holes");
        assert_eq!(rejected.partner_ref.as_deref(), Some("PO-9"));

        let p = translate(
            &event_row(Destination::Mes, JobStatus::PriceCalculated, &f),
            &f,
            &t,
        )
        .unwrap()
        .unwrap();
        let priced = PriceCalculated::from_json(&p.payload).unwrap();
        assert_eq!(priced.rules_version, "2025.1");
        assert_eq!(priced.channel, contracts::Channel::Partner);
        assert_eq!(priced.correlation_id.as_deref(), Some("req-1"));

        let p = translate(
            &event_row(Destination::Crm, JobStatus::PriceCalculated, &f),
            &f,
            &t,
        )
        .unwrap()
        .unwrap();
        let order = OrderReady::from_json(&p.payload).unwrap();
        assert_eq!(order.partner_ref, "PO-9");
        assert_eq!(order.quote.currency, "EUR");
        assert_eq!(
            order.quote.alloys,
            [
                AlloyTotal {
                    alloy: "au750".into(),
                    status: "priced".into(),
                    weight_g: Some("3.21".into()),
                    casting_charge_g: Some("3.884".into()),
                    finished_g: Some("3.021".into()),
                    total: Some("412.50".into())
                },
                AlloyTotal {
                    alloy: "ag925".into(),
                    status: "needs_review".into(),
                    weight_g: Some("1.5".into()),
                    casting_charge_g: None,
                    finished_g: None,
                    total: None
                }
            ]
        );
        assert_eq!(
            order.quote.ring,
            Some(RingSizeSummary {
                inner_diameter_mm: 17.32,
                iso_8653: Some(54),
                us_canada: Some(7.0),
                uk_australia: Some("N 1/2".into()),
                japan: Some(14),
                note: None,
            })
        );
        assert_eq!(
            order.quote.stones,
            Some(StonesSummary {
                count: 1,
                total_carat_if_diamond: 0.03,
                setting_total: "6.00".into(),
                stones: vec![StoneSummary {
                    cut: "round".into(),
                    length_mm: 2.0,
                    width_mm: 1.98,
                    depth_mm: 1.24,
                    carat_if_diamond: Some(0.03),
                }],
            })
        );
    }

    #[test]
    fn run_rows_become_run_jobs_on_their_lane() {
        let t = Topology::new("p");
        let payload = RunJobPayload {
            job_id: JOB,
            tenant: "acme".into(),
            lane: contracts::Lane::Medium,
            model_sha256: "cd".repeat(32),
            format: contracts::Format::Obj,
            triangles: 900_000,
            alloys: vec!["au750".into()],
            options: json!({"units": "cm"}),
            predicted_seconds: 3.0,
            version: 2,
            attempt: Some(2),
        };
        let f = JobFacts {
            attempt: 2,
            ..facts(Channel::Website, None)
        };
        let p = translate(
            &row(Destination::Run, serde_json::to_value(&payload).unwrap()),
            &f,
            &t,
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.route, t.job_route(contracts::Lane::Medium));
        assert_eq!(p.message_id, format!("run_job/{JOB}/2"));
        assert_eq!(p.message_id, run_message_id(&payload, &f));
        assert_eq!(p.message_type.as_deref(), Some(RunJob::TYPE));
        let job = RunJob::from_json(&p.payload).unwrap();
        assert_eq!(job.channel, contracts::Channel::Website);
        assert_eq!(job.units, Some(contracts::Units::Cm));
        assert_eq!(job.correlation_id.as_deref(), Some("req-1"));
        assert_eq!((job.triangles, job.attempt), (900_000, 2));
    }

    #[test]
    fn unparseable_rows_are_reported() {
        let t = Topology::new("p");
        let f = facts(Channel::Mes, None);
        for destination in [Destination::Run, Destination::Mes, Destination::Crm] {
            let bad = row(destination, json!({"nope": 1}));
            assert!(!is_silent(&bad));
            let err = translate(&bad, &f, &t).unwrap_err();
            assert_eq!(err.seq, 7);
        }
    }
}
