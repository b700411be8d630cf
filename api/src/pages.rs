//! The two pages `pricing serve` and `pricing api` show in a browser, from files built into the
//! binary (`api/assets`, written for this project; no third-party code): the operators'
//! console at `/console` and the customer's quote page at `/`. The pages are static; what they
//! show comes from the JSON API with the caller's own rights (a console session for operators;
//! the server-side website key of `serve --open` for the quote page).
//!
//! Every page answer carries a Content-Security-Policy without `unsafe-inline`: scripts and
//! styles only from `/assets`, no framing by other sites, no plug-ins. The scripts build the DOM
//! with `textContent`, never HTML strings, so no field can become markup.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::AppError;

/// The policy every page and asset is served with.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'self'";

/// One built-in file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "common.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../assets/common.css"),
    },
    Asset {
        name: "dom.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/dom.js"),
    },
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/console.js"),
    },
    Asset {
        name: "quote.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/quote.js"),
    },
];

const CONSOLE_HTML: &str = include_str!("../assets/console.html");
const QUOTE_HTML: &str = include_str!("../assets/quote.html");

/// Revalidated on every load: the files change with the binary and are small.
fn secured(content_type: &'static str, body: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    (StatusCode::OK, headers, body).into_response()
}

async fn console() -> Response {
    secured("text/html; charset=utf-8", CONSOLE_HTML)
}

async fn quote() -> Response {
    secured("text/html; charset=utf-8", QUOTE_HTML)
}

async fn asset(Path(name): Path<String>) -> Result<Response, AppError> {
    let a = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or(AppError::NotFound)?;
    Ok(secured(a.content_type, a.body))
}

/// The pages' routes (merged into [`crate::app`] outside the API's authentication: the pages
/// themselves are public, their data is not).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(quote))
        .route("/console", get(console))
        .route("/assets/{name}", get(asset))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ` on<letters>=`, e.g. ` onclick=`.
    fn has_handler_attribute(html: &str) -> bool {
        html.match_indices(" on").any(|(i, _)| {
            let rest = &html[i + 3..];
            let name: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        })
    }

    #[test]
    fn pages_use_only_built_in_assets_and_no_inline_code() {
        for html in [CONSOLE_HTML, QUOTE_HTML] {
            assert!(!html.contains("<style"), "no inline styles");
            assert!(!html.contains(" style="), "no style attributes");
            assert!(!has_handler_attribute(html), "no inline event handlers");
            for src in html.split("src=\"").skip(1) {
                let path = src.split('"').next().unwrap_or("");
                let name = path.strip_prefix("/assets/").unwrap_or("?");
                assert!(ASSETS.iter().any(|a| a.name == name), "{path} is built in");
            }
            assert!(html.contains("<script src=\"/assets/dom.js\"></script>"));
        }
        for a in ASSETS {
            assert!(
                !a.body.contains("innerHTML"),
                "{}: build DOM with textContent",
                a.name
            );
            assert!(!a.body.contains("eval("), "{}", a.name);
        }
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
        assert!(has_handler_attribute("<a onclick=\"x\">") && !has_handler_attribute("sign on to"));
    }
}
