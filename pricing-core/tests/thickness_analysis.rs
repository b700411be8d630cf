//! Wall thickness on meshes whose answer is known analytically: hollow spheres, tori, a ring with a thin
//! window; plus the awkward inputs (open, inverted, degenerate, invalid) and determinism across thread counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod thickness_support;

use std::f64::consts::PI;

use pricing_core::mesh::Mesh;
use pricing_core::thickness::{
    ThicknessError, ThicknessOptions, ThicknessReport, analyze_thickness,
};
use thickness_support::{torus, unit_icosphere};

// ---------------------------------------------------------------------------------------------------------------
// Meshes

/// Icosphere with `levels` subdivisions (20·4^levels faces), outward CCW.
fn icosphere(centre: [f64; 3], radius: f64, levels: u32) -> Mesh {
    let mut m = unit_icosphere(levels);
    for p in &mut m.positions {
        *p = [0, 1, 2].map(|k| centre[k] + radius * p[k]);
    }
    m
}

fn reversed(mut m: Mesh) -> Mesh {
    for t in &mut m.triangles {
        t.swap(1, 2);
    }
    m
}

fn merged(mut a: Mesh, b: &Mesh) -> Mesh {
    let base = a.positions.len() as u32;
    a.positions.extend_from_slice(&b.positions);
    a.triangles
        .extend(b.triangles.iter().map(|t| t.map(|v| v + base)));
    a
}

/// Outer sphere plus an inward-facing inner sphere: a closed shell of wall `outer - inner`.
fn hollow_sphere(centre: [f64; 3], outer: f64, inner: f64, levels: u32) -> Mesh {
    merged(
        icosphere(centre, outer, levels),
        &reversed(icosphere(centre, inner, levels)),
    )
}

/// A band ring: rectangle profile (radius `r_in`..`r_out(i)`, height ±`h`) revolved in `n` segments; vertex
/// ring `i` has outer radius `r_out(i)`.
fn band_ring(n: u32, r_in: f64, h: f64, r_out: impl Fn(u32) -> f64) -> Mesh {
    let mut positions = Vec::new();
    for i in 0..n {
        let (s, c) = (2.0 * PI * f64::from(i) / f64::from(n)).sin_cos();
        let ro = r_out(i);
        for (r, z) in [(r_in, -h), (ro, -h), (ro, h), (r_in, h)] {
            positions.push([r * c, r * s, z]);
        }
    }
    let id = |i: u32, k: u32| (i % n) * 4 + (k % 4);
    let mut triangles = Vec::new();
    for i in 0..n {
        for k in 0..4 {
            let (a, b, c, d) = (id(i, k), id(i + 1, k), id(i + 1, k + 1), id(i, k + 1));
            triangles.extend([[a, b, c], [a, c, d]]);
        }
    }
    Mesh {
        positions,
        triangles,
    }
}

