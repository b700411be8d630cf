//! Wall thickness: how thick the material is behind every face.
//!
//! For each face a ray leaves the centroid along the inward normal; the distance to the first face it crosses
//! (leaving the solid) is the local thickness there, when that face faces back at it (within 30°). A thin
//! wall is then what a caster means by one: two opposite surfaces closer than the limit over a patch wider
//! than the limit. The tip of a wedge is not one (its far face does not face back: `FaceKind::Edge`), nor is a
//! speck narrower than the limit ([`ThicknessReport::thin_area`]), so the thin area no longer depends on how
//! finely an exporter triangulated along sharp edges. The same BVH answers which faces pass through each other
//! (`crossings`). Rays run in parallel with rayon against a BVH built for
//! this query ([`bvh`], [`ray`]); every face's value depends only on the mesh and every reduction runs in a fixed
//! order, so reports are bit-identical whatever the thread count.
//!
//! Layout: [`options`] (knobs, errors) → [`frame`] (validation, centred `f32` copy) → [`bvh`] → [`cast`] (one ray
//! per face) → [`summary`] → [`report`] (queries: area below a limit, percentiles, [`regions`] of thin faces).
//! [`cost`] predicts the run time from the triangle count for the scheduler.
//!
//! Inverted meshes: a closed mesh with negative signed volume has its winding reversed as a whole; casting along
//! its stored −normal would measure the *air* around it (across a ring's hole that is the hole diameter, a
//! plausible-looking wrong number). Such meshes are cast along +normal and the report says
//! `winding_inverted`. Locally inconsistent orientation shows up as `wrong_side_faces`; open meshes as
//! `unhit_faces`. Neither ever produces a thickness.

mod bvh;
mod cast;
pub mod cost;
mod crossings;
mod frame;
mod options;
mod ray;
mod regions;
pub mod report;
mod sections;
mod summary;

pub use cast::Progress;
pub use options::{ThicknessError, ThicknessOptions};
pub use report::{ThicknessReport, ThinRegion};

use crate::mesh::Mesh;

/// Analyses `mesh` (millimetres) on the current rayon pool.
pub fn analyze_thickness(
    mesh: &Mesh,
    opts: &ThicknessOptions,
) -> Result<ThicknessReport, ThicknessError> {
    analyze_thickness_with_progress(mesh, opts, None)
}

/// As [`analyze_thickness`], reporting `(faces done, faces total)` after every block of 4096 faces.
pub fn analyze_thickness_with_progress(
    mesh: &Mesh,
    opts: &ThicknessOptions,
    progress: Option<Progress<'_>>,
) -> Result<ThicknessReport, ThicknessError> {
    if !(opts.max_thin_limit_mm >= 0.0 && opts.max_thin_limit_mm.is_finite()) {
        return Err(ThicknessError::InvalidOption(
            "max_thin_limit_mm must be a finite number of 0 or more",
        ));
    }
    if !(opts.self_hit_epsilon_rel >= 0.0 && opts.self_hit_epsilon_rel < 1.0) {
        return Err(ThicknessError::InvalidOption(
            "self_hit_epsilon_rel must be in [0, 1)",
        ));
    }
    let frame = frame::prepare(mesh)?;
    let bvh = bvh::build(&frame.verts, &mesh.triangles);
    let params = cast::CastParams {
        flip: frame.signed_volume < 0.0,
        t_min: (opts.self_hit_epsilon_rel * frame.diagonal) as f32,
    };
    let faces = cast::cast_all(mesh, &frame, &bvh, &params, progress);
    let crossings = (mesh.triangles.len() <= opts.self_intersection_max_faces)
        .then(|| crossings::count(mesh, &frame, &bvh));
    let thick = sections::thick_sections(
        mesh,
        &frame,
        &bvh,
        &faces,
        params.flip,
        opts.section_above_mm,
    );
    drop(bvh);
    let limit = opts.max_thin_limit_mm;
    let mut report = summary::summarise(mesh, faces, params.flip, limit);
    report.self_intersections = crossings;
    report.thick_sections = thick;
    Ok(report)
}
