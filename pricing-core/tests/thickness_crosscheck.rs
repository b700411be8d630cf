//! Our BVH against parry3d's `TriMesh` ray cast: the same ray from every face must find the same wall.
//! parry cannot skip the start face, so its ray starts a little past it; the offset is added back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod thickness_support;

use parry3d::math::Vector;
use parry3d::query::{Ray, RayCast};
use parry3d::shape::TriMesh;
use pricing_core::mesh::Mesh;
use pricing_core::thickness::{ThicknessOptions, analyze_thickness};
use thickness_support::{normalise, torus, unit_icosphere};

/// Icosphere whose radius varies smoothly with direction: walls of uneven thickness, faces of uneven size.
fn bumpy_sphere(levels: u32, radius: impl Fn([f64; 3]) -> f64) -> Mesh {
    let mut m = unit_icosphere(levels);
    for p in &mut m.positions {
        let r = radius(*p);
        *p = p.map(|c| c * r);
    }
    m
}

/// A hollow, lumpy ball: outer and inner skins both bumpy, so wall thickness varies between ~0.4 and ~2.6 mm.
fn lumpy_shell(levels: u32) -> Mesh {
    let mut outer = bumpy_sphere(levels, |p| {
        10.0 + 0.6 * (3.0 * p[0]).sin() * (2.0 * p[1]).cos()
    });
    let inner = bumpy_sphere(levels, |p| 8.5 + 0.5 * (4.0 * p[2] + 1.0).sin());
    let base = outer.positions.len() as u32;
    outer.positions.extend(inner.positions);
    outer.triangles.extend(
        inner
            .triangles
            .iter()
            .map(|t| [t[0] + base, t[2] + base, t[1] + base]),
    );
    outer
}

/// Thickness of every face by parry3d: `None` where its ray hits nothing.
fn parry_thickness(mesh: &Mesh, nudge: f64) -> Vec<Option<f64>> {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for p in &mesh.positions {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let c = [0, 1, 2].map(|k| 0.5 * (lo[k] + hi[k]));
    let v = |p: [f64; 3]| {
        Vector::new(
            (p[0] - c[0]) as f32,
            (p[1] - c[1]) as f32,
            (p[2] - c[2]) as f32,
        )
    };
    let tm = TriMesh::new(
        mesh.positions.iter().map(|&p| v(p)).collect(),
        mesh.triangles.clone(),
    )
    .unwrap();
    (0..mesh.triangles.len())
        .map(|f| {
            let [a, b, cc] = mesh.triangle(f);
            let e1 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
            let e2 = [cc[0] - a[0], cc[1] - a[1], cc[2] - a[2]];
            let n = normalise([
                e1[1] * e2[2] - e1[2] * e2[1],
                e1[2] * e2[0] - e1[0] * e2[2],
                e1[0] * e2[1] - e1[1] * e2[0],
            ]);
            let g = [0, 1, 2].map(|k| (a[k] + b[k] + cc[k]) / 3.0 - n[k] * nudge);
            let ray = Ray::new(v(g), Vector::new(-n[0] as f32, -n[1] as f32, -n[2] as f32));
            tm.cast_local_ray(&ray, f32::MAX, false)
                .map(|t| f64::from(t) + nudge)
        })
        .collect()
}

fn agree(mesh: &Mesh) {
    let report = analyze_thickness(mesh, &ThicknessOptions::default()).unwrap();
    // 1e-4 mm is well above the self-hit threshold (1e-5 × diagonal ≈ 3e-4 mm here is the *ours* floor; parry
    // just needs to start off the face plane) and well below any wall in these meshes.
    let parry = parry_thickness(mesh, 1e-4);
    let mut worst = 0.0f64;
    let mut parry_only = 0;
    for (f, (ours, theirs)) in report.face_mm.iter().zip(&parry).enumerate() {
        match theirs {
            Some(t) if ours.is_finite() => worst = worst.max((ours - t).abs()),
            // parry takes any first hit; we decline those that enter the solid from outside.
            Some(_) => parry_only += 1,
            None => assert!(
                !ours.is_finite(),
                "face {f}: we found {ours}, parry nothing"
            ),
        }
    }
    assert_eq!(parry_only, report.wrong_side_faces);
    // Both run in f32 about the same centre; the rays differ only by the nudge.
    assert!(worst < 1e-4, "largest disagreement {worst} mm");
}

#[test]
fn agrees_with_parry_on_a_torus() {
    agree(&torus(9.0, 1.2, 200, 48));
}

#[test]
fn agrees_with_parry_on_a_lumpy_hollow_ball() {
    let m = lumpy_shell(4);
    let r = analyze_thickness(&m, &ThicknessOptions::default()).unwrap();
    // The geometry really is uneven, so this compares more than one distance.
    assert!(
        r.min_mm < 1.0 && r.percentile(95.0) > 2.0,
        "{} {}",
        r.min_mm,
        r.percentile(95.0)
    );
    agree(&m);
}

#[test]
fn agrees_with_parry_on_an_open_mesh() {
    let mut m = torus(9.0, 1.2, 64, 24);
    m.triangles.retain(|t| m.positions[t[0] as usize][2] < 0.8);
    agree(&m);
}
