//! The operators' live feed: `GET /v1/changes`, every job's status changes as Server-Sent Events,
//! for the console's start page. The event id is the change's position in the feed
//! (`scheduler::changes`), so a browser that lost the connection resumes with `Last-Event-ID`
//! and misses nothing; without it the feed starts at the newest change (`?after=` overrides).

use std::collections::VecDeque;
use std::convert::Infallible;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures::Stream;
use scheduler::JobStatus;
use scheduler::changes::JobChange;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Action, Principal};
use crate::dto::JobResponse;
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

/// Changes read per database query.
const BATCH: u32 = 200;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ChangesParams {
    /// Only this tenant's jobs.
    pub tenant: Option<String>,
    /// Start after this change (the `id` of an event); `Last-Event-ID` takes precedence.
    pub after: Option<i64>,
}

/// One `change` event: the status change and the job as it is now.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobChangeEvent {
    /// The event's id: its position in the feed.
    pub seq: i64,
    pub job_id: Uuid,
    pub from_status: Option<String>,
    pub to_status: String,
    pub at: DateTime<Utc>,
    /// Who made the change (`api`, `worker:<id>`, an operator).
    pub actor: String,
    /// The job now (it may have moved on since this change).
    pub job: JobResponse,
}

fn start_after(headers: &HeaderMap, after: Option<i64>) -> Result<Option<i64>, AppError> {
    match headers.get("last-event-id") {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .map(Some)
            .ok_or_else(|| {
                AppError::bad_request(
                    "invalid_request",
                    "Last-Event-ID must be the id of an event of this feed",
                )
            }),
        None => Ok(after),
    }
}

/// Server-Sent Events of job status changes, oldest first, for operators.
#[utoipa::path(
    get,
    path = "/v1/changes",
    tag = "operators",
    params(ChangesParams, ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event")),
    responses(
        (status = 200, description = "text/event-stream of `change` events", content_type = "text/event-stream", body = JobChangeEvent),
        (status = 400, description = "A Last-Event-ID that is not an event id", body = ErrorBody),
        (status = 403, description = "Not an operator", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn changes(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    params: Result<Query<ChangesParams>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    principal.require(Action::ListJobs)?;
    let Query(p) = params.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let after = match start_after(&headers, p.after)? {
        Some(seq) => seq,
        None => state
            .db
            .history_watermark()
            .await
            .map_err(AppError::internal)?,
    };
    let poll = state.config.events_poll;
    // Bounded like the job event stream: the client reconnects with Last-Event-ID.
    let until = Instant::now() + state.config.events_max;
    struct Cursor {
        state: AppState,
        tenant: Option<String>,
        after: i64,
        ready: VecDeque<JobChange>,
    }
    let cursor = Cursor {
        state,
        tenant: p.tenant,
        after,
        ready: VecDeque::new(),
    };
    let stream = futures::stream::unfold(cursor, move |mut c| async move {
        loop {
            if Instant::now() >= until {
                return None;
            }
            let Some(change) = c.ready.pop_front() else {
                match c
                    .state
                    .db
                    .changes_since(c.after, c.tenant.as_deref(), BATCH)
                    .await
                {
                    Ok(rows) if rows.is_empty() => tokio::time::sleep(poll).await,
                    Ok(rows) => c.ready.extend(rows),
                    Err(error) => {
                        tracing::warn!(%error, "change feed read failed; retrying");
                        tokio::time::sleep(poll * 5).await;
                    }
                }
                continue;
            };
            c.after = change.seq;
            let job = match c.state.store.get_job(change.job_id).await {
                Ok(view) => JobResponse::from(&view),
                Err(error) => {
                    tracing::warn!(%error, job_id = %change.job_id, "change feed: job unreadable; skipped");
                    continue;
                }
            };
            let body = JobChangeEvent {
                seq: change.seq,
                job_id: change.job_id,
                from_status: change.from_status.map(|s| JobStatus::as_str(s).to_owned()),
                to_status: change.to_status.as_str().to_owned(),
                at: change.at,
                actor: change.actor,
                job,
            };
            let event = Event::default()
                .event("change")
                .id(change.seq.to_string())
                .json_data(&body)
                .unwrap_or_else(|_| Event::default().event("change"));
            return Some((Ok(event), c));
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
