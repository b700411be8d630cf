//! Raw rules -> [`Rules`]: range and cross-reference checks, each error pointing at its line.

use std::collections::BTreeMap;
use std::ops::Range;

use rust_decimal::Decimal;
use toml::Spanned;

use super::channel::Channel;
use super::error::RulesError;
use super::location::Location;
use super::raw::{RawAlloy, RawRules};
use super::rules::{
    Alloy, Finishing, Labour, ManufacturingLimits, RingSizeCharts, Rounding, Rules, SettingTier,
    StoneRules, WeightRules,
};

/// Most decimals a money amount may be rounded to (sub-cent pricing is still possible, silliness is not).
const MAX_MONEY_DECIMALS: u32 = 4;
/// Most decimals of a gram: enough for 1e-9 relative weight checks, far from Decimal's 28-digit limit.
const MAX_WEIGHT_DECIMALS: u32 = 12;
/// Densest alloy anyone casts is below 22 g/cm³; anything above this is a units mistake.
const MAX_DENSITY_G_CM3: f64 = 30.0;
const MAX_MARGIN_PCT: u32 = 300;

pub(super) fn validate(text: &str) -> Result<Rules, RulesError> {
    let raw: RawRules = toml::from_str(text).map_err(|e| RulesError::Syntax {
        location: e.span().map(|s| Location::of_span(text, &s)),
        message: e.message().trim().to_owned(),
    })?;
    let v = Check { text };

    let version = v.non_empty(&raw.version, "version")?;
    let currency = raw.currency.get_ref().clone();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(v.error(
            raw.currency.span(),
            "currency",
            "must be a three-letter ISO 4217 code such as \"EUR\"",
        ));
    }
    let prices_as_of = v.non_empty(&raw.prices_as_of, "prices_as_of")?;
    if !is_iso_date(&prices_as_of) {
        return Err(v.error(
            raw.prices_as_of.span(),
            "prices_as_of",
            "must be a date written YYYY-MM-DD",
        ));
    }
    let density_source = v.non_empty(&raw.density_source, "density_source")?;

    let rounding = Rounding {
        money_decimals: v.at_most(
            &raw.rounding.money_decimals,
            "rounding.money_decimals",
            MAX_MONEY_DECIMALS,
        )?,
        mode: raw.rounding.mode,
        weight_decimals: v.at_most(
            &raw.rounding.weight_decimals,
            "rounding.weight_decimals",
            MAX_WEIGHT_DECIMALS,
        )?,
    };

    let casting_allowance_pct = v.decimal(
        &raw.casting.allowance_pct,
        "casting.allowance_pct",
        Some(Decimal::ONE_HUNDRED),
    )?;
    let l = &raw.labour;
    let labour = Labour {
        base: v.decimal(&l.base, "labour.base", None)?,
        per_cm2_surface: v.decimal(&l.per_cm2_surface, "labour.per_cm2_surface", None)?,
        per_extra_shell: v.decimal(&l.per_extra_shell, "labour.per_extra_shell", None)?,
        per_cm2_thin_wall: v.decimal(&l.per_cm2_thin_wall, "labour.per_cm2_thin_wall", None)?,
        per_10k_triangles: v.decimal(&l.per_10k_triangles, "labour.per_10k_triangles", None)?,
        triangle_cap: l.triangle_cap,
    };
    let finishing = Finishing {
        base: v.decimal(&raw.finishing.base, "finishing.base", None)?,
        per_cm2_surface: v.decimal(
            &raw.finishing.per_cm2_surface,
            "finishing.per_cm2_surface",
            None,
        )?,
    };
    let minimum_order = v.decimal(&raw.order.minimum, "order.minimum", None)?;

    let max_margin = Some(Decimal::from(MAX_MARGIN_PCT));
    let mut margins = BTreeMap::new();
    for (channel, c) in [
        (Channel::Website, &raw.channels.website),
        (Channel::Partner, &raw.channels.partner),
        (Channel::Mes, &raw.channels.mes),
    ] {
        let path = format!("channels.{channel}.margin_pct");
        margins.insert(channel, v.decimal(&c.margin_pct, &path, max_margin)?);
    }

    let m = &raw.manufacturability;
    let limits = ManufacturingLimits {
        min_volume_mm3: v.float(
            &m.min_volume_mm3,
            "manufacturability.min_volume_mm3",
            Bound::NonNegative,
        )?,
        max_bbox_mm: v.bbox(&m.max_bbox_mm, "manufacturability.max_bbox_mm")?,
        thin_wall_review_area_mm2: v.float(
            &m.thin_wall_review_area_mm2,
            "manufacturability.thin_wall_review_area_mm2",
            Bound::NonNegative,
        )?,
        hard_wall_fraction: v.float(
            &m.hard_wall_fraction,
            "manufacturability.hard_wall_fraction",
            Bound::Fraction,
        )?,
        hard_thin_area_mm2: v.float(
            &m.hard_thin_area_mm2,
            "manufacturability.hard_thin_area_mm2",
            Bound::NonNegative,
        )?,
    };

    let w = &raw.weights;
    let pct = Bound::NonNegativeAtMost(100.0);
    let weights = WeightRules {
        sprue_pct: v.float(&w.sprue_pct, "weights.sprue_pct", pct)?,
        button_pct: v.float(&w.button_pct, "weights.button_pct", pct)?,
        shrinkage_linear_pct: v.float(
            &w.shrinkage_linear_pct,
            "weights.shrinkage_linear_pct",
            Bound::NonNegativeAtMost(20.0),
        )?,
        polishing_loss_pct: v.float(
            &w.polishing_loss_pct,
            "weights.polishing_loss_pct",
            Bound::NonNegativeAtMost(50.0),
        )?,
        hollow_above_mm: v.float(
            &w.hollow_above_mm,
            "weights.hollow_above_mm",
            Bound::Positive,
        )?,
        hollow_wall_mm: v.float(&w.hollow_wall_mm, "weights.hollow_wall_mm", Bound::Positive)?,
        source: v.non_empty(&w.source, "weights.source")?,
    };
    if 2.0 * weights.hollow_wall_mm >= weights.hollow_above_mm {
        return Err(v.error(
            w.hollow_wall_mm.span(),
            "weights.hollow_wall_mm",
            "two walls must be thinner than hollow_above_mm, or hollowing saves nothing",
        ));
    }
    let r = &raw.ring_sizes;
    let ring_sizes = RingSizeCharts {
        us_base_circumference_mm: v.float(
            &r.us_base_circumference_mm,
            "ring_sizes.us_base_circumference_mm",
            Bound::Positive,
        )?,
        us_step_mm: v.float(&r.us_step_mm, "ring_sizes.us_step_mm", Bound::Positive)?,
        uk_base_circumference_mm: v.float(
            &r.uk_base_circumference_mm,
            "ring_sizes.uk_base_circumference_mm",
            Bound::Positive,
        )?,
        uk_step_mm: v.float(&r.uk_step_mm, "ring_sizes.uk_step_mm", Bound::Positive)?,
        japan_as_us: r.japan_as_us.get_ref().clone(),
        out_of_round_tolerance_mm: v.float(
            &r.out_of_round_tolerance_mm,
            "ring_sizes.out_of_round_tolerance_mm",
            Bound::Positive,
        )?,
        min_inner_diameter_mm: v.float(
            &r.min_inner_diameter_mm,
            "ring_sizes.min_inner_diameter_mm",
            Bound::Positive,
        )?,
        max_inner_diameter_mm: v.float(
            &r.max_inner_diameter_mm,
            "ring_sizes.max_inner_diameter_mm",
            Bound::Positive,
        )?,
        source: v.non_empty(&r.source, "ring_sizes.source")?,
    };
    let japan = &ring_sizes.japan_as_us;
    if japan.is_empty()
        || japan.iter().any(|x| !(x.is_finite() && *x >= 0.0))
        || japan.windows(2).any(|p| p[1] <= p[0])
    {
        return Err(v.error(
            r.japan_as_us.span(),
            "ring_sizes.japan_as_us",
            "must list the US size of Japanese sizes 1, 2, 3, ... in increasing order",
        ));
    }
    if ring_sizes.min_inner_diameter_mm >= ring_sizes.max_inner_diameter_mm {
        return Err(v.error(
            r.max_inner_diameter_mm.span(),
            "ring_sizes.max_inner_diameter_mm",
            "must be larger than min_inner_diameter_mm",
        ));
    }

    let st = &raw.stones;
    let mut setting = Vec::new();
    for (i, tier) in st.setting.get_ref().iter().enumerate() {
        let path = format!("stones.setting[{i}]");
        let up_to_mm = v.float(&tier.up_to_mm, &format!("{path}.up_to_mm"), Bound::Positive)?;
        if let Some(previous) = setting.last().map(|t: &SettingTier| t.up_to_mm)
            && up_to_mm <= previous
        {
            return Err(v.error(
                tier.up_to_mm.span(),
                &format!("{path}.up_to_mm"),
                "tiers must ascend: each up_to_mm larger than the one before",
            ));
        }
        let per_stone = v.decimal(&tier.per_stone, &format!("{path}.per_stone"), None)?;
        setting.push(SettingTier {
            up_to_mm,
            per_stone,
        });
    }
    if setting.is_empty() {
        return Err(v.error(
            st.setting.span(),
            "stones.setting",
            "at least one setting tier is required",
        ));
    }
    let stones = StoneRules {
        diamond_density_g_cm3: v.float(
            &st.diamond_density_g_cm3,
            "stones.diamond_density_g_cm3",
            Bound::PositiveAtMost(MAX_DENSITY_G_CM3),
        )?,
        setting,
        source: v.non_empty(&st.source, "stones.source")?,
    };

    if raw.alloys.get_ref().is_empty() {
        return Err(v.error(
            raw.alloys.span(),
            "alloys",
            "at least one alloy is required",
        ));
    }
    let mut alloys = BTreeMap::new();
    for (code, spanned) in raw.alloys.get_ref() {
        let path = format!("alloys.{code}");
        if !is_code(code) {
            return Err(v.error(spanned.span(), &path, "alloy codes use only a-z, 0-9 and _"));
        }
        alloys.insert(code.clone(), v.alloy(spanned.get_ref(), &path, &limits)?);
    }

    let mut aliases = BTreeMap::new();
    for (alias, target) in &raw.aliases {
        let path = format!("aliases.{alias}");
        if !is_code(alias) {
            return Err(v.error(target.span(), &path, "alias codes use only a-z, 0-9 and _"));
        }
        if alloys.contains_key(alias) {
            return Err(v.error(target.span(), &path, "an alias may not reuse an alloy code"));
        }
        if !alloys.contains_key(target.get_ref()) {
            let known: Vec<&str> = alloys.keys().map(String::as_str).collect();
            let message = format!(
                "refers to unknown alloy `{}`; known: {}",
                target.get_ref(),
                known.join(", ")
            );
            return Err(v.error(target.span(), &path, &message));
        }
        aliases.insert(alias.clone(), target.get_ref().clone());
    }

    Ok(Rules {
        version,
        currency,
        prices_as_of,
        density_source,
        rounding,
        casting_allowance_pct,
        labour,
        finishing,
        minimum_order,
        margins,
        limits,
        weights,
        ring_sizes,
        stones,
        alloys,
        aliases,
        content_hash: String::new(),
    })
}

