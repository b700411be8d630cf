//! The console's server side: sign-in sessions (cookie, CSRF, expiry, revocation, roles), the
//! pages and their security headers, a job's record and the ETA truth.

use std::time::Duration;

use axum::http::{Method, StatusCode};

use crate::on_both;
use crate::support::*;
use api::{ApiConfig, Role};

/// Signs in with `key`: the reply, and the cookie pair (`alx_session=...`) when one was set.
async fn sign_in(app: &TestApp, key: &str) -> (Reply, Option<String>) {
    let body = serde_json::to_vec(&serde_json::json!({ "key": key })).unwrap();
    let reply = app
        .send(request(
            Method::POST,
            "/v1/session",
            None,
            body,
            &[("content-type", "application/json")],
        ))
        .await;
    let cookie = reply
        .headers
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    (reply, cookie)
}

async fn with_cookie(
    app: &TestApp,
    method: Method,
    uri: &str,
    cookie: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut headers = vec![("cookie", cookie)];
    headers.extend_from_slice(extra);
    app.send(request(method, uri, None, vec![], &headers)).await
}

async fn sessions_follow_the_key(b: Backend) {
    let app = start(b).await;
    let op = app.key(Role::Operator, None).await;
    let web = app.key(Role::Website, None).await;
    let id = app.upload(&web, fixture("box.stl"), None).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (reply, cookie) = sign_in(&app, &op).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json());
    let set = reply.headers["set-cookie"].to_str().unwrap().to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP on loopback: {set}");
    assert!(!set.contains(&op), "the key is not the cookie");
    let info = reply.json();
    assert_eq!(info["role"], "operator");
    let csrf = info["csrf_token"].as_str().unwrap().to_owned();
    let cookie = cookie.unwrap();

    // The cookie opens the operators' views...
    let me = with_cookie(&app, Method::GET, "/v1/session", &cookie, &[]).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["actor"], info["actor"]);
    let list = with_cookie(&app, Method::GET, "/v1/jobs", &cookie, &[]).await;
    assert_eq!(list.status, StatusCode::OK);
    // ...but a change without the CSRF token is refused, and with it goes through.
    let claim = format!("/v1/jobs/{id}/claim");
    let r = with_cookie(&app, Method::POST, &claim, &cookie, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "csrf_token_required");
    let r = with_cookie(
        &app,
        Method::POST,
        &claim,
        &cookie,
        &[("x-csrf-token", "0000")],
    )
    .await;
    assert_eq!(r.code(), "csrf_token_required");
    let r = with_cookie(
        &app,
        Method::POST,
        &claim,
        &cookie,
        &[("x-csrf-token", &csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["claimed_by"], info["actor"]);
    // "Taken by me" lists it.
    let mine = with_cookie(&app, Method::GET, "/v1/jobs?claimed_by=me", &cookie, &[]).await;
    assert_eq!(mine.json()["jobs"].as_array().unwrap().len(), 1);

    // Secure when the proxy in front says the browser came over TLS.
    let body = serde_json::to_vec(&serde_json::json!({ "key": op })).unwrap();
    let r = app
        .send(request(
            Method::POST,
            "/v1/session",
            None,
            body,
            &[
                ("content-type", "application/json"),
                ("x-forwarded-proto", "https"),
            ],
        ))
        .await;
    assert!(
        r.headers["set-cookie"]
            .to_str()
            .unwrap()
            .ends_with("; Secure")
    );

    // Sign-out needs the token too, then the cookie is dead.
    let r = with_cookie(&app, Method::DELETE, "/v1/session", &cookie, &[]).await;
    assert_eq!(r.code(), "csrf_token_required");
    let r = with_cookie(
        &app,
        Method::DELETE,
        "/v1/session",
        &cookie,
        &[("x-csrf-token", &csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(
        r.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let r = with_cookie(&app, Method::GET, "/v1/session", &cookie, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = with_cookie(&app, Method::GET, "/v1/jobs", &cookie, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Revoking the key ends its sessions at once.
    let (_, cookie) = sign_in(&app, &op).await;
    let cookie = cookie.unwrap();
    assert_eq!(
        with_cookie(&app, Method::GET, "/v1/jobs", &cookie, &[])
            .await
            .status,
        StatusCode::OK
    );
    let prefix: String = op.chars().take(12).collect();
    app.state.keys.revoke(&prefix).await.unwrap();
    let r = with_cookie(&app, Method::GET, "/v1/jobs", &cookie, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Other roles get no console; a bad key or body is refused with its code.
    let partner = app.key(Role::Partner, Some("acme")).await;
    for (key, code) in [(&partner, "console_forbidden"), (&web, "console_forbidden")] {
        let (r, cookie) = sign_in(&app, key).await;
        assert_eq!((r.status, r.code().as_str()), (StatusCode::FORBIDDEN, code));
        assert!(cookie.is_none());
    }
    let (r, _) = sign_in(&app, "alx_not-a-key").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .send(request(
            Method::POST,
            "/v1/session",
            None,
            b"key=x".to_vec(),
            &[],
        ))
        .await;
    assert_eq!(r.code(), "invalid_request");
    // A forged cookie is no session.
    let r = with_cookie(&app, Method::GET, "/v1/session", "alx_session=00ff", &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
on_both!(sessions_follow_the_key_, sessions_follow_the_key);

async fn sessions_expire(b: Backend) {
    let config = ApiConfig {
        session_ttl: Duration::from_secs(1),
        ..ApiConfig::default()
    };
    let app = start_with(b, config, scheduler::StoreConfig::default()).await;
    let op = app.key(Role::Operator, None).await;
    let (_, cookie) = sign_in(&app, &op).await;
    let cookie = cookie.unwrap();
    assert_eq!(
        with_cookie(&app, Method::GET, "/v1/session", &cookie, &[])
            .await
            .status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        with_cookie(&app, Method::GET, "/v1/session", &cookie, &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
on_both!(sessions_expire_, sessions_expire);

async fn pages_are_served_with_a_strict_policy(b: Backend) {
    let app = start(b).await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/console", "text/html"),
        ("/assets/console.js", "text/javascript"),
        ("/assets/quote.js", "text/javascript"),
        ("/assets/dom.js", "text/javascript"),
        ("/assets/common.css", "text/css"),
    ] {
        let r = app
            .send(request(Method::GET, path, None, vec![], &[]))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(
            r.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
    }
    let r = app
        .send(request(
            Method::GET,
            "/assets/../Cargo.toml",
            None,
            vec![],
            &[],
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .send(request(
            Method::GET,
            "/assets/nothing.js",
            None,
            vec![],
            &[],
        ))
        .await;
    assert_eq!(r.code(), "not_found");
}
on_both!(
    pages_are_served_with_a_strict_policy_,
    pages_are_served_with_a_strict_policy
);

async fn a_jobs_record_and_the_eta_truth(b: Backend) {
    let app = start(b).await;
    let op = app.key(Role::Operator, None).await;
    let partner = app.key(Role::Partner, Some("acme")).await;
    let id = app.upload(&partner, fixture("box.stl"), None).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.finish(id.parse().unwrap(), priced()).await;
    let r = app.get(&format!("/v1/jobs/{id}/record"), &op).await;
    assert_eq!(r.status, StatusCode::OK);
    let rec = r.json();
    let to: Vec<&str> = rec["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to_status"].as_str().unwrap())
        .collect();
    assert_eq!(
        to,
        ["SUBMITTED", "QUEUED", "CALCULATING", "PRICE_CALCULATED"]
    );
    let messages = rec["messages"].as_array().unwrap();
    let destinations: Vec<&str> = messages
        .iter()
        .map(|m| m["destination"].as_str().unwrap())
        .collect();
    assert_eq!(destinations[0], "run", "{messages:?}");
    assert!(destinations.contains(&"mes"), "{messages:?}");
    assert!(messages.iter().all(|m| m["message_id"].is_string()));
    // The partner may read its job but not the internal record.
    assert_eq!(
        app.get(&format!("/v1/jobs/{id}/record"), &partner)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let truth = app.get("/v1/eta-truth?window=day", &op).await;
    assert_eq!(truth.status, StatusCode::OK);
    let t = truth.json();
    assert_eq!(t["jobs"], 1, "{t}");
    assert_eq!(t["lanes"][0]["lane"], "small");
    let svg = app.get("/v1/eta-truth.svg", &op).await;
    assert_eq!(svg.headers["content-type"], "image/svg+xml");
    let text = String::from_utf8(svg.bytes).unwrap();
    assert!(
        text.starts_with("<svg") && text.contains("small: 1 jobs"),
        "{text}"
    );
    assert_eq!(
        app.get("/v1/eta-truth?window=week", &op).await.code(),
        "invalid_request"
    );
    assert_eq!(
        app.get("/v1/eta-truth", &partner).await.status,
        StatusCode::FORBIDDEN
    );
}
on_both!(
    a_jobs_record_and_the_eta_truth_,
    a_jobs_record_and_the_eta_truth
);

async fn listing_filters_several_statuses(b: Backend) {
    let app = start(b).await;
    let op = app.key(Role::Operator, None).await;
    let web = app.key(Role::Website, None).await;
    let a = app.upload(&web, fixture("box.stl"), None).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let _b = app
        .upload(&web, fixture("torus_ring.stl"), None)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.finish(a.parse().unwrap(), priced()).await;
    let both = app
        .get("/v1/jobs?status=QUEUED,PRICE_CALCULATED", &op)
        .await
        .json();
    assert_eq!(both["jobs"].as_array().unwrap().len(), 2);
    let one = app
        .get("/v1/jobs?status=PRICE_CALCULATED,PRICE_CALCULATED", &op)
        .await
        .json();
    assert_eq!(one["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(one["jobs"][0]["id"], a.as_str());
    assert_eq!(
        app.get("/v1/jobs?status=QUEUED,DONE", &op).await.code(),
        "invalid_request"
    );
    // A release by someone who does not hold the job is a conflict with its code.
    let r = app
        .call(
            Method::DELETE,
            &format!("/v1/jobs/{a}/claim"),
            Some(&op),
            vec![],
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::CONFLICT, "not_claimant")
    );
}
on_both!(
    listing_filters_several_statuses_,
    listing_filters_several_statuses
);
