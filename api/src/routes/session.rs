//! The console's sign-in: `POST /v1/session` exchanges an operator's key (in the body, never a
//! URL) for a session cookie; `GET` tells the page who it is signed in as and its CSRF token;
//! `DELETE` signs out. Only roles that may list jobs (operators, admins) get a session: a
//! partner or website key opens no console.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::session::{self, Session};
use crate::auth::{Action, Principal, Role, allowed};
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

/// What signing in sends.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignIn {
    /// An operator's (or admin's) API key.
    pub key: String,
}

/// The signed-in caller, as the page needs it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub role: Role,
    pub tenant: String,
    /// The name recorded when this operator takes a job (`claimed_by`).
    pub actor: String,
    /// Send back in `X-CSRF-Token` with every state-changing request.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

fn info(principal: &Principal, s: &Session) -> SessionInfo {
    SessionInfo {
        role: principal.role,
        tenant: principal.tenant.clone(),
        actor: principal.actor(),
        csrf_token: s.csrf_token.clone(),
        expires_at: s.expires_at,
    }
}

/// Sign in to the console.
#[utoipa::path(
    post,
    path = "/v1/session",
    tag = "console",
    request_body = SignIn,
    responses(
        (status = 201, description = "Signed in; the session cookie is set", body = SessionInfo),
        (status = 400, description = "invalid_request: the body is not `{\"key\": ...}`", body = ErrorBody),
        (status = 401, description = "unauthorized: unknown or revoked key", body = ErrorBody),
        (status = 403, description = "console_forbidden: the key's role has no console", body = ErrorBody),
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Result<Response, AppError> {
    let Json(body) = body.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let record = state
        .keys
        .authenticate(body.key.trim())
        .await
        .map_err(|e| AppError::Unavailable(format!("key store: {e}")))?
        .ok_or(AppError::Unauthorized)?;
    if !allowed(record.role, Action::ListJobs) {
        return Err(AppError::Refused {
            code: "console_forbidden",
            message: format!("a {} key cannot open the operators' console", record.role),
        });
    }
    let (token, csrf) = session::new_tokens();
    let now = Utc::now();
    let ttl = chrono::TimeDelta::from_std(state.config.session_ttl)
        .unwrap_or(chrono::TimeDelta::hours(12));
    let expires_at = now + ttl;
    let hash = session::token_hash(&token);
    state
        .db
        .insert_session(&hash, record.id, &csrf, now, expires_at)
        .await
        .map_err(AppError::internal)?;
    let principal = record.principal(state.config.default_rate_per_minute);
    let s = Session {
        token_hash: hash,
        csrf_token: csrf,
        expires_at,
    };
    let cookie = session::set_cookie(
        &token,
        ttl.num_seconds(),
        session::over_tls(&headers, state.config.tls),
    );
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(info(&principal, &s)),
    )
        .into_response())
}

/// Who this browser is signed in as.
#[utoipa::path(
    get,
    path = "/v1/session",
    tag = "console",
    responses(
        (status = 200, description = "Signed in", body = SessionInfo),
        (status = 401, description = "unauthorized: no live session", body = ErrorBody),
    )
)]
pub async fn current(
    principal: Principal,
    session: Option<axum::Extension<Session>>,
) -> Result<Json<SessionInfo>, AppError> {
    let axum::Extension(s) = session.ok_or(AppError::Unauthorized)?;
    Ok(Json(info(&principal, &s)))
}

/// Sign out: ends the session and clears the cookie.
#[utoipa::path(
    delete,
    path = "/v1/session",
    tag = "console",
    params(("X-CSRF-Token" = String, Header, description = "The session's CSRF token")),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "unauthorized: no live session", body = ErrorBody),
        (status = 403, description = "csrf_token_required", body = ErrorBody),
    )
)]
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Option<axum::Extension<Session>>,
) -> Result<Response, AppError> {
    let axum::Extension(s) = session.ok_or(AppError::Unauthorized)?;
    // The middleware has checked the CSRF token.
    state
        .db
        .end_session(&s.token_hash, Utc::now())
        .await
        .map_err(AppError::internal)?;
    let cookie = session::set_cookie("", 0, session::over_tls(&headers, state.config.tls));
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}
