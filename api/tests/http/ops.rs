//! Operators: listing, queues, workers, claim, retry.

use axum::http::{Method, StatusCode};
use scheduler::Outcome;

use crate::on_both;
use crate::support::*;
use api::Role;

async fn listing_is_newest_first_and_keyset_paged(b: Backend) {
    let app = start(b).await;
    let acme = app.key(Role::Partner, Some("acme")).await;
    let globex = app.key(Role::Partner, Some("globex")).await;
    let op = app.key(Role::Operator, None).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let key = if i % 2 == 0 { &acme } else { &globex };
        let v = app
            .upload(key, fixture("box.stl"), Some(&format!("k{i}")))
            .await
            .json();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut uri = "/v1/jobs?limit=2".to_owned();
    loop {
        let v = app.get(&uri, &op).await.json();
        seen.extend(
            v["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["id"].as_str().unwrap().to_owned()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/jobs?limit=2&cursor={c}"),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);
    let v = app
        .get("/v1/jobs?tenant=acme&status=QUEUED", &op)
        .await
        .json();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 3);
    let r = app.get("/v1/jobs?status=LOST", &op).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    let r = app.get("/v1/jobs?cursor=garbage", &op).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "invalid_cursor")
    );
    let r = app.get("/v1/jobs?limit=many", &op).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
on_both!(
    listing_is_newest_first_and_keyset_paged_,
    listing_is_newest_first_and_keyset_paged
);

async fn queues_and_workers(b: Backend) {
    let app = start(b).await;
    let web = app.key(Role::Website, None).await;
    let op = app.key(Role::Operator, None).await;
    for name in ["box.stl", "hex_prism.stl", "l_prism.stl"] {
        assert_eq!(
            app.upload(&web, fixture(name), None).await.status,
            StatusCode::ACCEPTED
        );
    }
    app.store
        .heartbeat(&scheduler::Heartbeat {
            worker_id: "w-1".into(),
            lanes: vec![contracts::Lane::Small, contracts::Lane::Medium],
            current_job: None,
            slots: 2,
        })
        .await
        .unwrap();
    let v = app.get("/v1/workers", &op).await.json();
    assert_eq!(v["workers"][0]["worker_id"], "w-1");
    assert_eq!(
        v["workers"][0]["lanes"],
        serde_json::json!(["small", "medium"])
    );

    let v = app.get("/v1/queues", &op).await.json();
    let small = &v["lanes"][0];
    assert_eq!(small["lane"], "small");
    assert_eq!(small["queued"], 3);
    assert_eq!(small["in_flight"], 0);
    assert_eq!(small["consumers"], 1);
    assert!(small["oldest_age_seconds"].as_f64().unwrap() >= 0.0);
    // The outbox is not relayed in this test: the broker queue is empty.
    assert_eq!(small["depth"], 0);
    assert_eq!(v["lanes"][2]["consumers"], 0);
    assert_eq!(v["failed_jobs"], 0);
}
on_both!(queues_and_workers_, queues_and_workers);

async fn claim_and_retry(b: Backend) {
    let app = start(b).await;
    let web = app.key(Role::Website, None).await;
    let alice = app.key(Role::Operator, None).await;
    let bob = app.key(Role::Operator, None).await;
    let id = app.upload(&web, fixture("box.stl"), None).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let claims = futures::future::join_all([&alice, &bob].map(|k| {
        let uri = format!("/v1/jobs/{id}/claim");
        let app = &app;
        async move { app.call(Method::POST, &uri, Some(k), vec![]).await }
    }))
    .await;
    let mut statuses: Vec<u16> = claims.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let loser = claims
        .iter()
        .find(|r| r.status == StatusCode::CONFLICT)
        .unwrap();
    assert_eq!(loser.code(), "claim_conflict");
    let winner = claims.iter().find(|r| r.status == StatusCode::OK).unwrap();
    assert!(
        winner.json()["claimed_by"]
            .as_str()
            .unwrap()
            .starts_with("operator:")
    );
    assert_eq!(
        app.call(
            Method::POST,
            &format!("/v1/jobs/{id}/claim"),
            Some(&web),
            vec![]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // Retry: only FAILED jobs.
    let r = app
        .call(
            Method::POST,
            &format!("/v1/jobs/{id}/retry"),
            Some(&alice),
            vec![],
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::CONFLICT, "not_retryable")
    );
    app.finish(
        id.parse().unwrap(),
        Outcome::Failed {
            reason: "pricing_panicked: boom".into(),
            retryable: false,
        },
    )
    .await;
    let v = app.get("/v1/queues", &alice).await.json();
    assert_eq!(v["failed_jobs"], 1);
    let r = app
        .call(
            Method::POST,
            &format!("/v1/jobs/{id}/retry"),
            Some(&alice),
            vec![],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    assert_eq!(r.json()["status"], "QUEUED");
    let r = app
        .call(
            Method::POST,
            &format!("/v1/jobs/{}/retry", uuid::Uuid::new_v4()),
            Some(&alice),
            vec![],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .call(
            Method::POST,
            "/v1/jobs/not-a-uuid/retry",
            Some(&alice),
            vec![],
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}
on_both!(claim_and_retry_, claim_and_retry);
