//! One store suite, run against real PostgreSQL and SQLite (a fresh database per test).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use contracts::{Channel, Lane};
use scheduler::hashing::options_hash;
use scheduler::{
    Completion, CompletionOutcome, Destination, Heartbeat, JobQuery, JobStatus, JobStore, NewJob,
    OutboxMessage, OutboxPublisher, Outcome, PublishError, StartOutcome, StoreConfig, StoreError,
};
use serde_json::json;
use support::Fixture;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// helpers

fn sha(n: u64) -> String {
    scheduler::hashing::sha256_hex(&n.to_le_bytes())
}

fn new_job(tenant: &str, key: &str, triangles: u64) -> NewJob {
    NewJob {
        tenant: tenant.into(),
        channel: Channel::Partner,
        idempotency_key: key.into(),
        partner_ref: Some(format!("PO-{key}")),
        model_sha256: sha(triangles),
        format: contracts::Format::StlBinary,
        triangles,
        alloys: vec!["au750".into()],
        options: json!({"finish": "polished"}),
        rules_version: None,
    }
}

async fn submit(s: &Arc<dyn JobStore>, tenant: &str, key: &str, triangles: u64) -> scheduler::Job {
    s.submit(new_job(tenant, key, triangles))
        .await
        .unwrap()
        .job
        .job
}

async fn start(s: &Arc<dyn JobStore>, id: Uuid) -> scheduler::Job {
    match s.start_job(id, "w1").await.unwrap() {
        StartOutcome::Started(j) => j,
        other => panic!("expected Started, got {other:?}"),
    }
}

async fn complete(
    s: &Arc<dyn JobStore>,
    id: Uuid,
    outcome: Outcome,
    secs: f64,
) -> CompletionOutcome {
    s.complete_job(Completion {
        job_id: id,
        message_id: Uuid::new_v4(),
        worker_id: "w1".into(),
        outcome,
        duration_seconds: secs,
    })
    .await
    .unwrap()
}

fn priced() -> Outcome {
    Outcome::Priced {
        quote: json!({"total": "123.45", "currency": "EUR"}),
        rules_version: "r1".into(),
    }
}

fn retryable(reason: &str) -> Outcome {
    Outcome::Failed {
        reason: reason.into(),
        retryable: true,
    }
}

async fn count(s: &Arc<dyn JobStore>, st: JobStatus) -> u64 {
    s.status_counts().await.unwrap()[&st]
}

/// A row's message body, as JSON.
fn body(m: &OutboxMessage) -> serde_json::Value {
    serde_json::from_slice(&m.message.body).unwrap()
}

/// Every outbox row, sent or not.
async fn outbox_for(s: &Arc<dyn JobStore>, job: Uuid) -> Vec<OutboxMessage> {
    s.pending_outbox(10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.job_id == job)
        .collect()
}

#[derive(Default)]
struct Collector {
    seen: Mutex<Vec<OutboxMessage>>,
    fail_at: Option<usize>,
}

#[async_trait::async_trait]
impl OutboxPublisher for Collector {
    async fn publish(&self, m: &OutboxMessage) -> Result<(), PublishError> {
        let mut seen = self.seen.lock().unwrap();
        if Some(seen.len()) == self.fail_at {
            return Err(PublishError("broker down".into()));
        }
        seen.push(m.clone());
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// cases

async fn submit_routes_queues_and_writes_outbox(fx: Fixture) {
    let s = &fx.store;
    let sub = s.submit(new_job("acme", "k1", 10_000)).await.unwrap();
    assert!(sub.created && !sub.from_cache);
    let job = &sub.job.job;
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.version, 2);
    assert_eq!(job.lane, Lane::Small);
    // A binary STL: its measured starting coefficients apply.
    let want = scheduler::cost::default_coefficients("stl-binary").predict(10_000);
    assert!((job.predicted_seconds - want).abs() < 1e-9, "{job:?}");
    assert!(job.submitted_eta_at.is_some());
    let eta = sub.job.eta.expect("queued job has an ETA");
    assert!(eta.capacity_assumed && eta.capacity == 1);
    assert!(
        (eta.seconds - job.predicted_seconds).abs() < 1e-6,
        "{eta:?}"
    );

    let hist = s.history(job.id).await.unwrap();
    let steps: Vec<_> = hist
        .iter()
        .map(|t| (t.from_status, t.to_status, t.version))
        .collect();
    assert_eq!(
        steps,
        vec![
            (None, JobStatus::Submitted, 1),
            (Some(JobStatus::Submitted), JobStatus::Queued, 2)
        ]
    );
    assert_eq!(count(s, JobStatus::Queued).await, 1);

    let out = outbox_for(s, job.id).await;
    assert_eq!(out.len(), 1);
    let run = &out[0].message;
    assert_eq!(run.destination, Destination::Run);
    // The run message is published on the jobs exchange with its lane as routing key.
    assert_eq!(
        (run.exchange, run.routing_key.as_str()),
        (contracts::Exchange::Jobs, "small")
    );
    assert_eq!(run.message_id, format!("run_job/{}/1", job.id));
    assert_eq!(
        run.message_type,
        <contracts::RunJob as contracts::Contract>::TYPE
    );
    assert_eq!(run.correlation_id.as_deref(), Some("k1"));
    assert_eq!(run.priority, 9);
    assert_eq!(body(&out[0])["job_id"], json!(job.id));

    let big = submit(s, "acme", "k2", 20_000_000).await;
    assert_eq!(big.lane, Lane::Large);
    let got = s.get_job(big.id).await.unwrap();
    assert_eq!(got.job, big);
    assert!(matches!(
        s.get_job(Uuid::new_v4()).await,
        Err(StoreError::NotFound(_))
    ));
    let bad = NewJob {
        model_sha256: "nope".into(),
        ..new_job("acme", "k3", 1)
    };
    assert!(matches!(s.submit(bad).await, Err(StoreError::Invalid(_))));
}

async fn idempotent_resubmission(fx: Fixture) {
    let s = &fx.store;
    let first = s.submit(new_job("acme", "same", 1000)).await.unwrap();
    let again = s.submit(new_job("acme", "same", 1000)).await.unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.job.job.id, again.job.job.id);
    assert_eq!(count(s, JobStatus::Queued).await, 1);
    assert_eq!(s.pending_outbox(100).await.unwrap().len(), 1);
    // Same key, another model: refused, not silently answered with the wrong job.
    let other = new_job("acme", "same", 2000);
    assert!(matches!(
        s.submit(other).await,
        Err(StoreError::IdempotencyKeyReused { .. })
    ));
    // The key names the request: resubmitted on another channel it still answers with the
    // first job (the quote cache is per channel, idempotency is not).
    let other_channel = NewJob {
        channel: Channel::Website,
        ..new_job("acme", "same", 1000)
    };
    let again = s.submit(other_channel).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.job.job.id, first.job.job.id);
    // Keys are per tenant.
    let other_tenant = s.submit(new_job("globex", "same", 1000)).await.unwrap();
    assert!(other_tenant.created);
    assert_ne!(other_tenant.job.job.id, first.job.job.id);
    let found = s
        .find_by_idempotency_key("acme", "same")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, first.job.job.id);
}

