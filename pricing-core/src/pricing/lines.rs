//! The money: line items computed in exact decimals, each rounded once, the total their exact sum.

use rust_decimal::Decimal;

use super::channel::Channel;
use super::error::QuoteError;
use super::money::round;
use super::quote::{Line, LineKind};
use super::rules::{Alloy, Rules};

/// The measured quantities the price depends on, already converted to rounded decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PriceInputs {
    pub weight_g: Decimal,
    pub area_cm2: Decimal,
    pub thin_area_cm2: Decimal,
    pub shells: u64,
    pub triangles: u64,
    /// Stones to set and their setting labour (already rounded per stone, see `gems`).
    pub stones: usize,
    pub setting: Decimal,
}

fn mul(a: Decimal, b: Decimal) -> Result<Decimal, QuoteError> {
    a.checked_mul(b).ok_or(QuoteError::OutOfRange {
        what: "a price line",
    })
}

fn add(a: Decimal, b: Decimal) -> Result<Decimal, QuoteError> {
    a.checked_add(b).ok_or(QuoteError::OutOfRange {
        what: "a price line",
    })
}

fn sum(values: &[Decimal]) -> Result<Decimal, QuoteError> {
    values.iter().try_fold(Decimal::ZERO, |acc, v| add(acc, *v))
}

