//! Validated pricing rules: what a quote is computed from.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::channel::Channel;
use super::error::RulesError;
use super::raw::RoundingMode;
use super::validate::validate;

/// The rules file shipped with the project (`pricing-core/rules/default.toml`), byte for byte.
pub const SHIPPED_RULES_TOML: &str = include_str!("../../rules/default.toml");

/// Name of the environment variable the binaries read an override rules path from (loading the file is
/// the caller's job: this crate does no IO).
pub const RULES_PATH_ENV: &str = "PRICING_RULES";

/// A complete, validated rules file. Only obtainable through [`Rules::from_toml_str`], so every
/// instance satisfies the range checks in `validate.rs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub(super) version: String,
    pub(super) currency: String,
    pub(super) prices_as_of: String,
    pub(super) density_source: String,
    pub(super) rounding: Rounding,
    pub(super) casting_allowance_pct: Decimal,
    pub(super) labour: Labour,
    pub(super) finishing: Finishing,
    pub(super) minimum_order: Decimal,
    pub(super) margins: BTreeMap<Channel, Decimal>,
    pub(super) limits: ManufacturingLimits,
    pub(super) weights: WeightRules,
    pub(super) ring_sizes: RingSizeCharts,
    pub(super) stones: StoneRules,
    pub(super) alloys: BTreeMap<String, Alloy>,
    pub(super) aliases: BTreeMap<String, String>,
    pub(super) content_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rounding {
    pub money_decimals: u32,
    pub mode: RoundingMode,
    pub weight_decimals: u32,
}

/// Labour coefficients; see [`Rules::labour`] and the rules file for the formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labour {
    pub base: Decimal,
    pub per_cm2_surface: Decimal,
    pub per_extra_shell: Decimal,
    pub per_cm2_thin_wall: Decimal,
    pub per_10k_triangles: Decimal,
    pub triangle_cap: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finishing {
    pub base: Decimal,
    pub per_cm2_surface: Decimal,
}

/// Manufacturability limits shared by all alloys (an alloy may override `max_bbox_mm`).
#[derive(Debug, Clone, PartialEq)]
pub struct ManufacturingLimits {
    pub min_volume_mm3: f64,
    pub max_bbox_mm: [f64; 3],
    pub thin_wall_review_area_mm2: f64,
    pub hard_wall_fraction: f64,
    pub hard_thin_area_mm2: f64,
}

/// How the casting charge and the finished weight follow from the designed metal weight, and when a
/// solid section is worth hollowing; see [`super::weights`].
#[derive(Debug, Clone, PartialEq)]
pub struct WeightRules {
    pub sprue_pct: f64,
    pub button_pct: f64,
    pub shrinkage_linear_pct: f64,
    pub polishing_loss_pct: f64,
    pub hollow_above_mm: f64,
    pub hollow_wall_mm: f64,
    pub source: String,
}

/// Ring-size charts by inner circumference; see [`super::ring_size`].
#[derive(Debug, Clone, PartialEq)]
pub struct RingSizeCharts {
    pub us_base_circumference_mm: f64,
    pub us_step_mm: f64,
    pub uk_base_circumference_mm: f64,
    pub uk_step_mm: f64,
    /// `japan_as_us[n - 1]` is the US size that Japanese size `n` corresponds to.
    pub japan_as_us: Vec<f64>,
    pub out_of_round_tolerance_mm: f64,
    pub min_inner_diameter_mm: f64,
    pub max_inner_diameter_mm: f64,
    pub source: String,
}

