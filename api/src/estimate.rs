//! The website's instant answer: a bounding box from a bounded sample of the model, and a price
//! range derived from it. Pure functions over bytes or a reader; constant work per model whatever
//! its size (binary STL: a fixed number of records; text: a fixed number of windows; glTF: the
//! accessors' declared `min`/`max`).
//!
//! The range assumes the metal fills between [`LOW_FILL`] and [`HIGH_FILL`] of the bounding box
//! (a thin filigree ring to a solid signet) with a surface between [`LOW_AREA`] and [`HIGH_AREA`]
//! times the box's; wall thickness is not analysed, so the real quote may still be refused.

use std::io::{Read, Seek, SeekFrom};

use pricing_core::Format;
use pricing_core::Units;
use pricing_core::pricing::{
    Channel, PricingFacts, QuoteError, Reason, ReasonCode, Rules, Severity, Status,
};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

pub const LOW_FILL: f64 = 0.05;
pub const HIGH_FILL: f64 = 0.5;
pub const LOW_AREA: f64 = 0.25;
pub const HIGH_AREA: f64 = 1.5;
/// Binary STL records read at most.
pub const STL_SAMPLES: u64 = 4096;
/// Text files up to this size are scanned whole; larger ones in windows.
pub const TEXT_FULL_SCAN: usize = 4 << 20;
const TEXT_WINDOWS: usize = 256;
const TEXT_WINDOW: usize = 16 << 10;

/// An axis-aligned box in file units (or mm once scaled).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Bbox {
    pub min: [f64; 3],
    pub max: [f64; 3],
}

impl Bbox {
    fn empty() -> Self {
        Bbox {
            min: [f64::INFINITY; 3],
            max: [f64::NEG_INFINITY; 3],
        }
    }

    fn add(&mut self, p: [f64; 3]) {
        if p.iter().all(|c| c.is_finite()) {
            for i in 0..3 {
                self.min[i] = self.min[i].min(p[i]);
                self.max[i] = self.max[i].max(p[i]);
            }
        }
    }

    fn valid(self) -> Option<Self> {
        (0..3).all(|i| self.min[i] <= self.max[i]).then_some(self)
    }

    /// The box of two corners, `None` unless finite and ordered.
    pub fn from_corners(min: [f64; 3], max: [f64; 3]) -> Option<Self> {
        let mut b = Bbox::empty();
        b.add(min);
        b.add(max);
        b.valid()
    }

    pub fn size(&self) -> [f64; 3] {
        [0, 1, 2].map(|i| self.max[i] - self.min[i])
    }

    pub fn largest_extent(&self) -> f64 {
        self.size().into_iter().fold(0.0, f64::max)
    }

    pub fn scaled(&self, factor: f64) -> Self {
        Bbox {
            min: self.min.map(|c| c * factor),
            max: self.max.map(|c| c * factor),
        }
    }

    pub fn volume(&self) -> f64 {
        self.size().iter().product()
    }

    pub fn area(&self) -> f64 {
        let [x, y, z] = self.size();
        2.0 * (x * y + y * z + z * x)
    }
}

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

/// One alloy's price range.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlloyRange {
    pub alloy: String,
    /// `null` when even the smallest plausible model cannot be priced.
    #[schema(value_type = Option<String>)]
    pub low: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub high: Option<Decimal>,
    pub currency: String,
    /// The least favourable status over the range (`rejected`: a quote would refuse it).
    #[schema(value_type = String)]
    pub status: Status,
    /// What a quote would say already from the box: blockers (e.g. `too_large`) and `units_suspect`,
    /// each with its code, severity and a sentence the customer can act on.
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<Reason>,
}

/// How the file's numbers were read: the unit, whether it was guessed, and another plausible reading
/// when the size makes the first doubtful (see `pricing_core::units::suspect`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitsReading {
    pub units: Units,
    pub inferred: bool,
    pub alternative: Option<Units>,
}