async fn concurrent_idempotent_submissions(fx: Fixture) {
    let s = fx.store.clone();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.submit(new_job("acme", "race", 5000)).await.unwrap() })
        })
        .collect();
    let mut ids = HashSet::new();
    let mut created = 0;
    for t in tasks {
        let sub = t.await.unwrap();
        ids.insert(sub.job.job.id);
        created += usize::from(sub.created);
    }
    assert_eq!(ids.len(), 1, "one job for one key");
    assert_eq!(created, 1, "exactly one submission created it");
    assert_eq!(count(&s, JobStatus::Queued).await, 1);
    assert_eq!(s.pending_outbox(100).await.unwrap().len(), 1);
}

/// Drives a fresh job to `target` through allowed transitions.
async fn job_in(s: &Arc<dyn JobStore>, target: JobStatus, key: &str) -> scheduler::Job {
    let j = submit(s, "acme", key, 1000).await;
    let step = |j: scheduler::Job, to| {
        let s = s.clone();
        async move {
            s.transition(j.id, j.version, to, "test", None)
                .await
                .unwrap()
        }
    };
    match target {
        JobStatus::Queued => j,
        JobStatus::Calculating => step(j, JobStatus::Calculating).await,
        JobStatus::PriceCalculated | JobStatus::Rejected | JobStatus::Failed => {
            let j = step(j, JobStatus::Calculating).await;
            step(j, target).await
        }
        JobStatus::Submitted => unreachable!("jobs leave SUBMITTED in their submission"),
    }
}

async fn every_illegal_transition_is_refused(fx: Fixture) {
    let s = &fx.store;
    let mut checked = 0;
    for from in JobStatus::ALL
        .into_iter()
        .filter(|s| *s != JobStatus::Submitted)
    {
        for to in JobStatus::ALL {
            let key = format!("{from}-{to}");
            let j = job_in(s, from, &key).await;
            assert_eq!(j.status, from);
            let res = s.transition(j.id, j.version, to, "test", None).await;
            if from.can_transition_to(to) {
                let after = res.unwrap_or_else(|e| panic!("{from} -> {to}: {e}"));
                assert_eq!((after.status, after.version), (to, j.version + 1));
                let last = s.history(j.id).await.unwrap().pop().unwrap();
                assert_eq!((last.from_status, last.to_status), (Some(from), to));
            } else {
                match res {
                    Err(StoreError::IllegalTransition { from: f, to: t, .. }) => {
                        assert_eq!((f, t), (from, to));
                    }
                    other => panic!("{from} -> {to} should be refused, got {other:?}"),
                }
                let unchanged = s.get_job(j.id).await.unwrap().job;
                assert_eq!((unchanged.status, unchanged.version), (from, j.version));
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked,
        30 - 9,
        "illegal pairs from the five reachable statuses"
    );
    // Counters follow every transition: they equal the real distribution.
    let counts = s.status_counts().await.unwrap();
    let total: u64 = counts.values().sum();
    assert_eq!(total, 30);
    let mut real = std::collections::BTreeMap::new();
    let page = s
        .list_jobs(&JobQuery {
            limit: 500,
            ..JobQuery::default()
        })
        .await
        .unwrap();
    for j in page.jobs {
        *real.entry(j.status).or_insert(0u64) += 1;
    }
    for (st, n) in counts {
        assert_eq!(n, real.get(&st).copied().unwrap_or(0), "{st}");
    }
}

async fn concurrent_updates_one_wins(fx: Fixture) {
    let s = fx.store.clone();
    let j = submit(&s, "acme", "occ", 1000).await;
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let s = s.clone();
            let to = if i % 2 == 0 {
                JobStatus::Calculating
            } else {
                JobStatus::Failed
            };
            tokio::spawn(async move { s.transition(j.id, j.version, to, "test", None).await })
        })
        .collect();
    let mut ok = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(after) => {
                ok += 1;
                assert_eq!(after.version, j.version + 1);
            }
            Err(StoreError::VersionConflict {
                expected, actual, ..
            }) => {
                conflicts += 1;
                assert_eq!((expected, actual), (j.version, j.version + 1));
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 11));
    assert_eq!(s.history(j.id).await.unwrap().len(), 3);
}