/// The gem table's carat estimate and the setting labour per stone; see [`super::gems`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoneRules {
    pub diamond_density_g_cm3: f64,
    /// Ascending by `up_to_mm`; a stone longer than the last tier is charged at the last tier.
    pub setting: Vec<SettingTier>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SettingTier {
    /// Stones whose outline is at most this long (mm) and longer than the previous tier's.
    pub up_to_mm: f64,
    pub per_stone: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alloy {
    pub name: String,
    pub density_g_cm3: f64,
    pub density_note: Option<String>,
    pub price_per_g: Decimal,
    pub min_wall_mm: f64,
    pub labour_factor: Decimal,
    /// Largest part for this alloy, sorted descending (already merged with the shared default).
    pub max_bbox_mm: [f64; 3],
}

impl Rules {
    /// Parses and validates a rules file. Errors name the line (and, for range errors, the key path).
    pub fn from_toml_str(text: &str) -> Result<Rules, RulesError> {
        let mut rules = validate(text)?;
        rules.content_hash = hex::encode(Sha256::digest(text.as_bytes()));
        Ok(rules)
    }

    /// The rules shipped in the crate ([`SHIPPED_RULES_TOML`]); a test guarantees they parse.
    pub fn default_shipped() -> Result<Rules, RulesError> {
        Rules::from_toml_str(SHIPPED_RULES_TOML)
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// SHA-256 of the exact bytes of the rules text, lowercase hex.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    pub fn currency(&self) -> &str {
        &self.currency
    }

    pub fn prices_as_of(&self) -> &str {
        &self.prices_as_of
    }

    pub fn density_source(&self) -> &str {
        &self.density_source
    }

    pub fn rounding(&self) -> Rounding {
        self.rounding
    }

    /// Sprue and melt loss, % of the metal line.
    pub fn casting_allowance_pct(&self) -> Decimal {
        self.casting_allowance_pct
    }

    /// `labour = labour_factor × (base + per_cm2_surface × area_cm2 + per_extra_shell × (shells − 1)
    /// + per_cm2_thin_wall × thin_area_cm2 + per_10k_triangles × min(triangles, triangle_cap) / 10 000)`.
    pub fn labour(&self) -> &Labour {
        &self.labour
    }

    /// `finishing = labour_factor × (base + per_cm2_surface × area_cm2)`.
    pub fn finishing(&self) -> &Finishing {
        &self.finishing
    }

    pub fn minimum_order(&self) -> Decimal {
        self.minimum_order
    }

    /// Margin for a channel, % added on top of cost.
    pub fn margin_pct(&self, channel: Channel) -> Decimal {
        // Validation inserts every channel; zero is the safe reading should that ever change.
        self.margins.get(&channel).copied().unwrap_or_default()
    }

    pub fn limits(&self) -> &ManufacturingLimits {
        &self.limits
    }

    pub fn weights(&self) -> &WeightRules {
        &self.weights
    }

    pub fn ring_sizes(&self) -> &RingSizeCharts {
        &self.ring_sizes
    }

    pub fn stones(&self) -> &StoneRules {
        &self.stones
    }

    /// Canonical alloy codes, sorted.
    pub fn alloy_codes(&self) -> impl Iterator<Item = &str> {
        self.alloys.keys().map(String::as_str)
    }

    /// `(alias, canonical code)` pairs, sorted by alias.
    pub fn aliases(&self) -> impl Iterator<Item = (&str, &str)> {
        self.aliases.iter().map(|(a, c)| (a.as_str(), c.as_str()))
    }

    /// Looks up a code or alias (case-insensitive, trimmed): `(canonical code, alloy)`.
    pub fn resolve_alloy(&self, code: &str) -> Option<(&str, &Alloy)> {
        let wanted = code.trim().to_ascii_lowercase();
        let canonical = self.aliases.get(&wanted).unwrap_or(&wanted);
        self.alloys
            .get_key_value(canonical)
            .map(|(k, a)| (k.as_str(), a))
    }

    /// Human list of accepted codes for error messages: `au375r, ..., pt950 (aliases: au750 = au750y, ...)`.
    pub fn known_codes(&self) -> String {
        let codes: Vec<&str> = self.alloy_codes().collect();
        let mut text = codes.join(", ");
        if !self.aliases.is_empty() {
            let aliases: Vec<String> = self.aliases().map(|(a, c)| format!("{a} = {c}")).collect();
            text.push_str(&format!(" (aliases: {})", aliases.join(", ")));
        }
        text
    }
}
