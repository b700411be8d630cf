//! Wavefront OBJ through `tobj`'s buffer API (never `load_obj`, which opens the files an upload names).
//!
//! Faces are kept as polygons (`triangulate: false`) and split here by ear clipping, because tobj's own
//! triangulation is a fan, which is wrong for concave n-gons. All objects and groups are welded into one
//! mesh by coordinates.

use memchr::memchr_iter;

use super::triangulate::triangulate;
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

pub fn parse(bytes: &[u8], limits: &Limits, welder: &mut Welder) -> Result<(), ParseError> {
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
    for (model_index, model) in models.iter().enumerate() {
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
            emit_polygon(&polygon, welder);
        }
    }
    Ok(())
}

fn emit_polygon(polygon: &[u32], welder: &mut Welder) {
    if polygon.len() == 3 {
        welder.triangle([polygon[0], polygon[1], polygon[2]]);
        return;
    }
    let corners: Vec<[f64; 3]> = polygon.iter().map(|&i| welder.position(i)).collect();
    for [a, b, c] in triangulate(&corners) {
        welder.triangle([polygon[a], polygon[b], polygon[c]]);
    }
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
