//! Upload limits and the model error codes.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

use crate::on_both;
use crate::support::*;
use api::{ApiConfig, Role};

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

async fn oversized_uploads_are_refused_and_nothing_is_stored(b: Backend) {
    let config = ApiConfig {
        max_upload_bytes: 10_000,
        ..ApiConfig::default()
    };
    let app = start_with(b, config, Default::default()).await;
    let key = app.key(Role::Website, None).await;
    let big = fixture("uv_sphere.stl");
    assert!(big.len() > 10_000);

    // Declared length over the limit: refused before the body is read.
    let r = app.upload(&key, big.clone(), None).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    assert_eq!(r.json()["details"]["limit"], 10_000);

    // No declared length (chunked): cut off while streaming.
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = big
        .chunks(4096)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1/jobs")
        .header("authorization", format!("Bearer {key}"))
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );

    // Nothing half-stored, no job.
    let blobs = app.dir.path().join("blobs");
    assert!(files_under(&blobs).is_empty(), "{:?}", files_under(&blobs));
    assert_eq!(app.job_count().await, 0);

    // Under the limit it is stored once, by its hash.
    let r = app.upload(&key, fixture("box.stl"), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(files_under(&blobs).len(), 1);
}
on_both!(
    oversized_uploads_are_refused_and_nothing_is_stored_,
    oversized_uploads_are_refused_and_nothing_is_stored
);

async fn every_model_error_has_its_code(b: Backend) {
    let config = ApiConfig {
        max_triangles: 100,
        ..ApiConfig::default()
    };
    let app = start_with(b, config, Default::default()).await;
    let key = app.key(Role::Partner, Some("p")).await;
    let mut truncated = fixture("box.stl");
    truncated.truncate(200);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "text",
            b"hello, this is not a model".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_format",
        ),
        (
            "empty",
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_file",
        ),
        (
            "many",
            fixture("uv_sphere.stl"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_triangles",
        ),
        (
            "many obj",
            fixture("uv_sphere.obj"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_triangles",
        ),
        (
            "bad json",
            b"{\"asset\": ".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_json",
        ),
        (
            "ascii stl cut inside its first facet",
            b"solid cut\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 0\n".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_triangles",
        ),
        (
            "binary stl of no facets",
            vec![0u8; 84],
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_triangles",
        ),
    ];
    for (what, body, status, code) in cases {
        let r = app.upload(&key, body, None).await;
        assert_eq!((r.status, r.code().as_str()), (status, code), "{what}");
    }
    // A binary STL cut short is not recognised as one; named as one, it is truncated.
    let r = app
        .call(
            Method::POST,
            "/v1/jobs?format=stl-binary",
            Some(&key),
            truncated,
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "truncated_file")
    );
    // Bad options are 400s.
    for uri in [
        "/v1/jobs?units=furlong",
        "/v1/jobs?alloys=",
        "/v1/jobs?format=step",
    ] {
        let r = app
            .call(Method::POST, uri, Some(&key), fixture("box.stl"))
            .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{uri}"
        );
    }
}
on_both!(
    every_model_error_has_its_code_,
    every_model_error_has_its_code
);
