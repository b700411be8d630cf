//! Length units: declared by the format (glTF: metres), overridden by the caller, or inferred for STL and
//! OBJ from the model's size, since those formats carry no unit at all.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Units {
    Mm,
    Cm,
    M,
    In,
}

impl Units {
    pub fn to_mm(self) -> f64 {
        match self {
            Units::Mm => 1.0,
            Units::Cm => 10.0,
            Units::M => 1000.0,
            Units::In => 25.4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Units::Mm => "mm",
            Units::Cm => "cm",
            Units::M => "m",
            Units::In => "in",
        }
    }
}

impl fmt::Display for Units {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown unit {0:?}: expected mm, cm, m or in")]
pub struct UnknownUnit(pub String);

impl FromStr for Units {
    type Err = UnknownUnit;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "mm" => Ok(Units::Mm),
            "cm" => Ok(Units::Cm),
            "m" => Ok(Units::M),
            "in" | "inch" | "inches" => Ok(Units::In),
            _ => Err(UnknownUnit(s.to_owned())),
        }
    }
}

/// Where the unit came from; a quote built on an inferred unit is flagged for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitsSource {
    Declared,
    Override,
    Inferred,
}

/// The smallest and largest plausible size of a piece of jewellery, in mm (an ear stud to a bangle or a
/// large pendant).
pub const JEWELLERY_MIN_MM: f64 = 3.0;
pub const JEWELLERY_MAX_MM: f64 = 300.0;

/// Infer the unit of a model whose largest bounding-box extent is `extent` file units.
///
/// Jewellery is modelled in millimetres, so mm wins whenever the size is plausible in mm: a 20 mm ring is
/// never taken for inches or metres. Otherwise the unit that brings the piece into the jewellery range is
/// chosen (metres for 0.003–0.3, centimetres for 0.3–3); the second value says the guess is weak and why.
pub fn infer(extent: f64) -> (Units, Option<String>) {
    if (JEWELLERY_MIN_MM..=JEWELLERY_MAX_MM).contains(&extent) {
        return (Units::Mm, None);
    }
    if (JEWELLERY_MIN_MM / 1000.0..JEWELLERY_MIN_MM / 10.0).contains(&extent) {
        return (
            Units::M,
            Some(format!(
                "the model is {extent:.4} units across, too small for millimetres; assumed metres"
            )),
        );
    }
    if (JEWELLERY_MIN_MM / 10.0..JEWELLERY_MIN_MM).contains(&extent) {
        return (
            Units::Cm,
            Some(format!(
                "the model is {extent:.3} units across, too small for millimetres; assumed centimetres \
                 (inches are also possible: pass the unit explicitly)"
            )),
        );
    }
    (
        Units::Mm,
        Some(format!(
            "the model is {extent:.3} units across, outside the usual size of jewellery; assumed millimetres"
        )),
    )
}

/// Another reading of the file's numbers, when the one taken makes the piece implausible as jewellery
/// and that one makes it plausible: a glTF whose exporter wrote millimetres though the format declares
/// metres (a 20 mm ring read as 20 m), or an STL/OBJ too small for millimetres that inches explain as
/// well as centimetres. `extent` is the largest bounding-box extent in file units.
pub fn suspect(extent: f64, taken: Units, source: UnitsSource) -> Option<Units> {
    let plausible =
        |u: Units| (JEWELLERY_MIN_MM..=JEWELLERY_MAX_MM).contains(&(extent * u.to_mm()));
    if source == UnitsSource::Override || plausible(taken) && taken != Units::Cm {
        return None;
    }
    // Ordered by how often each mistake happens with the formats that make it.
    [Units::Mm, Units::In, Units::Cm]
        .into_iter()
        .find(|&u| u != taken && plausible(u))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspect_table() {
        use UnitsSource::*;
        let cases = [
            (0.02, Units::M, Declared, None), // a glTF ring in metres, as specified
            (20.0, Units::M, Declared, Some(Units::Mm)), // millimetres in a glTF: 20 m read
            (0.8, Units::Cm, Inferred, Some(Units::In)), // 8 mm or 20.3 mm: both are rings
            (2.0, Units::Cm, Inferred, Some(Units::In)), // 20 mm or 50.8 mm
            (20.0, Units::Mm, Inferred, None), // plausible in mm: never doubted
            (20.0, Units::M, Override, None), // the customer said so
            (50_000.0, Units::M, Declared, None), // no reading makes it jewellery
        ];
        for (extent, taken, source, want) in cases {
            assert_eq!(
                suspect(extent, taken, source),
                want,
                "{extent} {taken} {source:?}"
            );
        }
    }

    #[test]
    fn inference_table() {
        let cases = [
            (20.0, Units::Mm, false),  // a ring in mm
            (4.0, Units::Mm, false),   // an ear stud
            (180.0, Units::Mm, false), // a necklace pendant with bail
            (0.02, Units::M, true),    // the ring in metres
            (2.0, Units::Cm, true),    // the ring in centimetres
            (0.0001, Units::Mm, true), // nonsense: keep mm and say so
            (5000.0, Units::Mm, true),
        ];
        for (extent, unit, warned) in cases {
            let (u, w) = infer(extent);
            assert_eq!((u, w.is_some()), (unit, warned), "extent {extent}");
        }
    }
}
