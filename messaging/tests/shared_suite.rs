//! One suite, run against the in-process broker and against the real RabbitMQ, asserting the
//! same semantics. Each test declares its own randomly prefixed topology and deletes it after.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Backend, Harness, assert_quiet, recv, run_job, wait_ready};
use contracts::{
    AlloyTotal, Contract, JobOptions, Lane, ModelRef, OrderReady, PriceCalculated, PriceFailed,
    PriceRejected, QuoteSummary, ResultEvent, RunJob, SchemaVersion, SubmitJob, routing,
};
use messaging::{LaneConsumer, MessagingError, Publish, Topology};
use uuid::Uuid;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async fn publish_job(h: &Harness, lane: Lane) -> RunJob {
    let job = run_job(lane, 1);
    let message = Publish::contract(h.topology.job_route(lane), &job)
        .unwrap()
        .with_trace_context(TRACEPARENT, None);
    h.broker.publish(&message).await.unwrap();
    job
}

pub async fn publish_confirm_consume_ack(backend: Backend) {
    let h = Harness::new(backend).await;
    let queue = h.topology.lane_queue(Lane::Small);
    let job = publish_job(&h, Lane::Small).await;
    wait_ready(&h.broker, &queue.name, 1).await;

    let mut consumer = h.broker.consume(&queue, 4).await.unwrap();
    let d = recv(&mut consumer).await;
    assert_eq!(d.decode::<RunJob>().unwrap(), job);
    assert_eq!(d.message_id(), Some(job.dedup_key().as_str()));
    assert_eq!(d.message_type(), Some(RunJob::TYPE));
    assert_eq!(d.traceparent(), Some(TRACEPARENT));
    assert_eq!(d.routing_key(), "small");
    assert_eq!(d.exchange(), h.topology.jobs_exchange());
    assert_eq!(d.queue(), queue.name);
    assert!(!d.redelivered());
    assert_eq!(d.delivery_count(), 0);
    assert!(d.dead_letter().is_none());
    assert!(matches!(
        d.decode::<PriceFailed>(),
        Err(MessagingError::UnexpectedType { .. })
    ));
    d.ack().await.unwrap();

    // Acked means gone: dropping the consumer returns nothing to the queue.
    drop(consumer);
    tokio::time::sleep(common::QUIET).await;
    assert_eq!(h.broker.ready_count(&queue.name).await.unwrap(), 0);
    let mut again = h.broker.consume(&queue, 4).await.unwrap();
    assert_quiet(&mut again).await;
}

pub async fn nack_requeue_redelivers_with_incremented_count(backend: Backend) {
    let h = Harness::new(backend).await;
    let queue = h.topology.lane_queue(Lane::Medium);
    let job = publish_job(&h, Lane::Medium).await;
    let mut consumer = h.broker.consume(&queue, 1).await.unwrap();

    let first = recv(&mut consumer).await;
    assert_eq!((first.redelivered(), first.delivery_count()), (false, 0));
    first.nack(true).await.unwrap();

    let second = recv(&mut consumer).await;
    assert_eq!(second.decode::<RunJob>().unwrap(), job);
    assert_eq!(second.message_id(), Some(job.dedup_key().as_str()));
    assert_eq!((second.redelivered(), second.delivery_count()), (true, 1));
    assert_eq!(second.traceparent(), Some(TRACEPARENT));
    // Dropping a delivery unsettled is a failed delivery too.
    drop(second);

    let third = recv(&mut consumer).await;
    assert_eq!((third.redelivered(), third.delivery_count()), (true, 2));
    third.ack().await.unwrap();
    assert_quiet(&mut consumer).await;
}

pub async fn dropped_consumer_redelivers_to_another(backend: Backend) {
    let h = Harness::new(backend).await;
    let queue = h.topology.lane_queue(Lane::Small);
    let job = publish_job(&h, Lane::Small).await;

    let mut crashed = h.broker.consume(&queue, 1).await.unwrap();
    let in_progress = recv(&mut crashed).await;
    let mut survivor = h.broker.consume(&queue, 1).await.unwrap();
    assert_quiet(&mut survivor).await;

    // The worker dies mid-message: its delivery and its subscription vanish together.
    drop(crashed);
    drop(in_progress);

    let d = recv(&mut survivor).await;
    assert_eq!(d.decode::<RunJob>().unwrap(), job);
    assert!(d.redelivered());
    assert_eq!(d.delivery_count(), 1);
    d.ack().await.unwrap();
}

