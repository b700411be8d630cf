//! Wall thickness against the `fixtures` crate's closed-form answers (`Known::wall`): rigorous per-face bounds,
//! the thin region's box and area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fixtures::shapes::ring_seat::RingWithSeat;
use fixtures::{Known, PolyMesh, WallThickness};
use pricing_core::mesh::Mesh;
use pricing_core::thickness::{ThicknessOptions, ThicknessReport, analyze_thickness};

fn mesh(p: &PolyMesh) -> Mesh {
    Mesh {
        positions: p.positions.clone(),
        triangles: p.triangles(),
    }
}

/// Thin-wall queries in these tests go up to 20 mm (the default covers casting minimums only).
fn analyze(m: &Mesh) -> ThicknessReport {
    analyze_thickness(m, &wide_queries()).unwrap()
}

fn wide_queries() -> ThicknessOptions {
    ThicknessOptions {
        max_thin_limit_mm: 20.0,
        ..Default::default()
    }
}

/// The rays run in f32 about the bounding-box centre: allow ~1e-5 mm of rounding on top of the exact bounds.
const F32_SLACK: f64 = 1e-5;

fn wall(k: &Known) -> &WallThickness {
    k.wall.as_ref().expect("fixture has wall facts")
}

#[test]
fn hollow_sphere_faces_lie_within_the_closed_form_bounds() {
    for (outer, w, n_lon, n_lat) in [
        (10.0, 1.0, 96, 48),
        (8.0, 0.4, 128, 64),
        (12.0, 3.0, 40, 20),
    ] {
        let (poly, known) = fixtures::hollow_sphere(outer, w, n_lon, n_lat);
        let m = mesh(&poly);
        let r = analyze(&m);
        let wt = wall(&known);
        assert_eq!(r.faces as usize, known.triangles);
        assert_eq!((r.unhit_faces, r.wrong_side_faces), (0, 0));
        // UV spheres have zero-area triangles at the poles only if the fixture emits them; none may be measured.
        let (lo, hi) = (wt.thin_min_mm - F32_SLACK, wt.thin_max_mm + F32_SLACK);
        for (f, &t) in r.face_mm.iter().enumerate() {
            assert!(
                (lo..=hi).contains(&t),
                "wall {w}: face {f} = {t}, bounds [{lo}, {hi}]"
            );
        }
        assert!(r.min_mm >= lo && r.p50_mm <= hi);
        assert!((r.total_area_mm2 - known.area_mm2).abs() < 1e-9 * known.area_mm2);
        // The whole shell is thin at any limit above the upper bound: one region, the mesh's box.
        let regions = r.thin_regions(hi + 1e-9);
        assert_eq!(regions.len(), 1);
        for k in 0..3 {
            assert!((regions[0].min[k] - wt.thin_region_min[k]).abs() < 1e-9);
            assert!((regions[0].max[k] - wt.thin_region_max[k]).abs() < 1e-9);
        }
    }
}

#[test]
fn ring_with_bezel_seat_flags_exactly_the_bezel() {
    let (poly, known) = fixtures::ring_with_seat(&RingWithSeat::default());
    let m = mesh(&poly);
    let r = analyze(&m);
    let wt = wall(&known);
    let elsewhere = wt.elsewhere_min_mm.unwrap();
    assert!(!r.winding_inverted);
    assert_eq!(
        (r.unhit_faces, r.wrong_side_faces, r.degenerate_faces),
        (0, 0, 0)
    );
    assert!(r.min_mm >= wt.thin_min_mm - F32_SLACK && r.min_mm <= wt.thin_max_mm + F32_SLACK);
    assert!((r.min_mm - wt.nominal_mm).abs() < 1e-4, "min {}", r.min_mm);

    // Any limit between the bezel's upper bound and the rest of the ring's minimum isolates the bezel.
    let limit = 0.5 * (wt.thin_max_mm + elsewhere);
    assert!(wt.thin_max_mm < limit && limit < elsewhere);
    let regions = r.thin_regions(limit);
    assert_eq!(regions.len(), 1, "{regions:?}");
    let region = &regions[0];
    for k in 0..3 {
        assert!(
            (region.min[k] - wt.thin_region_min[k]).abs() < 1e-9,
            "min {:?} vs {:?}",
            region.min,
            wt.thin_region_min
        );
        assert!(
            (region.max[k] - wt.thin_region_max[k]).abs() < 1e-9,
            "max {:?} vs {:?}",
            region.max,
            wt.thin_region_max
        );
    }
    assert!(
        (region.area_mm2 - wt.thin_area_mm2).abs() < 1e-9 * wt.thin_area_mm2,
        "{} vs {}",
        region.area_mm2,
        wt.thin_area_mm2
    );
    assert!((r.area_below(limit) - wt.thin_area_mm2).abs() < 1e-9 * wt.thin_area_mm2);
    assert!(region.min_thickness_mm == r.min_mm);

    // Everything else is at least `elsewhere` thick.
    let beyond: f64 = r
        .samples
        .iter()
        .filter(|s| s.0 >= limit)
        .map(|s| s.0)
        .fold(f64::INFINITY, f64::min);
    assert!(beyond >= elsewhere - F32_SLACK, "{beyond} < {elsewhere}");
    // Below the bezel's lower bound nothing is thin.
    assert!(r.thin_regions(wt.thin_min_mm - 1e-3).is_empty());
}

#[test]
fn big_ring_has_the_tube_diameter() {
    let (poly, known) = fixtures::big_ring(200_000);
    let m = mesh(&poly);
    let r = analyze(&m);
    assert_eq!(r.faces as usize, known.triangles);
    assert_eq!((r.unhit_faces, r.wrong_side_faces), (0, 0));
    let d = 2.0 * fixtures::shapes::torus::BIG_RING_MINOR_RADIUS;
    assert!(r.min_mm > 0.99 * d && r.min_mm <= d, "{}", r.min_mm);
}

#[test]
fn inverted_box_is_measured_and_flagged() {
    let (poly, known) = fixtures::inverted_box([4.0, 3.0, 2.0], [1.0, 1.0, 1.0]);
    assert!(known.inverted);
    let r = analyze(&mesh(&poly));
    assert!(r.winding_inverted);
    assert_eq!((r.unhit_faces, r.wrong_side_faces), (0, 0));
    // Faces of a box measure the distance to the opposite face: 2, 3 or 4 mm.
    assert!((r.min_mm - 2.0).abs() < 1e-5, "{}", r.min_mm);
    assert!((r.percentile(100.0) - 4.0).abs() < 1e-5);
}

#[test]
fn open_box_reports_unhit_faces() {
    let (poly, known) = fixtures::open_box([4.0, 3.0, 2.0], [0.0, 0.0, 0.0]);
    assert!(!known.watertight);
    let r = analyze(&mesh(&poly));
    // The face opposite the hole looks out through it; every other face still sees a wall.
    assert!(r.unhit_faces > 0, "{r:?}");
    assert!(r.measured_area_fraction() > 0.0 && r.measured_area_fraction() < 1.0);
    assert!(r.min_mm >= 2.0 - 1e-5);
}