async fn claim_race_has_one_winner(fx: Fixture) {
    let s = fx.store.clone();
    let j = submit(&s, "acme", "claim", 1000).await;
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { (i, s.claim(j.id, &format!("op{i}")).await) })
        })
        .collect();
    let mut winners = Vec::new();
    let mut holders = HashSet::new();
    for t in tasks {
        match t.await.unwrap() {
            (i, Ok(job)) => {
                assert_eq!(job.claimed_by.as_deref(), Some(format!("op{i}").as_str()));
                winners.push(i);
            }
            (_, Err(StoreError::ClaimConflict { holder, .. })) => {
                holders.insert(holder);
            }
            (_, Err(e)) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(winners.len(), 1);
    let winner = format!("op{}", winners[0]);
    assert_eq!(holders, HashSet::from([winner.clone()]));
    // Claiming again as the holder is fine; releasing as someone else is not.
    assert!(s.claim(j.id, &winner).await.is_ok());
    assert!(matches!(
        s.release_claim(j.id, "intruder").await,
        Err(StoreError::NotClaimant { .. })
    ));
    let released = s.release_claim(j.id, &winner).await.unwrap();
    assert!(released.claimed_by.is_none());
    assert_eq!(
        s.claim(j.id, "next").await.unwrap().claimed_by.as_deref(),
        Some("next")
    );
    // Claims are not status changes.
    assert_eq!(s.history(j.id).await.unwrap().len(), 2);
}

async fn worker_flow_results_cache_and_dedup(fx: Fixture) {
    let s = &fx.store;
    let mut nj = new_job("acme", "w1", 50_000);
    nj.rules_version = Some("r1".into());
    let j = s.submit(nj.clone()).await.unwrap().job.job;
    let started = start(s, j.id).await;
    assert_eq!(
        (started.status, started.attempts),
        (JobStatus::Calculating, 1)
    );
    assert!(started.started_at.is_some());
    let running = s.get_job(j.id).await.unwrap();
    assert!(running.eta.unwrap().seconds <= started.predicted_seconds + 1e-6);

    let message = Uuid::new_v4();
    let c = Completion {
        job_id: j.id,
        message_id: message,
        worker_id: "w1".into(),
        outcome: priced(),
        duration_seconds: 0.2,
    };
    let done = match s.complete_job(c.clone()).await.unwrap() {
        CompletionOutcome::Applied(job) => job,
        CompletionOutcome::Duplicate => panic!("first completion is not a duplicate"),
    };
    assert_eq!(done.status, JobStatus::PriceCalculated);
    assert_eq!(
        done.result,
        Some(json!({"total": "123.45", "currency": "EUR"}))
    );
    assert!(done.finished_at.is_some());
    assert!(s.get_job(j.id).await.unwrap().eta.is_none());
    // The same message again changes nothing.
    assert_eq!(
        s.complete_job(c).await.unwrap(),
        CompletionOutcome::Duplicate
    );
    assert_eq!(s.get_job(j.id).await.unwrap().job.version, done.version);

    let out = outbox_for(s, j.id).await;
    let dests: Vec<_> = out
        .iter()
        .map(|m| (m.message.destination, m.message.routing_key.as_str()))
        .collect();
    assert_eq!(
        dests,
        vec![
            (Destination::Run, "small"),
            (Destination::Mes, "price.calculated"),
            (Destination::Crm, "crm.order.ready"),
        ]
    );
    assert_eq!(body(&out[1])["partner_ref"], json!("PO-w1"));
    assert_eq!(body(&out[1])["quote"]["total"], json!("123.45"));
    assert_eq!(body(&out[2])["partner_ref"], json!("PO-w1"));

    let hash = options_hash(&nj.alloys, &nj.options);
    let cached = s
        .cached_quote(&nj.model_sha256, nj.channel, &hash, "r1")
        .await
        .unwrap();
    assert_eq!(cached, done.result);
    assert_eq!(
        s.cached_quote(&nj.model_sha256, nj.channel, &hash, "r2")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.cached_quote(&nj.model_sha256, Channel::Website, &hash, "r1")
            .await
            .unwrap(),
        None
    );

    // The same model and options under the same rules: answered from the cache, no run message.
    let again = NewJob {
        idempotency_key: "w2".into(),
        options: json!({"finish": "polished"}),
        ..nj.clone()
    };
    let sub = s.submit(again).await.unwrap();
    assert!(sub.created && sub.from_cache);
    assert_eq!(sub.job.job.status, JobStatus::PriceCalculated);
    assert_eq!(sub.job.job.result, done.result);
    let out = outbox_for(s, sub.job.job.id).await;
    assert_eq!(
        out.iter()
            .map(|m| m.message.destination)
            .collect::<Vec<_>>(),
        vec![Destination::Mes, Destination::Crm]
    );
    let hist = s.history(sub.job.job.id).await.unwrap();
    assert_eq!(hist[1].to_status, JobStatus::PriceCalculated);
    // Another rules version is a new calculation.
    let newer = NewJob {
        idempotency_key: "w3".into(),
        rules_version: Some("r2".into()),
        ..nj
    };
    assert_eq!(
        s.submit(newer).await.unwrap().job.job.status,
        JobStatus::Queued
    );

    // A stale run message for a finished job is recognised.
    assert!(matches!(
        s.start_job(j.id, "w9").await.unwrap(),
        StartOutcome::AlreadyFinished(_)
    ));
    assert!(matches!(
        s.start_job(Uuid::new_v4(), "w9").await,
        Err(StoreError::NotFound(_))
    ));

    // Rejection carries the reason to MES and CRM.
    let r = submit(s, "acme", "w4", 1000).await;
    start(s, r.id).await;
    let reason = "wall thickness 0.2 mm below 0.6 mm";
    let CompletionOutcome::Applied(rej) = complete(
        s,
        r.id,
        Outcome::Rejected {
            reason: reason.into(),
        },
        0.1,
    )
    .await
    else {
        panic!("applied")
    };
    assert_eq!(
        (rej.status, rej.reason.as_deref()),
        (JobStatus::Rejected, Some(reason))
    );
    let out = outbox_for(s, r.id).await;
    assert_eq!(out[1].message.routing_key, "price.rejected");
    // A reason without a code (this one is free text) is sent under the code `rejected`.
    assert_eq!(body(&out[1])["reason"], json!(reason));
    assert_eq!(body(&out[1])["reason_code"], json!("rejected"));
}

/// A quote carries the channel's margins: the cache answers the same model, options and rules
/// on the same channel only.
async fn quote_cache_is_per_channel(fx: Fixture) {
    let s = &fx.store;
    let retail = NewJob {
        channel: Channel::Website,
        rules_version: Some("r1".into()),
        ..new_job("acme", "retail-1", 60_000)
    };
    let j = s.submit(retail.clone()).await.unwrap().job.job;
    start(s, j.id).await;
    let retail_quote = json!({"total": "150.00", "currency": "EUR", "channel": "retail"});
    let done = complete(
        s,
        j.id,
        Outcome::Priced {
            quote: retail_quote.clone(),
            rules_version: "r1".into(),
        },
        0.1,
    )
    .await;
    assert!(matches!(done, CompletionOutcome::Applied(_)));

    // Same model, options and rules from a partner: computed separately, not the retail quote.
    let partner = NewJob {
        channel: Channel::Partner,
        idempotency_key: "partner-1".into(),
        ..retail.clone()
    };
    let sub = s.submit(partner.clone()).await.unwrap();
    assert!(sub.created && !sub.from_cache);
    let p = sub.job.job;
    assert_eq!((p.status, p.result.clone()), (JobStatus::Queued, None));
    assert_eq!(
        outbox_for(s, p.id)
            .await
            .iter()
            .map(|m| m.message.destination)
            .collect::<Vec<_>>(),
        vec![Destination::Run]
    );
    // The request fingerprint is the same; only the cache key differs.
    assert_eq!(p.options_hash, j.options_hash);
    let hash = options_hash(&retail.alloys, &retail.options);
    assert_eq!(
        s.cached_quote(&retail.model_sha256, Channel::Partner, &hash, "r1")
            .await
            .unwrap(),
        None
    );
    start(s, p.id).await;
    let partner_quote = json!({"total": "120.00", "currency": "EUR", "channel": "partner"});
    complete(
        s,
        p.id,
        Outcome::Priced {
            quote: partner_quote.clone(),
            rules_version: "r1".into(),
        },
        0.1,
    )
    .await;

    // Same channel again: served from the cache, each channel its own quote.
    for (channel, key, want) in [
        (Channel::Website, "retail-2", &retail_quote),
        (Channel::Partner, "partner-2", &partner_quote),
    ] {
        let again = NewJob {
            channel,
            idempotency_key: key.into(),
            ..retail.clone()
        };
        let sub = s.submit(again).await.unwrap();
        assert!(sub.created && sub.from_cache, "{channel}");
        assert_eq!(sub.job.job.status, JobStatus::PriceCalculated);
        assert_eq!(sub.job.job.result.as_ref(), Some(want), "{channel}");
        assert_eq!(
            s.cached_quote(&retail.model_sha256, channel, &hash, "r1")
                .await
                .unwrap()
                .as_ref(),
            Some(want)
        );
    }
    // MES has no quote yet.
    let mes = NewJob {
        channel: Channel::Mes,
        idempotency_key: "mes-1".into(),
        ..retail
    };
    let sub = s.submit(mes).await.unwrap();
    assert!(!sub.from_cache);
    assert_eq!(sub.job.job.status, JobStatus::Queued);
}

async fn retries_dead_letters_and_operator_retry(fx: Fixture) {
    let s = &fx
        .reopen(StoreConfig {
            max_attempts: 2,
            ..StoreConfig::default()
        })
        .await;
    let j = submit(s, "acme", "r", 1000).await;
    start(s, j.id).await;
    let CompletionOutcome::Applied(q) = complete(s, j.id, retryable("worker OOM"), 1.0).await
    else {
        panic!("applied")
    };
    assert_eq!(
        (q.status, q.reason.as_deref()),
        (JobStatus::Queued, Some("worker OOM"))
    );
    let runs: Vec<_> = outbox_for(s, j.id)
        .await
        .into_iter()
        .filter(|m| m.message.destination == Destination::Run)
        .collect();
    assert_eq!(runs.len(), 2, "a retry is a new run message");
    assert_ne!(runs[0].message.message_id, runs[1].message.message_id);
    // Each run message carries its attempt.
    let attempts: Vec<_> = runs.iter().map(|m| body(m)["attempt"].clone()).collect();
    assert_eq!(attempts, [json!(1), json!(2)]);

    assert_eq!(start(s, j.id).await.attempts, 2);
    let CompletionOutcome::Applied(f) = complete(s, j.id, retryable("worker OOM"), 1.0).await
    else {
        panic!("applied")
    };
    assert_eq!(f.status, JobStatus::Failed);
    assert!(
        f.reason.as_deref().unwrap().contains("retries exhausted"),
        "{:?}",
        f.reason
    );
    let events: Vec<_> = outbox_for(s, j.id)
        .await
        .into_iter()
        .filter(|m| m.message.destination != Destination::Run)
        .collect();
    // MES hears of the failure; the CRM, which only creates orders for priced jobs, gets no row.
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.destination, Destination::Mes);
    assert_eq!(events[0].message.routing_key, "price.failed");
    // A FAILED job stays failed for workers...
    assert!(matches!(
        s.start_job(j.id, "w1").await.unwrap(),
        StartOutcome::AlreadyFinished(_)
    ));
    // ...until an operator re-queues it.
    let again = s.retry_failed(j.id, "alice").await.unwrap();
    assert_eq!(
        (again.job.status, again.job.attempts),
        (JobStatus::Queued, 0)
    );
    assert!(again.eta.is_some());
    let last_run = outbox_for(s, j.id)
        .await
        .into_iter()
        .rfind(|m| m.message.destination == Destination::Run)
        .unwrap();
    assert_eq!(
        body(&last_run)["attempt"],
        3,
        "the operator's retry is the third queueing"
    );
    assert!(matches!(
        s.retry_failed(j.id, "alice").await,
        Err(StoreError::IllegalTransition { .. })
    ));
    // A worker dies mid-job twice: the redelivered message restarts it, then it is dead-lettered.
    assert_eq!(start(s, j.id).await.attempts, 1);
    let restarted = start(s, j.id).await;
    assert_eq!(
        (restarted.status, restarted.attempts),
        (JobStatus::Calculating, 2)
    );
    match s.start_job(j.id, "w1").await.unwrap() {
        StartOutcome::DeadLettered(dead) => assert_eq!(dead.status, JobStatus::Failed),
        other => panic!("expected dead letter, got {other:?}"),
    }
    let notes: Vec<_> = s
        .history(j.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.to_status)
        .collect();
    use JobStatus::*;
    assert_eq!(
        notes,
        vec![
            Submitted,
            Queued,
            Calculating,
            Queued,
            Calculating,
            Failed,
            Queued,
            Calculating,
            Calculating,
            Failed
        ]
    );
    // A non-retryable failure is final at once.
    let k = submit(s, "acme", "nr", 1000).await;
    start(s, k.id).await;
    let CompletionOutcome::Applied(k) = complete(
        s,
        k.id,
        Outcome::Failed {
            reason: "bad options".into(),
            retryable: false,
        },
        0.1,
    )
    .await
    else {
        panic!("applied")
    };
    assert_eq!(
        (k.status, k.reason.as_deref()),
        (JobStatus::Failed, Some("bad options"))
    );
}

