//! Format and triangle count without building the mesh: what the scheduler needs to estimate a job.
//!
//! Constant time for binary STL (the header) and GLB (the JSON chunk only); one memchr-speed pass for OBJ
//! and ASCII STL; the JSON only for `.gltf`.

use serde::Serialize;

use crate::error::ParseError;
use crate::format::{self, Format, FormatHint};
use crate::formats;
use crate::limits::Limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub format: Format,
    pub triangles: u64,
    pub bytes: u64,
}

/// Probe a whole file held in memory.
pub fn probe(bytes: &[u8], hint: Option<FormatHint>, limits: &Limits) -> Result<Probe, ParseError> {
    let len = bytes.len() as u64;
    if bytes.is_empty() {
        return Err(ParseError::Empty);
    }
    limits.check_bytes(len)?;
    let format = format::resolve(hint, bytes, len).ok_or(ParseError::UnknownFormat)?;
    let (format, triangles) = match format {
        Format::StlBinary => (format, formats::stl_binary::triangle_count(bytes, len)?),
        Format::StlAscii => (format, formats::stl_ascii::triangle_count(bytes)),
        Format::Obj => (format, formats::obj::triangle_count(bytes)),
        Format::Gltf | Format::Glb => formats::gltf::triangle_count(bytes, limits)?,
        Format::ThreeMf => (format, formats::threemf::triangle_count(bytes, limits)?),
    };
    // Refused here, at the edge: a file with nothing to price (an ASCII STL cut off inside its
    // first facet, an OBJ of vertices only) must not be accepted, stored and queued to fail later.
    if triangles == 0 {
        return Err(ParseError::NoTriangles);
    }
    limits.check_triangles(triangles)?;
    Ok(Probe {
        format,
        triangles,
        bytes: len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_no_triangles_is_refused_by_the_probe() {
        let cases: [&[u8]; 4] = [
            b"solid cut\n  facet normal 0 0 1\n    outer loop\n      vertex 0 0 0\n",
            b"v 0 0 0\nv 1 0 0\nv 0 1 0\n",
            b"solid empty\nendsolid empty\n",
            &[0u8; 84],
        ];
        for bytes in cases {
            assert_eq!(
                probe(bytes, None, &Limits::default()).map(|p| p.triangles),
                Err(ParseError::NoTriangles),
                "{:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(20)])
            );
        }
    }

    #[test]
    fn binary_stl_count_comes_from_the_header() {
        let mut file = vec![0u8; 84 + 50 * 2];
        file[80] = 2;
        let p = probe(&file, None, &Limits::default()).unwrap();
        assert_eq!((p.format, p.triangles), (Format::StlBinary, 2));
    }

    #[test]
    fn absurd_header_count_is_refused_without_allocating() {
        let mut file = vec![0u8; 84];
        file[80..84].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = probe(
            &file,
            Some(FormatHint::Exact(Format::StlBinary)),
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "truncated_file");
    }

    #[test]
    fn obj_ngons_count_as_fans() {
        let obj =
            b"v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 2 0\nf 1 2 3 4\nf 1 2 3\n  f 1 2 3 4 5\n";
        assert_eq!(
            probe(obj, None, &Limits::default()).unwrap().triangles,
            2 + 1 + 3
        );
    }
}
