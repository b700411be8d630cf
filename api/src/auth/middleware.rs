//! Runs around every routed request: resolves the caller (bearer key or session cookie, whose
//! state-changing requests must carry the CSRF token), applies the key's rate limit and the
//! route's deadline, and records RED metrics per route and role.

use std::time::Instant;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::session::{self, Session};
use super::{Principal, Role};
use crate::KeyRecord;
use crate::error::AppError;
use crate::state::AppState;

/// What the middleware learnt about the caller, left in the request's extensions.
#[derive(Debug, Clone)]
pub enum Caller {
    Known(Principal),
    /// No `Authorization` header.
    Anonymous,
    /// A key was sent but is unknown or revoked.
    Invalid,
}

/// The tenant anonymous callers of `serve --open` act for.
pub const OPEN_TENANT: &str = "public";

fn bearer(parts: &axum::http::HeaderMap) -> Option<&str> {
    let value = parts.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
}

/// Who is calling: a bearer key first, then a live session cookie, then (with `--open`) the
/// anonymous website caller, else the configured quote-page key's website caller. A stale cookie counts as none. Cookie callers also get their
/// [`Session`] in the request's extensions.
async fn resolve(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<(Caller, Option<Session>), AppError> {
    let unavailable = |e: &dyn std::fmt::Display| AppError::Unavailable(format!("key store: {e}"));
    match bearer(headers) {
        Some(key) => match state.keys.authenticate(key).await {
            Ok(Some(record)) => Ok((
                Caller::Known(record.principal(state.config.default_rate_per_minute)),
                None,
            )),
            Ok(None) => Ok((Caller::Invalid, None)),
            Err(e) => Err(unavailable(&e)),
        },
        None if headers.contains_key(AUTHORIZATION) => Ok((Caller::Invalid, None)),
        None => {
            if let Some(token) = session::cookie_token(headers) {
                let hash = session::token_hash(token);
                let live = state
                    .db
                    .live_session(&hash, chrono::Utc::now())
                    .await
                    .map_err(|e| unavailable(&e))?;
                if let Some(row) = live {
                    let record = KeyRecord::of_row(row.key).map_err(|e| unavailable(&e))?;
                    let principal = record.principal(state.config.default_rate_per_minute);
                    let s = Session {
                        token_hash: hash,
                        csrf_token: row.csrf_token,
                        expires_at: row.expires_at,
                    };
                    return Ok((Caller::Known(principal), Some(s)));
                }
            }
            if state.config.open {
                Ok((
                    Caller::Known(Principal {
                        key_id: None,
                        role: Role::Website,
                        tenant: OPEN_TENANT.into(),
                        rate_per_minute: state.config.default_rate_per_minute,
                        daily_quota: None,
                    }),
                    None,
                ))
            } else if let Some(key) = &state.config.page_key {
                match state.keys.authenticate(key).await {
                    Ok(Some(record)) if record.role == Role::Website => Ok((
                        Caller::Known(record.principal(state.config.default_rate_per_minute)),
                        None,
                    )),
                    Ok(_) => Ok((Caller::Anonymous, None)),
                    Err(e) => Err(unavailable(&e)),
                }
            } else {
                Ok((Caller::Anonymous, None))
            }
        }
    }
}

/// Which deadline applies to a route.
fn deadline(state: &AppState, route: &str) -> Option<std::time::Duration> {
    match route {
        "/v1/jobs/{id}/events" => None,
        "/v1/jobs" | "/v1/estimate" => Some(state.config.upload_timeout),
        _ => Some(state.config.request_timeout),
    }
}

pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let (caller, session) = match resolve(&state, req.headers()).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    // A page signed in by cookie proves it is ours with the session's CSRF token; signing in
    // again (a new session) needs none.
    if let Some(s) = &session
        && session::changes_state(req.method())
        && !(route == "/v1/session" && req.method() == axum::http::Method::POST)
        && !session::csrf_matches(req.headers(), &s.csrf_token)
    {
        return AppError::Refused {
            code: "csrf_token_required",
            message: "a signed-in page must send its session's X-CSRF-Token with every change"
                .into(),
        }
        .into_response();
    }
    if let Some(s) = session {
        req.extensions_mut().insert(s);
    }
    let role = match &caller {
        Caller::Known(p) => p.role.as_str(),
        Caller::Anonymous => "anonymous",
        Caller::Invalid => "invalid",
    };
    let limited = match &caller {
        Caller::Known(Principal {
            key_id: Some(id),
            rate_per_minute: Some(rate),
            ..
        }) => state.limiter.check(*id, *rate).err(),
        _ => None,
    };
    req.extensions_mut().insert(caller.clone());
    let response = match limited {
        Some(retry_after_seconds) => AppError::TooManyRequests {
            code: "rate_limited",
            message: "this key is over its request rate limit".into(),
            retry_after_seconds,
        }
        .into_response(),
        None => match deadline(&state, &route) {
            Some(limit) => match tokio::time::timeout(limit, next.run(req)).await {
                Ok(r) => r,
                Err(_) => AppError::Timeout.into_response(),
            },
            None => next.run(req).await,
        },
    };
    state.metrics.observe_request(
        &route,
        &method,
        role,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Caller>() {
            Some(Caller::Known(p)) => Ok(p.clone()),
            _ => Err(AppError::Unauthorized),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::*;

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer alx_1"));
        assert_eq!(bearer(&h), Some("alx_1"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("bearer  alx_2 "));
        assert_eq!(bearer(&h), Some("alx_2"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
    }
}
