//! Submission, status, idempotency and events.

use axum::http::{Method, StatusCode};
use futures::StreamExt;
use scheduler::Outcome;

use crate::on_both;
use crate::support::*;
use api::Role;

async fn submit_then_read_until_priced(b: Backend) {
    let app = start(b).await;
    let key = app.key(Role::Website, None).await;
    let r = app.upload(&key, fixture("torus_ring.stl"), None).await;
    assert_eq!(
        r.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let v = r.json();
    assert_eq!(v["format"], "stl-binary");
    assert!(v["triangles"].as_u64().unwrap() > 100);
    assert_eq!(v["status"], "QUEUED");
    assert_eq!(v["lane"], "small");
    assert!(v["predicted_seconds"].as_f64().unwrap() > 0.0);
    assert!(v["eta"]["seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(v["created"], true);
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["status_url"], format!("/v1/jobs/{id}"));
    assert_eq!(r.headers["location"], format!("/v1/jobs/{id}"));
    assert!(r.headers.contains_key("x-request-id"));

    let r = app.get(&format!("/v1/jobs/{id}"), &key).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(
        (v["status"].as_str(), v["tenant"].as_str()),
        (Some("QUEUED"), Some("website"))
    );
    assert!(v["eta"].is_object() && v["quote"].is_null() && v["error"].is_null());

    app.finish(id.parse().unwrap(), priced()).await;
    let v = app.get(&format!("/v1/jobs/{id}"), &key).await.json();
    assert_eq!(v["status"], "PRICE_CALCULATED");
    assert_eq!(v["quote"]["alloys"][0]["total"], "123.45");
    assert!(v["eta"].is_null());
}
on_both!(
    submit_then_read_until_priced_,
    submit_then_read_until_priced
);

async fn multipart_with_options(b: Backend) {
    let app = start(b).await;
    let key = app.key(Role::Partner, Some("acme")).await;
    let boundary = "XyZ";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n\
             {{\"alloys\":[\"au585y\",\"ag925\"],\"partner_ref\":\"PO-77\",\"units\":\"mm\"}}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ring.obj\"\r\n\
             Content-Type: model/obj\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&fixture("torus_ring.obj"));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    let r = app
        .send(request(
            Method::POST,
            "/v1/jobs",
            Some(&key),
            body,
            &[("content-type", &ct)],
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let v = r.json();
    assert_eq!(v["format"], "obj");
    let id = v["id"].as_str().unwrap();
    let job = app.get(&format!("/v1/jobs/{id}"), &key).await.json();
    assert_eq!(job["alloys"], serde_json::json!(["au585y", "ag925"]));
    assert_eq!(job["partner_ref"], "PO-77");
    assert_eq!(job["channel"], "partner");
    assert_eq!(job["tenant"], "acme");
    let stored = app.store.get_job(id.parse().unwrap()).await.unwrap();
    assert_eq!(stored.job.options, serde_json::json!({"units": "mm"}));

    // A form without a file part, and an unknown field.
    let bad = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"units\"\r\n\r\nmm\r\n--{boundary}--\r\n"
    );
    let r = app
        .send(request(
            Method::POST,
            "/v1/jobs",
            Some(&key),
            bad.into_bytes(),
            &[("content-type", &ct)],
        ))
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
}
on_both!(multipart_with_options_, multipart_with_options);

async fn idempotency_under_concurrent_retries(b: Backend) {
    let app = start(b).await;
    let key = app.key(Role::Mes, None).await;
    let model = fixture("hex_prism.stl");
    let replies = futures::future::join_all(
        (0..12).map(|_| app.upload(&key, model.clone(), Some("order-42"))),
    )
    .await;
    let mut ids = std::collections::BTreeSet::new();
    let mut created = 0;
    for r in &replies {
        assert_eq!(
            r.status,
            StatusCode::ACCEPTED,
            "{}",
            String::from_utf8_lossy(&r.bytes)
        );
        let v = r.json();
        ids.insert(v["id"].as_str().unwrap().to_owned());
        if v["created"] == true {
            created += 1;
        } else {
            assert_eq!(r.headers["idempotent-replayed"], "true");
        }
    }
    assert_eq!((ids.len(), created), (1, 1));
    assert_eq!(app.job_count().await, 1);

    // The same key for another model is a conflict that names the first job.
    let r = app.upload(&key, fixture("box.stl"), Some("order-42")).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::CONFLICT, "idempotency_key_reused")
    );
    assert_eq!(
        r.json()["details"]["job_id"].as_str(),
        ids.iter().next().map(String::as_str)
    );
}
on_both!(
    idempotency_under_concurrent_retries_,
    idempotency_under_concurrent_retries
);

async fn events_stream_until_final(b: Backend) {
    let app = start(b).await;
    let key = app.key(Role::Website, None).await;
    let id: uuid::Uuid = app.upload(&key, fixture("box.stl"), None).await.json()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let resp = tower::ServiceExt::oneshot(
        api::app(app.state.clone()),
        request(
            Method::GET,
            &format!("/v1/jobs/{id}/events"),
            Some(&key),
            vec![],
            &[],
        ),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let driver = {
        let store = app.store.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            store.start_job(id, "w").await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            store
                .complete_job(scheduler::Completion {
                    job_id: id,
                    message_id: uuid::Uuid::new_v4(),
                    worker_id: "w".into(),
                    outcome: priced(),
                    duration_seconds: 0.1,
                })
                .await
                .unwrap();
        })
    };
    let mut text = String::new();
    let mut body = resp.into_body().into_data_stream();
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(chunk) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the stream did not end after the final state: {text}"
    );
    driver.await.unwrap();
    let statuses: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| {
            serde_json::from_str::<serde_json::Value>(d).unwrap()["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        statuses,
        ["QUEUED", "CALCULATING", "PRICE_CALCULATED"],
        "{text}"
    );
    assert!(text.contains("event: status"));
}
on_both!(events_stream_until_final_, events_stream_until_final);

async fn final_states_carry_their_error_codes(b: Backend) {
    let app = start(b).await;
    let key = app.key(Role::Website, None).await;
    let mut ids = Vec::new();
    for name in ["box.stl", "hex_prism.stl", "l_prism.stl"] {
        let v = app.upload(&key, fixture(name), None).await.json();
        ids.push(v["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap());
    }
    app.finish(
        ids[0],
        Outcome::Rejected {
            reason: "malformed_mesh: face 3 has a vertex index out of range".into(),
        },
    )
    .await;
    app.finish(
        ids[1],
        Outcome::Rejected {
            reason: "wall_too_thin: walls of 0.2 mm are below 0.6 mm".into(),
        },
    )
    .await;
    app.finish(
        ids[2],
        Outcome::Failed {
            reason: "pricing_timed_out: no result after 30 s".into(),
            retryable: false,
        },
    )
    .await;
    let codes: Vec<(String, String)> = futures::future::join_all(ids.iter().map(|id| {
        let uri = format!("/v1/jobs/{id}");
        let (app, key) = (&app, &key);
        async move { app.get(&uri, key).await }
    }))
    .await
    .iter()
    .map(|r| {
        let v = r.json();
        (
            v["status"].as_str().unwrap().to_owned(),
            v["error"]["code"].as_str().unwrap().to_owned(),
        )
    })
    .collect();
    assert_eq!(
        codes,
        [
            ("REJECTED".to_owned(), "malformed_mesh".to_owned()),
            ("REJECTED".to_owned(), "not_manufacturable".to_owned()),
            ("FAILED".to_owned(), "pricing_failed".to_owned()),
        ]
    );
}
on_both!(
    final_states_carry_their_error_codes_,
    final_states_carry_their_error_codes
);
