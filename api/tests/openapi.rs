//! `deploy/openapi.json` must be exactly what the code generates. After changing the API, run
//! `UPDATE_OPENAPI=1 cargo test -p api --test openapi` and commit the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/openapi.json")
}

#[test]
fn committed_document_matches_the_code() {
    let generated = api::openapi::document_json();
    let path = committed_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_OPENAPI=1)", path.display()));
    assert!(
        committed == generated,
        "deploy/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p api --test openapi`"
    );
}

#[test]
fn document_is_openapi_3_1_and_lists_every_route() {
    let doc: serde_json::Value = serde_json::from_str(&api::openapi::document_json()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/jobs", "post"),
        ("/v1/jobs", "get"),
        ("/v1/estimate", "post"),
        ("/v1/jobs/{id}", "get"),
        ("/v1/jobs/{id}/events", "get"),
        ("/v1/jobs/{id}/claim", "post"),
        ("/v1/jobs/{id}/retry", "post"),
        ("/v1/queues", "get"),
        ("/v1/workers", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path}"
        );
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}
