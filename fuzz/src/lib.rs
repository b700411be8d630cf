//! What must hold for any bytes a customer, a partner or MES sends, checked by panicking: the
//! fuzz targets (`src/bin/`, built with afl.rs by `scripts/fuzz`) and the corpus test
//! (`tests/corpus.rs`, part of `cargo test`) call the same functions, so a crash found by the
//! fuzzer becomes a regression test by committing its input under `regressions/<target>/`.
//!
//! - [`model`]: the probe and the full parse of every format (the first byte picks a format
//!   hint, as an upload's `format=` would): no panic; a typed error with a code; the parse never
//!   yields more triangles than the probe admitted (the probe is what guards memory at the
//!   edge), and exactly as many where the format states its count; a size refusal by the probe is
//!   never contradicted by the parse; measurements are deterministic.
//! - [`estimate`]: the instant estimate's readers on any bytes: a box they return is finite and
//!   ordered.
//! - [`message`]: MES's `SubmitJob` as JSON: what parses serialises and parses back to itself.
//! - [`multipart()`]: the multipart upload reader the submit route runs (see [`mod@multipart`]).
//!
//! Memory bounded by the input: the targets run under afl's memory limit (`-m`, scripts/fuzz)
//! with the small [`LIMITS`] below, so an allocation sized by a claim in the file aborts the run.
#![allow(
    clippy::panic,
    reason = "a broken invariant is reported by panicking: that is the harness"
)]

pub mod multipart;
pub use multipart::{answer as multipart_answer, multipart};

use pricing_core::estimate::{Bbox, gltf_bbox, read_box, sample_binary_stl, sample_text};
use pricing_core::{AnalyzeOptions, Format, FormatHint, Limits, ParseError, analyze, probe};

/// Small limits, so the fuzzer explores refusals and stays within its memory limit.
pub const LIMITS: Limits = Limits {
    max_bytes: 8 << 20,
    max_triangles: 200_000,
    max_data_uri_bytes: 1 << 20,
    max_unzipped_bytes: 16 << 20,
};

/// The format hint the first byte selects (none most of the time), and the file.
pub fn split_hint(data: &[u8]) -> (Option<FormatHint>, &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return (None, data);
    };
    let hint = match first % 10 {
        1 => Some(FormatHint::Stl),
        2 => Some(FormatHint::Exact(Format::StlBinary)),
        3 => Some(FormatHint::Exact(Format::StlAscii)),
        4 => Some(FormatHint::Exact(Format::Obj)),
        5 => Some(FormatHint::Exact(Format::Gltf)),
        6 => Some(FormatHint::Exact(Format::Glb)),
        7 => Some(FormatHint::Exact(Format::ThreeMf)),
        _ => None,
    };
    (hint, rest)
}

/// The probe and the parse agree, and the parse is deterministic.
pub fn model(data: &[u8]) {
    let (hint, bytes) = split_hint(data);
    let opts = AnalyzeOptions {
        format: hint,
        limits: LIMITS,
        ..AnalyzeOptions::default()
    };
    let probed = probe(bytes, hint, &LIMITS);
    let first = analyze(bytes, &opts);
    let second = analyze(bytes, &opts);
    let shown = |r: &Result<_, ParseError>| match r {
        Ok((a, mesh)) => format!("{a:?} {mesh:?}"),
        Err(e) => format!("error {e:?}"),
    };
    if shown(&first) != shown(&second) {
        panic!("two parses of the same bytes differ");
    }
    for e in [probed.as_ref().err(), first.as_ref().err()]
        .into_iter()
        .flatten()
    {
        if e.code().is_empty() {
            panic!("an error without a code: {e}");
        }
    }
    match (&probed, &first) {
        (Ok(p), Ok((a, _))) => {
            if p.format != a.format {
                panic!("the probe read {:?}, the parse {:?}", p.format, a.format);
            }
            let parsed = a.triangles + a.degenerate_dropped;
            let counted = matches!(a.format, Format::StlBinary | Format::Gltf | Format::Glb);
            if parsed > p.triangles || (counted && parsed != p.triangles) {
                panic!(
                    "the probe counted {} triangles, the parse {parsed}",
                    p.triangles
                );
            }
            if a.triangles > LIMITS.max_triangles {
                panic!(
                    "{} triangles passed a limit of {}",
                    a.triangles, LIMITS.max_triangles
                );
            }
        }
        (Err(ParseError::TooManyTriangles { .. }), Ok((a, _))) => {
            panic!(
                "the probe refused the size, the parse accepted {} triangles",
                a.triangles
            )
        }
        _ => {}
    }
}

/// The estimate's readers return only finite, ordered boxes, whatever the bytes.
pub fn estimate(data: &[u8]) {
    let sane = |b: Option<Bbox>, reader: &str| {
        if let Some(b) = b
            && !(0..3).all(|i| b.min[i].is_finite() && b.max[i].is_finite() && b.min[i] <= b.max[i])
        {
            panic!("{reader} gave {b:?}");
        }
    };
    sane(sample_text(data, Format::Obj), "obj sample");
    sane(sample_text(data, Format::StlAscii), "ascii stl sample");
    sane(gltf_bbox(data, Format::Gltf), "gltf accessors");
    sane(gltf_bbox(data, Format::Glb), "glb accessors");
    let claimed = data.get(80..84).map_or(0, |c| {
        u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    });
    let records = (data.len() as u64).saturating_sub(84) / 50;
    if let Ok(b) = sample_binary_stl(&mut std::io::Cursor::new(data), claimed.min(records)) {
        sane(b, "binary stl sample");
    }
    if let Ok(p) = probe(data, None, &LIMITS) {
        match read_box(data, &p, &LIMITS) {
            Ok(r) => sane(r.bbox, "read_box"),
            Err(e) if e.code().is_empty() => panic!("an error without a code: {e}"),
            Err(_) => {}
        }
    }
}

/// A `SubmitJob` that parses round-trips through its own serialisation.
pub fn message(data: &[u8]) {
    let Ok(job) = serde_json::from_slice::<contracts::SubmitJob>(data) else {
        return;
    };
    let Ok(again) = serde_json::to_vec(&job) else {
        panic!("a parsed SubmitJob does not serialise: {job:?}");
    };
    match serde_json::from_slice::<contracts::SubmitJob>(&again) {
        Ok(back) if back == job => {}
        other => panic!("{job:?} does not round-trip: {other:?}"),
    }
}