async fn keyset_pagination_matches_the_submitted_jobs(fx: Fixture) {
    let s = &fx.store;
    let mut submitted = Vec::new();
    for i in 0..23 {
        let tenant = if i % 3 == 0 { "globex" } else { "acme" };
        let j = submit(s, tenant, &format!("p{i}"), 1000 + i).await;
        submitted.push((j.tenant.clone(), (j.created_at, j.id)));
    }
    for (tenant, total) in [
        (None, 23),
        (Some("acme".to_owned()), 15),
        (Some("globex".to_owned()), 8),
    ] {
        let mut q = JobQuery {
            statuses: vec![JobStatus::Queued],
            tenant: tenant.clone(),
            limit: 5,
            ..JobQuery::default()
        };
        let mut keyset = Vec::new();
        let mut pages = 0;
        loop {
            let page = s.list_jobs(&q).await.unwrap();
            pages += 1;
            keyset.extend(page.jobs.iter().map(|j| (j.created_at, j.id)));
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(keyset.len(), total, "{tenant:?}");
        assert_eq!(pages, total.div_ceil(5));
        let mut sorted = keyset.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(keyset, sorted, "newest first, strictly");
        assert_eq!(
            keyset.iter().collect::<HashSet<_>>().len(),
            total,
            "no duplicates"
        );
        // Exactly the tenant's jobs, newest first (ties on the timestamp broken by id).
        let mut expected: Vec<_> = submitted
            .iter()
            .filter(|(t, _)| tenant.as_deref().is_none_or(|want| t == want))
            .map(|(_, key)| *key)
            .collect();
        expected.sort_by(|a, b| b.cmp(a));
        assert_eq!(keyset, expected, "{tenant:?}");
    }
    let none = JobQuery {
        statuses: vec![JobStatus::Failed],
        limit: 5,
        ..JobQuery::default()
    };
    let page = s.list_jobs(&none).await.unwrap();
    assert!(page.jobs.is_empty() && page.next_cursor.is_none());
    let bad = JobQuery {
        cursor: Some("not-a-cursor".into()),
        limit: 5,
        ..JobQuery::default()
    };
    assert!(matches!(
        s.list_jobs(&bad).await,
        Err(StoreError::Cursor(_))
    ));
}

async fn counts_and_oldest_per_status(fx: Fixture) {
    let s = &fx.store;
    let first = submit(s, "acme", "o1", 1000).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = submit(s, "acme", "o2", 1000).await;
    submit(s, "acme", "o3", 1000).await;
    start(s, second.id).await;
    let counts = s.status_counts().await.unwrap();
    assert_eq!(counts[&JobStatus::Queued], 2);
    assert_eq!(counts[&JobStatus::Calculating], 1);
    assert_eq!(counts[&JobStatus::Failed], 0);
    let oldest = s.oldest_per_status().await.unwrap();
    let q = oldest
        .iter()
        .find(|o| o.status == JobStatus::Queued)
        .unwrap();
    assert_eq!(q.job_id, first.id);
    assert!(q.age_seconds >= 0.02, "{q:?}");
    let c = oldest
        .iter()
        .find(|o| o.status == JobStatus::Calculating)
        .unwrap();
    assert_eq!(c.job_id, second.id);
    assert!(!oldest.iter().any(|o| o.status == JobStatus::Failed));
}

/// What the stuck-job and outbox alerts count, on each database's timestamps: a queued job is
/// overdue only once 3x its promise (at least 30 s) has passed, and its run message waits in the
/// outbox until the relay sends it.
async fn overdue_jobs_and_outbox_backlog(fx: Fixture) {
    let db = scheduler::store::Db::open(&fx.url).await.unwrap();
    let job = submit(&fx.store, "acme", "late", 1000).await;
    let now = chrono::Utc::now();
    let lane = job.lane;
    assert_eq!(db.overdue_jobs(now).await.unwrap()[&lane], 0);
    assert_eq!(
        db.overdue_jobs(now + chrono::TimeDelta::seconds(20))
            .await
            .unwrap()[&lane],
        0
    );
    assert_eq!(
        db.overdue_jobs(now + chrono::TimeDelta::seconds(40))
            .await
            .unwrap()[&lane],
        1
    );
    let backlog = db.outbox_backlog().await.unwrap();
    assert!(backlog.pending >= 1, "{backlog:?}");
    assert!(
        backlog
            .oldest_pending
            .is_some_and(|t| t <= chrono::Utc::now())
    );
    assert_eq!(backlog.last_sent, None);
    start(&fx.store, job.id).await;
    complete(&fx.store, job.id, priced(), 0.1).await;
    assert_eq!(
        db.overdue_jobs(now + chrono::TimeDelta::seconds(40))
            .await
            .unwrap()[&lane],
        0
    );
}

/// Rows written before the outbox held finished messages (a scheduler-shaped `payload`, no
/// message) are finished when the store opens, into the messages their own state calls for; a
/// row nobody listens to, or one that no longer reads, is marked sent.
async fn legacy_outbox_rows_are_finished_when_the_store_opens(fx: Fixture) {
    let s = &fx.store;
    let j = submit(s, "acme", "old", 1000).await;
    start(s, j.id).await;
    complete(s, j.id, priced(), 0.1).await;
    let rejected = submit(s, "acme", "old-r", 1000).await;
    start(s, rejected.id).await;
    complete(
        s,
        rejected.id,
        Outcome::Rejected {
            reason: "empty_file: the file is empty".into(),
        },
        0.1,
    )
    .await;
    let finished: Vec<_> = outbox_for(s, j.id).await;
    assert_eq!(finished.len(), 3);
    let done = s.get_job(j.id).await.unwrap().job;
    let event = json!({
        "job_id": j.id, "tenant": "acme", "channel": "partner", "partner_ref": "PO-old",
        "status": "PRICE_CALCULATED", "quote": done.result, "reason": null,
        "version": done.version, "at": done.updated_at,
    });
    // What the store before migration 0005 wrote, rows of both jobs (and a CRM row for the
    // rejected job, which that store wrote for every final job).
    let legacy = [
        (
            finished[0].seq,
            json!({"job_id": j.id, "lane": "small", "version": 2, "attempt": 1}),
        ),
        (finished[1].seq, event.clone()),
        (finished[2].seq, event),
    ];
    let rejected_rows = outbox_for(s, rejected.id).await;
    let rejected_event = json!({
        "job_id": rejected.id, "tenant": "acme", "channel": "partner", "partner_ref": "PO-old-r",
        "status": "REJECTED", "quote": null, "reason": "empty_file: the file is empty",
        "version": 4, "at": done.updated_at,
    });
    const LEGACY: &str = "UPDATE outbox SET exchange = NULL, message_id = NULL, \
        message_type = NULL, correlation_id = NULL, headers = NULL, body = NULL, payload = $1 \
        WHERE seq = $2";
    const CRM_ROW: &str = "INSERT INTO outbox (row_id, destination, routing_key, job_id, payload, \
        priority, created_at) VALUES ($1, 'crm', 'crm.job.rejected', $2, $3, 0, $4)";
    let mut rows = legacy.to_vec();
    rows.push((rejected_rows[1].seq, rejected_event.clone()));
    // The same statements on either database; each arm is type-checked with its own pool.
    macro_rules! write_legacy {
        ($pool:expr) => {{
            let pool = $pool;
            for (seq, payload) in &rows {
                let q = sqlx::query(LEGACY)
                    .bind(sqlx::types::Json(payload))
                    .bind(seq);
                q.execute(&pool).await.unwrap();
            }
            // An old row whose payload no longer reads must not stop the store from opening.
            for payload in [rejected_event.clone(), json!({"nope": 1})] {
                sqlx::query(CRM_ROW)
                    .bind(Uuid::new_v4())
                    .bind(rejected.id)
                    .bind(sqlx::types::Json(payload))
                    .bind(done.updated_at)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }};
    }
    if fx.url.starts_with("postgres") {
        write_legacy!(sqlx::PgPool::connect(&fx.url).await.unwrap());
    } else {
        write_legacy!(sqlx::SqlitePool::connect(&fx.url).await.unwrap());
    }

    let reopened = fx.reopen(StoreConfig::default()).await;
    let again = outbox_for(&reopened, j.id).await;
    assert_eq!(
        again.iter().map(|m| &m.message).collect::<Vec<_>>(),
        finished.iter().map(|m| &m.message).collect::<Vec<_>>(),
        "the finished rows are the messages the current store writes"
    );
    let r = outbox_for(&reopened, rejected.id).await;
    assert_eq!(
        r.len(),
        2,
        "the CRM row nobody listens to and the unreadable one are marked sent: {r:?}"
    );
    assert_eq!(r[1].message, rejected_rows[1].message);
}

async fn outbox_relay_publishes_in_order_once(fx: Fixture) {
    let s = &fx.store;
    for i in 0..5 {
        submit(s, "acme", &format!("o{i}"), 1000).await;
    }
    let failing = Collector {
        fail_at: Some(2),
        ..Collector::default()
    };
    let r = s.relay_outbox(100, &failing).await.unwrap();
    assert_eq!((r.published, r.stopped_on_error), (2, true));
    assert_eq!(s.pending_outbox(100).await.unwrap().len(), 3);
    let ok = Collector::default();
    let r = s.relay_outbox(100, &ok).await.unwrap();
    assert_eq!((r.published, r.stopped_on_error), (3, false));
    let mut seqs: Vec<i64> = failing.seen.lock().unwrap().iter().map(|m| m.seq).collect();
    seqs.extend(ok.seen.lock().unwrap().iter().map(|m| m.seq));
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "published in order: {seqs:?}"
    );
    assert_eq!(s.relay_outbox(100, &ok).await.unwrap().published, 0);
    assert!(s.pending_outbox(100).await.unwrap().is_empty());
}

async fn heartbeats_set_capacity(fx: Fixture) {
    let s = &fx.store;
    let j = submit(s, "acme", "hb", 400_000).await;
    assert_eq!(j.lane, Lane::Small);
    // Capacity counts slots: a 2-slot and a 3-slot worker serve the small lane.
    for (w, slots) in [("w1", 2), ("w2", 3)] {
        let hb = Heartbeat {
            worker_id: w.into(),
            lanes: vec![Lane::Small, Lane::Medium],
            current_job: None,
            slots,
        };
        s.heartbeat(&hb).await.unwrap();
    }
    s.heartbeat(&Heartbeat {
        worker_id: "big".into(),
        lanes: vec![Lane::Large],
        current_job: Some(j.id),
        slots: 4,
    })
    .await
    .unwrap();
    let alive = s.workers_alive(Duration::from_secs(60)).await.unwrap();
    assert_eq!(
        alive
            .iter()
            .map(|w| w.worker_id.as_str())
            .collect::<Vec<_>>(),
        vec!["big", "w1", "w2"]
    );
    assert_eq!(alive[0].current_job, Some(j.id));
    assert_eq!(
        alive.iter().map(|w| w.slots).collect::<Vec<_>>(),
        vec![4, 2, 3]
    );
    let eta = s.get_job(j.id).await.unwrap().eta.unwrap();
    assert_eq!((eta.capacity, eta.capacity_assumed), (5, false));
}

async fn a_medium_job_waits_for_the_small_lane_on_shared_slots(fx: Fixture) {
    let s = &fx.store;
    let mut small = Vec::new();
    for i in 0..3 {
        small.push(submit(s, "acme", &format!("s{i}"), 400_000).await);
    }
    let backlog: f64 = small.iter().map(|j| j.predicted_seconds).sum();
    // One worker takes both lanes: its free slot takes the small queue first.
    s.heartbeat(&Heartbeat {
        worker_id: "both".into(),
        lanes: vec![Lane::Small, Lane::Medium],
        current_job: None,
        slots: 1,
    })
    .await
    .unwrap();
    let medium = submit(s, "acme", "m", 3_000_000).await;
    assert_eq!(medium.lane, Lane::Medium);
    let eta = s.get_job(medium.id).await.unwrap().eta.unwrap();
    assert!(
        (eta.work_ahead_seconds - backlog).abs() < 1e-6,
        "{eta:?}, small backlog {backlog}"
    );
    assert!(
        (eta.seconds - (backlog + medium.predicted_seconds)).abs() < 1e-3,
        "{eta:?}"
    );
    // The same worker now takes the medium lane alone: the small queue is not in its way.
    s.heartbeat(&Heartbeat {
        worker_id: "both".into(),
        lanes: vec![Lane::Medium],
        current_job: None,
        slots: 1,
    })
    .await
    .unwrap();
    let eta = s.get_job(medium.id).await.unwrap().eta.unwrap();
    assert!(eta.work_ahead_seconds < 1e-6, "{eta:?}");
}

async fn fairness_orders_a_flood_behind_an_idle_tenant(fx: Fixture) {
    let s = &fx.store;
    // Binary STL jobs predicted at about 1.0 s with its starting coefficients; p is the exact figure.
    let c = scheduler::cost::default_coefficients("stl-binary");
    let n = ((1.0 - c.fixed_seconds) / c.per_triangle_seconds).round() as u64;
    let p = c.predict(n);
    assert!((p - 1.0).abs() < 1e-3, "{n} triangles predict {p} s");
    let mut flood = Vec::new();
    for i in 0..20 {
        flood.push(
            s.submit(new_job("partner-x", &format!("f{i}"), n))
                .await
                .unwrap(),
        );
    }
    let mut web = new_job("website", "web1", n);
    web.channel = Channel::Website;
    let web = s.submit(web).await.unwrap();
    let last = flood.last().unwrap();
    assert_eq!(web.job.job.priority, 9);
    assert!(
        last.job.job.priority <= 5,
        "flood tail priority {}",
        last.job.job.priority
    );
    let web_eta = web.job.eta.unwrap();
    let tail_eta = s.get_job(last.job.job.id).await.unwrap().eta.unwrap();
    assert!(web_eta.work_ahead_seconds <= p + 1e-6, "{web_eta:?}");
    // The partner's 19 earlier jobs and the website's job, whose tag is earlier.
    assert!(
        (tail_eta.work_ahead_seconds - 20.0 * p).abs() < 1e-3,
        "{tail_eta:?}"
    );
    assert!(web_eta.at < tail_eta.at);
    // Starting jobs advances the lane clock: the flood's next job moves up.
    let head = flood[0].job.job.id;
    start(s, head).await;
    // Now ahead of the flood's second job: the website's job and what is left of the first.
    let second = s.get_job(flood[1].job.job.id).await.unwrap().eta.unwrap();
    assert!(
        second.work_ahead_seconds <= 2.0 * p + 1e-6 && second.work_ahead_seconds > 1.8 * p,
        "{second:?}"
    );
}

async fn fifo_queueing_puts_every_size_in_the_one_queue(fx: Fixture) {
    let sizes = [10_000u64, 3_000_000, 20_000_000];
    // Size lanes: small, medium, large (the defaults: 2 s and 10 s of predicted work).
    let lanes = &fx.store;
    let fifo = &fx
        .reopen(StoreConfig {
            queueing: scheduler::Queueing::Fifo,
            ..StoreConfig::default()
        })
        .await;
    for (i, (tri, by_size)) in sizes
        .into_iter()
        .zip([Lane::Small, Lane::Medium, Lane::Large])
        .enumerate()
    {
        let l = submit(lanes, "acme", &format!("lanes-{i}"), tri).await;
        let f = submit(fifo, "acme", &format!("fifo-{i}"), tri).await;
        assert_eq!(l.lane, by_size, "{tri}");
        assert_eq!(f.lane, Lane::Small, "{tri}: FIFO has one queue");
        assert_eq!(f.predicted_seconds, l.predicted_seconds);
        let run = &outbox_for(fifo, f.id).await[0].message;
        assert_eq!(run.routing_key, "small", "{tri}");
    }
}

async fn calibration_refits_and_persists(fx: Fixture) {
    let cfg = StoreConfig {
        calibration: scheduler::cost::CalibrationConfig {
            window: 100,
            min_samples: 4,
            every: 1000,
        },
        ..StoreConfig::default()
    };
    let s = &fx.reopen(cfg.clone()).await;
    // Observed: 0.5 s + 1e-5 s per triangle.
    for (i, tri) in [10_000u64, 50_000, 100_000, 150_000, 200_000]
        .into_iter()
        .enumerate()
    {
        let j = submit(s, "acme", &format!("c{i}"), tri).await;
        start(s, j.id).await;
        complete(s, j.id, priced(), 0.5 + 1e-5 * tri as f64).await;
    }
    assert_eq!(
        s.cost_model(),
        scheduler::CostModel::default(),
        "no refit before `every`"
    );
    let m = s.recalibrate().await.unwrap();
    let stl = &m.formats["stl-binary"];
    assert_eq!(stl.source, scheduler::cost::CoefficientSource::Calibrated);
    assert_eq!(stl.samples, 5);
    // The store adds its own milliseconds up to the record to what the worker reports (the
    // slot is held that long too), so the fit is the line plus a little.
    assert!(
        (0.5..0.6).contains(&stl.coefficients.fixed_seconds),
        "{stl:?}"
    );
    assert!(
        (stl.coefficients.per_triangle_seconds / 1e-5 - 1.0).abs() < 0.03,
        "{stl:?}"
    );
    assert_eq!(s.cost_model(), m);
    // Another instance sees the persisted coefficients and predicts with them.
    let other = fx.reopen(cfg).await;
    assert_eq!(other.cost_model(), m);
    let j = submit(&other, "acme", "after", 100_000).await;
    assert!(
        (j.predicted_seconds - stl.coefficients.predict(100_000)).abs() < 1e-9
            && (1.5..1.65).contains(&j.predicted_seconds),
        "{}",
        j.predicted_seconds
    );
    assert_eq!(j.lane, Lane::Small);
    // Formats without observations keep the measured defaults.
    let obj = &other.cost_model().formats["obj"];
    assert_eq!(obj.source, scheduler::cost::CoefficientSource::Default);
    assert_eq!(
        obj.coefficients,
        scheduler::cost::default_coefficients("obj")
    );
    assert!(
        (other.cost_model().predict("obj", 1_000_000) - 1.406).abs() < 1e-9,
        "obj: 0 + 1.406e-6 s per triangle"
    );
}

async fn automatic_recalibration_after_every_n(fx: Fixture) {
    let cfg = StoreConfig {
        calibration: scheduler::cost::CalibrationConfig {
            window: 3,
            min_samples: 3,
            every: 3,
        },
        ..StoreConfig::default()
    };
    let s = &fx.reopen(cfg).await;
    for (i, tri) in [1000u64, 2000, 3000, 4000].into_iter().enumerate() {
        let j = submit(s, "acme", &format!("a{i}"), tri).await;
        start(s, j.id).await;
        complete(s, j.id, priced(), 0.1 + 1e-3 * tri as f64).await;
    }
    // Refitted after the third observation, from a window of three (the store's own
    // milliseconds on each observation move the slope by well under 2 %).
    let stl = &s.cost_model().formats["stl-binary"];
    assert_eq!(stl.samples, 3);
    assert!(
        (stl.coefficients.per_triangle_seconds / 1e-3 - 1.0).abs() < 0.02,
        "{stl:?}"
    );
}

async fn concurrent_lifecycles_keep_counts_exact(fx: Fixture) {
    let s = fx.store.clone();
    let mut ids = Vec::new();
    for i in 0..24 {
        ids.push(
            submit(&s, &format!("t{}", i % 3), &format!("l{i}"), 1000 + i)
                .await
                .id,
        );
    }
    // Opposite transitions (QUEUED -> CALCULATING and CALCULATING -> QUEUED) race on the same
    // counter shards and fair-queue rows.
    let tasks: Vec<_> = ids
        .iter()
        .map(|&id| {
            let s = s.clone();
            tokio::spawn(async move {
                start(&s, id).await;
                complete(&s, id, retryable("transient"), 0.1).await;
                start(&s, id).await;
                complete(&s, id, priced(), 0.1).await
            })
        })
        .collect();
    for t in tasks {
        assert!(matches!(t.await.unwrap(), CompletionOutcome::Applied(_)));
    }
    let counts = s.status_counts().await.unwrap();
    assert_eq!(counts[&JobStatus::PriceCalculated], 24);
    assert_eq!(counts.values().sum::<u64>(), 24);
    // Every fair-queue backlog drained back to zero.
    let fresh = submit(&s, "t0", "after", 1000).await;
    let eta = s.get_job(fresh.id).await.unwrap().eta.unwrap();
    assert!(eta.work_ahead_seconds.abs() < 1e-9, "{eta:?}");
}

// ---------------------------------------------------------------------------------------------
// both databases

async fn outbox_rows_of_another_process_wake_a_watcher(fx: Fixture) {
    let wake = Arc::new(tokio::sync::Notify::new());
    let stop = tokio_util::sync::CancellationToken::new();
    let watcher = tokio::spawn({
        let (store, wake, stop) = (fx.store.clone(), wake.clone(), stop.clone());
        async move { store.watch_outbox(wake, stop).await }
    });
    // Another instance (an API process) submits while the watcher listens.
    let other = fx.reopen(StoreConfig::default()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    submit(&other, "acme", "watched", 1000).await;
    let postgres = fx.url.starts_with("postgres");
    // PostgreSQL must notify within seconds; SQLite must stay quiet for a second.
    let within = Duration::from_secs(if postgres { 5 } else { 1 });
    let woken = tokio::time::timeout(within, wake.notified()).await;
    if postgres {
        assert!(
            woken.is_ok(),
            "no notice of the other instance's outbox row"
        );
    } else {
        // SQLite: one process wakes its relay itself; the watcher only waits to be stopped.
        assert!(woken.is_err());
    }
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), watcher)
        .await
        .expect("the watcher stops when told")
        .unwrap();
}

macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::support::postgres(scheduler::StoreConfig::default()).await).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::support::sqlite(scheduler::StoreConfig::default()).await).await;
                }
            )*
        }
    };
}

store_tests!(
    submit_routes_queues_and_writes_outbox,
    idempotent_resubmission,
    concurrent_idempotent_submissions,
    every_illegal_transition_is_refused,
    concurrent_updates_one_wins,
    claim_race_has_one_winner,
    worker_flow_results_cache_and_dedup,
    quote_cache_is_per_channel,
    retries_dead_letters_and_operator_retry,
    keyset_pagination_matches_the_submitted_jobs,
    counts_and_oldest_per_status,
    outbox_relay_publishes_in_order_once,
    legacy_outbox_rows_are_finished_when_the_store_opens,
    heartbeats_set_capacity,
    a_medium_job_waits_for_the_small_lane_on_shared_slots,
    fairness_orders_a_flood_behind_an_idle_tenant,
    fifo_queueing_puts_every_size_in_the_one_queue,
    calibration_refits_and_persists,
    automatic_recalibration_after_every_n,
    concurrent_lifecycles_keep_counts_exact,
    overdue_jobs_and_outbox_backlog,
    outbox_rows_of_another_process_wake_a_watcher,
);
