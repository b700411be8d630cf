//! Reduction of per-face results into a [`ThicknessReport`], in a fixed order so it is bit-identical on any
//! number of threads.

use rayon::prelude::*;

use super::cast::{FaceKind, FaceSample};
use super::report::ThicknessReport;

pub(crate) fn summarise(faces: Vec<FaceSample>, winding_inverted: bool) -> ThicknessReport {
    let count = |k: FaceKind| faces.iter().filter(|f| f.kind == k).count() as u64;
    let (unhit_faces, wrong_side_faces, degenerate_faces) =
        (count(FaceKind::Unhit), count(FaceKind::WrongSide), count(FaceKind::Degenerate));
    let mut order: Vec<(f64, u32)> = faces.par_iter().enumerate().map(|(i, f)| (f.t_mm, i as u32)).collect();
    // Keys are unique (face index breaks ties), so even an unstable parallel sort has exactly one outcome.
    order.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let samples: Vec<(f64, f64)> = order.par_iter().map(|&(t, i)| (t, faces[i as usize].area_mm2)).collect();
    drop(order);
    let total_area_mm2 = samples.iter().map(|s| s.1).sum();
    let mut report = ThicknessReport {
        min_mm: samples.first().map_or(f64::INFINITY, |s| s.0),
        p05_mm: f64::NAN,
        p50_mm: f64::NAN,
        unhit_faces,
        faces: faces.len() as u64,
        total_area_mm2,
        wrong_side_faces,
        degenerate_faces,
        winding_inverted,
        face_mm: faces.iter().map(|f| f.t_mm).collect(),
        face_hit: faces.iter().map(|f| f.hit).collect(),
        samples,
    };
    report.p05_mm = report.percentile(5.0);
    report.p50_mm = report.percentile(50.0);
    report
}
