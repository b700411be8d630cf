//! Upload formats and how to tell them apart from the content alone.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Size of a binary STL header plus its triangle count.
pub const STL_HEADER_LEN: u64 = 84;
/// Size of one binary STL triangle record (normal, three vertices, attribute word).
pub const STL_RECORD_LEN: u64 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    StlBinary,
    StlAscii,
    Obj,
    Gltf,
    Glb,
    /// 3MF: a zip package of XML parts that states its unit.
    #[serde(rename = "3mf")]
    ThreeMf,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::StlBinary => "stl-binary",
            Format::StlAscii => "stl-ascii",
            Format::Obj => "obj",
            Format::Gltf => "gltf",
            Format::Glb => "glb",
            Format::ThreeMf => "3mf",
        }
    }

    /// Whether the format carries its unit (glTF is metres by specification, 3MF names its own); STL
    /// and OBJ do not.
    pub fn declares_units(self) -> bool {
        matches!(self, Format::Gltf | Format::Glb | Format::ThreeMf)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::StlBinary,
        Format::StlAscii,
        Format::Obj,
        Format::Gltf,
        Format::Glb,
        Format::ThreeMf,
    ];
}

/// A format's exact name ([`Format::as_str`], any case), as stored and sent; `stl` alone is a
/// [`FormatHint`], not a format.
impl FromStr for Format {
    type Err = UnknownFormatName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownFormatName(s.to_owned()))
    }
}

/// An explicit override named by a user; `stl` means "STL, decide binary or ASCII from the content".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatHint {
    Stl,
    Exact(Format),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?}: expected one of stl, stl-binary, stl-ascii, obj, gltf, glb, 3mf")]
pub struct UnknownFormatName(pub String);

impl FromStr for FormatHint {
    type Err = UnknownFormatName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "stl" => FormatHint::Stl,
            "stl-binary" | "binary-stl" => FormatHint::Exact(Format::StlBinary),
            "stl-ascii" | "ascii-stl" => FormatHint::Exact(Format::StlAscii),
            "obj" => FormatHint::Exact(Format::Obj),
            "gltf" => FormatHint::Exact(Format::Gltf),
            "glb" => FormatHint::Exact(Format::Glb),
            "3mf" => FormatHint::Exact(Format::ThreeMf),
            _ => return Err(UnknownFormatName(s.to_owned())),
        })
    }
}

/// True when the length is exactly what the header's triangle count implies: the only reliable sign of a
/// binary STL, since CAD tools write binary headers that begin with `solid`.
pub fn is_binary_stl(prefix: &[u8], total_len: u64) -> bool {
    if total_len < STL_HEADER_LEN || prefix.len() < STL_HEADER_LEN as usize {
        return false;
    }
    let n = u32::from_le_bytes([prefix[80], prefix[81], prefix[82], prefix[83]]) as u64;
    STL_HEADER_LEN + STL_RECORD_LEN * n == total_len
}

/// Decide the format from the first bytes and the total length; `None` when nothing matches.
///
/// Only a prefix is needed (a few KiB), so the API can sniff a streamed upload.
pub fn sniff(prefix: &[u8], total_len: u64) -> Option<Format> {
    if prefix.starts_with(b"glTF") {
        return Some(Format::Glb);
    }
    if crate::formats::threemf::looks_like_3mf(prefix) {
        return Some(Format::ThreeMf);
    }
    if is_binary_stl(prefix, total_len) {
        return Some(Format::StlBinary);
    }
    let text = skip_bom_and_space(prefix);
    if text.starts_with(b"{") {
        return Some(Format::Gltf);
    }
    if text.starts_with(b"solid") && text.get(5).is_none_or(|c| c.is_ascii_whitespace()) {
        return Some(Format::StlAscii);
    }
    if looks_like_obj(text) {
        return Some(Format::Obj);
    }
    None
}

/// Resolve an optional user hint against the content.
pub fn resolve(hint: Option<FormatHint>, prefix: &[u8], total_len: u64) -> Option<Format> {
    match hint {
        Some(FormatHint::Exact(f)) => Some(f),
        Some(FormatHint::Stl) => Some(if is_binary_stl(prefix, total_len) {
            Format::StlBinary
        } else {
            Format::StlAscii
        }),
        None => sniff(prefix, total_len),
    }
}

fn skip_bom_and_space(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

/// OBJ has no magic number: accept text whose first meaningful lines are OBJ statements.
fn looks_like_obj(text: &[u8]) -> bool {
    const KEYWORDS: &[&[u8]] = &[
        b"v", b"vt", b"vn", b"vp", b"f", b"o", b"g", b"s", b"mtllib", b"usemtl", b"l", b"p",
    ];
    let mut seen_statement = false;
    for line in text.split(|&c| c == b'\n').take(64) {
        let line = skip_bom_and_space(line);
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        let word_end = line
            .iter()
            .position(|c| c.is_ascii_whitespace())
            .unwrap_or(line.len());
        if !KEYWORDS.contains(&&line[..word_end]) {
            return false;
        }
        seen_statement = true;
        if line.starts_with(b"v ") || line.starts_with(b"f ") {
            return true;
        }
    }
    seen_statement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip_and_stl_alone_is_only_a_hint() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
            assert_eq!(f.as_str().to_uppercase().parse::<Format>(), Ok(f));
        }
        assert!("stl".parse::<Format>().is_err());
        assert_eq!("stl".parse::<FormatHint>(), Ok(FormatHint::Stl));
    }

    fn binary_stl(n: u32, header: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; 80];
        v[..header.len()].copy_from_slice(header);
        v.extend_from_slice(&n.to_le_bytes());
        v.resize(84 + 50 * n as usize, 0);
        v
    }

    #[test]
    fn sniffs_each_format() {
        let cases: &[(&[u8], Option<Format>)] = &[
            (b"glTF\x02\0\0\0", Some(Format::Glb)),
            (b"  {\"asset\":{}}", Some(Format::Gltf)),
            (b"solid ring\nfacet normal 0 0 1", Some(Format::StlAscii)),
            (b"solid\nendsolid\n", Some(Format::StlAscii)),
            (b"\r\n solid x\r\n", Some(Format::StlAscii)),
            (
                b"# made by hand\nmtllib a.mtl\nv 1 2 3\n",
                Some(Format::Obj),
            ),
            (b"o ring\nv 0 0 0\n", Some(Format::Obj)),
            (b"hello world", None),
            (b"solidify", None),
            (b"", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                sniff(bytes, bytes.len() as u64),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn binary_stl_with_solid_header_is_binary() {
        let file = binary_stl(3, b"solid exported by CAD");
        assert_eq!(sniff(&file, file.len() as u64), Some(Format::StlBinary));
        let mut ascii_looking = file.clone();
        ascii_looking.push(b'\n');
        assert_eq!(
            sniff(&ascii_looking, ascii_looking.len() as u64),
            Some(Format::StlAscii)
        );
    }

    #[test]
    fn hints_override_content() {
        let file = binary_stl(1, b"");
        assert_eq!(
            resolve(Some(FormatHint::Stl), &file, file.len() as u64),
            Some(Format::StlBinary)
        );
        assert_eq!(
            resolve(Some("obj".parse().unwrap()), &file, file.len() as u64),
            Some(Format::Obj)
        );
        assert!("ply".parse::<FormatHint>().is_err());
    }
}
