//! `POST /v1/jobs`: upload a model (raw body, or multipart with options) and queue it.

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use contracts::Channel;
use pricing_core::{FormatHint, Units};
use scheduler::intake::{self, IntakeRequest, StoredModel};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::admission::{HttpAdmission, quota_exceeded};
use crate::auth::{Action, Principal};
use crate::dto::JobAccepted;
use crate::error::{AppError, ErrorBody};
use crate::form;
use crate::limits::quota_day;
use crate::state::AppState;
use crate::upload::{self, Uploaded};

/// Options of a submission: query parameters with a raw body, form fields (or one JSON `options`
/// field) with multipart.
#[derive(Debug, Clone, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct SubmitOptions {
    /// Alloy codes to quote, comma-separated (default: au750y).
    pub alloys: Option<String>,
    /// Unit of the coordinates when the format does not say: mm, cm, m or in.
    pub units: Option<String>,
    /// website, partner or mes (operators and admins only; other keys use their own).
    pub channel: Option<String>,
    /// The partner's or MES's own order reference, echoed in results.
    pub partner_ref: Option<String>,
    /// Format override: stl, stl-binary, stl-ascii, obj, gltf, glb, 3mf.
    pub format: Option<String>,
}

/// The JSON `options` field of a multipart upload.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionsField {
    pub alloys: Option<Vec<String>>,
    pub units: Option<String>,
    pub channel: Option<String>,
    pub partner_ref: Option<String>,
    pub format: Option<String>,
}

impl SubmitOptions {
    fn merge_json(&mut self, o: OptionsField) {
        if let Some(a) = o.alloys {
            self.alloys = Some(a.join(","));
        }
        self.units = o.units.or(self.units.take());
        self.channel = o.channel.or(self.channel.take());
        self.partner_ref = o.partner_ref.or(self.partner_ref.take());
        self.format = o.format.or(self.format.take());
    }

    /// Sets the option a form part names.
    pub fn set_field(&mut self, name: &str, value: String) -> Result<(), AppError> {
        match name {
            "alloys" => self.alloys = Some(value),
            "units" => self.units = Some(value),
            "channel" => self.channel = Some(value),
            "partner_ref" => self.partner_ref = Some(value),
            "format" => self.format = Some(value),
            "options" => {
                let o: OptionsField = serde_json::from_str(&value).map_err(|e| {
                    AppError::bad_request("invalid_request", format!("options: {e}"))
                })?;
                self.merge_json(o);
            }
            other => {
                return Err(AppError::bad_request(
                    "invalid_request",
                    format!("unknown form field {other:?}"),
                ));
            }
        }
        Ok(())
    }
}

/// Parsed, checked options.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub alloys: Vec<String>,
    pub units: Option<Units>,
    pub channel: Option<Channel>,
    pub partner_ref: Option<String>,
    pub format: Option<FormatHint>,
}

