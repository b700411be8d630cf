//! The authorisation matrix: every caller (no key, a revoked key, each role, a partner of
//! another tenant) against every endpoint, printed as a table and compared with the expected
//! one cell by cell. A cell is what the caller gets: `ok` (the request passed authorisation:
//! 2xx, or 409 when the action conflicts with the job's state), `401`, `403` or `404` (a job of
//! another tenant does not exist for the caller).

use api::{NewKey, Role};
use axum::http::{Method, StatusCode};
use tower::ServiceExt;

use crate::on_both;
use crate::support::{Backend, TestApp, fixture, request, start};

const CALLERS: [&str; 8] = [
    "none", "revoked", "website", "partner", "partner*", "mes", "operator", "admin",
];

/// (method, path, expected cell per caller in `CALLERS` order). `partner*` is a partner of
/// another tenant than the job's. `{id}` is a job of tenant `acme`.
const EXPECTED: &[(&str, &str, [&str; 8])] = &[
    (
        "POST",
        "/v1/jobs",
        ["401", "401", "ok", "ok", "ok", "ok", "403", "ok"],
    ),
    (
        "GET",
        "/v1/jobs",
        ["401", "401", "403", "403", "403", "403", "ok", "ok"],
    ),
    (
        "POST",
        "/v1/estimate",
        ["401", "401", "ok", "ok", "ok", "ok", "ok", "ok"],
    ),
    (
        "GET",
        "/v1/jobs/{id}",
        ["401", "401", "404", "ok", "404", "404", "ok", "ok"],
    ),
    (
        "GET",
        "/v1/jobs/{id}/events",
        ["401", "401", "404", "ok", "404", "404", "ok", "ok"],
    ),
    (
        "GET",
        "/v1/jobs/{id}/record",
        ["401", "401", "403", "403", "403", "403", "ok", "ok"],
    ),
    (
        "POST",
        "/v1/jobs/{id}/claim",
        ["401", "401", "403", "403", "403", "403", "ok", "ok"],
    ),
    (
        "DELETE",
        "/v1/jobs/{id}/claim",
        ["401", "401", "403", "403", "403", "403", "ok", "ok"],
    ),
    (
        "POST",
        "/v1/jobs/{id}/retry",
        ["401", "401", "403", "403", "403", "403", "ok", "ok"],
    ),
    (
        "GET",
        "/v1/changes",
        ["401", "401", "403", "403", "403", "403", "ok", "ok"],
    ),
    (
        "GET",
        "/v1/queues",
        ["401", "401", "403", "403", "403", "403", "ok", "ok"],
    ),
    (
        "GET",
        "/v1/workers",
        ["401", "401", "403", "403", "403", "403", "ok", "ok"],
    ),
    (
        "GET",
        "/v1/eta-truth",
        ["401", "401", "403", "403", "403", "403", "ok", "ok"],
    ),
    (
        "GET",
        "/v1/eta-truth.svg",
        ["401", "401", "403", "403", "403", "403", "ok", "ok"],
    ),
    (
        "POST",
        "/v1/session",
        ["401", "401", "403", "403", "403", "403", "ok", "ok"],
    ),
    (
        "GET",
        "/healthz",
        ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"],
    ),
    (
        "GET",
        "/readyz",
        ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"],
    ),
    (
        "GET",
        "/metrics",
        ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"],
    ),
    (
        "GET",
        "/openapi.json",
        ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"],
    ),
    (
        "GET",
        "/console",
        ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"],
    ),
];

fn cell(status: StatusCode) -> String {
    match status.as_u16() {
        200..=299 | 409 => "ok".to_owned(),
        s => s.to_string(),
    }
}

/// The status only: event streams never end, so their bodies are not read.
async fn status_of(app: &TestApp, method: &str, path: &str, key: Option<&str>) -> StatusCode {
    let method: Method = method.parse().unwrap();
    let (body, headers): (Vec<u8>, Vec<(&str, &str)>) = match path {
        "/v1/jobs" if method == Method::POST => (fixture("box.stl"), vec![]),
        "/v1/estimate" => (fixture("box.stl"), vec![]),
        // Sign-in takes the key in the body, never from the Authorization header.
        "/v1/session" => (
            serde_json::to_vec(&serde_json::json!({ "key": key.unwrap_or("") })).unwrap(),
            vec![("content-type", "application/json")],
        ),
        _ => (vec![], vec![]),
    };
    let key = if path == "/v1/session" { None } else { key };
    let req = request(method, path, key, body, &headers);
    api::app(app.state.clone())
        .oneshot(req)
        .await
        .unwrap()
        .status()
}

async fn matrix(b: Backend) {
    let app = start(b).await;
    let (revoked, record) = app
        .state
        .keys
        .create(NewKey {
            role: Some(Role::Admin),
            ..NewKey::default()
        })
        .await
        .unwrap();
    app.state.keys.revoke(&record.id.to_string()).await.unwrap();
    let keys = [
        None,
        Some(revoked),
        Some(app.key(Role::Website, Some("shop")).await),
        Some(app.key(Role::Partner, Some("acme")).await),
        Some(app.key(Role::Partner, Some("other")).await),
        Some(app.key(Role::Mes, Some("mes")).await),
        Some(app.key(Role::Operator, None).await),
        Some(app.key(Role::Admin, None).await),
    ];
    let owner = keys[3].as_deref().unwrap();
    let job = app.upload(owner, fixture("box.stl"), Some("matrix")).await;
    assert_eq!(job.status, StatusCode::ACCEPTED);
    let id = job.json()["id"].as_str().unwrap().to_owned();

    let mut table = format!("{:<7} {:<22}", "", "");
    for c in CALLERS {
        table.push_str(&format!(" {c:>8}"));
    }
    let mut wrong = Vec::new();
    for (method, path, expected) in EXPECTED {
        let uri = path.replace("{id}", &id);
        table.push_str(&format!("\n{method:<7} {path:<22}"));
        for (i, key) in keys.iter().enumerate() {
            let got = cell(status_of(&app, method, &uri, key.as_deref()).await);
            table.push_str(&format!(" {got:>8}"));
            if got != expected[i] {
                wrong.push(format!(
                    "{method} {path} as {}: got {got}, expected {}",
                    CALLERS[i], expected[i]
                ));
            }
        }
    }
    println!("{table}");
    assert!(wrong.is_empty(), "{table}\n\n{}", wrong.join("\n"));
}
on_both!(every_caller_against_every_endpoint_, matrix);
