//! ASCII STL: `solid` blocks of `facet` / `outer loop` / three `vertex` lines.
//!
//! Tolerates what real exporters write: leading whitespace, CRLF or bare CR line ends (older Mac
//! exporters), upper-case keywords, a bare `solid` line, several `solid` blocks in one file, and a
//! missing final `endsolid`. Coordinates are read as f32,
//! as STL defines them, so the same model in binary and ASCII STL gives bit-identical vertices.

use crate::error::ParseError;
use crate::format::Format;
use crate::limits::Limits;
use crate::weld::Welder;

const F: Format = Format::StlAscii;

/// Triangles in the file, counted as `endloop` keywords in any case, as the parser reads them, in one
/// memchr-speed pass (no parsing): every `p` ends `loop` or `endloop`, and no other keyword or number
/// has one, so only those few places are compared.
pub fn triangle_count(bytes: &[u8]) -> u64 {
    memchr::memchr2_iter(b'p', b'P', bytes)
        .filter(|&end| end >= 6 && bytes[end - 6..=end].eq_ignore_ascii_case(b"endloop"))
        .count() as u64
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Outside,
    InSolid,
    InFacet,
    InLoop,
    LoopDone,
}

pub fn parse(bytes: &[u8], limits: &Limits, welder: &mut Welder) -> Result<(), ParseError> {
    limits.check_triangles(triangle_count(bytes))?;
    let mut state = State::Outside;
    let mut corners = [[0f64; 3]; 3];
    let mut corner = 0usize;
    let mut triangle = 0u64;
    let mut line_no = 0u64;

    for (raw, line_offset) in lines(bytes) {
        line_no += 1;
        let mut words = raw
            .split(|c| c.is_ascii_whitespace())
            .filter(|w| !w.is_empty());
        let Some(keyword) = words.next() else {
            continue;
        };
        let is = |k: &str| keyword.eq_ignore_ascii_case(k.as_bytes());
        let bad = |what: &str| ParseError::malformed(F, Some(line_no), what.to_owned());

        state = match state {
            State::Outside if is("solid") => State::InSolid,
            State::Outside => return Err(bad("expected `solid`")),
            State::InSolid if is("facet") => State::InFacet,
            State::InSolid if is("endsolid") => State::Outside,
            State::InSolid => return Err(bad("expected `facet` or `endsolid`")),
            State::InFacet if is("outer") => {
                corner = 0;
                State::InLoop
            }
            State::InFacet => return Err(bad("expected `outer loop`")),
            State::InLoop if is("vertex") => {
                if corner == 3 {
                    return Err(bad("a facet has more than three vertices"));
                }
                for axis in 0..3 {
                    let word = words
                        .next()
                        .ok_or_else(|| bad("a vertex needs three coordinates"))?;
                    corners[corner][axis] = parse_f32(word, line_no, line_offset)? as f64;
                }
                corner += 1;
                State::InLoop
            }
            State::InLoop if is("endloop") => {
                if corner != 3 {
                    return Err(bad(&format!("a facet has {corner} vertices; expected 3")));
                }
                if corners.iter().flatten().any(|x| !x.is_finite()) {
                    return Err(ParseError::NonFinite {
                        format: F,
                        triangle,
                    });
                }
                welder.corners(corners);
                triangle += 1;
                State::LoopDone
            }
            State::InLoop => return Err(bad("expected `vertex` or `endloop`")),
            State::LoopDone if is("endfacet") => State::InSolid,
            State::LoopDone => return Err(bad("expected `endfacet`")),
        };
    }
    match state {
        State::Outside | State::InSolid => Ok(()),
        _ => Err(ParseError::truncated(F, "the file ends inside a facet")),
    }
}

/// Lines with their byte offsets, ended by LF, CRLF or a bare CR, so a file from an old Mac exporter
/// reads line by line and line numbers in errors match what an editor shows.
fn lines(bytes: &[u8]) -> impl Iterator<Item = (&[u8], usize)> {
    let mut start = 0usize;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let rest = &bytes[start..];
        let (len, skip) = match memchr::memchr2(b'\n', b'\r', rest) {
            Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => (i, 2),
            Some(i) => (i, 1),
            None => (rest.len(), 0),
        };
        let line = (&rest[..len], start);
        start += len + skip;
        Some(line)
    })
}

fn parse_f32(word: &[u8], line: u64, line_offset: usize) -> Result<f32, ParseError> {
    let text = std::str::from_utf8(word).map_err(|e| ParseError::BadUtf8 {
        format: F,
        offset: (line_offset + e.valid_up_to()) as u64,
    })?;
    text.parse::<f32>()
        .map_err(|_| ParseError::malformed(F, Some(line), format!("{text:?} is not a number")))
}
