//! The whole path (parse, measure, wall thickness, price) on fixture files: snapshots of the quote
//! document, identical on one and two threads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pricing_core::pricing::{Channel, Rules, Status};
use pricing_core::{QuoteRequest, quote_model};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures::models_dir().join(name)).expect("committed fixture")
}

fn request(alloys: &[&str]) -> QuoteRequest {
    QuoteRequest {
        alloys: alloys.iter().map(|a| a.to_string()).collect(),
        channel: Channel::Website,
        analyze: Default::default(),
        thickness: Default::default(),
    }
}

fn quote_on(threads: usize, bytes: &[u8], req: &QuoteRequest) -> pricing_core::ModelQuote {
    let rules = Rules::default_shipped().unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| quote_model(bytes, &rules, req).unwrap())
}

#[test]
fn ring_with_seat_quote_snapshot_is_thread_independent() {
    let bytes = fixture("ring_with_seat.stl");
    let req = request(&["au750", "ag925", "pt950"]);
    let one = quote_on(1, &bytes, &req);
    let two = quote_on(2, &bytes, &req);
    assert_eq!(one, two);
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&two).unwrap()
    );
    insta::assert_json_snapshot!("ring_with_seat_quote", one);
}

#[test]
fn thin_bezel_is_located() {
    let bytes = fixture("ring_with_seat.stl");
    let q = quote_on(2, &bytes, &request(&["au750"]));
    let wall = fixtures::ring_with_seat(&Default::default())
        .1
        .wall
        .expect("ring has a known thin wall");
    assert_eq!(q.thin_regions.len(), 1, "{:?}", q.thin_regions);
    let region = &q.thin_regions[0];
    for axis in 0..3 {
        assert!(
            (region.min[axis] - wall.thin_region_min[axis]).abs() < 1e-3,
            "{region:?} vs {wall:?}"
        );
        assert!(
            (region.max[axis] - wall.thin_region_max[axis]).abs() < 1e-3,
            "{region:?} vs {wall:?}"
        );
    }
    assert!((region.area_mm2 - wall.thin_area_mm2).abs() / wall.thin_area_mm2 < 1e-4);
    assert!((region.min_thickness_mm - wall.thin_min_mm).abs() < 1e-4);
}

#[test]
fn open_and_inverted_models_are_rejected_with_reasons() {
    for name in ["open_box.stl", "inverted_box.stl"] {
        let q = quote_on(1, &fixture(name), &request(&["au750"]));
        assert_eq!(q.worst_status(), Status::Rejected, "{name}");
        assert!(
            q.alloys[0].total.is_none(),
            "{name}: a rejected model gets no price"
        );
        assert!(!q.alloys[0].reasons.is_empty(), "{name}");
    }
}

#[test]
fn the_same_model_in_every_format_gets_the_same_price() {
    let req = request(&["au585"]);
    let reference = quote_on(2, &fixture("torus_ring.stl"), &req);
    for suffix in ["solidheader.stl", "ascii.stl", "obj", "gltf", "glb"] {
        let q = quote_on(2, &fixture(&format!("torus_ring.{suffix}")), &req);
        // glTF declares metres, so no unit warning; everything else about the price must agree.
        assert_eq!(
            q.alloys[0].weight_g, reference.alloys[0].weight_g,
            "{suffix}"
        );
        assert_eq!(
            q.alloys[0]
                .lines
                .iter()
                .map(|l| l.amount)
                .collect::<Vec<_>>(),
            reference.alloys[0]
                .lines
                .iter()
                .map(|l| l.amount)
                .collect::<Vec<_>>(),
            "{suffix}"
        );
    }
}

#[test]
fn the_stages_are_announced_in_order_and_change_nothing() {
    let bytes = fixture("ring_with_seat.stl");
    let req = request(&["au750"]);
    let rules = Rules::default_shipped().unwrap();
    let mut seen = Vec::new();
    let mut loaded = pricing_core::analysis::load(&bytes, &req.analyze).unwrap();
    let staged = pricing_core::quote_loaded_in_stages(&mut loaded, &rules, &req, None, &mut |s| {
        seen.push(s)
    })
    .unwrap();
    use pricing_core::Stage::{Measure, Quote, Thickness};
    assert_eq!(seen, [Measure, Thickness, Quote]);
    assert_eq!(staged, quote_model(&bytes, &rules, &req).unwrap());
}