#[derive(Clone, Copy)]
enum Bound {
    Positive,
    NonNegative,
    /// In (0, 1].
    Fraction,
    /// In (0, max].
    PositiveAtMost(f64),
    /// In [0, max].
    NonNegativeAtMost(f64),
}

struct Check<'t> {
    text: &'t str,
}

impl Check<'_> {
    fn error(&self, span: Range<usize>, path: &str, message: &str) -> RulesError {
        RulesError::Invalid {
            location: Some(Location::of_span(self.text, &span)),
            path: path.to_owned(),
            message: message.to_owned(),
        }
    }

    fn non_empty(&self, value: &Spanned<String>, path: &str) -> Result<String, RulesError> {
        let s = value.get_ref().trim();
        if s.is_empty() {
            return Err(self.error(value.span(), path, "must not be empty"));
        }
        Ok(s.to_owned())
    }

    fn at_most(&self, value: &Spanned<u32>, path: &str, max: u32) -> Result<u32, RulesError> {
        let n = *value.get_ref();
        if n > max {
            return Err(self.error(value.span(), path, &format!("must be at most {max}")));
        }
        Ok(n)
    }

    /// A non-negative decimal, optionally capped.
    fn decimal(
        &self,
        value: &Spanned<Decimal>,
        path: &str,
        max: Option<Decimal>,
    ) -> Result<Decimal, RulesError> {
        let d = *value.get_ref();
        if d.is_sign_negative() && !d.is_zero() {
            return Err(self.error(value.span(), path, "must not be negative"));
        }
        if let Some(max) = max
            && d > max
        {
            return Err(self.error(value.span(), path, &format!("must be at most {max}")));
        }
        Ok(d)
    }

    fn positive_decimal(
        &self,
        value: &Spanned<Decimal>,
        path: &str,
        max: Decimal,
    ) -> Result<Decimal, RulesError> {
        let d = *value.get_ref();
        if d <= Decimal::ZERO || d > max {
            return Err(self.error(
                value.span(),
                path,
                &format!("must be greater than 0 and at most {max}"),
            ));
        }
        Ok(d)
    }

    fn float(&self, value: &Spanned<f64>, path: &str, bound: Bound) -> Result<f64, RulesError> {
        let x = *value.get_ref();
        let (ok, expected) = match bound {
            Bound::Positive => (x > 0.0, "greater than 0".to_owned()),
            Bound::NonNegative => (x >= 0.0, "0 or more".to_owned()),
            Bound::Fraction => (
                x > 0.0 && x <= 1.0,
                "greater than 0 and at most 1".to_owned(),
            ),
            Bound::PositiveAtMost(max) => (
                x > 0.0 && x <= max,
                format!("greater than 0 and at most {max}"),
            ),
            Bound::NonNegativeAtMost(max) => {
                ((0.0..=max).contains(&x), format!("between 0 and {max}"))
            }
        };
        if !x.is_finite() || !ok {
            return Err(self.error(
                value.span(),
                path,
                &format!("must be a finite number {expected}"),
            ));
        }
        Ok(x)
    }

    /// A size limit, returned sorted descending so it can be compared orientation-free.
    fn bbox(&self, value: &Spanned<[f64; 3]>, path: &str) -> Result<[f64; 3], RulesError> {
        let mut b = *value.get_ref();
        if b.iter().any(|x| !x.is_finite() || *x <= 0.0) {
            return Err(self.error(
                value.span(),
                path,
                "every dimension must be a finite number of mm greater than 0",
            ));
        }
        b.sort_by(|x, y| y.total_cmp(x));
        Ok(b)
    }

    fn alloy(
        &self,
        raw: &RawAlloy,
        path: &str,
        limits: &ManufacturingLimits,
    ) -> Result<Alloy, RulesError> {
        let max_factor = Decimal::TEN;
        Ok(Alloy {
            name: self.non_empty(&raw.name, &format!("{path}.name"))?,
            density_g_cm3: self.float(
                &raw.density_g_cm3,
                &format!("{path}.density_g_cm3"),
                Bound::PositiveAtMost(MAX_DENSITY_G_CM3),
            )?,
            density_note: raw.density_note.clone(),
            price_per_g: self.positive_decimal(
                &raw.price_per_g,
                &format!("{path}.price_per_g"),
                Decimal::MAX,
            )?,
            min_wall_mm: self.float(
                &raw.min_wall_mm,
                &format!("{path}.min_wall_mm"),
                Bound::Positive,
            )?,
            labour_factor: match &raw.labour_factor {
                Some(f) => {
                    self.positive_decimal(f, &format!("{path}.labour_factor"), max_factor)?
                }
                None => Decimal::ONE,
            },
            max_bbox_mm: match &raw.max_bbox_mm {
                Some(b) => self.bbox(b, &format!("{path}.max_bbox_mm"))?,
                None => limits.max_bbox_mm,
            },
        })
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_dates() {
        for (s, ok) in [
            ("au750y", true),
            ("pd_500", true),
            ("", false),
            ("Au750", false),
            ("au-750", false),
        ] {
            assert_eq!(is_code(s), ok, "{s:?}");
        }
        for (s, ok) in [
            ("2026-11-01", true),
            ("2026-1-01", false),
            ("2026/11/01", false),
            ("", false),
        ] {
            assert_eq!(is_iso_date(s), ok, "{s:?}");
        }
    }
}
