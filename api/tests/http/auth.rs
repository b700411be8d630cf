//! Keys, roles, tenant isolation, rate limits, quotas and the heavy-job limit.

use axum::http::{Method, StatusCode};

use crate::on_both;
use crate::support::*;
use api::{ApiConfig, NewKey, Role};

async fn keys_and_roles(b: Backend) {
    let app = start(b).await;
    // No key, a wrong key, a malformed header.
    let r = app.call(Method::GET, "/v1/queues", None, vec![]).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let r = app.get("/v1/queues", "alx_not_a_key").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .send(request(
            Method::GET,
            "/v1/queues",
            None,
            vec![],
            &[("authorization", "Basic eDp5")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Roles: website may not list; operator may not submit.
    let website = app.key(Role::Website, None).await;
    let operator = app.key(Role::Operator, None).await;
    let r = app.get("/v1/jobs", &website).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let r = app.upload(&operator, fixture("box.stl"), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/v1/queues", &operator).await.status,
        StatusCode::OK
    );

    // Stored hashed; revocation takes effect.
    let listed = app.state.keys.list().await.unwrap();
    assert_eq!(listed.len(), 2);
    let record = app
        .state
        .keys
        .authenticate(&website)
        .await
        .unwrap()
        .unwrap();
    assert!(website.starts_with(&record.key_prefix));
    app.state.keys.revoke(&record.id.to_string()).await.unwrap();
    assert_eq!(
        app.upload(&website, fixture("box.stl"), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        app.state
            .keys
            .create(NewKey {
                role: Some(Role::Partner),
                ..Default::default()
            })
            .await
            .is_err()
    );
}
on_both!(keys_and_roles_, keys_and_roles);

async fn partners_never_see_other_tenants(b: Backend) {
    let app = start(b).await;
    let acme = app.key(Role::Partner, Some("acme")).await;
    let globex = app.key(Role::Partner, Some("globex")).await;
    let operator = app.key(Role::Operator, None).await;
    let id = app.upload(&acme, fixture("box.stl"), None).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for uri in [format!("/v1/jobs/{id}"), format!("/v1/jobs/{id}/events")] {
        let r = app.get(&uri, &globex).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{uri}"
        );
        assert_eq!(app.status_of(&uri, &acme).await, StatusCode::OK, "{uri}");
    }
    // A nonexistent job answers exactly the same.
    let r = app
        .get(&format!("/v1/jobs/{}", uuid::Uuid::new_v4()), &globex)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/v1/jobs/{id}"), &operator).await.json()["tenant"],
        "acme"
    );
    // The same idempotency key in two tenants is two jobs.
    let a = app
        .upload(&acme, fixture("box.stl"), Some("k1"))
        .await
        .json();
    let g = app
        .upload(&globex, fixture("box.stl"), Some("k1"))
        .await
        .json();
    assert_ne!(a["id"], g["id"]);
    assert_eq!(g["created"], true);
}
on_both!(
    partners_never_see_other_tenants_,
    partners_never_see_other_tenants
);

async fn rate_limits_and_quotas(b: Backend) {
    let app = start(b).await;
    let slow = app
        .key_with(NewKey {
            role: Some(Role::Operator),
            rate_per_minute: Some(2),
            ..Default::default()
        })
        .await;
    assert_eq!(app.get("/v1/queues", &slow).await.status, StatusCode::OK);
    assert_eq!(app.get("/v1/workers", &slow).await.status, StatusCode::OK);
    let r = app.get("/v1/queues", &slow).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    let retry_after: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");

    let quota = app
        .key_with(NewKey {
            role: Some(Role::Partner),
            tenant: Some("q".into()),
            daily_quota: Some(1),
            ..Default::default()
        })
        .await;
    assert_eq!(
        app.upload(&quota, fixture("box.stl"), Some("a"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    // A replay of the accepted job is not a new job: it does not count.
    assert_eq!(
        app.upload(&quota, fixture("box.stl"), Some("a"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let r = app.upload(&quota, fixture("box.stl"), Some("b")).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "quota_exceeded")
    );
    assert!(r.headers.contains_key("retry-after"));
}
on_both!(rate_limits_and_quotas_, rate_limits_and_quotas);

async fn heavy_jobs_per_tenant(b: Backend) {
    let app = start_with_one_heavy_job_per_tenant(b).await;
    let acme = app.key(Role::Partner, Some("acme")).await;
    let other = app.key(Role::Partner, Some("other")).await;
    let first = app.upload(&acme, fixture("box.stl"), Some("one")).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    assert_eq!(first.json()["lane"], "large");
    let r = app
        .upload(&acme, fixture("hex_prism.stl"), Some("two"))
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_heavy_jobs")
    );
    assert_eq!(r.headers["retry-after"], "30");
    // Replaying the admitted job is fine; another tenant is not affected.
    assert_eq!(
        app.upload(&acme, fixture("box.stl"), Some("one"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        app.upload(&other, fixture("box.stl"), Some("x"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    // Once the first finishes, the tenant may start another.
    let id = first.json()["id"].as_str().unwrap().parse().unwrap();
    app.finish(id, priced()).await;
    assert_eq!(
        app.upload(&acme, fixture("hex_prism.stl"), Some("two"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
}
on_both!(heavy_jobs_per_tenant_, heavy_jobs_per_tenant);

async fn open_mode_accepts_anonymous_website_calls(b: Backend) {
    let config = ApiConfig {
        open: true,
        ..ApiConfig::default()
    };
    let app = start_with(b, config, Default::default()).await;
    let r = app
        .call(Method::POST, "/v1/jobs", None, fixture("box.stl"))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = app
        .call(Method::GET, &format!("/v1/jobs/{id}"), None, vec![])
        .await;
    assert_eq!(r.json()["tenant"], "public");
    // Operator routes still need a key; a wrong key is still refused.
    assert_eq!(
        app.call(Method::GET, "/v1/queues", None, vec![])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/v1/queues", "alx_wrong").await.status,
        StatusCode::UNAUTHORIZED
    );
}
on_both!(
    open_mode_accepts_anonymous_website_calls_,
    open_mode_accepts_anonymous_website_calls
);

async fn a_configured_quote_page_key_serves_anonymous_callers_as_its_website_tenant(b: Backend) {
    let first = start(b).await;
    let website = first.key(Role::Website, Some("shop")).await;
    let operator = first.key(Role::Operator, None).await;
    let app = first
        .replica_with(ApiConfig {
            page_key: Some(website.clone()),
            ..ApiConfig::default()
        })
        .await;
    let r = app
        .call(Method::POST, "/v1/jobs", None, fixture("box.stl"))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let job = app.get(&format!("/v1/jobs/{id}"), &website).await;
    assert_eq!(job.json()["tenant"], "shop");
    // Only what a website key may do: no operator routes.
    assert_eq!(
        app.call(Method::GET, "/v1/queues", None, vec![])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // A key of another role is never lent to anonymous callers.
    let misconfigured = first
        .replica_with(ApiConfig {
            page_key: Some(operator),
            ..ApiConfig::default()
        })
        .await;
    assert_eq!(
        misconfigured
            .call(Method::GET, "/v1/queues", None, vec![])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
on_both!(
    a_configured_quote_page_key_serves_anonymous_callers_as_its_website_tenant_,
    a_configured_quote_page_key_serves_anonymous_callers_as_its_website_tenant
);
