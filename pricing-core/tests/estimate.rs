//! The estimate's readers and price range: boxes from each format, windows of large text, and a
//! range that brackets the real price.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;

use pricing_core::estimate::{
    Bbox, TEXT_FULL_SCAN, UnitsReading, gltf_bbox, price_range, sample_binary_stl, sample_text,
};
use pricing_core::pricing::{Channel, ReasonCode, Rules, Status};
use pricing_core::{Format, Units};
use rust_decimal::Decimal;

fn stl(tris: &[[[f32; 3]; 3]]) -> Vec<u8> {
    let mut v = vec![0u8; 80];
    v.extend_from_slice(&(tris.len() as u32).to_le_bytes());
    for t in tris {
        v.extend_from_slice(&[0u8; 12]);
        for p in t {
            for c in p {
                v.extend_from_slice(&c.to_le_bytes());
            }
        }
        v.extend_from_slice(&[0u8; 2]);
    }
    v
}

#[test]
fn binary_stl_box() {
    let bytes = stl(&[
        [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0]],
        [[0.0, 0.0, 3.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
    ]);
    let b = sample_binary_stl(&mut Cursor::new(bytes), 2)
        .unwrap()
        .unwrap();
    assert_eq!((b.min, b.max), ([-1.0, 0.0, 0.0], [1.0, 2.0, 3.0]));
    assert_eq!(
        sample_binary_stl(&mut Cursor::new(stl(&[])), 0).unwrap(),
        None
    );
}

#[test]
fn text_boxes() {
    let obj = b"# c\nv 0 0 0\nvn 9 9 9\nv 2 -1 4\nf 1 2 3\n";
    let b = sample_text(obj, Format::Obj).unwrap();
    assert_eq!((b.min, b.max), ([0.0, -1.0, 0.0], [2.0, 0.0, 4.0]));
    let stl = b"solid x\n facet normal 0 0 1\n  outer loop\n   vertex 1 2 3\n   vertex -1 0 5\n  endloop\n";
    let b = sample_text(stl, Format::StlAscii).unwrap();
    assert_eq!((b.min, b.max), ([-1.0, 0.0, 3.0], [1.0, 2.0, 5.0]));
    assert_eq!(sample_text(b"v x y z\n", Format::Obj), None);
}

#[test]
fn large_text_is_sampled_in_windows() {
    let mut obj = Vec::new();
    for i in 0..900_000 {
        obj.extend_from_slice(format!("v {} 0 1\n", i % 100).as_bytes());
    }
    assert!(obj.len() > TEXT_FULL_SCAN);
    let b = sample_text(&obj, Format::Obj).unwrap();
    assert_eq!(b.min, [0.0, 0.0, 1.0]);
    assert_eq!(b.max, [99.0, 0.0, 1.0]);
}

#[test]
fn gltf_accessor_bounds() {
    let json =
        br#"{"asset":{"version":"2.0"},"accessors":[{"min":[0,0,0],"max":[0.02,0.01,0.003]}],
        "meshes":[{"primitives":[{"attributes":{"POSITION":0}}]}]}"#;
    let b = gltf_bbox(json, Format::Gltf).unwrap();
    assert_eq!(b.max, [0.02, 0.01, 0.003]);
    let mut glb = b"glTF".to_vec();
    glb.extend_from_slice(&2u32.to_le_bytes());
    glb.extend_from_slice(&0u32.to_le_bytes());
    glb.extend_from_slice(&(json.len() as u32).to_le_bytes());
    glb.extend_from_slice(b"JSON");
    glb.extend_from_slice(json);
    assert_eq!(gltf_bbox(&glb, Format::Glb), Some(b));
    assert_eq!(gltf_bbox(b"{}", Format::Gltf), None);
}

const MM: UnitsReading = UnitsReading {
    units: Units::Mm,
    inferred: false,
    alternative: None,
};

#[test]
fn a_box_too_large_in_metres_says_the_units_are_the_likely_cause() {
    let rules = Rules::default_shipped().unwrap();
    // A glTF ring written in millimetres: 20 file units read as metres.
    let bbox = Bbox {
        min: [-10_000.0, -10_000.0, -1_500.0],
        max: [10_000.0, 10_000.0, 1_500.0],
    };
    let reading = UnitsReading {
        units: Units::M,
        inferred: false,
        alternative: Some(Units::Mm),
    };
    let ranges = price_range(
        &rules,
        &bbox,
        1000,
        reading,
        &["au750y".into()],
        Channel::Website,
    )
    .unwrap();
    let codes: Vec<ReasonCode> = ranges[0].reasons.iter().map(|r| r.code).collect();
    assert_eq!(codes, [ReasonCode::TooLarge, ReasonCode::UnitsSuspect]);
    assert!(
        ranges[0].reasons[0].message.contains("units=mm"),
        "{:?}",
        ranges[0].reasons
    );
    assert_eq!(ranges[0].status, Status::Rejected);
}

#[test]
fn range_is_ordered_and_refuses_an_unknown_alloy() {
    let rules = Rules::default_shipped().unwrap();
    // A 20 x 20 x 3 mm ring-sized box.
    let bbox = Bbox {
        min: [-10.0, -10.0, -1.5],
        max: [10.0, 10.0, 1.5],
    };
    let ranges = price_range(
        &rules,
        &bbox,
        1000,
        MM,
        &["au750y".into()],
        Channel::Website,
    )
    .unwrap();
    assert_eq!(ranges.len(), 1);
    let r = &ranges[0];
    let (lo, hi) = (r.low.unwrap(), r.high.unwrap());
    assert!(lo > Decimal::ZERO && lo < hi, "{lo} {hi}");
    let unknown = price_range(
        &rules,
        &bbox,
        1,
        MM,
        &["unobtainium".into()],
        Channel::Website,
    );
    assert!(unknown.is_err());
}

/// On the committed rings, the range read from the file's box holds the price the full quote
/// gives: the estimate a customer sees first is not contradicted by the quote that follows.
#[test]
fn the_range_holds_the_full_quote_of_the_committed_rings() {
    let rules = Rules::default_shipped().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models");
    let alloys = vec!["au750y".to_owned(), "ag925".to_owned()];
    for name in ["torus_ring.stl", "ring_with_seat.obj", "torus_ring.glb"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let probe = pricing_core::probe(&bytes, None, &pricing_core::Limits::default()).unwrap();
        let reading =
            pricing_core::estimate::read_box(&bytes, &probe, &pricing_core::Limits::default())
                .unwrap();
        let file_box = reading.bbox.unwrap();
        let units = reading
            .declared
            .unwrap_or_else(|| pricing_core::units::infer(file_box.largest_extent()).0);
        let ranges = price_range(
            &rules,
            &file_box.scaled(units.to_mm()),
            probe.triangles,
            UnitsReading {
                units,
                inferred: reading.declared.is_none(),
                alternative: None,
            },
            &alloys,
            Channel::Website,
        )
        .unwrap();
        let request = pricing_core::QuoteRequest {
            alloys: alloys.clone(),
            channel: Channel::Website,
            analyze: Default::default(),
            thickness: Default::default(),
        };
        let quote = pricing_core::quote_model(&bytes, &rules, &request).unwrap();
        for (range, full) in ranges.iter().zip(&quote.alloys) {
            let (lo, hi, total) = (range.low.unwrap(), range.high.unwrap(), full.total.unwrap());
            assert!(
                lo <= total && total <= hi,
                "{name} {}: {total} outside {lo}..{hi}",
                range.alloy
            );
        }
    }
}