pub fn parse_options(o: &SubmitOptions, default_alloys: &[String]) -> Result<Parsed, AppError> {
    let invalid = |m: String| AppError::bad_request("invalid_request", m);
    let alloys: Vec<String> = match &o.alloys {
        Some(list) => list
            .split(',')
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect(),
        None => default_alloys.to_vec(),
    };
    if alloys.is_empty() {
        return Err(invalid("at least one alloy is required".into()));
    }
    let units = o
        .units
        .as_deref()
        .map(str::parse::<Units>)
        .transpose()
        .map_err(|e| invalid(e.to_string()))?;
    let channel = o
        .channel
        .as_deref()
        .map(str::parse::<Channel>)
        .transpose()
        .map_err(|e| invalid(e.to_string()))?;
    let format = o
        .format
        .as_deref()
        .map(str::parse::<FormatHint>)
        .transpose()
        .map_err(|e| invalid(e.to_string()))?;
    if o.partner_ref.as_ref().is_some_and(|r| r.len() > 200) {
        return Err(invalid("partner_ref is longer than 200 bytes".into()));
    }
    Ok(Parsed {
        alloys,
        units,
        channel,
        partner_ref: o.partner_ref.clone(),
        format,
    })
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, AppError> {
    match headers.get("idempotency-key") {
        Some(v) => {
            let key = v.to_str().map_err(|_| {
                AppError::bad_request("invalid_request", "Idempotency-Key must be visible ASCII")
            })?;
            Ok(key.trim().to_owned())
        }
        // Without a key every request is a new job.
        None => Ok(format!("auto:{}", uuid::Uuid::now_v7())),
    }
}

/// Upload a model and queue it for pricing.
#[utoipa::path(
    post,
    path = "/v1/jobs",
    tag = "jobs",
    params(SubmitOptions, ("Idempotency-Key" = Option<String>, Header, description = "Same key, same job (per tenant)")),
    request_body(
        description = "The model: a raw body (any content type) or multipart/form-data with a `file` part and optional `options` JSON or option fields",
        content(
            (Vec<u8> = "application/octet-stream"),
            (Vec<u8> = "model/stl"),
            (Vec<u8> = "multipart/form-data")
        )
    ),
    responses(
        (status = 202, description = "Accepted", body = JobAccepted),
        (status = 400, description = "Invalid options", body = ErrorBody),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Role may not submit", body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused for another request", body = ErrorBody),
        (status = 413, description = "too_large", body = ErrorBody),
        (status = 415, description = "unsupported_format", body = ErrorBody),
        (status = 422, description = "malformed_mesh, too_many_triangles, empty_file...", body = ErrorBody),
        (status = 429, description = "rate_limited, quota_exceeded, too_many_heavy_jobs", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn submit(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<SubmitOptions>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, AppError> {
    let started = std::time::SystemTime::now();
    principal.require(Action::Submit)?;
    let Query(mut options) =
        query.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let headers = request.headers().clone();
    let key = idempotency_key(&headers)?;
    upload::check_declared_length(&headers, state.config.max_upload_bytes)?;

    // A key already at its daily quota is refused before its upload is read, unless this is a
    // replay of an accepted job (not a new job, so answered whatever the quota). The unit itself
    // is taken only when the job is about to be created (see `admit`).
    if let (Some(id), Some(quota)) = (principal.key_id, principal.daily_quota) {
        let (day, wait) = quota_day(Utc::now());
        let used = state.quotas.used(id, day).await.map_err(quota_store)?;
        if used >= u64::from(quota) {
            let replay = headers.contains_key("idempotency-key")
                && state
                    .store
                    .find_by_idempotency_key(&principal.tenant, &key)
                    .await?
                    .is_some();
            if !replay {
                return Err(quota_exceeded(quota, wait).into());
            }
        }
    }
    let (accepted, created) = accept(
        &state,
        &principal,
        &mut options,
        key,
        &headers,
        request,
        started,
    )
    .await?;
    let location = HeaderValue::from_str(&accepted.status_url).ok();
    let mut response = (StatusCode::ACCEPTED, axum::Json(accepted)).into_response();
    if !created {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn accept(
    state: &AppState,
    principal: &Principal,
    options: &mut SubmitOptions,
    key: String,
    headers: &HeaderMap,
    request: Request,
    started: std::time::SystemTime,
) -> Result<(JobAccepted, bool), AppError> {
    let limit = state.config.max_upload_bytes;
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let uploaded: Uploaded = if is_multipart {
        let limits = form::FileLimits {
            max_bytes: limit,
            idle: state.config.upload_idle_timeout,
        };
        form::read_request(request, &state.blobs, limits, options).await?
    } else {
        let body = request.into_body().into_data_stream();
        upload::store_stream(&state.blobs, body, limit, state.config.upload_idle_timeout).await?
    };

    let parsed = parse_options(options, &state.default_alloys)?;
    let req = IntakeRequest {
        tenant: principal.tenant.clone(),
        channel: principal.channel(parsed.channel),
        idempotency_key: key,
        partner_ref: parsed.partner_ref,
        alloys: parsed.alloys,
        units: parsed.units,
        format_hint: parsed.format,
        rules_version: Some(state.rules.version().to_owned()),
    };
    let admission = HttpAdmission {
        state: state.clone(),
        principal: principal.clone(),
        explicit_key: headers.contains_key("idempotency-key"),
    };
    // In a task of its own, so that a client going away (or the upload deadline) cannot cut it
    // between taking a quota unit and creating the job or giving the unit back.
    let intake = tokio::spawn({
        let state = state.clone();
        async move {
            let model = StoredModel {
                sha256: &uploaded.blob.sha256,
                size: uploaded.blob.size,
                prefix: &uploaded.prefix,
            };
            let limits = state.config.limits();
            let probing = intake::Probing {
                limits: &limits,
                slots: Some(&state.probes),
            };
            intake::submit_model(
                state.store.as_ref(),
                &state.blobs,
                model,
                req,
                probing,
                &admission,
            )
            .await
            .map_err(AppError::from)
        }
    });
    let submission = intake.await.map_err(AppError::internal)??.submission;
    let job = &submission.job.job;
    if submission.created {
        state.wake_relay();
        scheduler::telemetry::record_root(job, started, "POST /v1/jobs", None);
        tracing::info!(job_id = %job.id, trace_id = %job.id.simple(), lane = job.lane.as_str(), "job accepted");
    }
    let accepted = JobAccepted {
        id: job.id,
        status: job.status.as_str().to_owned(),
        format: job.format.as_str().to_owned(),
        triangles: job.triangles,
        lane: job.lane.as_str().to_owned(),
        predicted_seconds: job.predicted_seconds,
        eta: submission.job.eta.as_ref().map(Into::into),
        model_sha256: job.model_sha256.clone(),
        status_url: format!("/v1/jobs/{}", job.id),
        events_url: format!("/v1/jobs/{}/events", job.id),
        created: submission.created,
        from_cache: submission.from_cache,
    };
    Ok((accepted, submission.created))
}

fn quota_store(e: sqlx::Error) -> AppError {
    AppError::Unavailable(format!("quota store: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_validate() {
        let defaults = vec!["au750y".to_owned()];
        let p = parse_options(&SubmitOptions::default(), &defaults).unwrap();
        assert_eq!(p.alloys, defaults);
        let o = SubmitOptions {
            alloys: Some(" au585y, ag925 ,".into()),
            units: Some("cm".into()),
            channel: Some("mes".into()),
            format: Some("stl".into()),
            partner_ref: Some("PO-1".into()),
        };
        let p = parse_options(&o, &defaults).unwrap();
        assert_eq!(p.alloys, ["au585y", "ag925"]);
        assert_eq!(p.units, Some(Units::Cm));
        assert_eq!(p.channel, Some(Channel::Mes));
        assert_eq!(p.format, Some(FormatHint::Stl));
        for bad in [
            SubmitOptions {
                alloys: Some(",".into()),
                ..Default::default()
            },
            SubmitOptions {
                units: Some("furlong".into()),
                ..Default::default()
            },
            SubmitOptions {
                channel: Some("fax".into()),
                ..Default::default()
            },
            SubmitOptions {
                format: Some("step".into()),
                ..Default::default()
            },
            SubmitOptions {
                partner_ref: Some("x".repeat(201)),
                ..Default::default()
            },
        ] {
            assert!(parse_options(&bad, &defaults).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn multipart_fields() {
        let mut o = SubmitOptions::default();
        o.set_field("units", "mm".into()).unwrap();
        o.set_field(
            "options",
            r#"{"alloys":["ag925"],"partner_ref":"A-1"}"#.into(),
        )
        .unwrap();
        assert_eq!(o.alloys.as_deref(), Some("ag925"));
        assert_eq!(o.partner_ref.as_deref(), Some("A-1"));
        assert_eq!(o.units.as_deref(), Some("mm"));
        assert!(o.set_field("colour", "red".into()).is_err());
        assert!(o.set_field("options", r#"{"bogus":1}"#.into()).is_err());
    }
}
