//! Bounded readers of a model's bounding box, one per format family: constant work per model
//! whatever its size (binary STL: a fixed number of records; text: a fixed number of windows;
//! glTF: the accessors' declared `min`/`max`). They never fail on a malformed file: what they
//! cannot read gives no box (`None`), and the probe or the full parse names the fault.

use std::io::{Read, Seek, SeekFrom};

use super::Bbox;
use crate::format::Format;

/// Binary STL records read at most.
pub const STL_SAMPLES: u64 = 4096;
/// Text files up to this size are scanned whole; larger ones in windows.
pub const TEXT_FULL_SCAN: usize = 4 << 20;
const TEXT_WINDOWS: usize = 256;
const TEXT_WINDOW: usize = 16 << 10;

/// Bounding box of up to [`STL_SAMPLES`] records spread evenly over a binary STL of `triangles`.
pub fn sample_binary_stl<R: Read + Seek>(
    reader: &mut R,
    triangles: u64,
) -> std::io::Result<Option<Bbox>> {
    let mut bbox = Bbox::empty();
    let samples = triangles.min(STL_SAMPLES);
    let mut record = [0u8; 50];
    for k in 0..samples {
        let index = k * triangles / samples.max(1);
        reader.seek(SeekFrom::Start(84 + 50 * index))?;
        reader.read_exact(&mut record)?;
        for v in 0..3 {
            let at = 12 + 12 * v;
            let coord = |i: usize| {
                let b = &record[at + 4 * i..at + 4 * i + 4];
                f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            };
            bbox.add([coord(0), coord(1), coord(2)]);
        }
    }
    Ok(bbox.valid())
}

/// Bounding box of the vertices of an OBJ or ASCII STL: every vertex of a small file, the vertices
/// in evenly spread windows of a large one.
pub fn sample_text(bytes: &[u8], format: Format) -> Option<Bbox> {
    let keyword: &[u8] = match format {
        Format::Obj => b"v",
        Format::StlAscii => b"vertex",
        _ => return None,
    };
    let mut bbox = Bbox::empty();
    if bytes.len() <= TEXT_FULL_SCAN {
        scan_lines(bytes, keyword, &mut bbox);
    } else {
        for w in 0..TEXT_WINDOWS {
            let start = w * (bytes.len() - TEXT_WINDOW) / (TEXT_WINDOWS - 1);
            let window = &bytes[start..start + TEXT_WINDOW];
            // Skip the partial first line unless the window starts the file.
            let from = if start == 0 {
                0
            } else {
                window
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(window.len(), |p| p + 1)
            };
            let to = window.iter().rposition(|&c| c == b'\n').unwrap_or(0);
            if from < to {
                scan_lines(&window[from..to], keyword, &mut bbox);
            }
        }
    }
    bbox.valid()
}

fn scan_lines(text: &[u8], keyword: &[u8], bbox: &mut Bbox) {
    for line in text.split(|&c| c == b'\n') {
        let mut words = line
            .split(|c| c.is_ascii_whitespace())
            .filter(|w| !w.is_empty());
        if words.next() != Some(keyword) {
            continue;
        }
        let mut p = [0.0; 3];
        let mut ok = true;
        for c in &mut p {
            match words
                .next()
                .and_then(|w| std::str::from_utf8(w).ok())
                .and_then(|w| w.parse::<f64>().ok())
            {
                Some(v) => *c = v,
                None => ok = false,
            }
        }
        if ok {
            bbox.add(p);
        }
    }
}

/// Bounding box (in metres, glTF's unit) from the `min`/`max` every glTF POSITION accessor
/// declares. Node transforms are not applied, so an instanced or moved mesh gives an approximate box.
pub fn gltf_bbox(bytes: &[u8], format: Format) -> Option<Bbox> {
    let json: &[u8] = match format {
        Format::Glb => {
            let len = u32::from_le_bytes(bytes.get(12..16)?.try_into().ok()?) as usize;
            bytes.get(20..20usize.checked_add(len)?)?
        }
        Format::Gltf => bytes,
        _ => return None,
    };
    let doc: serde_json::Value = serde_json::from_slice(json).ok()?;
    let accessors = doc.get("accessors")?.as_array()?;
    let mut bbox = Bbox::empty();
    for mesh in doc.get("meshes")?.as_array()? {
        for prim in mesh
            .get("primitives")
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
        {
            let Some(index) = prim
                .pointer("/attributes/POSITION")
                .and_then(|i| i.as_u64())
            else {
                continue;
            };
            let Some(acc) = accessors.get(index as usize) else {
                continue;
            };
            let corner = |name: &str| -> Option<[f64; 3]> {
                let a = acc.get(name)?.as_array()?;
                Some([
                    a.first()?.as_f64()?,
                    a.get(1)?.as_f64()?,
                    a.get(2)?.as_f64()?,
                ])
            };
            if let (Some(min), Some(max)) = (corner("min"), corner("max")) {
                bbox.add(min);
                bbox.add(max);
            }
        }
    }
    bbox.valid()
}
