//! `quote()`: facts + rules + requested alloys -> a complete, deterministic [`Quote`].

use rust_decimal::Decimal;

use super::channel::Channel;
use super::checks::{alloy_reasons, hollowing_reason, model_reasons, sort_reasons, status_of};
use super::error::QuoteError;
use super::facts::PricingFacts;
use super::gems::gem_table;
use super::lines::{PriceInputs, price_lines};
use super::money::from_f64;
use super::quote::{AlloyQuote, Measurements, Quote, Status, ThicknessSummary};
use super::rules::{Alloy, Rules};
use super::weights::{Weights, weights};

/// Areas enter the price at 0.01 mm² resolution (4 decimals of a cm²): far below what labour notices.
const AREA_MM2_DECIMALS: u32 = 2;

/// Net metal weight in grams: `volume_mm3 / 1000 × density_g_cm3` (1 cm³ = 1000 mm³), in f64.
pub fn metal_weight_g(volume_mm3: f64, density_g_cm3: f64) -> f64 {
    volume_mm3 / 1000.0 * density_g_cm3
}

/// Prices `facts` in each requested alloy (codes or aliases, in the order given) for `channel`.
///
/// Errors only when no quote can be made at all (unknown alloy, impossible measurements); a model that
/// cannot be cast still gets a quote, with status `rejected` and the reasons.
pub fn quote<S: AsRef<str>>(
    rules: &Rules,
    facts: &PricingFacts<'_>,
    alloys: &[S],
    channel: Channel,
) -> Result<Quote, QuoteError> {
    facts.check()?;
    if alloys.is_empty() {
        return Err(QuoteError::NoAlloyRequested {
            known: rules.known_codes(),
        });
    }
    let resolved = alloys
        .iter()
        .map(|requested| {
            let requested = requested.as_ref();
            rules
                .resolve_alloy(requested)
                .map(|(code, alloy)| (requested, code, alloy))
                .ok_or_else(|| QuoteError::UnknownAlloy {
                    requested: requested.to_owned(),
                    known: rules.known_codes(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let rounding = rules.rounding();
    let area_cm2 = mm2_to_cm2(facts.area_mm2, rules)?;
    let gems = gem_table(facts.stones, rules.stones(), rounding);
    let model = model_reasons(facts, rules.limits());
    let strictest_wall = resolved
        .iter()
        .map(|(_, _, a)| a.min_wall_mm)
        .fold(0.0, f64::max);

    let mut entries = Vec::with_capacity(resolved.len());
    for (requested, code, alloy) in resolved {
        // `+ 0.0` turns the empty sum's -0.0 into 0.0 so JSON never shows "-0.0".
        let thin_area_mm2 = facts
            .thickness
            .map(|t| t.thin_area(alloy.min_wall_mm) + 0.0);
        let weight_g = if facts.volume_mm3 > 0.0 {
            let w = metal_weight_g(facts.volume_mm3, alloy.density_g_cm3);
            Some(from_f64(w, rounding.weight_decimals, rounding.mode).ok_or(
                QuoteError::OutOfRange {
                    what: "metal weight",
                },
            )?)
        } else {
            None
        };
        let weights = match weight_g {
            Some(_) => Some(
                weights(
                    metal_weight_g(facts.volume_mm3, alloy.density_g_cm3),
                    alloy.density_g_cm3,
                    rules.weights(),
                    rounding,
                )
                .ok_or(QuoteError::OutOfRange {
                    what: "metal weight",
                })?,
            ),
            None => None,
        };
        let mut reasons = model.clone();
        reasons.extend(alloy_reasons(facts, code, alloy, rules.limits()));
        reasons.extend(hollowing_reason(facts, code, alloy, rules.weights()));
        sort_reasons(&mut reasons);
        let status = status_of(&reasons);

        let (lines, total) = match (status, weight_g) {
            (Status::Rejected, _) | (_, None) => (Vec::new(), None),
            (_, Some(weight_g)) => {
                let inputs = PriceInputs {
                    weight_g,
                    area_cm2,
                    thin_area_cm2: mm2_to_cm2(thin_area_mm2.unwrap_or(0.0), rules)?,
                    shells: facts.shells,
                    triangles: facts.triangles,
                    stones: gems.as_ref().map_or(0, |g| g.count),
                    setting: gems.as_ref().map_or(Decimal::ZERO, |g| g.setting_total),
                };
                let (lines, total) = price_lines(rules, alloy, &inputs, channel)?;
                (lines, Some(total))
            }
        };
        entries.push(alloy_entry(
            requested,
            code,
            alloy,
            rules,
            thin_area_mm2,
            weight_g,
            weights,
            lines,
            total,
            status,
            reasons,
        ));
    }

    Ok(Quote {
        rules_version: rules.version().to_owned(),
        rules_sha256: rules.content_hash().to_owned(),
        prices_as_of: rules.prices_as_of().to_owned(),
        currency: rules.currency().to_owned(),
        channel,
        measurements: Measurements {
            volume_mm3: facts.volume_mm3,
            area_mm2: facts.area_mm2,
            shells: facts.shells,
            triangles: facts.triangles,
            bbox_min: facts.bbox_min,
            bbox_max: facts.bbox_max,
            size_mm: facts.size_mm(),
            watertight: facts.watertight,
            inverted: facts.inverted,
            volume_reliable: facts.volume_reliable,
            units_inferred: facts.units_inferred,
        },
        thickness: facts.thickness.map(|t| ThicknessSummary {
            min_mm: finite(t.min_mm),
            p05_mm: finite(t.p05_mm),
            p50_mm: finite(t.p50_mm),
            thin_area_mm2: t.thin_area(strictest_wall) + 0.0,
            thin_threshold_mm: strictest_wall,
            measured_area_fraction: t.measured_area_fraction(),
            unhit_faces: t.unhit_faces,
            edge_faces: t.edge_faces,
            self_intersections: t.self_intersections,
        }),
        gems,
        alloys: entries,
    })
}

#[allow(clippy::too_many_arguments)] // a plain constructor: every argument is a distinct field
fn alloy_entry(
    requested: &str,
    code: &str,
    alloy: &Alloy,
    rules: &Rules,
    thin_area_mm2: Option<f64>,
    weight_g: Option<Decimal>,
    weights: Option<Weights>,
    lines: Vec<super::quote::Line>,
    total: Option<Decimal>,
    status: Status,
    reasons: Vec<super::quote::Reason>,
) -> AlloyQuote {
    AlloyQuote {
        alloy: requested.to_owned(),
        resolved_alloy: code.to_owned(),
        name: alloy.name.clone(),
        density_g_cm3: alloy.density_g_cm3,
        price_per_g: alloy.price_per_g,
        min_wall_mm: alloy.min_wall_mm,
        thin_area_mm2,
        weight_g,
        weights,
        lines,
        total,
        currency: rules.currency().to_owned(),
        status,
        reasons,
    }
}

fn mm2_to_cm2(area_mm2: f64, rules: &Rules) -> Result<Decimal, QuoteError> {
    let mm2 = from_f64(area_mm2, AREA_MM2_DECIMALS, rules.rounding().mode)
        .ok_or(QuoteError::OutOfRange { what: "area" })?;
    Ok(mm2 / Decimal::ONE_HUNDRED)
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}
