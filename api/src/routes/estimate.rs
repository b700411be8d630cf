//! `POST /v1/estimate`: format, triangles, ETA and a price range while the customer waits.

use std::io::Read;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use chrono::Utc;
use pricing_core::estimate::{self, Bbox};
use pricing_core::{Probe, Units, UnitsSource};
use scheduler::intake::{StoredModel, probe_from_prefix};

use super::submit::{SubmitOptions, parse_options};
use crate::auth::{Action, Principal};
use crate::dto::{EstimateResponse, EtaDto};
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;
use crate::upload;

/// Probe only: format and triangles, the ETA a job would get now, and a price range from the
/// bounding box. Nothing is stored.
#[utoipa::path(
    post,
    path = "/v1/estimate",
    tag = "jobs",
    params(SubmitOptions),
    request_body(description = "The model, raw", content((Vec<u8> = "application/octet-stream"))),
    responses(
        (status = 200, description = "The estimate", body = EstimateResponse),
        (status = 413, description = "too_large", body = ErrorBody),
        (status = 415, description = "unsupported_format", body = ErrorBody),
        (status = 422, description = "malformed_mesh, too_many_triangles...", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn estimate(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<SubmitOptions>, QueryRejection>,
    request: Request,
) -> Result<axum::Json<EstimateResponse>, AppError> {
    principal.require(Action::Estimate)?;
    let Query(options) =
        query.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let parsed = parse_options(&options, &state.default_alloys)?;
    let limit = state.config.max_upload_bytes;
    upload::check_declared_length(request.headers(), limit)?;
    let spooled = upload::spool(request.into_body().into_data_stream(), limit).await?;
    let limits = state.config.limits();
    let hint = parsed.format;
    let analysis = {
        let _permit = state.probes.acquire().await.map_err(AppError::internal)?;
        tokio::task::spawn_blocking(move || analyse(&spooled, hint, &limits))
            .await
            .map_err(AppError::internal)??
    };
    let (probe, bbox_file, declared) = analysis;
    let (units, units_inferred) = match (parsed.units, declared) {
        (Some(u), _) => (u, false),
        (None, Some(u)) => (u, false),
        (None, None) => {
            let extent = bbox_file.map_or(0.0, |b| b.largest_extent());
            (pricing_core::units::infer(extent).0, true)
        }
    };
    let source = match (parsed.units, declared) {
        (Some(_), _) => UnitsSource::Override,
        (None, Some(_)) => UnitsSource::Declared,
        (None, None) => UnitsSource::Inferred,
    };
    let extent = bbox_file.map_or(0.0, |b| b.largest_extent());
    let reading = estimate::UnitsReading {
        units,
        inferred: units_inferred,
        alternative: pricing_core::units::suspect(extent, units, source),
    };
    let bbox_mm = bbox_file.map(|b| b.scaled(units.to_mm()));
    let format = probe.format.as_str();
    let config = state.store.config();
    let routing = scheduler::routing::route_queued(
        probe.triangles,
        probe.format,
        &state.store.cost_model(),
        &config.lanes,
        config.queueing,
    );
    let eta = eta_for(&state, routing.lane, routing.predicted_seconds).await?;
    let channel = principal.channel(parsed.channel);
    let prices = match &bbox_mm {
        Some(b) => estimate::price_range(
            &state.rules,
            b,
            probe.triangles,
            reading,
            &parsed.alloys,
            channel,
        )
        .map_err(|e| AppError::bad_request("unknown_alloy", e.to_string()))?,
        None => Vec::new(),
    };
    Ok(axum::Json(EstimateResponse {
        format: format.to_owned(),
        triangles: probe.triangles,
        bytes: probe.bytes,
        units: units.as_str().to_owned(),
        units_inferred,
        units_alternative: reading.alternative.map(|u| u.as_str().to_owned()),
        bbox_mm,
        lane: routing.lane.as_str().to_owned(),
        predicted_seconds: routing.predicted_seconds,
        eta,
        prices,
    }))
}

/// The probe, the bounding box in the file's units, and the unit the file declares.
type Analysis = (Probe, Option<Bbox>, Option<Units>);

/// Probe and sample the spooled file (blocking IO and CPU). The third value is true when the
/// format declares metres (glTF).
fn analyse(
    spooled: &upload::Spooled,
    hint: Option<pricing_core::FormatHint>,
    limits: &pricing_core::Limits,
) -> Result<Analysis, AppError> {
    let model = StoredModel {
        sha256: "",
        size: spooled.size,
        prefix: &spooled.prefix,
    };
    if let Some(probe) = probe_from_prefix(model, hint, limits)? {
        let mut file = spooled.file.reopen().map_err(AppError::internal)?;
        let bbox =
            estimate::sample_binary_stl(&mut file, probe.triangles).map_err(AppError::internal)?;
        return Ok((probe, bbox, None));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(spooled.size).unwrap_or(0));
    spooled
        .file
        .reopen()
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(AppError::internal)?;
    let probe = pricing_core::probe(&bytes, hint, limits)?;
    let reading = estimate::read_box(&bytes, &probe, limits)?;
    Ok((probe, reading.bbox, reading.declared))
}

/// The ETA a job of `predicted_seconds` in `lane` would get now: the lane's queued and running
/// work shared among its live workers' slots (or the configured capacity), then the job itself.
pub async fn eta_for(
    state: &AppState,
    lane: contracts::Lane,
    predicted_seconds: f64,
) -> Result<EtaDto, AppError> {
    let counts = scheduler::stats::lane_counts(&state.db)
        .await
        .map_err(AppError::internal)?;
    let workers = state
        .store
        .workers_alive(state.store.config().worker_ttl())
        .await?;
    let shared =
        scheduler::eta::LaneCapacity::of(&workers, lane, state.store.config().assumed_capacity);
    let capacity = shared.slots;
    // As the store promises after upload: the smaller lanes on the same slots go first.
    let work: f64 = std::iter::once(lane)
        .chain(scheduler::eta::served_before(lane, &shared.sharing))
        .map(|l| counts.get(&l).map_or(0.0, |c| c.work_seconds))
        .sum();
    let seconds = scheduler::eta::eta_seconds(work, capacity, predicted_seconds);
    let at = Utc::now()
        + chrono::TimeDelta::try_milliseconds((seconds * 1000.0) as i64).unwrap_or_default();
    Ok(EtaDto {
        at,
        seconds,
        work_ahead_seconds: work,
        capacity,
    })
}
