//! The gem table a jeweller reads: each stone's cut, size and estimated carat, and the setting labour
//! they cost. Pure functions of the stones the analysis found and [`StoneRules`].

use rust_decimal::Decimal;
use serde::Serialize;

use super::money::round;
use super::rules::{Rounding, StoneRules};
use crate::stones::{Cut, FoundBy, Seat, Stone};

/// Carats are shown to the hundredth, as a diamond grader writes them (0.25 ct).
const CARAT_DECIMALS: u32 = 2;

/// One stone of the table, in mm and carats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GemRow {
    pub cut: Cut,
    pub found_by: FoundBy,
    pub name: Option<String>,
    pub seat: Seat,
    pub length_mm: f64,
    pub width_mm: f64,
    pub depth_mm: f64,
    pub diameter_mm: Option<f64>,
    /// Estimated as a diamond of the modelled volume; `None` when the cut is not recognised.
    pub carat_if_diamond: Option<f64>,
    /// Setting labour for this stone, from its tier.
    #[serde(with = "rust_decimal::serde::str")]
    pub setting: Decimal,
    pub centre_mm: [f64; 3],
}

/// The model's stones, largest first, with their count, total carat and setting labour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GemTable {
    pub count: usize,
    /// Sum over the stones that have an estimate.
    pub total_carat_if_diamond: f64,
    #[serde(with = "rust_decimal::serde::str")]
    pub setting_total: Decimal,
    /// How carats and setting were computed, with the rules' numbers.
    pub rule: String,
    pub stones: Vec<GemRow>,
}

/// The gem table for `stones`, or `None` when the model has none.
pub fn gem_table(stones: &[Stone], rules: &StoneRules, rounding: Rounding) -> Option<GemTable> {
    if stones.is_empty() {
        return None;
    }
    let mut rows: Vec<GemRow> = stones.iter().map(|s| row(s, rules, rounding)).collect();
    rows.sort_by(|a, b| {
        b.length_mm
            .total_cmp(&a.length_mm)
            .then(a.centre_mm[0].total_cmp(&b.centre_mm[0]))
            .then(a.centre_mm[1].total_cmp(&b.centre_mm[1]))
            .then(a.centre_mm[2].total_cmp(&b.centre_mm[2]))
    });
    let total_carat = rows.iter().filter_map(|r| r.carat_if_diamond).sum::<f64>();
    let tiers: Vec<String> = rules
        .setting
        .iter()
        .map(|t| format!("≤ {} mm {}", t.up_to_mm, t.per_stone))
        .collect();
    Some(GemTable {
        count: rows.len(),
        total_carat_if_diamond: round_carat(total_carat),
        setting_total: rows.iter().map(|r| r.setting).sum(),
        rule: format!(
            "carat = volume × {} g/cm³ (diamond) × 5 ct/g, for recognised cuts; setting per stone by \
             its length: {}",
            rules.diamond_density_g_cm3,
            tiers.join(", ")
        ),
        stones: rows,
    })
}

fn row(s: &Stone, rules: &StoneRules, rounding: Rounding) -> GemRow {
    let carat = (s.cut != Cut::Other && s.closed)
        .then(|| round_carat(s.volume_mm3 / 1000.0 * rules.diamond_density_g_cm3 * 5.0));
    GemRow {
        cut: s.cut,
        found_by: s.found_by,
        name: s.name.clone(),
        seat: s.seat,
        length_mm: s.length_mm,
        width_mm: s.width_mm,
        depth_mm: s.depth_mm,
        diameter_mm: s.diameter_mm,
        carat_if_diamond: carat,
        setting: round(
            setting_price(s.length_mm, rules),
            rounding.money_decimals,
            rounding.mode,
        ),
        centre_mm: s.centre_mm,
    }
}

/// The tier price for a stone `length_mm` long (the last tier for anything longer).
pub fn setting_price(length_mm: f64, rules: &StoneRules) -> Decimal {
    rules
        .setting
        .iter()
        .find(|t| length_mm <= t.up_to_mm)
        .or(rules.setting.last())
        .map(|t| t.per_stone)
        .unwrap_or_default()
}

fn round_carat(ct: f64) -> f64 {
    let scale = 10f64.powi(CARAT_DECIMALS as i32);
    (ct * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::Rules;

    #[test]
    fn each_stone_is_charged_at_the_first_tier_that_holds_it() {
        let rules = Rules::default_shipped().unwrap();
        let stones = rules.stones();
        // The shipped tiers: ≤ 1.5 → 3.50, ≤ 3 → 6.00, ≤ 6 → 12.00, ≤ 10 → 25.00.
        let cases = [
            (0.8, "3.50"),
            (1.5, "3.50"),
            (1.51, "6.00"),
            (3.0, "6.00"),
            (5.9, "12.00"),
            (10.0, "25.00"),
            (14.0, "25.00"),
        ];
        for (length, price) in cases {
            assert_eq!(
                setting_price(length, stones).to_string(),
                price,
                "{length} mm"
            );
        }
    }
}
