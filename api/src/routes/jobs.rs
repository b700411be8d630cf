//! Reading one job: `GET /v1/jobs/{id}` and its event stream.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use scheduler::JobView;
use tokio::time::Instant;
use uuid::Uuid;

use crate::auth::{Action, Principal};
use crate::dto::JobResponse;
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

/// A job id from the path; anything that is not a UUID cannot name a job (404).
pub fn job_id(path: Result<Path<Uuid>, PathRejection>) -> Result<Uuid, AppError> {
    path.map(|Path(id)| id).map_err(|_| AppError::NotFound)
}

/// The job, if `principal` may see it; another tenant's job is "not found".
pub async fn visible_job(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<JobView, AppError> {
    let view = state.store.get_job(id).await?;
    if principal.can_see(&view.job.tenant) {
        Ok(view)
    } else {
        Err(AppError::NotFound)
    }
}

/// Status, ETA, and the quote when ready.
#[utoipa::path(
    get,
    path = "/v1/jobs/{id}",
    tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = JobResponse),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 404, description = "No such job (or another tenant's)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_job(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<JobResponse>, AppError> {
    principal.require(Action::ReadJob)?;
    let view = visible_job(&state, &principal, job_id(path)?).await?;
    Ok(axum::Json(JobResponse::from(&view)))
}

/// Server-Sent Events: one `status` event with the job now, then one per change, until the job
/// is final (the stream then ends).
#[utoipa::path(
    get,
    path = "/v1/jobs/{id}/events",
    tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "text/event-stream of `status` events, each a JobResponse", content_type = "text/event-stream", body = JobResponse),
        (status = 404, description = "No such job (or another tenant's)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn events(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<Uuid>, PathRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    principal.require(Action::ReadJob)?;
    let id = job_id(path)?;
    let first = visible_job(&state, &principal, id).await?;
    let poll = state.config.events_poll;
    let until = Instant::now() + state.config.events_max;
    struct Cursor {
        state: AppState,
        id: Uuid,
        pending: Option<JobView>,
        last_version: Option<i64>,
        done: bool,
    }
    let cursor = Cursor {
        state,
        id,
        pending: Some(first),
        last_version: None,
        done: false,
    };
    let stream = futures::stream::unfold(cursor, move |mut c| async move {
        loop {
            if c.done || Instant::now() >= until {
                return None;
            }
            let view = match c.pending.take() {
                Some(v) => v,
                None => {
                    tokio::time::sleep(poll).await;
                    match c.state.store.get_job(c.id).await {
                        Ok(v) => v,
                        Err(e) => {
                            // A transient store error: say so and keep watching.
                            tracing::warn!(job_id = %c.id, error = %e, "event stream read failed");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        }
                    }
                }
            };
            if c.last_version == Some(view.job.version) {
                continue;
            }
            c.last_version = Some(view.job.version);
            c.done = view.job.status.is_terminal();
            let body = JobResponse::from(&view);
            let event = Event::default()
                .event("status")
                .id(view.job.version.to_string())
                .json_data(&body)
                .unwrap_or_else(|_| Event::default().event("status"));
            return Some((Ok(event), c));
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