/// Prices the least and the most metal the box can plausibly hold.
pub fn price_range(
    rules: &Rules,
    bbox_mm: &Bbox,
    triangles: u64,
    units: UnitsReading,
    alloys: &[String],
    channel: Channel,
) -> Result<Vec<AlloyRange>, QuoteError> {
    let facts = |fill: f64, area: f64| PricingFacts {
        volume_mm3: bbox_mm.volume() * fill,
        area_mm2: bbox_mm.area() * area,
        shells: 1,
        triangles,
        bbox_min: bbox_mm.min,
        bbox_max: bbox_mm.max,
        watertight: true,
        inverted: false,
        volume_reliable: true,
        units_inferred: units.inferred,
        units: units.units,
        units_alternative: units.alternative,
        defects: Default::default(),
        thickness: None,
        stones: &[],
    };
    let low = pricing_core::pricing::quote(rules, &facts(LOW_FILL, LOW_AREA), alloys, channel)?;
    let high = pricing_core::pricing::quote(rules, &facts(HIGH_FILL, HIGH_AREA), alloys, channel)?;
    Ok(low
        .alloys
        .into_iter()
        .zip(high.alloys)
        .map(|(lo, hi)| AlloyRange {
            alloy: lo.alloy,
            low: lo.total,
            high: hi.total,
            currency: lo.currency,
            status: lo.status.max(hi.status),
            reasons: hi
                .reasons
                .into_iter()
                .filter(|r| r.severity == Severity::Blocker || r.code == ReasonCode::UnitsSuspect)
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn stl(tris: &[[[f32; 3]; 3]]) -> Vec<u8> {
        let mut v = vec![0u8; 80];
        v.extend_from_slice(&(tris.len() as u32).to_le_bytes());
        for t in tris {
            v.extend_from_slice(&[0u8; 12]);
            for p in t {
                for c in p {
                    v.extend_from_slice(&c.to_le_bytes());
                }
            }
            v.extend_from_slice(&[0u8; 2]);
        }
        v
    }

    #[test]
    fn binary_stl_box() {
        let bytes = stl(&[
            [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0]],
            [[0.0, 0.0, 3.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
        ]);
        let b = sample_binary_stl(&mut Cursor::new(bytes), 2)
            .unwrap()
            .unwrap();
        assert_eq!((b.min, b.max), ([-1.0, 0.0, 0.0], [1.0, 2.0, 3.0]));
        assert_eq!(
            sample_binary_stl(&mut Cursor::new(stl(&[])), 0).unwrap(),
            None
        );
    }

    #[test]
    fn text_boxes() {
        let obj = b"# c\nv 0 0 0\nvn 9 9 9\nv 2 -1 4\nf 1 2 3\n";
        let b = sample_text(obj, Format::Obj).unwrap();
        assert_eq!((b.min, b.max), ([0.0, -1.0, 0.0], [2.0, 0.0, 4.0]));
        let stl = b"solid x\n facet normal 0 0 1\n  outer loop\n   vertex 1 2 3\n   vertex -1 0 5\n  endloop\n";
        let b = sample_text(stl, Format::StlAscii).unwrap();
        assert_eq!((b.min, b.max), ([-1.0, 0.0, 3.0], [1.0, 2.0, 5.0]));
        assert_eq!(sample_text(b"v x y z\n", Format::Obj), None);
    }

    #[test]
    fn large_text_is_sampled_in_windows() {
        let mut obj = Vec::new();
        for i in 0..900_000 {
            obj.extend_from_slice(format!("v {} 0 1\n", i % 100).as_bytes());
        }
        assert!(obj.len() > TEXT_FULL_SCAN);
        let b = sample_text(&obj, Format::Obj).unwrap();
        assert_eq!(b.min, [0.0, 0.0, 1.0]);
        assert_eq!(b.max, [99.0, 0.0, 1.0]);
    }

    #[test]
    fn gltf_accessor_bounds() {
        let json =
            br#"{"asset":{"version":"2.0"},"accessors":[{"min":[0,0,0],"max":[0.02,0.01,0.003]}],
            "meshes":[{"primitives":[{"attributes":{"POSITION":0}}]}]}"#;
        let b = gltf_bbox(json, Format::Gltf).unwrap();
        assert_eq!(b.max, [0.02, 0.01, 0.003]);
        let mut glb = b"glTF".to_vec();
        glb.extend_from_slice(&2u32.to_le_bytes());
        glb.extend_from_slice(&0u32.to_le_bytes());
        glb.extend_from_slice(&(json.len() as u32).to_le_bytes());
        glb.extend_from_slice(b"JSON");
        glb.extend_from_slice(json);
        assert_eq!(gltf_bbox(&glb, Format::Glb), Some(b));
        assert_eq!(gltf_bbox(b"{}", Format::Gltf), None);
    }

    const MM: UnitsReading = UnitsReading {
        units: Units::Mm,
        inferred: false,
        alternative: None,
    };

    #[test]
    fn a_box_too_large_in_metres_says_the_units_are_the_likely_cause() {
        let rules = Rules::default_shipped().unwrap();
        // A glTF ring written in millimetres: 20 file units read as metres.
        let bbox = Bbox {
            min: [-10_000.0, -10_000.0, -1_500.0],
            max: [10_000.0, 10_000.0, 1_500.0],
        };
        let reading = UnitsReading {
            units: Units::M,
            inferred: false,
            alternative: Some(Units::Mm),
        };
        let ranges = price_range(
            &rules,
            &bbox,
            1000,
            reading,
            &["au750y".into()],
            Channel::Website,
        )
        .unwrap();
        let codes: Vec<ReasonCode> = ranges[0].reasons.iter().map(|r| r.code).collect();
        assert_eq!(codes, [ReasonCode::TooLarge, ReasonCode::UnitsSuspect]);
        assert!(
            ranges[0].reasons[0].message.contains("units=mm"),
            "{:?}",
            ranges[0].reasons
        );
        assert_eq!(ranges[0].status, Status::Rejected);
    }

    #[test]
    fn range_is_ordered_and_bounds_the_real_price() {
        let rules = Rules::default_shipped().unwrap();
        // A 20 x 20 x 3 mm ring-sized box.
        let bbox = Bbox {
            min: [-10.0, -10.0, -1.5],
            max: [10.0, 10.0, 1.5],
        };
        let ranges = price_range(
            &rules,
            &bbox,
            1000,
            MM,
            &["au750y".into()],
            Channel::Website,
        )
        .unwrap();
        assert_eq!(ranges.len(), 1);
        let r = &ranges[0];
        let (lo, hi) = (r.low.unwrap(), r.high.unwrap());
        assert!(lo > Decimal::ZERO && lo < hi, "{lo} {hi}");
        let unknown = price_range(
            &rules,
            &bbox,
            1,
            MM,
            &["unobtainium".into()],
            Channel::Website,
        );
        assert!(unknown.is_err());
    }
}
