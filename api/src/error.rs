//! The one error shape every 4xx and 5xx answers with: `{"code", "message", "details"}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pricing_core::ParseError;
use scheduler::StoreError;
use scheduler::intake::IntakeError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The JSON body of every error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code (`unsupported_format`, `too_large`, `rate_limited`...).
    pub code: String,
    /// For people; may change.
    pub message: String,
    /// Structured context (limits, the conflicting job...); `null` when there is none.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("this key's role may not {0}")]
    Forbidden(&'static str),
    /// Refused with a stable code other than `forbidden` (a missing CSRF token, a key that may
    /// not open the console).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// Also what a partner gets for another tenant's job: existence is not disclosed.
    #[error("not found")]
    NotFound,
    #[error("this route does not accept that method")]
    MethodNotAllowed,
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// An upload that is not a model we can price.
    #[error(transparent)]
    Model(#[from] ParseError),
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        details: serde_json::Value,
    },
    #[error("{message}")]
    TooManyRequests {
        code: &'static str,
        message: String,
        retry_after_seconds: u64,
    },
    #[error("{0}")]
    Unavailable(String),
    #[error("the request took too long")]
    Timeout,
    /// The client stopped sending its body.
    #[error("{0}")]
    Stalled(String),
    /// Details are logged, not returned.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// HTTP status and code; one place decides both.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::Refused { code, .. } => (StatusCode::FORBIDDEN, code),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            AppError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            AppError::Model(e) => (model_status(e), e.code()),
            AppError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            AppError::TooManyRequests { code, .. } => (StatusCode::TOO_MANY_REQUESTS, code),
            AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            AppError::Timeout => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            AppError::Stalled(_) => (StatusCode::REQUEST_TIMEOUT, "upload_stalled"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn details(&self) -> serde_json::Value {
        match self {
            AppError::Model(ParseError::TooLarge { found, limit })
            | AppError::Model(ParseError::TooManyTriangles { found, limit }) => {
                serde_json::json!({ "found": found, "limit": limit })
            }
            AppError::Model(
                ParseError::Malformed { line, .. } | ParseError::IndexOutOfRange { line, .. },
            ) => serde_json::json!({ "line": line }),
            AppError::Conflict { details, .. } => details.clone(),
            AppError::TooManyRequests {
                retry_after_seconds,
                ..
            } => serde_json::json!({ "retry_after_seconds": retry_after_seconds }),
            _ => serde_json::Value::Null,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (_, code) = self.status_and_code();
        ErrorBody {
            code: code.to_owned(),
            message: self.to_string(),
            details: self.details(),
        }
    }
}

/// Which status a model error answers with: the format is not one we read (415), the file is
/// over the byte limit (413), or the content cannot be priced (422).
pub fn model_status(e: &ParseError) -> StatusCode {
    match e {
        ParseError::UnknownFormat | ParseError::UnsupportedExtension(_) => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        ParseError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if let AppError::TooManyRequests {
            retry_after_seconds,
            ..
        } = &self
            && let Ok(v) = HeaderValue::from_str(&retry_after_seconds.max(&1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => AppError::NotFound,
            StoreError::IdempotencyKeyReused { job_id } => AppError::Conflict {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was used for a different request".into(),
                details: serde_json::json!({ "job_id": job_id }),
            },
            StoreError::ClaimConflict { job_id, holder } => AppError::Conflict {
                code: "claim_conflict",
                message: format!("job {job_id} is already claimed by {holder}"),
                details: serde_json::json!({ "job_id": job_id, "claimed_by": holder }),
            },
            StoreError::NotClaimant { job_id, operator } => AppError::Conflict {
                code: "not_claimant",
                message: format!(
                    "job {job_id} is not held by {operator}; only its holder can release it"
                ),
                details: serde_json::json!({ "job_id": job_id }),
            },
            StoreError::IllegalTransition { job_id, from, to } => AppError::Conflict {
                code: "illegal_transition",
                message: format!("job {job_id} is {from}; it cannot become {to}"),
                details: serde_json::json!({ "job_id": job_id, "status": from }),
            },
            StoreError::VersionConflict { job_id, .. } | StoreError::Contended(job_id) => {
                AppError::Conflict {
                    code: "conflict",
                    message: format!("job {job_id} changed concurrently; try again"),
                    details: serde_json::json!({ "job_id": job_id }),
                }
            }
            StoreError::Cursor(_) => AppError::bad_request("invalid_cursor", "invalid cursor"),
            StoreError::Invalid(m) => AppError::bad_request("invalid_request", m),
            other => AppError::internal(other),
        }
    }
}

impl From<IntakeError> for AppError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Model(p) => AppError::Model(p),
            IntakeError::Invalid(m) => AppError::bad_request("invalid_request", m),
            IntakeError::Store(s) => s.into(),
            IntakeError::Blob(b) => AppError::internal(b),
            IntakeError::Task(t) => AppError::Internal(t),
            IntakeError::Unavailable(m) => AppError::Unavailable(m),
            IntakeError::NotAdmitted {
                code,
                message,
                retry_after_seconds,
            } => AppError::TooManyRequests {
                code,
                message,
                retry_after_seconds,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pricing_core::Format;

    #[test]
    fn model_errors_map_to_status_and_code() {
        let cases = [
            (ParseError::UnknownFormat, 415, "unsupported_format"),
            (
                ParseError::TooLarge { found: 2, limit: 1 },
                413,
                "too_large",
            ),
            (
                ParseError::TooManyTriangles { found: 2, limit: 1 },
                422,
                "too_many_triangles",
            ),
            (
                ParseError::Malformed {
                    format: Format::Obj,
                    line: Some(3),
                    detail: "x".into(),
                },
                422,
                "malformed_mesh",
            ),
            (ParseError::Empty, 422, "empty_file"),
            (ParseError::NoTriangles, 422, "no_triangles"),
        ];
        for (e, status, code) in cases {
            let (s, c) = AppError::Model(e).status_and_code();
            assert_eq!((s.as_u16(), c), (status, code));
        }
    }

    #[test]
    fn rate_limit_sets_retry_after() {
        let r = AppError::TooManyRequests {
            code: "rate_limited",
            message: "slow down".into(),
            retry_after_seconds: 7,
        }
        .into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "7");
    }
}
