//! Browser sessions for the console: an operator's key is exchanged once (`POST /v1/session`)
//! for a random token in an HttpOnly, SameSite=Strict cookie, so the key never sits in the page,
//! its storage or a URL. Every state-changing request made with the cookie must echo the
//! session's CSRF token in `X-CSRF-Token` (SameSite already stops cross-site sends; the token is
//! the second lock). The rules here are pure; the table is `scheduler::accounts::sessions`.

use axum::http::{HeaderMap, HeaderValue, Method, header};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::keys::hash_key;

/// The cookie's name.
pub const COOKIE: &str = "alx_session";
/// The header a page sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The live session a request came with, left in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A fresh session token and CSRF token (both from the OS's generator, via v4 UUIDs).
pub fn new_tokens() -> (String, String) {
    let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let csrf = Uuid::new_v4().simple().to_string();
    (token, csrf)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hash_key(token)
}

/// The session token in the request's `Cookie` headers, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether the browser reached us over TLS (directly configured, or said so by the proxy in
/// front): then the cookie is `Secure`.
pub fn over_tls(headers: &HeaderMap, configured: bool) -> bool {
    configured
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a new session (`max_age_seconds` > 0) or for clearing one (0).
pub fn set_cookie(token: &str, max_age_seconds: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age_seconds.max(0)
    );
    // Only hex digits, digits and fixed text: always a valid header value.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether `method` changes state, so a cookie-authenticated request needs the CSRF token.
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request carries the session's CSRF token (compared in constant time).
pub fn csrf_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(sent) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let (a, b) = (sent.trim().as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cookie_token_is_found_among_others_and_must_be_hex() {
        type Pairs<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Pairs<'static>, Option<&str>); 6] = [
            (&[], None),
            (&[("cookie", "alx_session=abc123")], Some("abc123")),
            (&[("cookie", "a=1; alx_session=ff00 ; b=2")], Some("ff00")),
            (
                &[("cookie", "a=1"), ("cookie", "alx_session=0a")],
                Some("0a"),
            ),
            (&[("cookie", "alx_session=<script>")], None),
            (&[("cookie", "alx_session=")], None),
        ];
        for (pairs, want) in cases {
            assert_eq!(cookie_token(&headers(pairs)), want, "{pairs:?}");
        }
    }

    #[test]
    fn cookie_attributes() {
        let c = set_cookie("ab", 3600, false);
        assert_eq!(
            c,
            "alx_session=ab; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600"
        );
        assert!(
            set_cookie("ab", -5, true)
                .to_str()
                .unwrap()
                .ends_with("Max-Age=0; Secure")
        );
        assert!(over_tls(&headers(&[("x-forwarded-proto", "https")]), false));
        assert!(!over_tls(&headers(&[("x-forwarded-proto", "http")]), false));
        assert!(over_tls(&HeaderMap::new(), true));
    }

    #[test]
    fn csrf_rules() {
        for (m, want) in [
            (Method::GET, false),
            (Method::HEAD, false),
            (Method::POST, true),
            (Method::DELETE, true),
            (Method::PUT, true),
        ] {
            assert_eq!(changes_state(&m), want, "{m}");
        }
        let h = headers(&[("x-csrf-token", "abcd")]);
        assert!(csrf_matches(&h, "abcd"));
        assert!(!csrf_matches(&h, "abce"));
        assert!(!csrf_matches(&h, "abcde"));
        assert!(!csrf_matches(&HeaderMap::new(), "abcd"));
        let (t1, c1) = new_tokens();
        let (t2, _) = new_tokens();
        assert_ne!(t1, t2);
        assert_eq!((t1.len(), c1.len()), (64, 32));
        assert!(
            cookie_token(&{
                let mut h = HeaderMap::new();
                h.insert(
                    "cookie",
                    HeaderValue::from_str(&format!("alx_session={t1}")).unwrap(),
                );
                h
            })
            .is_some()
        );
    }
}
