//! Reduction of per-face results into a [`ThicknessReport`], in a fixed order so it is bit-identical on any
//! number of threads.

use rayon::prelude::*;

use super::cast::{FaceKind, FaceSample};
use super::regions::WallFace;
use super::report::ThicknessReport;
use crate::mesh::Mesh;

pub(crate) fn summarise(
    mesh: &Mesh,
    faces: Vec<FaceSample>,
    winding_inverted: bool,
    max_thin_limit_mm: f64,
) -> ThicknessReport {
    let count = |k: FaceKind| faces.iter().filter(|f| f.kind == k).count() as u64;
    let (unhit_faces, wrong_side_faces, degenerate_faces, edge_faces) = (
        count(FaceKind::Unhit),
        count(FaceKind::WrongSide),
        count(FaceKind::Degenerate),
        count(FaceKind::Edge),
    );
    let edge_area_mm2 = faces
        .iter()
        .filter(|f| f.kind == FaceKind::Edge)
        .map(|f| f.area_mm2)
        .sum();
    // Sort key: thickness bits above the face index. Thicknesses are non-negative `f32` values widened to f64
    // (or +∞), so the bits of the `f32` order exactly as the numbers do; with the index below, keys are unique
    // and even an unstable parallel sort has exactly one outcome.
    let mut keys: Vec<u64> = faces
        .par_iter()
        .enumerate()
        .map(|(i, f)| (u64::from((f.t_mm as f32).to_bits()) << 32) | i as u64)
        .collect();
    keys.par_sort_unstable();
    let samples: Vec<(f64, f64)> = keys
        .par_iter()
        .map(|&k| {
            let f = &faces[(k & 0xffff_ffff) as usize];
            (f.t_mm, f.area_mm2)
        })
        .collect();
    // The faces thin enough to be asked about, in the same (thickness, face) order as the samples.
    let walls: Vec<WallFace> = keys
        .iter()
        .map(|&k| (k & 0xffff_ffff) as usize)
        .take_while(|&f| faces[f].t_mm < max_thin_limit_mm)
        .map(|f| WallFace::new(mesh, f, &faces[f]))
        .collect();
    drop(keys);
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
        edge_faces,
        edge_area_mm2,
        winding_inverted,
        self_intersections: None,
        thick_sections: Vec::new(),
        max_thin_limit_mm,
        walls,
        face_mm: faces.iter().map(|f| f.t_mm).collect(),
        face_hit: faces.iter().map(|f| f.hit).collect(),
        samples,
    };
    report.p05_mm = report.percentile(5.0);
    report.p50_mm = report.percentile(50.0);
    report
}