/// Largest distance from a face centroid inward to the sphere it approximates: how far the faceted surface
/// sits inside the true one.
fn sagitta(m: &Mesh, centre: [f64; 3], radius: f64) -> f64 {
    (0..m.triangles.len())
        .map(|f| {
            let [a, b, c] = m.triangle(f);
            let g = [0, 1, 2].map(|k| (a[k] + b[k] + c[k]) / 3.0 - centre[k]);
            radius - (g[0] * g[0] + g[1] * g[1] + g[2] * g[2]).sqrt()
        })
        .fold(0.0, f64::max)
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

fn on_threads(n: usize, m: &Mesh) -> ThicknessReport {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(|| analyze(m))
}

/// Every number in the report, as bits, so "identical" means bit-identical (and NaN equals NaN).
fn bits(r: &ThicknessReport) -> Vec<u64> {
    let mut v = vec![
        r.min_mm.to_bits(),
        r.p05_mm.to_bits(),
        r.p50_mm.to_bits(),
        r.unhit_faces,
        r.faces,
        r.total_area_mm2.to_bits(),
        r.wrong_side_faces,
        r.degenerate_faces,
        u64::from(r.winding_inverted),
    ];
    v.extend(
        r.samples
            .iter()
            .flat_map(|s| [s.0.to_bits(), s.1.to_bits()]),
    );
    v.extend(r.face_mm.iter().map(|t| t.to_bits()));
    v.extend(r.face_hit.iter().map(|&h| u64::from(h)));
    v
}

// ---------------------------------------------------------------------------------------------------------------
// Known answers

#[test]
fn hollow_sphere_measures_its_wall_within_faceting() {
    // Off the origin on purpose: the analysis must re-centre before dropping to f32.
    let centre = [140.0, -75.0, 30.0];
    let (outer, inner, levels) = (10.0, 9.0, 4);
    let m = hollow_sphere(centre, outer, inner, levels);
    let r = analyze(&m);

    // A ray from an outer face starts at most s_o inside the outer sphere and ends on the faceted inner surface,
    // which lies between r - s_i and r; rays from inner faces are the mirror case. So every thickness lies in
    // [w - s_o, w + s_i], up to f32 rounding (~1e-5 mm at this size) and the ray's tilt from radial (second order).
    let s_o = sagitta(&icosphere(centre, outer, levels), centre, outer);
    let s_i = sagitta(&icosphere(centre, inner, levels), centre, inner);
    let wall = outer - inner;
    let (lo, hi) = (wall - s_o - 1e-4, wall + s_i + 1e-4);
    assert!(s_o > 0.0 && s_o < 0.02, "faceting {s_o}");
    assert_eq!(r.faces, 2 * 20 * 4u64.pow(levels));
    assert_eq!(
        (r.unhit_faces, r.wrong_side_faces, r.degenerate_faces),
        (0, 0, 0)
    );
    assert!(!r.winding_inverted);
    for (f, &t) in r.face_mm.iter().enumerate() {
        assert!((lo..=hi).contains(&t), "face {f}: {t} not in [{lo}, {hi}]");
    }
    assert!((lo..=hi).contains(&r.min_mm));
    assert!((lo..=hi).contains(&r.p05_mm) && (lo..=hi).contains(&r.p50_mm));
    assert!(r.min_mm <= r.p05_mm && r.p05_mm <= r.p50_mm);
    let area_outer = 4.0 * PI * outer * outer;
    let area_inner = 4.0 * PI * inner * inner;
    let rel = (r.total_area_mm2 - (area_outer + area_inner)) / (area_outer + area_inner);
    assert!(
        rel < 0.0 && rel > -0.01,
        "area {} rel {rel}",
        r.total_area_mm2
    );
    assert_eq!(r.area_below(lo), 0.0);
    assert_eq!(r.area_below(hi + 1e-9), r.total_area_mm2);
    assert!(r.thin_regions(lo).is_empty());
    assert_eq!(r.measured_area_fraction(), 1.0);
}

#[test]
fn hollow_sphere_wall_scales_with_radius_gap() {
    // Two walls on the same faceting: the measured medians must differ by the gap difference.
    let a = analyze(&hollow_sphere([0.0; 3], 10.0, 9.5, 3));
    let b = analyze(&hollow_sphere([0.0; 3], 10.0, 8.0, 3));
    assert!((a.p50_mm - 0.5).abs() < 0.05, "{}", a.p50_mm);
    assert!((b.p50_mm - 2.0).abs() < 0.05, "{}", b.p50_mm);
}

#[test]
fn torus_thickness_is_the_tube_diameter() {
    // Every inward normal of a torus passes through the tube's centre line, so the wall is 2a everywhere.
    let (big, a) = (9.0, 1.2);
    let m = torus(big, a, 256, 64);
    let r = analyze(&m);
    assert_eq!((r.unhit_faces, r.wrong_side_faces), (0, 0));
    // Faceting: with 64 tube segments the polygon's inradius is a·cos(π/64); both ends of the ray sit between.
    let lo = 2.0 * a * (PI / 64.0).cos() * (PI / 256.0).cos() - 1e-3;
    assert!(r.min_mm >= lo && r.min_mm <= 2.0 * a, "min {}", r.min_mm);
    assert!(r.p50_mm >= lo && r.p50_mm <= 2.0 * a, "p50 {}", r.p50_mm);
}

#[test]
fn thin_window_of_a_band_ring_is_one_region_with_the_right_box() {
    let (n, r_in, h) = (256u32, 8.0, 1.0);
    let (i0, i1) = (32u32, 48u32);
    let thin = |i: u32| (i0..=i1).contains(&i);
    let m = band_ring(
        n,
        r_in,
        h,
        |i| if thin(i) { r_in + 0.5 } else { r_in + 2.0 },
    );
    let r = analyze(&m);
    assert!(!r.winding_inverted);
    assert_eq!(
        (r.unhit_faces, r.wrong_side_faces, r.degenerate_faces),
        (0, 0, 0)
    );
    // Inner and outer skins of the window are parallel planes 0.5·cos(π/n) apart along the normal.
    assert!(
        (r.min_mm - 0.5 * (PI / f64::from(n)).cos()).abs() < 1e-4,
        "min {}",
        r.min_mm
    );

    let regions = r.thin_regions(0.8);
    assert_eq!(regions.len(), 1, "{regions:?}");
    let region = &regions[0];
    // The thin faces are the inner and outer skins of segments i0..i1, so the box is that of their vertices.
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for i in i0..=i1 {
        let (s, c) = (2.0 * PI * f64::from(i) / f64::from(n)).sin_cos();
        for rad in [r_in, r_in + 0.5] {
            for z in [-h, h] {
                for (k, v) in [rad * c, rad * s, z].into_iter().enumerate() {
                    lo[k] = lo[k].min(v);
                    hi[k] = hi[k].max(v);
                }
            }
        }
    }
    for k in 0..3 {
        assert!(
            (region.min[k] - lo[k]).abs() < 1e-9,
            "min {:?} vs {lo:?}",
            region.min
        );
        assert!(
            (region.max[k] - hi[k]).abs() < 1e-9,
            "max {:?} vs {hi:?}",
            region.max
        );
    }
    assert_eq!(region.faces, 2 * 2 * u64::from(i1 - i0));
    assert_eq!(region.min_thickness_mm, r.min_mm);
    // Area of the two skins: chords at both radii times the band height.
    let chord = |rad: f64| 2.0 * rad * (PI / f64::from(n)).sin();
    let expected = f64::from(i1 - i0) * (chord(r_in) + chord(r_in + 0.5)) * 2.0 * h;
    assert!(
        (region.area_mm2 - expected).abs() < 1e-9 * expected,
        "{} vs {expected}",
        region.area_mm2
    );
    assert!((r.area_below(0.8) - expected).abs() < 1e-9 * expected);
    // Below the window's thickness nothing is thin; well above it, the 2 mm wall is too.
    assert!(r.thin_regions(0.4).is_empty());
    assert_eq!(r.thin_regions(10.0).len(), 1);
}

#[test]
fn two_thin_windows_are_two_regions_largest_first() {
    let (n, r_in, h) = (128u32, 8.0, 1.0);
    let thin = |i: u32| (10..=14).contains(&i) || (60..=80).contains(&i);
    let m = band_ring(
        n,
        r_in,
        h,
        |i| if thin(i) { r_in + 0.4 } else { r_in + 1.5 },
    );
    let r = analyze(&m);
    let regions = r.thin_regions(0.6);
    assert_eq!(regions.len(), 2, "{regions:?}");
    assert_eq!(regions[0].faces, 4 * 20);
    assert_eq!(regions[1].faces, 4 * 4);
    assert!(regions[0].area_mm2 > regions[1].area_mm2);
}

#[test]
fn percentiles_are_area_weighted() {
    // Band ring with a 2 mm radial wall and a 4 mm tall band: top/bottom faces measure 4, skins measure ~2.
    let m = band_ring(180, 8.0, 2.0, |_| 10.0);
    let r = analyze(&m);
    let skins = r.area_below(3.0);
    let caps = r.total_area_mm2 - skins;
    // Skins: 2π(8 + 10)·4 ≈ 452 mm²; caps: 2·π(10² - 8²) ≈ 226 mm². Skins are 2/3 of the area.
    assert!(skins > caps);
    assert!(r.p50_mm < 2.0 + 1e-6 && r.p50_mm > 1.99, "{}", r.p50_mm);
    assert!(
        (r.percentile(90.0) - 4.0).abs() < 1e-5,
        "{}",
        r.percentile(90.0)
    );
    assert_eq!(r.percentile(0.0), r.min_mm);
    assert!(r.percentile(f64::NAN).is_nan());
    assert_eq!(r.percentile(-5.0), r.percentile(0.0));
    assert_eq!(r.percentile(250.0), r.percentile(100.0));
}

// ---------------------------------------------------------------------------------------------------------------
// Awkward inputs

#[test]
fn open_mesh_counts_unhit_faces_and_keeps_the_rest() {
    let mut m = torus(9.0, 1.2, 64, 32);
    // Remove a strip of faces around the outer equator: rays from across the tube escape through the gap.
    let full = m.triangles.len();
    m.triangles.retain(|t| {
        let p = m.positions[t[0] as usize];
        !(p[0] > 9.0 && p[1].abs() < 3.0)
    });
    assert!(m.triangles.len() < full);
    let r = analyze(&m);
    assert_eq!(r.faces as usize, m.triangles.len());
    assert!(r.unhit_faces > 0, "{r:?}");
    let measured = r.face_mm.iter().filter(|t| t.is_finite()).count() as u64;
    assert_eq!(
        measured + r.unhit_faces + r.wrong_side_faces + r.degenerate_faces,
        r.faces
    );
    assert!(r.min_mm > 2.0 && r.min_mm <= 2.4, "{}", r.min_mm);
    assert!(r.measured_area_fraction() > 0.5 && r.measured_area_fraction() < 1.0);
}

#[test]
fn single_triangle_is_unhit_everywhere() {
    let m = Mesh {
        positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        triangles: vec![[0, 1, 2]],
    };
    let r = analyze(&m);
    assert_eq!(r.unhit_faces, 1);
    assert_eq!(r.min_mm, f64::INFINITY);
    assert_eq!(r.p50_mm, f64::INFINITY);
    assert!(r.thin_regions(1e9).is_empty());
    assert_eq!(r.measured_area_fraction(), 0.0);
}

#[test]
fn inverted_mesh_is_measured_as_the_solid_it_bounds_and_flagged() {
    // Cast along its stored −normal, an inverted ring would measure the air across its hole (~ the hole
    // diameter): a plausible wrong number. The analysis detects the negative volume and casts the other way.
    let m = torus(9.0, 1.2, 128, 32);
    let good = analyze(&m);
    let bad = analyze(&reversed(m));
    assert!(bad.winding_inverted && !good.winding_inverted);
    assert_eq!((bad.unhit_faces, bad.wrong_side_faces), (0, 0));
    // Same rays up to the rounding of a reordered centroid and cross product.
    let worst = bad
        .face_mm
        .iter()
        .zip(&good.face_mm)
        .map(|(b, g)| (b - g).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-5, "largest difference {worst}");
    assert!((bad.total_area_mm2 - good.total_area_mm2).abs() < 1e-9 * good.total_area_mm2);
    assert!((bad.p50_mm - good.p50_mm).abs() < 1e-5 && (bad.min_mm - good.min_mm).abs() < 1e-5);
}

#[test]
fn inconsistently_oriented_shell_is_reported_not_measured() {
    // A hollow sphere whose inner sphere also faces outward: rays from the outer skin reach the inner skin
    // from its front, i.e. through empty space by the mesh's own account.
    let levels = 2;
    let m = merged(
        icosphere([0.0; 3], 10.0, levels),
        &icosphere([0.0; 3], 9.0, levels),
    );
    let r = analyze(&m);
    let per_sphere = 20 * 4u64.pow(levels);
    assert_eq!(r.wrong_side_faces, per_sphere);
    assert_eq!(r.unhit_faces, 0);
    // The inner sphere measures its own diameter; nothing claims the 1 mm "wall".
    assert!(r.min_mm > 17.0, "{}", r.min_mm);
}

#[test]
fn degenerate_faces_are_counted_and_ignored() {
    let mut m = hollow_sphere([0.0; 3], 5.0, 4.0, 2);
    let before = analyze(&m);
    m.triangles.push([0, 1, 1]);
    m.triangles.push([2, 2, 2]);
    let r = analyze(&m);
    assert_eq!(r.degenerate_faces, 2);
    assert_eq!(r.min_mm, before.min_mm);
    assert_eq!(r.total_area_mm2, before.total_area_mm2);
}

#[test]
fn invalid_meshes_are_errors_not_panics() {
    let opts = ThicknessOptions::default();
    assert_eq!(
        analyze_thickness(&Mesh::default(), &opts),
        Err(ThicknessError::Empty)
    );
    let bad_index = Mesh {
        positions: vec![[0.0; 3], [1.0, 0.0, 0.0]],
        triangles: vec![[0, 1, 2]],
    };
    assert!(matches!(
        analyze_thickness(&bad_index, &opts),
        Err(ThicknessError::IndexOutOfRange {
            triangle: 0,
            vertex: 2,
            ..
        })
    ));
    let nan = Mesh {
        positions: vec![[0.0; 3], [1.0, 0.0, 0.0], [0.0, f64::NAN, 0.0]],
        triangles: vec![[0, 1, 2]],
    };
    assert_eq!(
        analyze_thickness(&nan, &opts),
        Err(ThicknessError::NonFinite { vertex: 2 })
    );
    let point = Mesh {
        positions: vec![[1.0; 3]; 3],
        triangles: vec![[0, 1, 2]],
    };
    assert_eq!(
        analyze_thickness(&point, &opts),
        Err(ThicknessError::ZeroExtent)
    );
    let bad_opts = ThicknessOptions {
        self_hit_epsilon_rel: f64::NAN,
        ..Default::default()
    };
    assert!(matches!(
        analyze_thickness(&torus(5.0, 1.0, 8, 8), &bad_opts),
        Err(ThicknessError::InvalidOption(_))
    ));
}

// ---------------------------------------------------------------------------------------------------------------
// Determinism and progress

#[test]
fn bit_identical_on_one_and_two_threads() {
    let meshes = [
        hollow_sphere([3.0, 1.0, -2.0], 10.0, 9.0, 4),
        torus(9.0, 1.2, 300, 70),
        band_ring(256, 8.0, 1.0, |i| if i % 50 < 7 { 8.5 } else { 10.0 }),
    ];
    for m in &meshes {
        let one = on_threads(1, m);
        let two = on_threads(2, m);
        assert_eq!(bits(&one), bits(&two));
        assert_eq!(one.thin_regions(1.0), two.thin_regions(1.0));
    }
}

/// Child half of [`bit_identical_under_rayon_num_threads`]: prints the global pool size and a digest of the
/// report. Run alone it still checks the report it digests.
#[test]
fn digest_child() {
    let m = torus(9.0, 1.2, 200, 48);
    let r = analyze(&m);
    assert!(r.min_mm > 2.3 && r.min_mm <= 2.4);
    let digest = bits(&r).iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ x).wrapping_mul(0x100_0000_01b3)
    });
    println!(
        "THREADS={} DIGEST={digest:016x}",
        rayon::current_num_threads()
    );
}

