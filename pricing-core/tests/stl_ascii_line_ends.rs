//! Randomised checks of the ASCII STL reader's line handling (the project has no coverage-guided fuzz
//! target yet; this runs in every test run, and `PROPTEST_CASES=N` runs it longer):
//! - any mix of LF, CRLF and bare CR line ends reads as the same mesh as the LF file;
//! - a valid file with bytes overwritten, inserted or cut anywhere gives a mesh or a typed error, and
//!   the same answer whether read whole or streamed.
#![allow(clippy::unwrap_used)]

use pricing_core::{AnalyzeOptions, FormatHint, Units};
use proptest::prelude::*;

fn box_ascii() -> Vec<u8> {
    let (b, _) = fixtures::box_([10.0, 8.0, 6.0], [1.0, 2.0, 3.0]);
    let mut out = Vec::new();
    fixtures::write_stl_ascii(&b.to_f32(), &mut out).unwrap();
    out
}

fn opts() -> AnalyzeOptions {
    AnalyzeOptions {
        format: Some(FormatHint::Exact(pricing_core::Format::StlAscii)),
        units: Some(Units::Mm),
        ..Default::default()
    }
}

proptest! {
    #[test]
    fn line_ends_do_not_change_the_mesh(ends in proptest::collection::vec(0u8..3, 1..200)) {
        let lf = box_ascii();
        let mut mixed = Vec::with_capacity(lf.len() * 2);
        let mut k = 0usize;
        for &c in &lf {
            if c == b'\n' {
                mixed.extend_from_slice(match ends[k % ends.len()] {
                    0 => b"\n".as_slice(),
                    1 => b"\r\n".as_slice(),
                    _ => b"\r".as_slice(),
                });
                k += 1;
            } else {
                mixed.push(c);
            }
        }
        let a = pricing_core::load(&lf, &opts()).unwrap();
        let b = pricing_core::load(&mixed, &opts()).unwrap();
        prop_assert_eq!(a.mesh, b.mesh);
    }

    #[test]
    fn damaged_files_give_a_mesh_or_a_typed_error(
        edits in proptest::collection::vec((any::<u16>(), any::<u8>(), 0u8..3), 1..12)
    ) {
        let mut bytes = box_ascii();
        for (at, byte, kind) in edits {
            let i = usize::from(at) % (bytes.len() + 1);
            match kind {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => bytes.truncate(i.max(1)),
            }
        }
        let whole = pricing_core::load(&bytes, &opts());
        let streamed = pricing_core::load_stream(&mut bytes.as_slice(), bytes.len() as u64, &opts());
        match (&whole, &streamed) {
            (Ok(a), Ok(b)) => prop_assert_eq!(&a.mesh, &b.mesh),
            (Err(a), Err(b)) => prop_assert_eq!(a.code(), b.code()),
            _ => prop_assert!(false, "whole {:?} vs streamed {:?}", whole.is_ok(), streamed.is_ok()),
        }
        if let Ok(loaded) = whole {
            // The scheduler routes by the probe's count, and the limits are checked against it before
            // parsing: it must cover every triangle the parser reads.
            let p = pricing_core::probe(&bytes, opts().format, &Default::default()).unwrap();
            prop_assert!(loaded.weld.input_triangles <= p.triangles, "{} > {}", loaded.weld.input_triangles, p.triangles);
        }
    }
}

/// Keywords are read in any case, so the probe must count them in any case too.
#[test]
fn the_probe_counts_facets_whatever_the_keywords_case() {
    let text = String::from_utf8(box_ascii())
        .unwrap()
        .replace("endloop", "EndLoop");
    let loaded = pricing_core::load(text.as_bytes(), &opts()).unwrap();
    let p = pricing_core::probe(text.as_bytes(), opts().format, &Default::default()).unwrap();
    assert_eq!(loaded.weld.input_triangles, 12);
    assert_eq!(p.triangles, 12);
}
