//! Manufacturability: which facts block a quote, need a person, or merely deserve a warning.
//! Pure functions of the facts and rules; the order of the returned reasons is fixed.

use super::facts::PricingFacts;
use super::quote::{Reason, ReasonCode, Severity, Status};
use super::rules::{Alloy, ManufacturingLimits, WeightRules};

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

/// Reasons that depend on the model only, the same for every alloy. Each defect gets its own code and
/// a sentence naming that cause; the order is fixed.
pub(super) fn model_reasons(facts: &PricingFacts<'_>, limits: &ManufacturingLimits) -> Vec<Reason> {
    let mut out = Vec::new();
    let d = &facts.defects;
    if d.holes > 0 {
        out.push(reason(
            ReasonCode::NotWatertight,
            Severity::Blocker,
            format!(
                "The model has {} {} in its surface (the largest is {:.1} mm around), so it does not enclose \
                 a solid that can be cast. Close {} in your modelling software (fill holes, make \
                 watertight) and upload it again.",
                d.holes,
                plural(d.holes, "hole", "holes"),
                d.largest_hole_perimeter_mm,
                if d.holes == 1 { "it" } else { "them" }
            ),
        ));
    } else if !facts.watertight && d.non_manifold_edges == 0 && d.flipped_edges == 0 {
        // Facts from a caller that counted no cause (an estimate, an older analysis).
        out.push(reason(
            ReasonCode::NotWatertight,
            Severity::Blocker,
            "The model has holes or open edges, so it does not enclose a solid that can be cast. \
             Close the mesh (make it watertight) in your modelling software and upload it again."
                .to_owned(),
        ));
    }
    if d.non_manifold_edges > 0 {
        out.push(reason(
            ReasonCode::NonManifold,
            Severity::Blocker,
            format!(
                "{} {} of the model {} shared by more than two faces (parts that touch along an edge, or \
                 faces stacked on each other), so its inside cannot be told from its outside. Merge the \
                 touching parts into one solid (boolean union) or delete the duplicate faces, then upload \
                 it again.",
                d.non_manifold_edges,
                plural(d.non_manifold_edges, "edge", "edges"),
                plural(d.non_manifold_edges, "is", "are")
            ),
        ));
    }
    if d.flipped_edges > 0 {
        out.push(reason(
            ReasonCode::FlippedFaces,
            Severity::Blocker,
            format!(
                "Faces on either side of {} {} are wound in opposite directions, and because the surface is \
                 not closed the outside cannot be worked out from it. Make the normals consistent \
                 (recalculate them outside) once the mesh is closed, then upload it again.",
                d.flipped_edges,
                plural(d.flipped_edges, "edge", "edges")
            ),
        ));
    }
    let whole_inverted = facts.volume_mm3 < 0.0;
    if facts.inverted && d.inverted_shells > 0 && !whole_inverted {
        out.push(reason(
            ReasonCode::InvertedShell,
            Severity::Blocker,
            format!(
                "{} of the model's {} separate bodies {} inwards, so {} metal is subtracted instead of added. \
                 Flip the normals of {} so they point outwards, then upload it again.",
                d.inverted_shells,
                facts.shells,
                plural(d.inverted_shells, "faces", "face"),
                plural(d.inverted_shells, "its", "their"),
                plural(d.inverted_shells, "that body", "those bodies")
            ),
        ));
    } else if facts.inverted {
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
    if let Some(alt) = facts.units_alternative {
        let size = facts.size_mm();
        let ratio = alt.to_mm() / facts.units.to_mm();
        out.push(reason(
            ReasonCode::UnitsSuspect,
            Severity::Review,
            format!(
                "Read in {} the model measures {}, which is not the size of a piece of jewellery; read in {alt} \
                 it would measure {}. If the file was exported in {alt}, upload it again with units={alt}.",
                facts.units,
                dims(size),
                dims(size.map(|x| x * ratio))
            ),
        ));
    } else if facts.units_inferred {
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
    let overlapping = d.overlapping_shells + d.nested_shells;
    let crossings = d.self_intersections.unwrap_or(0);
    if overlapping > 0 {
        out.push(reason(
            ReasonCode::OverlappingShells,
            Severity::Review,
            format!(
                "{overlapping} of the model's separate bodies overlap or lie inside another, so the metal they \
                 share is counted twice and the weight is an estimate; a caster will confirm it. Merging them \
                 into one solid (boolean union) gives an exact weight."
            ),
        ));
    } else if crossings > 0 {
        out.push(reason(
            ReasonCode::SelfIntersecting,
            Severity::Review,
            format!(
                "The surface passes through itself ({crossings} pairs of faces cross), so the enclosed volume \
                 and the metal weight are approximate; a caster will confirm it. Removing the \
                 self-intersections (or a boolean union of the parts) gives an exact weight."
            ),
        ));
    } else if !facts.volume_reliable && facts.watertight && !facts.inverted {
        out.push(reason(
            ReasonCode::VolumeUnreliable,
            Severity::Review,
            format!(
                "The model has {} separate bodies, too many to check whether they overlap, so the metal \
                 weight is an estimate; a caster will confirm it. Merging the parts into one solid avoids this.",
                facts.shells
            ),
        ));
    }
    if d.faces_reoriented > 0 {
        out.push(reason(
            ReasonCode::OrientationRepaired,
            Severity::Warning,
            format!(
                "{} {} wound the wrong way on an otherwise closed surface and {} been turned to match the \
                 rest; the weight and price are of the repaired model. Fixing the normals in your file \
                 avoids this note.",
                d.faces_reoriented,
                plural(d.faces_reoriented, "face was", "faces were"),
                plural(d.faces_reoriented, "has", "have")
            ),
        ));
    }
    if d.non_planar_faces > 0 {
        out.push(reason(
            ReasonCode::NonPlanarFaces,
            Severity::Warning,
            format!(
                "{} {} with more than three corners {} not flat, so the surface area depends on how {} split \
                 into triangles: up to {:.2} mm² ({:.1} % of the surface) is uncertain, which moves the \
                 finishing price a little. Triangulating the model in your modelling software fixes the \
                 surface you mean.",
                d.non_planar_faces,
                plural(d.non_planar_faces, "face", "faces"),
                plural(d.non_planar_faces, "is", "are"),
                plural(d.non_planar_faces, "it is", "they are"),
                d.non_planar_area_spread_mm2,
                100.0 * d.non_planar_area_spread_mm2 / facts.area_mm2.max(f64::MIN_POSITIVE)
            ),
        ));
    }
    out
}

fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
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
    let fits = |size: &[f64; 3]| size.iter().zip(alloy.max_bbox_mm).all(|(s, max)| *s <= max);
    if !fits(&size) {
        let other = facts.units_alternative.map(|alt| {
            let ratio = alt.to_mm() / facts.units.to_mm();
            (alt, size.map(|x| x * ratio))
        });
        let advice = match other {
            Some((alt, other_size)) if fits(&other_size) => format!(
                "That is most likely a units mistake: read in {alt} it measures {}, which fits. If the file's \
                 numbers are {alt} (common from web configurators and some exporters), upload it again with \
                 units={alt}.",
                dims(other_size)
            ),
            _ => {
                "Scale it down or split it into parts that are assembled after casting.".to_owned()
            }
        };
        out.push(reason(
            ReasonCode::TooLarge,
            Severity::Blocker,
            format!(
                "The model measures {}, larger than the {} that fits a casting flask for {code}. {advice}",
                dims(size),
                dims(alloy.max_bbox_mm)
            ),
        ));
    }
    if let Some(report) = facts.thickness {
        let min_wall = alloy.min_wall_mm;
        let hard_wall = min_wall * limits.hard_wall_fraction;
        let hard_area = report.thin_area(hard_wall);
        let thin_area = report.thin_area(min_wall);
        // The thinnest of the walls counted, not of every face: relief lines and specks are left out.
        let thinnest = |t_mm: f64| {
            report
                .thin_regions(t_mm)
                .iter()
                .map(|r| r.min_thickness_mm)
                .fold(f64::INFINITY, f64::min)
        };
        if hard_area > limits.hard_thin_area_mm2 {
            out.push(reason(
                ReasonCode::WallsTooThin,
                Severity::Blocker,
                format!(
                    "{hard_area:.2} mm² of the surface has walls thinner than {hard_wall:.2} mm (thinnest \
                     {:.2} mm); {code} will not fill them. Thicken those walls to at least {min_wall:.2} mm.",
                    thinnest(hard_wall)
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
                    thinnest(min_wall)
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

/// A note when solid sections are thick enough that a hollow core would save metal worth mentioning
/// (at least a tenth of a gram).
pub(super) fn hollowing_reason(
    facts: &PricingFacts<'_>,
    code: &str,
    alloy: &Alloy,
    rules: &WeightRules,
) -> Option<Reason> {
    let report = facts.thickness?;
    let saved_mm3 = report.hollowable_mm3(rules.hollow_above_mm, rules.hollow_wall_mm);
    let saved_g = super::compute::metal_weight_g(saved_mm3, alloy.density_g_cm3);
    (saved_g >= 0.1).then(|| {
        reason(
            ReasonCode::HollowingSaves,
            Severity::Warning,
            format!(
                "Parts of the piece are solid metal thicker than {:.1} mm; hollowing them (keeping {:.1} mm \
                 walls) would save up to about {saved_g:.1} g of {code} ({saved_mm3:.0} mm³).",
                rules.hollow_above_mm, rules.hollow_wall_mm
            ),
        )
    })
}
