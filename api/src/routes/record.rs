//! A job's record for the console's job page: `GET /v1/jobs/{id}/record` — the job, its status
//! changes, takes and releases, and the messages it produced for the workers, MES and the CRM
//! (sent or pending). Operators and admins only: the message trail is internal.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::jobs::{job_id, visible_job};
use crate::auth::{Action, Principal};
use crate::dto::JobResponse;
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

/// One status change.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChange {
    pub from_status: Option<String>,
    pub to_status: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub note: Option<String>,
}

/// A take (`claimed_by` set) or release.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimChange {
    pub claimed_by: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A message the job produced.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDto {
    pub message_id: Option<String>,
    /// run, mes or crm.
    pub destination: String,
    pub exchange: Option<String>,
    pub routing_key: String,
    pub message_type: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Null while the relay has not had it confirmed by the broker.
    pub sent_at: Option<DateTime<Utc>>,
}

/// Everything the job page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobRecord {
    pub job: JobResponse,
    pub rules_version: Option<String>,
    pub history: Vec<StatusChange>,
    pub claims: Vec<ClaimChange>,
    pub messages: Vec<MessageDto>,
}

/// The job with its history, takes and messages.
#[utoipa::path(
    get,
    path = "/v1/jobs/{id}/record",
    tag = "operators",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job's record", body = JobRecord),
        (status = 403, description = "Not an operator", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn record(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<JobRecord>, AppError> {
    principal.require(Action::ListJobs)?;
    let id = job_id(path)?;
    let view = visible_job(&state, &principal, id).await?;
    let history = state.store.history(id).await?;
    let claims = state.db.claims_of(id).await.map_err(AppError::internal)?;
    let messages = state.db.messages_of(id).await.map_err(AppError::internal)?;
    Ok(axum::Json(JobRecord {
        job: JobResponse::from(&view),
        rules_version: view.job.rules_version.clone(),
        history: history
            .into_iter()
            .map(|t| StatusChange {
                from_status: t.from_status.map(|s| s.as_str().to_owned()),
                to_status: t.to_status.as_str().to_owned(),
                at: t.at,
                actor: t.actor,
                note: t.note,
            })
            .collect(),
        claims: claims
            .into_iter()
            .map(|c| ClaimChange {
                claimed_by: c.claimed_by,
                actor: c.actor,
                at: c.at,
            })
            .collect(),
        messages: messages
            .into_iter()
            .map(|m| MessageDto {
                message_id: m.message_id,
                destination: m.destination.as_str().to_owned(),
                exchange: m.exchange,
                routing_key: m.routing_key,
                message_type: m.message_type,
                created_at: m.created_at,
                sent_at: m.sent_at,
            })
            .collect(),
    }))
}