/// Lines (metal, casting loss, labour, finishing, margin, and a minimum-order adjustment when needed)
/// and their total.
pub(super) fn price_lines(
    rules: &Rules,
    alloy: &Alloy,
    inputs: &PriceInputs,
    channel: Channel,
) -> Result<(Vec<Line>, Decimal), QuoteError> {
    let r = rules.rounding();
    let money = |d: Decimal| round(d, r.money_decimals, r.mode);
    let cur = rules.currency();
    let hundred = Decimal::ONE_HUNDRED;
    let w = inputs.weight_g;
    let price = alloy.price_per_g;

    let metal = money(mul(w, price)?);
    let pct = rules.casting_allowance_pct();
    let casting = money(mul(mul(w, pct)? / hundred, price)?);

    let l = rules.labour();
    let shells_extra = Decimal::from(inputs.shells.saturating_sub(1));
    let tri_10k = Decimal::from(inputs.triangles.min(l.triangle_cap)) / Decimal::from(10_000u32);
    let labour_raw = sum(&[
        l.base,
        mul(inputs.area_cm2, l.per_cm2_surface)?,
        mul(shells_extra, l.per_extra_shell)?,
        mul(inputs.thin_area_cm2, l.per_cm2_thin_wall)?,
        mul(tri_10k, l.per_10k_triangles)?,
    ])?;
    let labour = money(mul(alloy.labour_factor, labour_raw)?);

    let f = rules.finishing();
    let finishing = money(mul(
        alloy.labour_factor,
        add(f.base, mul(inputs.area_cm2, f.per_cm2_surface)?)?,
    )?);

    let setting = money(inputs.setting);
    let cost = sum(&[metal, casting, labour, finishing, setting])?;
    let margin_pct = rules.margin_pct(channel);
    let margin = money(mul(cost, margin_pct)? / hundred);

    let mut lines = vec![
        Line {
            kind: LineKind::Metal,
            amount: metal,
            detail: format!("{w} g × {price} {cur}/g"),
        },
        Line {
            kind: LineKind::CastingLoss,
            amount: casting,
            detail: format!("{pct} % sprue and melt loss on {w} g × {price} {cur}/g"),
        },
        Line {
            kind: LineKind::Labour,
            amount: labour,
            detail: format!(
                "{} × ({} + {} cm² × {} + {} extra shells × {} + {} cm² thin wall × {} + {} × 10k triangles × {})",
                alloy.labour_factor,
                l.base,
                inputs.area_cm2,
                l.per_cm2_surface,
                shells_extra,
                l.per_extra_shell,
                inputs.thin_area_cm2,
                l.per_cm2_thin_wall,
                tri_10k,
                l.per_10k_triangles
            ),
        },
        Line {
            kind: LineKind::Finishing,
            amount: finishing,
            detail: format!(
                "{} × ({} + {} cm² × {})",
                alloy.labour_factor, f.base, inputs.area_cm2, f.per_cm2_surface
            ),
        },
    ];
    if inputs.stones > 0 {
        lines.push(Line {
            kind: LineKind::StoneSetting,
            amount: setting,
            detail: format!(
                "{} stones set, by size (see the gem table); the stones themselves are not priced",
                inputs.stones
            ),
        });
    }
    lines.push(Line {
        kind: LineKind::Margin,
        amount: margin,
        detail: format!("{margin_pct} % {channel} margin on cost {cost} {cur}"),
    });
    let mut total = add(cost, margin)?;
    let minimum = money(rules.minimum_order());
    if total < minimum {
        lines.push(Line {
            kind: LineKind::MinimumOrderAdjustment,
            amount: minimum - total,
            detail: format!("raised from {total} to the minimum order of {minimum} {cur}"),
        });
        total = minimum;
    }
    Ok((lines, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::rules::SHIPPED_RULES_TOML;

    fn inputs(
        weight_g: &str,
        area_cm2: &str,
        thin_area_cm2: &str,
        shells: u64,
        triangles: u64,
    ) -> PriceInputs {
        PriceInputs {
            weight_g: weight_g.parse().unwrap(),
            area_cm2: area_cm2.parse().unwrap(),
            thin_area_cm2: thin_area_cm2.parse().unwrap(),
            shells,
            triangles,
            stones: 0,
            setting: Decimal::ZERO,
        }
    }

    fn amounts(
        rules: &Rules,
        alloy: &str,
        i: &PriceInputs,
        channel: Channel,
    ) -> (Vec<String>, String) {
        let (_, alloy) = rules.resolve_alloy(alloy).unwrap();
        let (lines, total) = price_lines(rules, alloy, i, channel).unwrap();
        (
            lines.iter().map(|l| l.amount.to_string()).collect(),
            total.to_string(),
        )
    }

    /// Hand-computed with the shipped coefficients (see rules/default.toml).
    #[test]
    fn lines_match_hand_computation() {
        let rules = Rules::default_shipped().unwrap();
        // pt950: labour factor 1.4. Labour = 1.4 × (18 + 5 × 0.60 + 2 × 6 + 0.5 × 4 + 100 × 0.25) = 84.00
        // (2 M triangles capped at 1 M). Finishing = 1.4 × (12 + 5 × 0.35) = 19.25. Metal 10 g × 46 = 460,
        // casting 7.5 % = 34.50; cost 597.75.
        let big = inputs("10.000", "5.0000", "0.5000", 3, 2_000_000);
        let cases = [
            // website 45 %: 268.9875 -> 268.99
            (
                Channel::Website,
                ["460.00", "34.50", "84.00", "19.25", "268.99"],
                "866.74",
            ),
            // partner 25 %: 149.4375 -> 149.44
            (
                Channel::Partner,
                ["460.00", "34.50", "84.00", "19.25", "149.44"],
                "747.19",
            ),
            (
                Channel::Mes,
                ["460.00", "34.50", "84.00", "19.25", "0.00"],
                "597.75",
            ),
        ];
        for (channel, lines, total) in cases {
            assert_eq!(
                amounts(&rules, "pt950", &big, channel),
                (lines.map(String::from).to_vec(), total.into())
            );
        }
    }

    #[test]
    fn ties_round_by_the_rules_mode() {
        // 0.1 g × 1.65 = 0.165 exactly: a tie at the cent.
        let tiny = inputs("0.100", "1.0000", "0", 1, 0);
        for (mode, metal) in [("half_even", "0.16"), ("half_up", "0.17")] {
            let text = SHIPPED_RULES_TOML.replacen(
                "mode = \"half_even\"",
                &format!("mode = \"{mode}\""),
                1,
            );
            let rules = Rules::from_toml_str(&text).unwrap();
            let (lines, _) = amounts(&rules, "ag925", &tiny, Channel::Mes);
            assert_eq!(lines[0], metal, "{mode}");
        }
    }
}