pub async fn settling_after_the_consumer_is_gone_fails(backend: Backend) {
    let h = Harness::new(backend).await;
    let queue = h.topology.lane_queue(Lane::Small);
    publish_job(&h, Lane::Small).await;
    let mut consumer = h.broker.consume(&queue, 1).await.unwrap();
    let d = recv(&mut consumer).await;
    drop(consumer);
    // Once the message is back in the queue, the delivery's channel is certainly gone.
    wait_ready(&h.broker, &queue.name, 1).await;
    assert!(matches!(
        d.ack().await,
        Err(MessagingError::SettleFailed { .. })
    ));
    let mut next = h.broker.consume(&queue, 1).await.unwrap();
    let again = recv(&mut next).await;
    assert!(again.redelivered());
    again.ack().await.unwrap();
}

pub async fn delivery_limit_dead_letters_with_reason(backend: Backend) {
    let limit = 2;
    let h = Harness::with_topology(
        backend,
        Topology::new(test_support::unique_name("test")).with_delivery_limit(limit),
    )
    .await;
    let queue = h.topology.lane_queue(Lane::Large);
    let job = publish_job(&h, Lane::Large).await;
    let mut consumer = h.broker.consume(&queue, 1).await.unwrap();

    let mut counts = Vec::new();
    while let Ok(Some(d)) = tokio::time::timeout(Duration::from_secs(2), consumer.next()).await {
        counts.push(d.delivery_count());
        d.nack(true).await.unwrap();
    }
    // Delivered limit + 1 times; the return that takes the count above the limit dead-letters.
    assert_eq!(counts, vec![0, 1, 2]);

    let mut dead = h
        .broker
        .consume(&h.topology.lane_dead_queue(Lane::Large), 1)
        .await
        .unwrap();
    let d = recv(&mut dead).await;
    assert_eq!(d.decode::<RunJob>().unwrap(), job);
    assert_eq!(d.message_id(), Some(job.dedup_key().as_str()));
    assert_eq!(d.traceparent(), Some(TRACEPARENT));
    let info = d.dead_letter().expect("dead-letter info");
    assert_eq!(info.reason, "delivery_limit");
    assert_eq!(info.queue, queue.name);
    assert_eq!(info.detail, None);
    d.ack().await.unwrap();
    assert_eq!(h.broker.ready_count(&queue.name).await.unwrap(), 0);
}

