//! Wavefront OBJ through `tobj`'s buffer API (never `load_obj`, which opens the files an upload names).
//!
//! Faces are kept as polygons (`triangulate: false`) and split here by ear clipping, because tobj's own
//! triangulation is a fan, which is wrong for concave n-gons. All objects and groups are welded into one
//! mesh by coordinates.

use memchr::memchr_iter;

use super::triangulate::{area_spread, triangulate};
use crate::error::ParseError;
use crate::format::Format;
use crate::limits::Limits;
use crate::weld::{WINDOW, Welder};

const F: Format = Format::Obj;

/// Triangles the file's `f` statements make (an n-gon makes n − 2), in one pass over the lines.
pub fn triangle_count(bytes: &[u8]) -> u64 {
    let mut count = 0u64;
    let mut start = 0usize;
    for end in memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len())) {
        let line = &bytes[start..end];
        start = end + 1;
        let line = trim_start(line);
        if line.len() > 2 && line[0] == b'f' && (line[1] == b' ' || line[1] == b'\t') {
            let corners = line[2..]
                .split(|c| c.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
                .count() as u64;
            count += corners.saturating_sub(2);
        }
    }
    count
}

/// Faces with more than three corners that are not flat, so their area depends on how they are split.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NonPlanar {
    pub polygons: u64,
    /// Sum over those polygons of the gap between the largest and smallest area a triangulation could
    /// give them, in the file's units squared.
    pub area_spread: f64,
}

/// A polygon whose triangulations differ by more than this fraction of its area counts as not flat;
/// below it the gap is rounding, or a curvature no quote notices.
const NON_PLANAR_REL: f64 = 1e-4;

pub fn parse(bytes: &[u8], limits: &Limits, welder: &mut Welder) -> Result<NonPlanar, ParseError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(ParseError::BadUtf8 {
            format: F,
            offset: e.valid_up_to() as u64,
        });
    }
    limits.check_triangles(triangle_count(bytes))?;

    let options = tobj::LoadOptions {
        single_index: false,
        triangulate: false,
        ignore_points: true,
        ignore_lines: true,
    };
    let mut reader = bytes;
    // The material loader is where tobj would open `mtllib` files; refusing here keeps uploads sealed.
    // tobj does unchecked index arithmetic (an absurd index overflows), so a fault inside it is caught and
    // reported as a malformed file instead of taking the process down.
    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tobj::load_obj_buf(&mut reader, &options, |_| {
            Err(tobj::LoadError::OpenFileFailed)
        })
    }))
    .map_err(|_| ParseError::malformed(F, None, "a face refers to an impossible vertex index"))?;
    let (models, _materials) = loaded.map_err(map_error)?;

    let mut polygon = Vec::new();
    let mut non_planar = NonPlanar::default();
    for (model_index, model) in models.iter().enumerate() {
        welder.name_part(&model.name);
        let mesh = &model.mesh;
        if mesh.positions.len() % 3 != 0 {
            return Err(ParseError::malformed(
                F,
                None,
                format!("object {model_index} has a partial vertex"),
            ));
        }
        let vertex_count = mesh.positions.len() / 3;
        let mut welded = Vec::with_capacity(vertex_count);
        let mut window = Vec::with_capacity(WINDOW);
        for (i, p) in mesh.positions.chunks_exact(3).enumerate() {
            let p = [p[0] as f64, p[1] as f64, p[2] as f64];
            if p.iter().any(|x| !x.is_finite()) {
                return Err(ParseError::NonFinite {
                    format: F,
                    triangle: i as u64,
                });
            }
            window.push(p);
            if window.len() == WINDOW {
                welder.vertices(&window, &mut welded);
                window.clear();
            }
        }
        welder.vertices(&window, &mut welded);
        let arities: Box<dyn Iterator<Item = usize>> = if mesh.face_arities.is_empty() {
            Box::new(std::iter::repeat_n(3, mesh.indices.len() / 3))
        } else {
            Box::new(mesh.face_arities.iter().map(|&a| a as usize))
        };
        let mut next = 0usize;
        for arity in arities {
            let face = mesh.indices.get(next..next + arity).ok_or_else(|| {
                ParseError::malformed(F, None, "face corner counts do not match the index list")
            })?;
            next += arity;
            polygon.clear();
            for &i in face {
                let w = *welded
                    .get(i as usize)
                    .ok_or_else(|| ParseError::IndexOutOfRange {
                        format: F,
                        line: None,
                        detail: format!("vertex {} of {vertex_count}", i as u64 + 1),
                    })?;
                polygon.push(w);
            }
            emit_polygon(&polygon, welder, &mut non_planar);
        }
    }
    Ok(non_planar)
}

fn emit_polygon(polygon: &[u32], welder: &mut Welder, non_planar: &mut NonPlanar) {
    if polygon.len() == 3 {
        welder.triangle([polygon[0], polygon[1], polygon[2]]);
        return;
    }
    let corners: Vec<[f64; 3]> = polygon.iter().map(|&i| welder.position(i)).collect();
    let triangles = triangulate(&corners);
    let spread = area_spread(&corners, &triangles);
    let area = polygon_size(&corners);
    if spread > NON_PLANAR_REL * area {
        non_planar.polygons += 1;
        non_planar.area_spread += spread;
    }
    for [a, b, c] in triangles {
        welder.triangle([polygon[a], polygon[b], polygon[c]]);
    }
}

/// A scale for the polygon's area: its bounding box's largest face, so the flatness tolerance is
/// relative to the polygon's size and never zero for a real one.
fn polygon_size(corners: &[[f64; 3]]) -> f64 {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for p in corners {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let mut d = [0, 1, 2].map(|k| hi[k] - lo[k]);
    d.sort_by(|a, b| b.total_cmp(a));
    d[0] * d[1]
}

fn map_error(e: tobj::LoadError) -> ParseError {
    match e {
        tobj::LoadError::FaceVertexOutOfBounds
        | tobj::LoadError::FaceTexCoordOutOfBounds
        | tobj::LoadError::FaceNormalOutOfBounds
        | tobj::LoadError::FaceColorOutOfBounds => ParseError::IndexOutOfRange {
            format: F,
            line: None,
            detail: e.to_string(),
        },
        other => ParseError::malformed(F, None, other.to_string()),
    }
}

fn trim_start(b: &[u8]) -> &[u8] {
    let i = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[i..]
}
