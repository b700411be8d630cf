//! Liveness, readiness, metrics and the OpenAPI document (no key needed).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use scheduler::JobStatus;

use crate::dto::Health;
use crate::error::AppError;
use crate::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
        checks: serde_json::json!({}),
    })
}

/// The database and the broker are reachable.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "A dependency is unreachable", body = Health),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = match state.db.ping().await {
        Ok(()) => match state.store.status_counts().await {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.to_string(),
        },
        Err(e) => e.to_string(),
    };
    let broker = match &state.broker {
        Some(b) => {
            let lane = state.topology.lane_queue(contracts::Lane::Small);
            match b.ready_count(&lane.name).await {
                Ok(_) => "ok".to_owned(),
                Err(e) => e.to_string(),
            }
        }
        None => "not used by this process".to_owned(),
    };
    let ready = database == "ok" && (broker == "ok" || state.broker.is_none());
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        status: if ready { "ok" } else { "unavailable" }.into(),
        checks: serde_json::json!({ "database": database, "broker": broker }),
    };
    (status, axum::Json(body)).into_response()
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Metrics", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    refresh_gauges(&state).await?;
    let text = state.metrics.render().map_err(AppError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// Gauges are read from the store at scrape time, so every replica reports the same truth.
async fn refresh_gauges(state: &AppState) -> Result<(), AppError> {
    let m = &state.metrics;
    m.set_cost_model(&state.store.cost_model());
    let counts = state.store.status_counts().await?;
    for status in JobStatus::ALL {
        let n = counts.get(&status).copied().unwrap_or(0);
        m.jobs_by_status
            .with_label_values(&[status.as_str()])
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    let oldest = state.store.oldest_per_status().await?;
    let now = Utc::now();
    for status in JobStatus::ALL {
        let age = oldest.iter().find(|o| o.status == status).map_or(0.0, |o| {
            ((now - o.since).num_milliseconds().max(0) as f64) / 1000.0
        });
        m.oldest_age.with_label_values(&[status.as_str()]).set(age);
    }
    let lanes = scheduler::stats::lane_counts(&state.db)
        .await
        .map_err(AppError::internal)?;
    for (lane, c) in &lanes {
        // One look at the queue gives both its depth and its consumers.
        let counts = match &state.broker {
            Some(b) => b
                .queue_counts(&state.topology.lane_queue(*lane).name)
                .await
                .ok(),
            None => None,
        };
        let depth = counts.map_or(c.queued, |q| u64::from(q.ready));
        m.queue_depth
            .with_label_values(&[lane.as_str()])
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
        if let Some(q) = counts {
            m.queue_consumers
                .with_label_values(&[lane.as_str()])
                .set(i64::from(q.consumers));
        }
    }
    if let Some(b) = &state.broker {
        for (source, queue) in dead_letter_sources(&state.topology) {
            let dead = state.topology.dead_queue_of(&queue);
            if let Ok(n) = b.ready_count(&dead.name).await {
                m.dead_letters
                    .with_label_values(&[source.as_str()])
                    .set(i64::from(n));
            }
        }
    }
    let overdue = state
        .db
        .overdue_jobs(now)
        .await
        .map_err(AppError::internal)?;
    for (lane, n) in overdue {
        m.jobs_overdue
            .with_label_values(&[lane.as_str()])
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    let backlog = state
        .db
        .outbox_backlog()
        .await
        .map_err(AppError::internal)?;
    let age = |t: Option<chrono::DateTime<Utc>>| {
        t.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
    };
    m.outbox_pending
        .set(i64::try_from(backlog.pending).unwrap_or(i64::MAX));
    m.outbox_oldest_age.set(age(backlog.oldest_pending));
    m.outbox_last_sent_age.set(age(backlog.last_sent));
    let workers = state
        .store
        .workers_alive(state.store.config().worker_ttl())
        .await?;
    m.workers_alive.set(workers.len() as i64);
    Ok(())
}

/// Every consuming queue with its dead-letter queue, labelled by the part of its name after the
/// topology prefix (`small`, `mes.inbound`, `results.crm`, …).
fn dead_letter_sources(t: &messaging::Topology) -> Vec<(String, messaging::QueueSpec)> {
    let mut queues: Vec<_> = contracts::Lane::ALL
        .into_iter()
        .map(|l| t.lane_queue(l))
        .collect();
    queues.extend([
        t.inbound_queue(),
        t.mes_results_queue(),
        t.crm_results_queue(),
    ]);
    queues
        .into_iter()
        .map(|q| {
            let short = q
                .name
                .strip_prefix(&format!("{}.", t.prefix()))
                .unwrap_or(&q.name)
                .trim_start_matches("jobs.")
                .to_owned();
            (short, q)
        })
        .collect()
}

/// This API's OpenAPI 3.1 document, generated from the code.
#[utoipa::path(get, path = "/openapi.json", tag = "health",
    responses((status = 200, description = "OpenAPI document", content_type = "application/json", body = Object)))]
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document_json(),
    )
        .into_response()
}
