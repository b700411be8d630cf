//! ETA truth for operators: `GET /v1/eta-truth` (per-lane error summary and the outcomes) and
//! `GET /v1/eta-truth.svg` (the console's chart), over the last hour or day.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{TimeDelta, Utc};
use scheduler::eta_truth::{EtaOutcome, LaneTruth, summarise};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Action, Principal};
use crate::chart::eta_truth_svg;
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

/// Outcomes read per answer (the newest ones of the window).
const MAX_OUTCOMES: u32 = 5_000;

/// The window looked at.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    #[default]
    Hour,
    Day,
}

impl Window {
    fn span(self) -> TimeDelta {
        match self {
            Window::Hour => TimeDelta::hours(1),
            Window::Day => TimeDelta::days(1),
        }
    }
    fn title(self) -> &'static str {
        match self {
            Window::Hour => "ETA truth, last hour",
            Window::Day => "ETA truth, last 24 hours",
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TruthParams {
    /// `hour` (default) or `day`.
    pub window: Option<Window>,
}

/// Per lane: jobs, median and 90th-percentile relative error, share late.
#[derive(Debug, Serialize, ToSchema)]
pub struct LaneTruthDto {
    pub lane: String,
    pub jobs: usize,
    pub median_error: f64,
    pub p90_error: f64,
    pub late_share: f64,
    /// Median relative error of the queue wait alone (the promise less the job's own predicted
    /// cost, against the wait until a worker started it); null without started jobs.
    pub median_wait_error: Option<f64>,
    /// Median relative error of the run alone (predicted cost against start to final).
    pub median_run_error: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EtaTruthResponse {
    pub lanes: Vec<LaneTruthDto>,
    /// Jobs looked at (the newest, at most 5,000).
    pub jobs: usize,
}

async fn read(
    state: &AppState,
    principal: &Principal,
    params: Result<Query<TruthParams>, QueryRejection>,
) -> Result<(Window, Vec<EtaOutcome>, Vec<LaneTruth>), AppError> {
    principal.require(Action::ViewQueues)?;
    let Query(p) = params.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let window = p.window.unwrap_or_default();
    let outcomes = state
        .db
        .eta_outcomes(Utc::now() - window.span(), MAX_OUTCOMES)
        .await
        .map_err(AppError::internal)?;
    let summary = summarise(&outcomes);
    Ok((window, outcomes, summary))
}

/// Promised against actual time to final, per lane.
#[utoipa::path(
    get,
    path = "/v1/eta-truth",
    tag = "operators",
    params(TruthParams),
    responses(
        (status = 200, description = "ETA error per lane", body = EtaTruthResponse),
        (status = 403, description = "Not an operator", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn eta_truth(
    State(state): State<AppState>,
    principal: Principal,
    params: Result<Query<TruthParams>, QueryRejection>,
) -> Result<axum::Json<EtaTruthResponse>, AppError> {
    let (_, outcomes, summary) = read(&state, &principal, params).await?;
    Ok(axum::Json(EtaTruthResponse {
        jobs: outcomes.len(),
        lanes: summary
            .into_iter()
            .map(|t| LaneTruthDto {
                lane: t.lane.as_str().to_owned(),
                jobs: t.jobs,
                median_error: t.median_error,
                p90_error: t.p90_error,
                late_share: t.late_share,
                median_wait_error: t.median_wait_error,
                median_run_error: t.median_run_error,
            })
            .collect(),
    }))
}

/// The same as an SVG chart.
#[utoipa::path(
    get,
    path = "/v1/eta-truth.svg",
    tag = "operators",
    params(TruthParams),
    responses(
        (status = 200, description = "image/svg+xml chart", content_type = "image/svg+xml", body = String),
        (status = 403, description = "Not an operator", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn eta_truth_chart(
    State(state): State<AppState>,
    principal: Principal,
    params: Result<Query<TruthParams>, QueryRejection>,
) -> Result<impl IntoResponse, AppError> {
    let (window, outcomes, summary) = read(&state, &principal, params).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        eta_truth_svg(window.title(), &outcomes, &summary),
    ))
}
