//! Daily quotas are counted in the shared database: two API processes ("replicas") on one database
//! enforce one quota together, a restarted process keeps the count, and only jobs actually created
//! count (not idempotent replays, not refused uploads).

use axum::http::StatusCode;
use chrono::Utc;
use uuid::Uuid;

use crate::on_both;
use crate::support::*;
use api::limits::quota_day;
use api::{NewKey, Role};

/// A partner key with `quota` jobs a day, and its id.
async fn quota_key(app: &TestApp, tenant: &str, quota: u32) -> (String, Uuid) {
    let key = app
        .key_with(NewKey {
            role: Some(Role::Partner),
            tenant: Some(tenant.into()),
            daily_quota: Some(quota),
            ..Default::default()
        })
        .await;
    let id = app.state.keys.authenticate(&key).await.unwrap().unwrap().id;
    (key, id)
}

async fn used_today(app: &TestApp, key_id: Uuid) -> u64 {
    let (day, _) = quota_day(Utc::now());
    app.state.quotas.used(key_id, day).await.unwrap()
}

/// A `quota_exceeded` answer: 429, the one error shape, `Retry-After` = seconds to UTC midnight.
fn assert_quota_exceeded(r: &Reply) {
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "quota_exceeded")
    );
    let body = r.json();
    assert!(
        body["message"].as_str().unwrap().contains("daily quota"),
        "{body}"
    );
    let retry_after: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(
        body["details"]["retry_after_seconds"].as_u64(),
        Some(retry_after),
        "{body}"
    );
    // Measured against the clock now: the answer was computed a moment ago (or, at midnight,
    // for the day before, then a whole day's worth).
    let (_, to_midnight) = quota_day(Utc::now());
    assert!(
        (1..=86_400).contains(&retry_after)
            && (retry_after.abs_diff(to_midnight) <= 5 || retry_after >= 86_390),
        "retry-after {retry_after}, midnight in {to_midnight}"
    );
}

async fn replicas_share_one_quota(b: Backend) {
    let a = start(b).await;
    let b = a.replica().await;
    let (key, key_id) = quota_key(&a, "acme", 3).await;
    // Two jobs through one replica, one through the other: the key's three for the day.
    for (app, idem) in [(&a, "j1"), (&a, "j2"), (&b, "j3")] {
        let r = app.upload(&key, fixture("box.stl"), Some(idem)).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{idem}");
        assert_eq!(r.json()["created"], true, "{idem}");
    }
    assert_eq!(used_today(&a, key_id).await, 3);
    // Either replica now refuses a fourth (each has accepted fewer than three itself).
    assert_quota_exceeded(&b.upload(&key, fixture("box.stl"), Some("j4")).await);
    assert_quota_exceeded(&a.upload(&key, fixture("box.stl"), None).await);
    // A replay of a job accepted by the other replica is still answered, and costs nothing.
    let r = b.upload(&key, fixture("box.stl"), Some("j1")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.headers["idempotent-replayed"], "true");
    // A restarted process (nothing in memory) keeps the count.
    drop(b);
    let restarted = a.replica().await;
    assert_quota_exceeded(&restarted.upload(&key, fixture("box.stl"), Some("j5")).await);
    assert_eq!(used_today(&restarted, key_id).await, 3);
    // Other keys have their own count.
    let (other, _) = quota_key(&a, "globex", 1).await;
    assert_eq!(
        restarted
            .upload(&other, fixture("box.stl"), Some("j1"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
}
on_both!(replicas_share_one_quota_, replicas_share_one_quota);

async fn concurrent_uploads_on_two_replicas_never_exceed_the_quota(b: Backend) {
    let a = start(b).await;
    let b = a.replica().await;
    let (key, key_id) = quota_key(&a, "acme", 3).await;
    let uploads = (0..8).map(|i| {
        let (app, key) = (if i % 2 == 0 { &a } else { &b }, key.clone());
        async move {
            app.upload(&key, fixture("box.stl"), Some(&format!("c{i}")))
                .await
        }
    });
    let replies = futures::future::join_all(uploads).await;
    let accepted = replies
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED)
        .count();
    assert_eq!(accepted, 3, "exactly the quota is accepted");
    for r in replies.iter().filter(|r| r.status != StatusCode::ACCEPTED) {
        assert_quota_exceeded(r);
    }
    assert_eq!(used_today(&a, key_id).await, 3);
}
on_both!(
    concurrent_uploads_on_two_replicas_never_exceed_the_quota_,
    concurrent_uploads_on_two_replicas_never_exceed_the_quota
);

async fn replays_and_refusals_do_not_count(b: Backend) {
    let a = start(b).await;
    let b = a.replica().await;
    let (key, key_id) = quota_key(&a, "acme", 2).await;
    assert_eq!(
        a.upload(&key, fixture("box.stl"), Some("one")).await.status,
        StatusCode::ACCEPTED
    );
    // Replays on either replica, however many: the same job, no new unit.
    for app in [&a, &b, &a, &b] {
        let r = app.upload(&key, fixture("box.stl"), Some("one")).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        assert_eq!(r.json()["created"], false);
    }
    assert_eq!(used_today(&a, key_id).await, 1);
    // Uploads refused before a job exists: not a model, an empty file, the key reused for
    // another model.
    let r = b.upload(&key, b"not a model".to_vec(), None).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = b.upload(&key, Vec::new(), Some("empty")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = a.upload(&key, fixture("hex_prism.stl"), Some("one")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(used_today(&a, key_id).await, 1);
    // So the second job of the day is still there, and the third is refused.
    assert_eq!(
        b.upload(&key, fixture("hex_prism.stl"), Some("two"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_quota_exceeded(&a.upload(&key, fixture("box.stl"), Some("three")).await);
    // At the quota, a replay is still answered.
    let r = a.upload(&key, fixture("hex_prism.stl"), Some("two")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(used_today(&a, key_id).await, 2);
}
on_both!(
    replays_and_refusals_do_not_count_,
    replays_and_refusals_do_not_count
);

async fn a_job_refused_by_the_heavy_gate_does_not_count(b: Backend) {
    let app = start_with_one_heavy_job_per_tenant(b).await;
    let (key, key_id) = quota_key(&app, "acme", 2).await;
    let first = app.upload(&key, fixture("box.stl"), Some("one")).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let r = app
        .upload(&key, fixture("hex_prism.stl"), Some("two"))
        .await;
    assert_eq!(r.code(), "too_many_heavy_jobs");
    assert_eq!(used_today(&app, key_id).await, 1);
    let id = first.json()["id"].as_str().unwrap().parse().unwrap();
    app.finish(id, priced()).await;
    assert_eq!(
        app.upload(&key, fixture("hex_prism.stl"), Some("two"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(used_today(&app, key_id).await, 2);
}
on_both!(
    a_job_refused_by_the_heavy_gate_does_not_count_,
    a_job_refused_by_the_heavy_gate_does_not_count
);
