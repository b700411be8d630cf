//! A price range from a box: the least and the most metal it can plausibly hold.
//!
//! The range assumes the metal fills between [`LOW_FILL`] and [`HIGH_FILL`] of the bounding box
//! (a thin filigree ring to a solid signet) with a surface between [`LOW_AREA`] and [`HIGH_AREA`]
//! times the box's; wall thickness is not analysed, so the real quote may still be refused.

use rust_decimal::Decimal;
use serde::Serialize;

use super::Bbox;
use crate::pricing::{
    Channel, PricingFacts, QuoteError, Reason, ReasonCode, Rules, Severity, Status,
};
use crate::units::Units;

pub const LOW_FILL: f64 = 0.05;
pub const HIGH_FILL: f64 = 0.5;
pub const LOW_AREA: f64 = 0.25;
pub const HIGH_AREA: f64 = 1.5;

/// One alloy's price range.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlloyRange {
    pub alloy: String,
    /// `null` when even the smallest plausible model cannot be priced.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub low: Option<Decimal>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub high: Option<Decimal>,
    pub currency: String,
    /// The least favourable status over the range (`rejected`: a quote would refuse it).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub status: Status,
    /// What a quote would say already from the box: blockers (e.g. `too_large`) and `units_suspect`,
    /// each with its code, severity and a sentence the customer can act on.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
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
    let low = crate::pricing::quote(rules, &facts(LOW_FILL, LOW_AREA), alloys, channel)?;
    let high = crate::pricing::quote(rules, &facts(HIGH_FILL, HIGH_AREA), alloys, channel)?;
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