#[test]
fn bit_identical_under_rayon_num_threads() {
    let exe = std::env::current_exe().unwrap();
    let run = |threads: &str| {
        let out = std::process::Command::new(&exe)
            .args([
                "--exact",
                "digest_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        // libtest prints "test digest_child ... " before the test's own output, on the same line.
        let line = stdout
            .lines()
            .find_map(|l| l.find("THREADS=").map(|i| l[i..].to_owned()))
            .unwrap_or_else(|| panic!("no digest in {stdout}"));
        let (t, d) = line.split_once(' ').unwrap();
        assert_eq!(t, format!("THREADS={threads}"));
        d.to_owned()
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn progress_reaches_the_total_and_only_grows() {
    use std::sync::Mutex;
    let m = torus(9.0, 1.2, 400, 64);
    let seen = Mutex::new(Vec::new());
    let cb = |done: u64, total: u64| seen.lock().unwrap().push((done, total));
    let with = pricing_core::thickness::analyze_thickness_with_progress(
        &m,
        &ThicknessOptions::default(),
        Some(&cb),
    )
    .unwrap();
    let seen = seen.into_inner().unwrap();
    let total = m.triangles.len() as u64;
    assert!(seen.len() > 1);
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(seen.last(), Some(&(total, total)));
    assert_eq!(bits(&with), bits(&analyze(&m)));
}

#[test]
fn adversarial_layouts_build_without_deep_recursion() {
    // Exponentially spaced triangles: binned SAH would peel one off per level (depth = n); the median fallback
    // must bound the depth. Then a thousand copies of one triangle, whose centroids cannot be separated.
    let mut spread = Mesh::default();
    for i in 0..3000u32 {
        // 1.004^3000 ≈ 1.6e5: far enough apart for SAH to peel, close enough that no face is degenerate
        // relative to the model size.
        let x = 1.004f64.powi(i as i32);
        let b = spread.positions.len() as u32;
        spread
            .positions
            .extend([[x, 0.0, 0.0], [x, 1.0, 0.0], [x, 0.0, 1.0]]);
        spread.triangles.push([b, b + 1, b + 2]);
    }
    let r = analyze(&spread);
    assert_eq!(r.faces, 3000);
    assert_eq!(r.degenerate_faces, 0);
    // Parallel sheets all facing +x: every ray meets the next sheet from its front, or nothing.
    assert_eq!(r.unhit_faces + r.wrong_side_faces, 3000);

    let copies = Mesh {
        positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        triangles: vec![[0, 1, 2]; 1000],
    };
    let r = analyze(&copies);
    assert_eq!(r.faces, 1000);
    // Coplanar copies lie at distance 0, below the self-hit threshold: nothing is measured.
    assert_eq!(r.min_mm, f64::INFINITY);
}

/// A 4 × 2 mm bar, `len` long along y, with a 0.2 mm wide ridge `h` tall along the middle of its top:
/// the profile (star-shaped from its centre) extruded, caps fanned from their centres.
fn ridged_bar(h: f64, len: f64) -> Mesh {
    let profile = [
        (0.0, 0.0),
        (4.0, 0.0),
        (4.0, 2.0),
        (2.1, 2.0),
        (2.1, 2.0 + h),
        (1.9, 2.0 + h),
        (1.9, 2.0),
        (0.0, 2.0),
    ];
    let n = profile.len() as u32;
    let mut positions: Vec<[f64; 3]> = Vec::new();
    for y in [0.0, len] {
        positions.extend(profile.iter().map(|&(x, z)| [x, y, z]));
    }
    positions.push([2.0, 0.0, 1.0]);
    positions.push([2.0, len, 1.0]);
    let (c0, c1) = (2 * n, 2 * n + 1);
    let mut triangles = Vec::new();
    for i in 0..n {
        let j = (i + 1) % n;
        // The profile runs counter-clockwise seen from -y: outward sides and caps.
        triangles.push([i, n + i, n + j]);
        triangles.push([i, n + j, j]);
        triangles.push([c0, i, j]);
        triangles.push([c1, n + j, n + i]);
    }
    Mesh {
        positions,
        triangles,
    }
}

#[test]
fn a_shallow_ridge_is_relief_and_a_tall_fin_is_a_thin_wall() {
    // Ridge sides are 0.2 mm apart; a 0.1 mm tall ridge is a strip 0.1 mm wide (relief fed along its
    // length), a 2 mm tall fin a wall of 2 × 10 mm per side.
    let cases = [
        (0.1, 0.0),
        (0.2, 0.0),
        (1.0, 2.0 * 1.0 * 10.0),
        (2.0, 2.0 * 2.0 * 10.0),
    ];
    for (h, want) in cases {
        let bar = ridged_bar(h, 10.0);
        let volume = pricing_core::measure::integrals(&bar, [0.0; 3]).volume;
        assert!(
            (volume - (80.0 + 0.2 * h * 10.0)).abs() < 1e-9,
            "h {h}: volume {volume}"
        );
        let r = analyze(&bar);
        assert!(
            (r.area_below(0.6) - 2.0 * h * 10.0).abs() < 1e-9,
            "h {h}: both sides are measured thin"
        );
        let thin = r.thin_area(0.6);
        assert!(
            (thin - want).abs() < 1e-9,
            "h {h}: thin area {thin}, want {want}"
        );
        assert_eq!(r.thin_regions(0.6).len(), usize::from(want > 0.0), "h {h}");
    }
}

#[test]
fn a_thick_block_is_worth_hollowing_and_a_wide_band_is_not() {
    let options = ThicknessOptions {
        section_above_mm: 4.0,
        ..Default::default()
    };
    let block = fixtures::shapes::box_([12.0, 12.0, 6.0], [0.0; 3]).0;
    let block = Mesh {
        positions: block.positions.clone(),
        triangles: block.triangles(),
    };
    let r = analyze_thickness(&block, &options).unwrap();
    // The exact core with 1 mm walls is 10 × 10 × 4 = 400 mm³; the top and bottom faces' columns,
    // 2 × 144 × (6 − 2) / 2 = 576 mm³, bound it from above (the sides are 4 mm across: not counted).
    let saved = r.hollowable_mm3(4.0, 1.0);
    assert!((saved - 576.0).abs() < 1e-6, "{saved}");
    // A bar 4 mm wide and 2 mm thick: its side faces' rays run 4 mm along the width, but the metal
    // across them is 2 mm, so nothing is thicker than 4 mm.
    for len in [10.0, 30.0] {
        let bar = ridged_bar(0.0001, len);
        let r = analyze_thickness(&bar, &options).unwrap();
        assert_eq!(r.hollowable_mm3(3.0, 0.5), 0.0, "bar {len}");
    }
}
