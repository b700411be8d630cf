//! Manufacturability: which facts block a quote, need a person, or merely deserve a warning.
//! Pure functions of the facts and rules; the order of the returned reasons is fixed.

use super::facts::PricingFacts;
use super::quote::{Reason, ReasonCode, Severity, Status};
use super::rules::{Alloy, ManufacturingLimits};

fn reason(code: ReasonCode, severity: Severity, message: String) -> Reason {
    Reason {
        code,
        severity,
        message,
    }
}

fn dims(d: [f64; 3]) -> String {
    format!("{:.1} × {:.1} × {:.1} mm", d[0], d[1], d[2])
}

/// Reasons that depend on the model only, the same for every alloy.
pub(super) fn model_reasons(facts: &PricingFacts<'_>, limits: &ManufacturingLimits) -> Vec<Reason> {
    let mut out = Vec::new();
    if !facts.watertight {
        out.push(reason(
            ReasonCode::NotWatertight,
            Severity::Blocker,
            "The model has holes or open edges, so it does not enclose a solid that can be cast. \
             Close the mesh (make it watertight) in your modelling software and upload it again."
                .to_owned(),
        ));
    }
    if facts.inverted {
        out.push(reason(
            ReasonCode::Inverted,
            Severity::Blocker,
            "The model's surfaces face inwards, so inside and outside are swapped. Recalculate or flip \
             the normals so they point outwards, then upload it again."
                .to_owned(),
        ));
    }
    // An open or inside-out mesh has no meaningful volume: report only the cause above.
    if facts.watertight && !facts.inverted {
        if facts.volume_mm3 <= 0.0 {
            out.push(reason(
                ReasonCode::NoVolume,
                Severity::Blocker,
                "The model encloses no volume (it is flat or made of surfaces only). Give every part a \
                 thickness and upload it again."
                    .to_owned(),
            ));
        } else if facts.volume_mm3 < limits.min_volume_mm3 {
            out.push(reason(
                ReasonCode::TooSmall,
                Severity::Blocker,
                format!(
                    "The model's volume is {:.2} mm³, below the {:.2} mm³ we can cast; it measures {}. If it \
                     was drawn in other units (metres, centimetres, inches), export it again in millimetres.",
                    facts.volume_mm3,
                    limits.min_volume_mm3,
                    dims(facts.size_mm())
                ),
            ));
        }
    }
    if facts.thickness.is_none() {
        out.push(reason(
            ReasonCode::ThicknessUnavailable,
            Severity::Review,
            "Wall thickness could not be measured, so thin walls cannot be ruled out; a caster will check \
             the model before the order is confirmed."
                .to_owned(),
        ));
    }
    if facts.units_inferred {
        out.push(reason(
            ReasonCode::UnitsInferred,
            Severity::Review,
            format!(
                "The file does not state its units, so they were inferred: the model is read as {}. If that \
                 is not its real size, export it again in millimetres.",
                dims(facts.size_mm())
            ),
        ));
    }
    if !facts.volume_reliable {
        out.push(reason(
            ReasonCode::VolumeUnreliable,
            Severity::Review,
            "The volume is approximate (the mesh intersects itself or has overlapping parts), so the metal \
             weight is an estimate; a caster will confirm it. Merging the parts into one solid avoids this."
                .to_owned(),
        ));
    }
    out
}

/// Reasons specific to casting this model in `alloy`.
pub(super) fn alloy_reasons(
    facts: &PricingFacts<'_>,
    code: &str,
    alloy: &Alloy,
    limits: &ManufacturingLimits,
) -> Vec<Reason> {
    let mut out = Vec::new();
    let mut size = facts.size_mm();
    size.sort_by(|a, b| b.total_cmp(a));
    if size.iter().zip(alloy.max_bbox_mm).any(|(s, max)| *s > max) {
        out.push(reason(
            ReasonCode::TooLarge,
            Severity::Blocker,
            format!(
                "The model measures {}, larger than the {} that fits a casting flask for {code}. Scale it \
                 down or split it into parts that are assembled after casting.",
                dims(size),
                dims(alloy.max_bbox_mm)
            ),
        ));
    }
    if let Some(report) = facts.thickness {
        let min_wall = alloy.min_wall_mm;
        let hard_wall = min_wall * limits.hard_wall_fraction;
        let hard_area = report.area_below(hard_wall);
        let thin_area = report.area_below(min_wall);
        if hard_area > limits.hard_thin_area_mm2 {
            out.push(reason(
                ReasonCode::WallsTooThin,
                Severity::Blocker,
                format!(
                    "{hard_area:.2} mm² of the surface has walls thinner than {hard_wall:.2} mm (thinnest \
                     {:.2} mm); {code} will not fill them. Thicken those walls to at least {min_wall:.2} mm.",
                    report.min_mm
                ),
            ));
        } else if thin_area > limits.thin_wall_review_area_mm2 {
            out.push(reason(
                ReasonCode::ThinWalls,
                Severity::Review,
                format!(
                    "{thin_area:.2} mm² of the surface has walls thinner than the {min_wall:.2} mm minimum \
                     for {code} (thinnest {:.2} mm); a caster will check it. Thickening them to {min_wall:.2} mm \
                     avoids a failed cast.",
                    report.min_mm
                ),
            ));
        } else if thin_area > 0.0 {
            out.push(reason(
                ReasonCode::ThinWallsMinor,
                Severity::Warning,
                format!(
                    "{thin_area:.2} mm² of the surface is thinner than the {min_wall:.2} mm minimum for {code}; \
                     small enough to cast, but that spot may need touching up."
                ),
            ));
        }
    }
    out
}

/// Blockers first, then review reasons, then warnings; stable within a severity.
pub(super) fn sort_reasons(reasons: &mut [Reason]) {
    reasons.sort_by_key(|r| std::cmp::Reverse(r.severity));
}

pub(super) fn status_of(reasons: &[Reason]) -> Status {
    reasons
        .iter()
        .map(|r| r.severity.status())
        .max()
        .unwrap_or(Status::Priced)
}
