//! Health, readiness, metrics, request ids and JSON errors for unknown routes.

use axum::http::{Method, StatusCode};

use crate::on_both;
use crate::support::*;
use api::Role;

async fn probes_metrics_and_fallbacks(b: Backend) {
    let app = start(b).await;
    let key = app.key(Role::Website, None).await;
    assert_eq!(
        app.call(Method::GET, "/healthz", None, vec![]).await.status,
        StatusCode::OK
    );
    let r = app.call(Method::GET, "/readyz", None, vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["checks"]["database"], "ok");
    assert_eq!(r.json()["checks"]["broker"], "ok");

    // Prime the collector, then finish a job so the histograms see it.
    app.state
        .collector
        .collect(&app.state.db, &app.state.metrics)
        .await
        .unwrap();
    let id = app.upload(&key, fixture("box.stl"), None).await.json()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.finish(id, priced()).await;
    assert_eq!(
        app.state
            .collector
            .collect(&app.state.db, &app.state.metrics)
            .await
            .unwrap(),
        1
    );
    assert!(app.state.collector.throughput_per_minute()[&contracts::Lane::Small] > 0.0);
    app.upload(&key, fixture("hex_prism.stl"), None).await;

    let r = app.call(Method::GET, "/metrics", None, vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(r.bytes).unwrap();
    for needle in [
        r#"http_requests_total{method="POST",role="website",route="/v1/jobs",status="202"} 2"#,
        r#"http_request_duration_seconds_bucket{method="POST",role="website",route="/v1/jobs",le="#,
        r#"pricing_jobs{status="QUEUED"} 1"#,
        r#"pricing_jobs{status="PRICE_CALCULATED"} 1"#,
        r#"pricing_queue_depth{lane="small"} 0"#,
        r#"pricing_oldest_job_age_seconds{status="QUEUED"}"#,
        r#"pricing_job_duration_seconds_bucket{lane="small",le="3600"} 1"#,
        r#"pricing_job_queue_wait_seconds_count{lane="small"} 1"#,
        "pricing_workers_alive 0",
        // The cost model in force: measured defaults until calibrated.
        r#"pricing_cost_model_samples{format="stl-binary"} 0"#,
        r#"pricing_cost_model_fixed_seconds{format="other",source="default"} 0"#,
    ] {
        assert!(text.contains(needle), "missing {needle}\n{text}");
    }
    for (format, c) in scheduler::FORMAT_DEFAULTS {
        let needle = format!(
            "pricing_cost_model_per_triangle_seconds{{format=\"{format}\",source=\"default\"}} {}",
            c.per_triangle_seconds
        );
        assert!(text.contains(&needle), "missing {needle}\n{text}");
    }

    // Unknown routes and methods answer in the error shape; every answer has a request id.
    let r = app.get("/v2/nothing", &key).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let r = app
        .call(Method::DELETE, "/v1/queues", Some(&key), vec![])
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    assert!(r.headers.contains_key("x-request-id"));
    let r = app
        .send(request(
            Method::GET,
            "/healthz",
            None,
            vec![],
            &[("x-request-id", "abc-123")],
        ))
        .await;
    assert_eq!(r.headers["x-request-id"], "abc-123");
}
on_both!(probes_metrics_and_fallbacks_, probes_metrics_and_fallbacks);
