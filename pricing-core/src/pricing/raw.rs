//! The rules file exactly as written: serde shape with spans, before any validation.
//!
//! Every struct denies unknown fields so a typo is an error at its line, not a silently ignored key.
//! Values that validation may reject carry their span so the error can name their line too.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRules {
    pub version: Spanned<String>,
    pub currency: Spanned<String>,
    pub prices_as_of: Spanned<String>,
    pub density_source: Spanned<String>,
    pub rounding: RawRounding,
    pub casting: RawCasting,
    pub labour: RawLabour,
    pub finishing: RawFinishing,
    pub order: RawOrder,
    pub channels: RawChannels,
    pub manufacturability: RawManufacturability,
    pub weights: RawWeights,
    pub ring_sizes: RawRingSizes,
    pub stones: RawStones,
    pub alloys: Spanned<BTreeMap<String, Spanned<RawAlloy>>>,
    #[serde(default)]
    pub aliases: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Ties to the even neighbour (banker's rounding).
    HalfEven,
    /// Ties away from zero.
    HalfUp,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRounding {
    pub money_decimals: Spanned<u32>,
    pub mode: RoundingMode,
    pub weight_decimals: Spanned<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCasting {
    pub allowance_pct: Spanned<Decimal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLabour {
    pub base: Spanned<Decimal>,
    pub per_cm2_surface: Spanned<Decimal>,
    pub per_extra_shell: Spanned<Decimal>,
    pub per_cm2_thin_wall: Spanned<Decimal>,
    pub per_10k_triangles: Spanned<Decimal>,
    pub triangle_cap: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFinishing {
    pub base: Spanned<Decimal>,
    pub per_cm2_surface: Spanned<Decimal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrder {
    pub minimum: Spanned<Decimal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChannels {
    #[serde(alias = "retail")]
    pub website: RawChannel,
    pub partner: RawChannel,
    pub mes: RawChannel,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChannel {
    pub margin_pct: Spanned<Decimal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawManufacturability {
    pub min_volume_mm3: Spanned<f64>,
    pub max_bbox_mm: Spanned<[f64; 3]>,
    pub thin_wall_review_area_mm2: Spanned<f64>,
    pub hard_wall_fraction: Spanned<f64>,
    pub hard_thin_area_mm2: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWeights {
    pub sprue_pct: Spanned<f64>,
    pub button_pct: Spanned<f64>,
    pub shrinkage_linear_pct: Spanned<f64>,
    pub polishing_loss_pct: Spanned<f64>,
    pub hollow_above_mm: Spanned<f64>,
    pub hollow_wall_mm: Spanned<f64>,
    pub source: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRingSizes {
    pub us_base_circumference_mm: Spanned<f64>,
    pub us_step_mm: Spanned<f64>,
    pub uk_base_circumference_mm: Spanned<f64>,
    pub uk_step_mm: Spanned<f64>,
    pub japan_as_us: Spanned<Vec<f64>>,
    pub out_of_round_tolerance_mm: Spanned<f64>,
    pub min_inner_diameter_mm: Spanned<f64>,
    pub max_inner_diameter_mm: Spanned<f64>,
    pub source: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStones {
    pub diamond_density_g_cm3: Spanned<f64>,
    pub setting: Spanned<Vec<RawSettingTier>>,
    pub source: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSettingTier {
    pub up_to_mm: Spanned<f64>,
    pub per_stone: Spanned<Decimal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlloy {
    pub name: Spanned<String>,
    pub density_g_cm3: Spanned<f64>,
    #[serde(default)]
    pub density_note: Option<String>,
    pub price_per_g: Spanned<Decimal>,
    pub min_wall_mm: Spanned<f64>,
    #[serde(default)]
    pub labour_factor: Option<Spanned<Decimal>>,
    #[serde(default)]
    pub max_bbox_mm: Option<Spanned<[f64; 3]>>,
}
