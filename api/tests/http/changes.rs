//! The operators' live feed of status changes (`GET /v1/changes`).

use axum::http::{Method, StatusCode};
use futures::StreamExt;

use crate::on_both;
use crate::support::*;
use api::Role;

/// Opens the feed (it starts where the request says, or at the newest change, at this moment).
async fn open_feed(app: &TestApp, key: &str, headers: &[(&str, &str)]) -> axum::body::Body {
    let resp = tower::ServiceExt::oneshot(
        api::app(app.state.clone()),
        request(Method::GET, "/v1/changes", Some(key), vec![], headers),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    resp.into_body()
}

/// Reads the feed until `want` `change` events of `job` arrived (or 20 s): those events and the
/// whole text read.
async fn read_changes(
    feed: axum::body::Body,
    job: &str,
    want: usize,
) -> (Vec<serde_json::Value>, String) {
    let mut body = feed.into_data_stream();
    let mut text = String::new();
    let mut events = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(chunk) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            events = text
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap())
                .filter(|e| e["job_id"] == job)
                .collect();
            if events.len() >= want {
                break;
            }
        }
    })
    .await;
    (events, text)
}

async fn operators_see_changes_live_and_resume_after_a_drop(b: Backend) {
    let app = start(b).await;
    let op = app.key(Role::Operator, None).await;
    let web = app.key(Role::Website, None).await;
    let partner = app.key(Role::Partner, Some("acme")).await;

    // A job uploaded while the feed is open, then priced, appears with every change.
    let feed = open_feed(&app, &op, &[]).await;
    let id = app.upload(&web, fixture("box.stl"), None).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.finish(id.parse().unwrap(), priced()).await;
    let (events, text) = read_changes(feed, &id, 4).await;
    let statuses: Vec<&str> = events
        .iter()
        .map(|e| e["to_status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["SUBMITTED", "QUEUED", "CALCULATING", "PRICE_CALCULATED"],
        "{text}"
    );
    assert!(events.iter().all(|e| e["kind"] == "status"));
    assert!(text.contains("event: change"));
    let ids: Vec<(i64, i64)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|s| {
            let (h, c) = s.split_once('-').unwrap();
            (h.parse().unwrap(), c.parse().unwrap())
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids ascend: {ids:?}");
    // The row an operator's console shows comes with the change.
    assert_eq!(events[3]["job"]["status"], "PRICE_CALCULATED");
    assert_eq!(events[3]["job"]["id"], id.as_str());

    // A dropped connection resumes after the last event it saw, missing nothing.
    let queued_at = events[1]["position"].as_str().unwrap().to_owned();
    let feed = open_feed(&app, &op, &[("last-event-id", &queued_at)]).await;
    let (resumed, _) = read_changes(feed, &id, 2).await;
    let statuses: Vec<&str> = resumed
        .iter()
        .map(|e| e["to_status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["CALCULATING", "PRICE_CALCULATED"]);

    // Takes and releases are changes too: the other operators' consoles show who holds a job.
    let last = events[3]["position"].as_str().unwrap().to_owned();
    let claim = format!("/v1/jobs/{id}/claim");
    let taken = app.call(Method::POST, &claim, Some(&op), vec![]).await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.json());
    let released = app.call(Method::DELETE, &claim, Some(&op), vec![]).await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.json());
    let feed = open_feed(&app, &op, &[("last-event-id", &last)]).await;
    let (claims, text) = read_changes(feed, &id, 2).await;
    assert_eq!(claims.len(), 2, "{text}");
    assert!(claims.iter().all(|e| e["kind"] == "claim"));
    let holder = claims[0]["claimed_by"].as_str().unwrap();
    assert!(holder.starts_with("operator:"), "{holder}");
    assert_eq!(
        claims[0]["job"]["claimed_by"].as_str(),
        None,
        "the job now: released"
    );
    assert_eq!(claims[1]["claimed_by"], serde_json::Value::Null);
    // A resume point that is not a number is refused.
    let resp = app.get("/v1/changes?after=x", &op).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);

    // Only operators (and admins) follow the feed; a bad resume point is a 400, not a restart.
    for key in [&web, &partner] {
        let r = tower::ServiceExt::oneshot(
            api::app(app.state.clone()),
            request(Method::GET, "/v1/changes", Some(key), vec![], &[]),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let r = tower::ServiceExt::oneshot(
        api::app(app.state.clone()),
        request(
            Method::GET,
            "/v1/changes",
            Some(&op),
            vec![],
            &[("last-event-id", "<script>")],
        ),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
on_both!(
    operators_see_changes_live_and_resume_after_a_drop_,
    operators_see_changes_live_and_resume_after_a_drop
);
