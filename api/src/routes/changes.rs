//! The operators' live feed: `GET /v1/changes`, every job's status changes and takes/releases as
//! Server-Sent Events, for the console's start page. The event id is the change's position in the feed
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
use scheduler::changes::{Change, FeedPosition, JobChange};
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
    /// Start after this position (the `id` of an event); `Last-Event-ID` takes precedence.
    pub after: Option<String>,
}

/// What a `change` event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The job moved from `from_status` to `to_status`.
    Status,
    /// An operator took the job (`claimed_by`) or released it (`claimed_by` null).
    Claim,
}

/// One `change` event: what changed and the job as it is now.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobChangeEvent {
    /// The event's id: its position in the feed (resume after it with `Last-Event-ID`).
    pub position: String,
    pub kind: ChangeKind,
    pub job_id: Uuid,
    pub from_status: Option<String>,
    /// Set for status changes.
    pub to_status: Option<String>,
    /// Set for takes; null for releases and status changes.
    pub claimed_by: Option<String>,
    pub at: DateTime<Utc>,
    /// Who made the change (`api`, `worker:<id>`, an operator).
    pub actor: String,
    /// The job now (it may have moved on since this change).
    pub job: JobResponse,
}

fn start_after(headers: &HeaderMap, after: Option<&str>) -> Result<Option<FeedPosition>, AppError> {
    let text = match headers.get("last-event-id") {
        Some(v) => Some(v.to_str().unwrap_or("")),
        None => after,
    };
    text.map(|t| {
        t.parse::<FeedPosition>().map_err(|_| {
            AppError::bad_request(
                "invalid_request",
                "Last-Event-ID (or after) must be the id of an event of this feed, e.g. 42-7",
            )
        })
    })
    .transpose()
}

/// Server-Sent Events of job status changes and takes, oldest first, for operators.
#[utoipa::path(
    get,
    path = "/v1/changes",
    tag = "operators",
    params(ChangesParams, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event")),
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
    let after = match start_after(&headers, p.after.as_deref())? {
        Some(position) => position,
        None => state
            .db
            .feed_watermark()
            .await
            .map_err(AppError::internal)?,
    };
    let poll = state.config.events_poll;
    // Bounded like the job event stream: the client reconnects with Last-Event-ID.
    let until = Instant::now() + state.config.events_max;
    struct Cursor {
        state: AppState,
        tenant: Option<String>,
        after: FeedPosition,
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
            c.after = change.position;
            let job = match c.state.store.get_job(change.job_id).await {
                Ok(view) => JobResponse::from(&view),
                Err(error) => {
                    tracing::warn!(%error, job_id = %change.job_id, "change feed: job unreadable; skipped");
                    continue;
                }
            };
            let (kind, from_status, to_status, claimed_by) = match change.change {
                Change::Status { from, to } => (
                    ChangeKind::Status,
                    from.map(|s| JobStatus::as_str(s).to_owned()),
                    Some(to.as_str().to_owned()),
                    None,
                ),
                Change::Claim { claimed_by } => (ChangeKind::Claim, None, None, claimed_by),
            };
            let body = JobChangeEvent {
                position: change.position.to_string(),
                kind,
                job_id: change.job_id,
                from_status,
                to_status,
                claimed_by,
                at: change.at,
                actor: change.actor,
                job,
            };
            let event = Event::default()
                .event("change")
                .id(change.position.to_string())
                .json_data(&body)
                .unwrap_or_else(|_| Event::default().event("change"));
            return Some((Ok(event), c));
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
