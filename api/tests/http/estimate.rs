//! The instant estimate.

use axum::http::{Method, StatusCode};

use crate::on_both;
use crate::support::*;
use api::Role;

async fn estimates_in_every_format(b: Backend) {
    let app = start(b).await;
    let key = app.key(Role::Website, None).await;
    let mut size = None;
    for (name, format, units) in [
        ("torus_ring.stl", "stl-binary", "mm"),
        ("torus_ring.ascii.stl", "stl-ascii", "mm"),
        ("torus_ring.obj", "obj", "mm"),
        ("torus_ring.gltf", "gltf", "m"),
        ("torus_ring.glb", "glb", "m"),
        ("torus_ring.3mf", "3mf", "mm"),
    ] {
        let r = app
            .call(
                Method::POST,
                "/v1/estimate?alloys=au750y,ag925",
                Some(&key),
                fixture(name),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{name}: {}",
            String::from_utf8_lossy(&r.bytes)
        );
        let v = r.json();
        assert_eq!(v["format"], format, "{name}");
        assert!(v["triangles"].as_u64().unwrap() > 100);
        assert_eq!(v["units"], units, "{name}");
        // glTF declares metres and 3MF its unit; the others' unit is inferred from the size.
        assert_eq!(
            v["units_inferred"],
            !matches!(format, "gltf" | "glb" | "3mf"),
            "{name}"
        );
        assert!(v["eta"]["seconds"].as_f64().unwrap() > 0.0);
        let prices = v["prices"].as_array().unwrap();
        assert_eq!(prices.len(), 2);
        for p in prices {
            let lo: f64 = p["low"].as_str().unwrap().parse().unwrap();
            let hi: f64 = p["high"].as_str().unwrap().parse().unwrap();
            assert!(0.0 < lo && lo < hi, "{name}: {p}");
        }
        // Every format describes the same ring: the same box, within float noise.
        let bbox: Vec<f64> = v["bbox_mm"]["max"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        match &size {
            None => size = Some(bbox),
            Some(first) => {
                for (a, b) in first.iter().zip(&bbox) {
                    assert!((a - b).abs() < 1e-3, "{name}: {first:?} vs {bbox:?}");
                }
            }
        }
    }
    // Nothing was stored.
    assert_eq!(app.job_count().await, 0);
    let r = app
        .call(
            Method::POST,
            "/v1/estimate",
            Some(&key),
            b"not a model".to_vec(),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_format")
    );
    let r = app
        .call(
            Method::POST,
            "/v1/estimate?alloys=unobtainium",
            Some(&key),
            fixture("box.stl"),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "unknown_alloy")
    );
}
on_both!(estimates_in_every_format_, estimates_in_every_format);

/// The estimate before upload promises what the store promises after it: where one worker takes
/// both lanes, a medium model waits for the small queue.
async fn an_estimate_counts_the_smaller_lanes_on_shared_slots(b: Backend) {
    // Small up to 100 µs of predicted work: the 12-triangle box is small, the torus medium.
    let lanes = scheduler::LaneThresholds {
        small_max_seconds: 1e-4,
        medium_max_seconds: 10.0,
    };
    let app = start_with(
        b,
        api::ApiConfig::default(),
        scheduler::StoreConfig {
            lanes,
            ..scheduler::StoreConfig::default()
        },
    )
    .await;
    let key = app.key(Role::Website, None).await;
    let queued = app.upload(&key, fixture("box.gltf"), None).await.json();
    assert_eq!(queued["lane"], "small", "{queued}");
    let small = queued["predicted_seconds"].as_f64().unwrap();
    for (lanes, want) in [
        (vec![contracts::Lane::Small, contracts::Lane::Medium], small),
        (vec![contracts::Lane::Medium], 0.0),
    ] {
        app.store
            .heartbeat(&scheduler::Heartbeat {
                worker_id: "w-1".into(),
                lanes: lanes.clone(),
                current_job: None,
                slots: 1,
            })
            .await
            .unwrap();
        let r = app
            .call(
                Method::POST,
                "/v1/estimate",
                Some(&key),
                fixture("torus_ring.stl"),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.bytes)
        );
        let ahead = r.json()["eta"]["work_ahead_seconds"].as_f64().unwrap();
        assert!(
            (ahead - want).abs() < 1e-6,
            "{lanes:?}: {ahead} ahead, want {want}"
        );
    }
}

on_both!(
    an_estimate_counts_the_smaller_lanes_on_shared_slots_,
    an_estimate_counts_the_smaller_lanes_on_shared_slots
);
