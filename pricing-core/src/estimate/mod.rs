//! The instant estimate: a bounding box read from a bounded sample of the model, and a price
//! range derived from it, while the upload is still being priced in full. Beside [`crate::probe`]:
//! the same bytes, constant work per model, and the malformed-input corpus covers both.

mod bbox;
mod range;
mod sample;

pub use bbox::Bbox;
pub use range::{AlloyRange, HIGH_AREA, HIGH_FILL, LOW_AREA, LOW_FILL, UnitsReading, price_range};
pub use sample::{STL_SAMPLES, TEXT_FULL_SCAN, gltf_bbox, sample_binary_stl, sample_text};

use crate::analysis::{AnalyzeOptions, load};
use crate::error::ParseError;
use crate::format::Format;
use crate::limits::Limits;
use crate::measure;
use crate::probe::Probe;
use crate::units::Units;

/// What an estimate reads from a whole file held in memory: the box in the file's units (`None`
/// when the sample holds no finite vertex) and the unit the format declares (glTF: metres; 3MF:
/// its own), `None` for STL and OBJ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxReading {
    pub bbox: Option<Bbox>,
    pub declared: Option<Units>,
}

/// The box of a probed file. A 3MF's vertices are inside a compressed part, so it is loaded in
/// full (within `limits`, as the probe already did); every other format is sampled.
pub fn read_box(bytes: &[u8], probe: &Probe, limits: &Limits) -> Result<BoxReading, ParseError> {
    Ok(match probe.format {
        Format::StlBinary => BoxReading {
            bbox: sample_binary_stl(&mut std::io::Cursor::new(bytes), probe.triangles).map_err(
                |e| ParseError::Truncated {
                    format: Format::StlBinary,
                    detail: e.to_string(),
                },
            )?,
            declared: None,
        },
        Format::Gltf | Format::Glb => BoxReading {
            bbox: gltf_bbox(bytes, probe.format),
            declared: Some(Units::M),
        },
        Format::ThreeMf => {
            let opts = AnalyzeOptions {
                limits: *limits,
                ..Default::default()
            };
            let loaded = load(bytes, &opts)?;
            let per_mm = 1.0 / loaded.units.to_mm();
            let b = measure::bbox(&loaded.mesh);
            BoxReading {
                bbox: Bbox::from_corners(b.min, b.max).map(|b| b.scaled(per_mm)),
                declared: Some(loaded.units),
            }
        }
        Format::Obj | Format::StlAscii => BoxReading {
            bbox: sample_text(bytes, probe.format),
            declared: None,
        },
    })
}
