//! Operators: listing, queues, workers, claim and retry.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::Utc;
use contracts::Lane;
use scheduler::{JobQuery, JobStatus};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::jobs::{job_id, visible_job};
use crate::auth::{Action, Principal};
use crate::dto::{JobList, JobResponse, LaneStats, QueuesResponse, WorkerDto, WorkersResponse};
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// One or more of SUBMITTED, QUEUED, CALCULATING, PRICE_CALCULATED, REJECTED, FAILED,
    /// separated by commas.
    pub status: Option<String>,
    pub tenant: Option<String>,
    /// Only jobs taken by this operator (`me`: the caller).
    pub claimed_by: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
}

/// Jobs, newest first, keyset-paged.
#[utoipa::path(
    get,
    path = "/v1/jobs",
    tag = "operators",
    params(ListParams),
    responses(
        (status = 200, description = "A page of jobs", body = JobList),
        (status = 400, description = "invalid_request or invalid_cursor", body = ErrorBody),
        (status = 403, description = "Not an operator", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_jobs(
    State(state): State<AppState>,
    principal: Principal,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<axum::Json<JobList>, AppError> {
    principal.require(Action::ListJobs)?;
    let Query(p) = params.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let mut statuses = Vec::new();
    for s in p.status.as_deref().unwrap_or("").split(',').map(str::trim) {
        if s.is_empty() {
            continue;
        }
        let status = s
            .parse::<JobStatus>()
            .map_err(|e| AppError::bad_request("invalid_request", e.to_string()))?;
        if !statuses.contains(&status) {
            statuses.push(status);
        }
    }
    let claimed_by = match p.claimed_by.as_deref() {
        Some("me") => Some(principal.actor()),
        other => other.map(str::to_owned),
    };
    let query = JobQuery {
        statuses,
        tenant: p.tenant.filter(|t| !t.is_empty()),
        claimed_by,
        limit: p.limit.unwrap_or(50),
        cursor: p.cursor,
    };
    let page = state.store.list_jobs(&query).await?;
    Ok(axum::Json(JobList {
        jobs: page
            .jobs
            .iter()
            .map(|j| JobResponse::new(j, None))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Per lane: depth, in flight, consumers, throughput, oldest age.
#[utoipa::path(
    get,
    path = "/v1/queues",
    tag = "operators",
    responses(
        (status = 200, description = "Lane statistics", body = QueuesResponse),
        (status = 403, description = "Not an operator", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn queues(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<axum::Json<QueuesResponse>, AppError> {
    principal.require(Action::ViewQueues)?;
    Ok(axum::Json(queue_stats(&state).await?))
}

pub async fn queue_stats(state: &AppState) -> Result<QueuesResponse, AppError> {
    let counts = scheduler::stats::lane_counts(&state.db)
        .await
        .map_err(AppError::internal)?;
    let workers = state
        .store
        .workers_alive(state.store.config().worker_ttl())
        .await?;
    let throughput = state.collector.throughput_per_minute();
    let failed = state
        .store
        .status_counts()
        .await?
        .get(&JobStatus::Failed)
        .copied()
        .unwrap_or(0);
    let now = Utc::now();
    let mut lanes = Vec::with_capacity(Lane::ALL.len());
    for lane in Lane::ALL {
        let c = counts.get(&lane).copied().unwrap_or_default();
        let (depth, dead) = match &state.broker {
            Some(broker) => {
                let q = state.topology.lane_queue(lane);
                let dq = state.topology.lane_dead_queue(lane);
                (
                    broker.ready_count(&q.name).await.ok().map(u64::from),
                    broker.ready_count(&dq.name).await.ok().map(u64::from),
                )
            }
            None => (None, None),
        };
        lanes.push(LaneStats {
            lane: lane.as_str().to_owned(),
            depth,
            queued: c.queued,
            in_flight: c.in_flight,
            consumers: workers.iter().filter(|w| w.lanes.contains(&lane)).count() as u64,
            throughput_per_minute: throughput.get(&lane).copied().unwrap_or(0.0),
            oldest_age_seconds: c
                .oldest_queued_since
                .map(|t| ((now - t).num_milliseconds().max(0) as f64) / 1000.0),
            dead_letters: dead,
        });
    }
    Ok(QueuesResponse {
        lanes,
        failed_jobs: failed,
    })
}

/// Workers seen recently.
#[utoipa::path(
    get,
    path = "/v1/workers",
    tag = "operators",
    responses(
        (status = 200, description = "Live workers", body = WorkersResponse),
        (status = 403, description = "Not an operator", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn workers(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<axum::Json<WorkersResponse>, AppError> {
    principal.require(Action::ViewWorkers)?;
    let alive = state
        .store
        .workers_alive(state.store.config().worker_ttl())
        .await?;
    Ok(axum::Json(WorkersResponse {
        workers: alive.iter().map(WorkerDto::from).collect(),
    }))
}

/// Take a job: exactly one of several operators wins.
#[utoipa::path(
    post,
    path = "/v1/jobs/{id}/claim",
    tag = "operators",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "Claimed (or already held by the caller)", body = JobResponse),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "claim_conflict: another operator holds it", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn claim(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<JobResponse>, AppError> {
    principal.require(Action::Claim)?;
    let id = job_id(path)?;
    visible_job(&state, &principal, id).await?;
    let job = state.store.claim(id, &principal.actor()).await?;
    Ok(axum::Json(JobResponse::new(&job, None)))
}

/// Give a taken job back: only its holder may.
#[utoipa::path(
    delete,
    path = "/v1/jobs/{id}/claim",
    tag = "operators",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "Released", body = JobResponse),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "not_claimant: the caller does not hold it", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn release(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<JobResponse>, AppError> {
    principal.require(Action::Claim)?;
    let id = job_id(path)?;
    visible_job(&state, &principal, id).await?;
    let job = state.store.release_claim(id, &principal.actor()).await?;
    Ok(axum::Json(JobResponse::new(&job, None)))
}

/// Re-queue a dead-lettered (FAILED) job.
#[utoipa::path(
    post,
    path = "/v1/jobs/{id}/retry",
    tag = "operators",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "Re-queued", body = JobResponse),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "not_retryable: the job is not FAILED", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn retry(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<Uuid>, PathRejection>,
) -> Result<axum::Json<JobResponse>, AppError> {
    principal.require(Action::Retry)?;
    let id = job_id(path)?;
    let view = visible_job(&state, &principal, id).await?;
    if view.job.status != JobStatus::Failed {
        return Err(AppError::Conflict {
            code: "not_retryable",
            message: format!(
                "job {id} is {}; only FAILED jobs can be retried",
                view.job.status
            ),
            details: serde_json::json!({ "job_id": id, "status": view.job.status }),
        });
    }
    let view = state.store.retry_failed(id, &principal.actor()).await?;
    state.wake_relay();
    Ok(axum::Json(JobResponse::from(&view)))
}
