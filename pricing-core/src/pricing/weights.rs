//! The three weights a jeweller reads per alloy, each with the rule it came from, and what hollowing
//! a thick solid section would save. Pure functions of the designed weight and [`WeightRules`].

use rust_decimal::Decimal;
use serde::Serialize;

use super::money::from_f64;
use super::rules::{Rounding, WeightRules};

/// One weight and how it was obtained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weight {
    /// Grams, rounded like the metal weight.
    #[serde(with = "rust_decimal::serde::str")]
    pub grams: Decimal,
    /// The formula with the rules' numbers in it, e.g. `designed × 1.10 sprue × 1.10 button`.
    pub rule: String,
}

/// Designed metal, the casting charge, and the finished piece.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weights {
    pub designed: Weight,
    pub casting_charge: Weight,
    pub finished: Weight,
}

/// The three weights from the designed (net) weight in grams, `None` when a weight is out of range.
pub fn weights(
    designed_g: f64,
    density_g_cm3: f64,
    rules: &WeightRules,
    rounding: Rounding,
) -> Option<Weights> {
    let round = |g: f64| from_f64(g, rounding.weight_decimals, rounding.mode);
    let sprue = 1.0 + rules.sprue_pct / 100.0;
    let button = 1.0 + rules.button_pct / 100.0;
    let shrink = (1.0 - rules.shrinkage_linear_pct / 100.0).powi(3);
    let polish = 1.0 - rules.polishing_loss_pct / 100.0;
    Some(Weights {
        designed: Weight {
            grams: round(designed_g)?,
            rule: format!("volume × density {density_g_cm3} g/cm³"),
        },
        casting_charge: Weight {
            grams: round(designed_g * sprue * button)?,
            rule: format!(
                "designed × {sprue:.3} sprue ({} %) × {button:.3} button ({} %)",
                rules.sprue_pct, rules.button_pct
            ),
        },
        finished: Weight {
            grams: round(designed_g * shrink * polish)?,
            rule: format!(
                "designed × {shrink:.4} shrinkage ({} % linear, cubed) × {polish:.3} polishing ({} % lost)",
                rules.shrinkage_linear_pct, rules.polishing_loss_pct
            ),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::RoundingMode;

    fn rules(sprue: f64, button: f64, shrink: f64, polish: f64) -> WeightRules {
        WeightRules {
            sprue_pct: sprue,
            button_pct: button,
            shrinkage_linear_pct: shrink,
            polishing_loss_pct: polish,
            hollow_above_mm: 4.0,
            hollow_wall_mm: 1.0,
            source: "test".into(),
        }
    }

    #[test]
    fn weight_table() {
        let rounding = Rounding {
            money_decimals: 2,
            mode: RoundingMode::HalfEven,
            weight_decimals: 3,
        };
        // (designed g, rules, charge, finished)
        let cases = [
            (10.0, rules(10.0, 10.0, 1.0, 3.0), "12.100", "9.412"),
            (10.0, rules(0.0, 0.0, 0.0, 0.0), "10.000", "10.000"),
            (3.5, rules(20.0, 0.0, 0.0, 5.0), "4.200", "3.325"),
        ];
        for (designed, r, charge, finished) in cases {
            let w = weights(designed, 15.0, &r, rounding).unwrap();
            assert_eq!(
                w.casting_charge.grams.to_string(),
                charge,
                "{designed} {r:?}"
            );
            assert_eq!(w.finished.grams.to_string(), finished, "{designed} {r:?}");
            assert!(
                w.casting_charge.rule.contains("sprue"),
                "{}",
                w.casting_charge.rule
            );
        }
    }
}
