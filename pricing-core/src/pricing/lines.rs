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
}

fn mul(a: Decimal, b: Decimal) -> Result<Decimal, QuoteError> {
    a.checked_mul(b).ok_or(QuoteError::OutOfRange { what: "a price line" })
}

fn add(a: Decimal, b: Decimal) -> Result<Decimal, QuoteError> {
    a.checked_add(b).ok_or(QuoteError::OutOfRange { what: "a price line" })
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
    let finishing = money(mul(alloy.labour_factor, add(f.base, mul(inputs.area_cm2, f.per_cm2_surface)?)?)?);

    let cost = sum(&[metal, casting, labour, finishing])?;
    let margin_pct = rules.margin_pct(channel);
    let margin = money(mul(cost, margin_pct)? / hundred);

    let mut lines = vec![
        Line { kind: LineKind::Metal, amount: metal, detail: format!("{w} g × {price} {cur}/g") },
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
        Line {
            kind: LineKind::Margin,
            amount: margin,
            detail: format!("{margin_pct} % {channel} margin on cost {cost} {cur}"),
        },
    ];
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
