//! Ring sizes from the geometry: rings of known inner diameter in each chart, a ring whose bore is
//! not round, and pieces that are not rings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::f64::consts::PI;

use fixtures::PolyMesh;
use fixtures::shapes::ring_seat::RingWithSeat;
use fixtures::shapes::ring_with_seat;
use fixtures::shapes::torus_ring;
use pricing_core::mesh::Mesh;
use pricing_core::pricing::{Rules, ring_size};
use pricing_core::ring::bore;

fn mesh(p: &PolyMesh) -> Mesh {
    Mesh {
        positions: p.positions.clone(),
        triangles: p.triangles(),
    }
}

/// A torus ring (tube radius 1.2 mm, 360 × 24 segments) whose bore is `d` mm across: the innermost
/// edge of the tube sits at the apothem `(R − r)·cos(π/n)` of the 360-gon.
fn ring_of_diameter(d: f64) -> Mesh {
    let (n, r) = (360usize, 1.2);
    let big_r = d / 2.0 / (PI / n as f64).cos() + r;
    mesh(&torus_ring(big_r, r, n, 24).0)
}

#[test]
fn rings_of_known_diameter_get_their_size_in_every_chart() {
    let rules = Rules::default_shipped().unwrap();
    // Diameters from the charts' definitions: US size s has C = 36.537 + 2.5535 s, UK letter index i
    // has C = 37.5 + 1.25 i, ISO is C itself. (diameter, ISO, US, UK, Japan)
    let c = |circ: f64| circ / PI;
    let cases = [
        (c(36.537 + 2.5535 * 7.0), 54, 7.0, "N 1/2", 14),
        (c(36.537 + 2.5535 * 5.0), 49, 5.0, "J 1/2", 9),
        (c(37.5 + 1.25 * 12.2), 53, 6.25, "M", 12),
        (c(57.0), 57, 8.0, "P 1/2", 16),
        (c(60.3), 60, 9.25, "S", 19),
    ];
    for (d, iso, us, uk, jp) in cases {
        let b = bore(&ring_of_diameter(d)).expect("a torus is a ring");
        assert!(
            (b.inner_diameter_mm - d).abs() < 1e-3,
            "{d}: read {}",
            b.inner_diameter_mm
        );
        assert!(b.out_of_round_mm < 1e-3, "{d}: {}", b.out_of_round_mm);
        assert!(
            b.axis[2].abs() > 1.0 - 1e-9,
            "the torus's axis is z: {:?}",
            b.axis
        );
        let s = ring_size(&b, rules.ring_sizes());
        assert!(s.sizable, "{s:?}");
        assert_eq!(
            (s.iso_8653, s.us_canada, s.uk_australia.as_deref(), s.japan),
            (Some(iso), Some(us), Some(uk), Some(jp)),
            "{d} mm"
        );
    }
}

#[test]
fn a_ring_turned_in_space_is_read_about_its_own_axis() {
    let mut m = ring_of_diameter(17.0);
    // Rotate 30° about x, then move it off the origin.
    let (cs, sn) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
    for p in &mut m.positions {
        let (y, z) = (p[1], p[2]);
        *p = [p[0] + 40.0, cs * y - sn * z - 7.0, sn * y + cs * z + 3.0];
    }
    let b = bore(&m).expect("still a ring");
    assert!(
        (b.inner_diameter_mm - 17.0).abs() < 1e-3,
        "{}",
        b.inner_diameter_mm
    );
    assert!(
        (b.axis[1].abs() - sn).abs() < 1e-9 && (b.axis[2].abs() - cs).abs() < 1e-9,
        "{:?}",
        b.axis
    );
}

#[test]
fn a_flat_topped_bore_is_not_round_enough_to_size() {
    // The ring with a seat has one flat 30° sector on the inside: 9 mm at the corners, 9·cos 15° at
    // the flat's middle, so its diameter varies by 2·9·(1 − cos 15°) = 0.613 mm. Read every 5° (the
    // directions nearest the flat's middle are 2.5° off it), the spread comes out up to 0.03 mm less.
    let (p, _) = ring_with_seat(&RingWithSeat::default());
    let b = bore(&mesh(&p)).expect("a ring");
    let want = 2.0 * 9.0 * (1.0 - 15f64.to_radians().cos());
    assert!(
        b.out_of_round_mm <= want && b.out_of_round_mm > want - 0.03,
        "{}",
        b.out_of_round_mm
    );
    let rules = Rules::default_shipped().unwrap();
    let s = ring_size(&b, rules.ring_sizes());
    assert!(!s.sizable && s.us_canada.is_none());
    assert!(s.note.unwrap().contains("not round enough"));
}

#[test]
fn solid_pieces_are_not_rings() {
    for name in ["box", "hex_prism", "hollow_sphere"] {
        let fixture = fixtures::committed()
            .into_iter()
            .find(|f| f.name == name)
            .expect("in the committed set");
        assert_eq!(bore(&mesh(&fixture.exact)), None, "{name}");
    }
}
