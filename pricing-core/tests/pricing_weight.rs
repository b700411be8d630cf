//! Metal weight of the analytic torus in every alloy, to 1e-9 relative.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod pricing_support;

use pricing_core::pricing::{Channel, Rules, SHIPPED_RULES_TOML, metal_weight_g, quote};
use pricing_support::{torus_facts, torus_report, torus_volume};
use rust_decimal::prelude::ToPrimitive;

/// Densities read straight from the shipped TOML with a generic parser, not through `Rules`, so the
/// expected weights do not share code with what they check.
fn shipped_densities() -> Vec<(String, f64)> {
    let value: toml::Table = SHIPPED_RULES_TOML.parse().unwrap();
    let alloys = value["alloys"].as_table().unwrap();
    alloys
        .iter()
        .map(|(code, a)| (code.clone(), a["density_g_cm3"].as_float().unwrap()))
        .collect()
}

fn relative_error(got: f64, expected: f64) -> f64 {
    ((got - expected) / expected).abs()
}

#[test]
fn the_polyhedral_torus_volume_tends_to_the_smooth_one() {
    // Sanity of the fixture itself: 2π²Rr² is the limit as the segment counts grow.
    let smooth = 2.0 * std::f64::consts::PI.powi(2) * 10.5 * 1.25 * 1.25;
    let fine = torus_volume(4096, 4096, 10.5, 1.25);
    assert!(relative_error(fine, smooth) < 1e-5, "{fine} vs {smooth}");
    assert!(torus_volume(96, 24, 10.5, 1.25) < fine);
}

#[test]
fn metal_weight_of_the_torus_in_every_alloy() {
    let volume = torus_volume(96, 24, 10.5, 1.25);
    let densities = shipped_densities();
    assert_eq!(densities.len(), 14);
    for (code, density) in densities {
        // 1 cm³ = 1000 mm³, density in g/cm³; multiplied in another order than the implementation.
        let expected = density * (volume * 1e-3);
        let got = metal_weight_g(volume, density);
        assert!(
            relative_error(got, expected) < 1e-9,
            "{code}: {got} vs {expected}"
        );
    }
}

#[test]
fn quoted_weight_of_the_torus_in_every_alloy_to_1e_9_relative() {
    // Quotes round the weight to `weight_decimals`; at 12 decimals the quote carries the weight to well
    // under 1e-9 relative, so this checks the whole path (rules -> resolve -> weight -> Decimal).
    let precise = SHIPPED_RULES_TOML.replacen("weight_decimals = 3", "weight_decimals = 12", 1);
    let rules = Rules::from_toml_str(&precise).unwrap();
    let report = torus_report();
    let facts = torus_facts(Some(&report));
    let densities = shipped_densities();
    let codes: Vec<&str> = densities.iter().map(|(c, _)| c.as_str()).collect();
    let q = quote(&rules, &facts, &codes, Channel::Website).unwrap();
    assert_eq!(q.alloys.len(), densities.len());
    for ((code, density), entry) in densities.iter().zip(&q.alloys) {
        assert_eq!(&entry.resolved_alloy, code);
        let expected = density * (facts.volume_mm3 * 1e-3);
        let got = entry.weight_g.expect("torus has volume").to_f64().unwrap();
        assert!(
            relative_error(got, expected) < 1e-9,
            "{code}: {got} vs {expected}"
        );
    }
}

#[test]
fn shipped_rules_round_the_weight_to_the_milligram() {
    let rules = Rules::default_shipped().unwrap();
    let report = torus_report();
    let facts = torus_facts(Some(&report));
    let q = quote(&rules, &facts, &["au750", "ag925"], Channel::Website).unwrap();
    for (entry, density) in q.alloys.iter().zip([15.58, 10.40]) {
        let weight = entry.weight_g.unwrap();
        assert_eq!(weight.scale(), 3, "{weight}");
        let expected = density * facts.volume_mm3 * 1e-3;
        assert!(
            (weight.to_f64().unwrap() - expected).abs() <= 0.0005,
            "{weight} vs {expected}"
        );
    }
}