pub async fn explicit_dead_lettering_keeps_reason(backend: Backend) {
    let h = Harness::new(backend).await;
    let queue = h.topology.lane_queue(Lane::Small);
    let poison = publish_job(&h, Lane::Small).await;
    let rejected = publish_job(&h, Lane::Small).await;
    let mut consumer = h.broker.consume(&queue, 2).await.unwrap();

    let d = recv(&mut consumer).await;
    assert_eq!(d.decode::<RunJob>().unwrap(), poison);
    d.reject_to_dead_letter("mesh parser crashed: index out of range")
        .await
        .unwrap();
    let d = recv(&mut consumer).await;
    assert_eq!(d.decode::<RunJob>().unwrap(), rejected);
    d.nack(false).await.unwrap();
    assert_quiet(&mut consumer).await;

    let mut dead = h
        .broker
        .consume(&h.topology.lane_dead_queue(Lane::Small), 2)
        .await
        .unwrap();
    let first = recv(&mut dead).await;
    let second = recv(&mut dead).await;
    let (with_detail, plain) = if first.decode::<RunJob>().unwrap() == poison {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(with_detail.decode::<RunJob>().unwrap(), poison);
    assert_eq!(with_detail.message_id(), Some(poison.dedup_key().as_str()));
    assert_eq!(with_detail.traceparent(), Some(TRACEPARENT));
    let info = with_detail.dead_letter().unwrap();
    assert_eq!(info.reason, "rejected");
    assert_eq!(info.queue, queue.name);
    assert_eq!(
        info.detail.as_deref(),
        Some("mesh parser crashed: index out of range")
    );

    assert_eq!(plain.decode::<RunJob>().unwrap(), rejected);
    let info = plain.dead_letter().unwrap();
    assert_eq!(
        (
            info.reason.as_str(),
            info.queue.as_str(),
            info.detail.as_deref()
        ),
        ("rejected", queue.name.as_str(), None)
    );
    with_detail.ack().await.unwrap();
    plain.ack().await.unwrap();
}

fn calculated(job_id: Uuid) -> PriceCalculated {
    PriceCalculated {
        schema_version: SchemaVersion,
        job_id,
        tenant: "acme".into(),
        channel: contracts::Channel::Partner,
        partner_ref: Some("PO-7".into()),
        correlation_id: Some("req-1".into()),
        quote: serde_json::json!({"currency": "EUR", "alloys": [{"alloy": "au750y", "total": "812.40"}]}),
        rules_version: "2026-01".into(),
    }
}

async fn publish_event<T: ResultEvent>(h: &Harness, event: &T) {
    let message = Publish::contract(h.topology.result_route(T::ROUTING_KEY), event).unwrap();
    h.broker.publish(&message).await.unwrap();
}

pub async fn results_are_routed_by_topic(backend: Backend) {
    let h = Harness::new(backend).await;
    let job_id = Uuid::new_v4();
    publish_event(&h, &calculated(job_id)).await;
    let rejected = PriceRejected {
        schema_version: SchemaVersion,
        job_id,
        tenant: "acme".into(),
        partner_ref: None,
        correlation_id: None,
        reason_code: "unparseable_model".into(),
        reason: "not an STL file".into(),
    };
    publish_event(&h, &rejected).await;
    let failed = PriceFailed {
        schema_version: SchemaVersion,
        job_id,
        tenant: "acme".into(),
        partner_ref: None,
        correlation_id: None,
        reason: "timed out 3 times".into(),
    };
    publish_event(&h, &failed).await;
    let order = OrderReady {
        schema_version: SchemaVersion,
        job_id,
        tenant: "acme".into(),
        partner_ref: "PO-7".into(),
        correlation_id: None,
        quote: QuoteSummary {
            rules_version: "2026-01".into(),
            currency: "EUR".into(),
            alloys: vec![AlloyTotal {
                alloy: "au750y".into(),
                status: "priced".into(),
                weight_g: Some("4.21".into()),
                casting_charge_g: Some("5.094".into()),
                finished_g: Some("3.962".into()),
                total: Some("812.40".into()),
            }],
            ring: None,
            stones: None,
        },
    };
    publish_event(&h, &order).await;

    let mut mes = h
        .broker
        .consume(&h.topology.mes_results_queue(), 10)
        .await
        .unwrap();
    let mut keys = Vec::new();
    for _ in 0..3 {
        let d = recv(&mut mes).await;
        keys.push(d.routing_key().to_owned());
        match d.routing_key() {
            routing::PRICE_CALCULATED => {
                assert_eq!(d.decode::<PriceCalculated>().unwrap(), calculated(job_id))
            }
            routing::PRICE_REJECTED => assert_eq!(d.decode::<PriceRejected>().unwrap(), rejected),
            routing::PRICE_FAILED => assert_eq!(d.decode::<PriceFailed>().unwrap(), failed),
            other => panic!("MES queue got {other}"),
        }
        d.ack().await.unwrap();
    }
    assert_eq!(
        keys,
        [
            routing::PRICE_CALCULATED,
            routing::PRICE_REJECTED,
            routing::PRICE_FAILED
        ]
    );
    assert_quiet(&mut mes).await;

    let mut crm = h
        .broker
        .consume(&h.topology.crm_results_queue(), 10)
        .await
        .unwrap();
    let d = recv(&mut crm).await;
    assert_eq!(d.routing_key(), routing::CRM_ORDER_READY);
    assert_eq!(d.decode::<OrderReady>().unwrap(), order);
    d.ack().await.unwrap();
    assert_quiet(&mut crm).await;
}

pub async fn two_consumers_share_a_lane(backend: Backend) {
    let h = Harness::new(backend).await;
    let queue = h.topology.lane_queue(Lane::Small);
    let a_job = publish_job(&h, Lane::Small).await;
    let b_job = publish_job(&h, Lane::Small).await;
    let mut a = h.broker.consume(&queue, 1).await.unwrap();
    let mut b = h.broker.consume(&queue, 1).await.unwrap();
    // prefetch 1 each: both messages are in progress at once, one per consumer.
    let da = recv(&mut a).await;
    let db = recv(&mut b).await;
    let mut got = vec![
        da.decode::<RunJob>().unwrap().job_id,
        db.decode::<RunJob>().unwrap().job_id,
    ];
    got.sort();
    let mut want = vec![a_job.job_id, b_job.job_id];
    want.sort();
    assert_eq!(got, want);
    da.ack().await.unwrap();
    db.ack().await.unwrap();
    assert_quiet(&mut a).await;
}

pub async fn prefetch_limits_unsettled_deliveries(backend: Backend) {
    let h = Harness::new(backend).await;
    let queue = h.topology.lane_queue(Lane::Medium);
    for _ in 0..3 {
        publish_job(&h, Lane::Medium).await;
    }
    let mut consumer = h.broker.consume(&queue, 2).await.unwrap();
    let first = recv(&mut consumer).await;
    let second = recv(&mut consumer).await;
    assert_quiet(&mut consumer).await;
    first.ack().await.unwrap();
    let third = recv(&mut consumer).await;
    second.ack().await.unwrap();
    third.ack().await.unwrap();
}

pub async fn small_lane_first_with_shared_slots(backend: Backend) {
    let h = Harness::new(backend).await;
    // Published largest first, so a FIFO over all jobs would start with the large ones.
    for lane in [
        Lane::Large,
        Lane::Large,
        Lane::Medium,
        Lane::Medium,
        Lane::Small,
        Lane::Small,
    ] {
        publish_job(&h, lane).await;
    }
    let mut lanes = LaneConsumer::start(&h.broker, &h.topology, 2)
        .await
        .unwrap();
    // Prefetch is 2 per lane, so the broker hands over all six at once; wait until it has, so
    // each pick below is a choice among received deliveries (the documented guarantee).
    for lane in Lane::ALL {
        wait_ready(&h.broker, &h.topology.lane_queue(lane).name, 0).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;

    let (l1, d1) = lanes.next().await.unwrap();
    let (l2, d2) = lanes.next().await.unwrap();
    assert_eq!((l1, l2), (Lane::Small, Lane::Small));
    assert_eq!(lanes.free_slots(), 0);
    assert!(
        tokio::time::timeout(common::QUIET, lanes.next())
            .await
            .is_err(),
        "a third job despite 2 slots"
    );

    let mut order = vec![l1, l2];
    d1.ack().await.unwrap();
    let mut held = vec![d2];
    for _ in 0..4 {
        let (lane, d) = tokio::time::timeout(common::WAIT, lanes.next())
            .await
            .unwrap()
            .unwrap();
        order.push(lane);
        held.push(d);
        // Keep one slot busy and free the other, so each pick is a real choice among lanes.
        held.remove(0).ack().await.unwrap();
    }
    assert_eq!(
        order,
        [
            Lane::Small,
            Lane::Small,
            Lane::Medium,
            Lane::Medium,
            Lane::Large,
            Lane::Large
        ]
    );
    for d in held {
        d.ack().await.unwrap();
    }
    assert_eq!(lanes.free_slots(), 2);
}

pub async fn unroutable_publish_is_an_error(backend: Backend) {
    let h = Harness::new(backend).await;
    let nowhere = Publish::new(
        h.topology.result_route("nobody.listens"),
        "m-1",
        b"{}".to_vec(),
    );
    assert!(matches!(
        h.broker.publish(&nowhere).await,
        Err(MessagingError::Unroutable { .. })
    ));
    let mut route = h.topology.job_route(Lane::Small);
    route.routing_key = "huge".into();
    let no_lane = Publish::new(route, "m-2", b"{}".to_vec());
    assert!(matches!(
        h.broker.publish(&no_lane).await,
        Err(MessagingError::Unroutable { .. })
    ));
    let mut route = h.topology.job_route(Lane::Small);
    route.exchange = format!("{}.missing", h.topology.prefix());
    let no_exchange = Publish::new(route, "m-3", b"{}".to_vec());
    assert!(h.broker.publish(&no_exchange).await.is_err());
    // The broker handle still works after the refusals.
    publish_job(&h, Lane::Small).await;
    wait_ready(&h.broker, &h.topology.lane_queue(Lane::Small).name, 1).await;
}

pub async fn declare_is_idempotent_and_conflicts_are_refused(backend: Backend) {
    let h = Harness::new(backend).await;
    h.broker.declare(&h.topology).await.unwrap();
    publish_job(&h, Lane::Small).await;
    h.broker.declare(&h.topology).await.unwrap();
    wait_ready(&h.broker, &h.topology.lane_queue(Lane::Small).name, 1).await;
    let changed = h
        .topology
        .clone()
        .with_delivery_limit(h.topology.delivery_limit() + 1);
    assert!(h.broker.declare(&changed).await.is_err());
}

pub async fn mes_submission_is_answered_on_the_results_exchange(backend: Backend) {
    let h = Harness::new(backend).await;
    let submit = SubmitJob {
        schema_version: SchemaVersion,
        request_id: "mes-123".into(),
        tenant: "acme".into(),
        partner_ref: Some("WO-55".into()),
        model: ModelRef::Stored {
            sha256: "cd".repeat(32),
        },
        format: Some("stl".into()),
        options: JobOptions {
            alloys: vec!["ag925".into()],
            units: Some("mm".into()),
            channel: None,
        },
    };
    let request = Publish::contract(h.topology.inbound_route(), &submit)
        .unwrap()
        .with_correlation_id("mes-123");
    h.broker.publish(&request).await.unwrap();

    let mut inbound = h
        .broker
        .consume(&h.topology.inbound_queue(), 1)
        .await
        .unwrap();
    let d = recv(&mut inbound).await;
    assert_eq!(d.decode::<SubmitJob>().unwrap(), submit);
    assert_eq!(d.message_id(), Some("submit_job/acme/mes-123"));
    assert_eq!(d.correlation_id(), Some("mes-123"));
    let answer = PriceCalculated {
        correlation_id: Some(submit.request_id.clone()),
        ..calculated(Uuid::new_v4())
    };
    let reply = Publish::contract(
        h.topology.result_route(PriceCalculated::ROUTING_KEY),
        &answer,
    )
    .unwrap()
    .with_correlation_id(submit.request_id.clone());
    h.broker.publish(&reply).await.unwrap();
    d.ack().await.unwrap();

    let mut mes = h
        .broker
        .consume(&h.topology.mes_results_queue(), 1)
        .await
        .unwrap();
    let r = recv(&mut mes).await;
    assert_eq!(r.correlation_id(), Some("mes-123"));
    assert_eq!(r.decode::<PriceCalculated>().unwrap(), answer);
    r.ack().await.unwrap();
}

macro_rules! suite {
    ($module:ident, $backend:expr) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn publish_confirm_consume_ack() {
                super::publish_confirm_consume_ack($backend).await
            }
            #[tokio::test]
            async fn nack_requeue_redelivers_with_incremented_count() {
                super::nack_requeue_redelivers_with_incremented_count($backend).await
            }
            #[tokio::test]
            async fn dropped_consumer_redelivers_to_another() {
                super::dropped_consumer_redelivers_to_another($backend).await
            }
            #[tokio::test]
            async fn settling_after_the_consumer_is_gone_fails() {
                super::settling_after_the_consumer_is_gone_fails($backend).await
            }
            #[tokio::test]
            async fn delivery_limit_dead_letters_with_reason() {
                super::delivery_limit_dead_letters_with_reason($backend).await
            }
            #[tokio::test]
            async fn explicit_dead_lettering_keeps_reason() {
                super::explicit_dead_lettering_keeps_reason($backend).await
            }
            #[tokio::test]
            async fn results_are_routed_by_topic() {
                super::results_are_routed_by_topic($backend).await
            }
            #[tokio::test]
            async fn two_consumers_share_a_lane() {
                super::two_consumers_share_a_lane($backend).await
            }
            #[tokio::test]
            async fn prefetch_limits_unsettled_deliveries() {
                super::prefetch_limits_unsettled_deliveries($backend).await
            }
            #[tokio::test]
            async fn small_lane_first_with_shared_slots() {
                super::small_lane_first_with_shared_slots($backend).await
            }
            #[tokio::test]
            async fn unroutable_publish_is_an_error() {
                super::unroutable_publish_is_an_error($backend).await
            }
            #[tokio::test]
            async fn mes_submission_is_answered_on_the_results_exchange() {
                super::mes_submission_is_answered_on_the_results_exchange($backend).await
            }
            #[tokio::test]
            async fn declare_is_idempotent_and_conflicts_are_refused() {
                super::declare_is_idempotent_and_conflicts_are_refused($backend).await
            }
        }
    };
}

suite!(memory, Backend::Memory);
suite!(rabbit, Backend::Rabbit);
