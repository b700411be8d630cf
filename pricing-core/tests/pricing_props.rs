//! Properties: the price never falls when the volume or the metal price rises; totals are the sum of
//! their lines and never below the minimum order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod pricing_support;

use pricing_core::pricing::{Channel, PricingFacts, Rules, SHIPPED_RULES_TOML, quote};
use pricing_support::pendant_report;
use proptest::prelude::*;
use rust_decimal::Decimal;

const ALLOYS: [&str; 14] = [
    "au375y", "au375w", "au375r", "au585y", "au585w", "au585r", "au750y", "au750w", "au750r",
    "au999", "ag925", "pt950", "pd500", "pd950",
];

fn channel() -> impl Strategy<Value = Channel> {
    prop_oneof![
        Just(Channel::Website),
        Just(Channel::Partner),
        Just(Channel::Mes)
    ]
}

/// A model of the given volume with everything else fixed (fits every flask, walls fine).
fn facts(
    volume_mm3: f64,
    report: &pricing_core::thickness::report::ThicknessReport,
) -> PricingFacts<'_> {
    PricingFacts {
        volume_mm3,
        area_mm2: 900.0,
        shells: 1,
        triangles: 50_000,
        bbox_min: [0.0; 3],
        bbox_max: [40.0, 30.0, 20.0],
        watertight: true,
        inverted: false,
        volume_reliable: true,
        units_inferred: false,
        units: pricing_core::Units::Mm,
        units_alternative: None,
        defects: Default::default(),
        thickness: Some(report),
        stones: &[],
    }
}

fn total(rules: &Rules, facts: &PricingFacts<'_>, alloy: &str, channel: Channel) -> Decimal {
    let q = quote(rules, facts, &[alloy], channel).unwrap();
    q.alloys[0].total.expect("priced")
}

/// The shipped rules with au750y's price per gram replaced.
fn rules_with_au750y_price(price: Decimal) -> Rules {
    let old = "price_per_g = \"88.50\"";
    assert_eq!(SHIPPED_RULES_TOML.matches(old).count(), 1);
    Rules::from_toml_str(&SHIPPED_RULES_TOML.replacen(
        old,
        &format!("price_per_g = \"{price}\""),
        1,
    ))
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn total_is_non_decreasing_in_volume(
        a in 5.0f64..40_000.0,
        b in 5.0f64..40_000.0,
        alloy in prop::sample::select(&ALLOYS[..]),
        channel in channel(),
    ) {
        let rules = Rules::default_shipped().unwrap();
        let report = pendant_report(1.0, 0.0);
        let (small, large) = if a <= b { (a, b) } else { (b, a) };
        let t_small = total(&rules, &facts(small, &report), alloy, channel);
        let t_large = total(&rules, &facts(large, &report), alloy, channel);
        prop_assert!(t_small <= t_large, "{alloy} {channel}: {small} mm³ -> {t_small}, {large} mm³ -> {t_large}");
    }

    #[test]
    fn total_is_non_decreasing_in_metal_price(
        cents_a in 1i64..2_000_000,
        cents_b in 1i64..2_000_000,
        volume in 5.0f64..40_000.0,
        channel in channel(),
    ) {
        let (lo, hi) = if cents_a <= cents_b { (cents_a, cents_b) } else { (cents_b, cents_a) };
        let report = pendant_report(1.0, 0.0);
        let f = facts(volume, &report);
        let t_lo = total(&rules_with_au750y_price(Decimal::new(lo, 2)), &f, "au750", channel);
        let t_hi = total(&rules_with_au750y_price(Decimal::new(hi, 2)), &f, "au750", channel);
        prop_assert!(t_lo <= t_hi, "{lo} -> {t_lo}, {hi} -> {t_hi}");
    }

    #[test]
    fn totals_are_the_sum_of_their_lines_and_at_least_the_minimum(
        volume in 5.0f64..40_000.0,
        area in 0.0f64..20_000.0,
        shells in 1u64..20,
        triangles in 0u64..5_000_000,
        thin in 0.0f64..0.9,
        alloy in prop::sample::select(&ALLOYS[..]),
        channel in channel(),
    ) {
        let rules = Rules::default_shipped().unwrap();
        let report = pendant_report(0.55, thin);
        let f = PricingFacts { area_mm2: area, shells, triangles, ..facts(volume, &report) };
        let q = quote(&rules, &f, &[alloy], channel).unwrap();
        let entry = &q.alloys[0];
        let total = entry.total.expect("priced");
        let sum: Decimal = entry.lines.iter().map(|l| l.amount).sum();
        prop_assert_eq!(total, sum);
        prop_assert!(total >= rules.minimum_order());
        prop_assert!(entry.lines.iter().all(|l| l.amount >= Decimal::ZERO && l.amount.scale() == 2));
    }
}
