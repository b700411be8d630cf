//! The router: every route, its middleware, and JSON answers for unknown routes and methods.

pub mod changes;
pub mod estimate;
pub mod eta_truth;
pub mod health;
pub mod jobs;
pub mod ops;
pub mod record;
pub mod session;
pub mod submit;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::middleware::observe;
use crate::error::AppError;
use crate::state::AppState;

/// The whole HTTP API; serve it with `axum::serve`, or call it directly with
/// `tower::ServiceExt::oneshot` in tests.
pub fn app(state: AppState) -> Router {
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .route("/v1/jobs", post(submit::submit).get(ops::list_jobs))
        .route("/v1/estimate", post(estimate::estimate))
        .route("/v1/jobs/{id}", get(jobs::get_job))
        .route("/v1/jobs/{id}/events", get(jobs::events))
        .route("/v1/jobs/{id}/claim", post(ops::claim).delete(ops::release))
        .route("/v1/jobs/{id}/retry", post(ops::retry))
        .route("/v1/jobs/{id}/record", get(record::record))
        .route("/v1/eta-truth", get(eta_truth::eta_truth))
        .route("/v1/eta-truth.svg", get(eta_truth::eta_truth_chart))
        .route("/v1/changes", get(changes::changes))
        .route(
            "/v1/session",
            post(session::sign_in)
                .get(session::current)
                .delete(session::sign_out),
        )
        .route("/v1/queues", get(ops::queues))
        .route("/v1/workers", get(ops::workers))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(health::openapi))
        // Uploads enforce their own limit while streaming.
        .layer(DefaultBodyLimit::disable())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .merge(crate::pages::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

async fn not_found() -> AppError {
    AppError::NotFound
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
