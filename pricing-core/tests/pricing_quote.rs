//! Quotes: statuses and reasons, line arithmetic, minimum order, errors, determinism, JSON snapshots.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod pricing_support;

use pricing_core::Units;
use pricing_core::pricing::{
    Channel, Defects, LineKind, PricingFacts, Quote, QuoteError, ReasonCode, Rules, Severity,
    Status, quote,
};
use pricing_support::{pendant_facts, pendant_report, torus_facts, torus_report};
use rust_decimal::Decimal;

fn rules() -> Rules {
    Rules::default_shipped().unwrap()
}

fn codes(q: &Quote, i: usize) -> Vec<ReasonCode> {
    q.alloys[i].reasons.iter().map(|r| r.code).collect()
}

#[test]
fn statuses_and_reasons_follow_the_facts() {
    use ReasonCode::*;
    let rules = rules();
    let torus = torus_report();
    let hard_thin = pendant_report(0.2, 3.0); // below 0.5 × 0.6 mm over 3 mm² > 2 mm²
    let thin = pendant_report(0.5, 3.0); // below 0.6 mm over 3 mm² > 1 mm²
    let speck = pendant_report(0.5, 0.5); // below 0.6 mm over 0.5 mm²: a warning only
    let ok = torus_facts(Some(&torus));
    let big = |edge: f64| PricingFacts {
        bbox_min: [0.0; 3],
        bbox_max: [edge, 20.0, 10.0],
        ..ok
    };
    let cases: Vec<(&str, PricingFacts<'_>, &str, Status, Vec<ReasonCode>)> = vec![
        ("clean torus", ok, "au750", Status::Priced, vec![]),
        (
            "no thickness analysis",
            torus_facts(None),
            "au750",
            Status::NeedsReview,
            vec![ThicknessUnavailable],
        ),
        (
            "open mesh",
            PricingFacts {
                watertight: false,
                ..ok
            },
            "au750",
            Status::Rejected,
            vec![NotWatertight],
        ),
        (
            "inside out",
            PricingFacts {
                inverted: true,
                volume_mm3: -ok.volume_mm3,
                ..ok
            },
            "au750",
            Status::Rejected,
            vec![Inverted],
        ),
        (
            "open and inside out",
            PricingFacts {
                watertight: false,
                inverted: true,
                ..ok
            },
            "au750",
            Status::Rejected,
            vec![NotWatertight, Inverted],
        ),
        (
            "holes, counted",
            PricingFacts {
                watertight: false,
                defects: Defects {
                    holes: 2,
                    largest_hole_perimeter_mm: 3.5,
                    ..Default::default()
                },
                ..ok
            },
            "au750",
            Status::Rejected,
            vec![NotWatertight],
        ),
        (
            "closed but non-manifold: not told it has holes",
            PricingFacts {
                watertight: false,
                defects: Defects {
                    non_manifold_edges: 13_678,
                    ..Default::default()
                },
                ..ok
            },
            "au750",
            Status::Rejected,
            vec![NonManifold],
        ),
        (
            "flipped faces on an open mesh",
            PricingFacts {
                watertight: false,
                defects: Defects {
                    holes: 1,
                    largest_hole_perimeter_mm: 1.0,
                    flipped_edges: 12,
                    ..Default::default()
                },
                ..ok
            },
            "au750",
            Status::Rejected,
            vec![NotWatertight, FlippedFaces],
        ),
        (
            "one inverted body among several, total positive",
            PricingFacts {
                inverted: true,
                shells: 3,
                defects: Defects {
                    inverted_shells: 1,
                    ..Default::default()
                },
                ..ok
            },
            "au750",
            Status::Rejected,
            vec![InvertedShell],
        ),
        (
            "orientation repaired: priced, with a note",
            PricingFacts {
                defects: Defects {
                    faces_reoriented: 29,
                    ..Default::default()
                },
                ..ok
            },
            "au750",
            Status::Priced,
            vec![OrientationRepaired],
        ),
        (
            "self-intersecting: not told it overlaps",
            PricingFacts {
                volume_reliable: false,
                defects: Defects {
                    self_intersections: Some(40),
                    ..Default::default()
                },
                ..ok
            },
            "au750",
            Status::NeedsReview,
            vec![SelfIntersecting],
        ),
        (
            "overlapping bodies",
            PricingFacts {
                volume_reliable: false,
                shells: 2,
                defects: Defects {
                    overlapping_shells: 2,
                    self_intersections: Some(16),
                    ..Default::default()
                },
                ..ok
            },
            "au750",
            Status::NeedsReview,
            vec![OverlappingShells],
        ),
        (
            "millimetres in a glTF: too large, and the likely units named",
            PricingFacts {
                bbox_min: [-10_000.0, -10_000.0, -1_200.0],
                bbox_max: [10_000.0, 10_000.0, 1_200.0],
                units: Units::M,
                units_alternative: Some(Units::Mm),
                ..ok
            },
            "au750",
            Status::Rejected,
            vec![TooLarge, UnitsSuspect],
        ),
        (
            "non-planar quads: a warning",
            PricingFacts {
                defects: Defects {
                    non_planar_faces: 3,
                    non_planar_area_spread_mm2: 4.2,
                    ..Default::default()
                },
                ..ok
            },
            "au750",
            Status::Priced,
            vec![NonPlanarFaces],
        ),
        (
            "flat",
            PricingFacts {
                volume_mm3: 0.0,
                ..ok
            },
            "au750",
            Status::Rejected,
            vec![NoVolume],
        ),
        (
            "tiny (units?)",
            PricingFacts {
                volume_mm3: 2.0,
                ..ok
            },
            "au750",
            Status::Rejected,
            vec![TooSmall],
        ),
        (
            "larger than any flask",
            big(120.0),
            "au750",
            Status::Rejected,
            vec![TooLarge],
        ),
        (
            "fits the gold flask",
            big(70.0),
            "au750",
            Status::Priced,
            vec![],
        ),
        (
            "too big for the platinum flask",
            big(70.0),
            "pt950",
            Status::Rejected,
            vec![TooLarge],
        ),
        (
            "walls far too thin",
            pendant_facts(Some(&hard_thin)),
            "au750",
            Status::Rejected,
            vec![WallsTooThin],
        ),
        (
            "thin walls",
            pendant_facts(Some(&thin)),
            "au750",
            Status::NeedsReview,
            vec![ThinWalls],
        ),
        (
            "a thin speck",
            pendant_facts(Some(&speck)),
            "au750",
            Status::Priced,
            vec![ThinWallsMinor],
        ),
        (
            "0.5 mm is fine in no alloy that needs 0.8",
            pendant_facts(Some(&speck)),
            "ag925",
            Status::Priced,
            vec![ThinWallsMinor],
        ),
        (
            "units inferred",
            PricingFacts {
                units_inferred: true,
                ..ok
            },
            "au750",
            Status::NeedsReview,
            vec![UnitsInferred],
        ),
        (
            "volume approximate",
            PricingFacts {
                volume_reliable: false,
                ..ok
            },
            "au750",
            Status::NeedsReview,
            vec![VolumeUnreliable],
        ),
        (
            "blockers listed before review reasons",
            PricingFacts {
                units_inferred: true,
                ..big(120.0)
            },
            "au750",
            Status::Rejected,
            vec![TooLarge, UnitsInferred],
        ),
    ];
    for (name, facts, alloy, status, expected) in cases {
        let q = quote(&rules, &facts, &[alloy], Channel::Website).unwrap();
        let entry = &q.alloys[0];
        assert_eq!(entry.status, status, "{name}");
        assert_eq!(codes(&q, 0), expected, "{name}");
        for r in &entry.reasons {
            assert!(
                r.message.len() > 40 && r.message.ends_with('.'),
                "{name}: a sentence to act on: {:?}",
                r.message
            );
        }
        match status {
            Status::Rejected => {
                assert!(
                    entry.lines.is_empty() && entry.total.is_none(),
                    "{name}: no price when rejected"
                );
            }
            Status::Priced | Status::NeedsReview => {
                let sum: Decimal = entry.lines.iter().map(|l| l.amount).sum();
                assert_eq!(
                    entry.total,
                    Some(sum),
                    "{name}: total is the sum of the lines"
                );
            }
        }
    }
}

#[test]
fn one_entry_per_requested_alloy_with_its_own_status() {
    let rules = rules();
    let facts = PricingFacts {
        bbox_min: [0.0; 3],
        bbox_max: [70.0, 20.0, 10.0],
        ..torus_facts(None)
    };
    let report = torus_report();
    let facts = PricingFacts {
        thickness: Some(&report),
        ..facts
    };
    let q = quote(
        &rules,
        &facts,
        &["au750", "pt950", "AG925"],
        Channel::Partner,
    )
    .unwrap();
    let got: Vec<(&str, &str, Status)> = q
        .alloys
        .iter()
        .map(|a| (a.alloy.as_str(), a.resolved_alloy.as_str(), a.status))
        .collect();
    assert_eq!(
        got,
        [
            ("au750", "au750y", Status::Priced),
            ("pt950", "pt950", Status::Rejected),
            ("AG925", "ag925", Status::Priced)
        ]
    );
    assert_eq!(q.worst_status(), Status::Rejected);
    assert_eq!(q.best_status(), Status::Priced);
}

#[test]
fn lines_come_in_a_fixed_order_rounded_to_the_cent_and_record_the_rules() {
    let rules = rules();
    let report = torus_report();
    let q = quote(
        &rules,
        &torus_facts(Some(&report)),
        &["au585r"],
        Channel::Website,
    )
    .unwrap();
    assert_eq!(q.rules_version, rules.version());
    assert_eq!(q.rules_sha256, rules.content_hash());
    let entry = &q.alloys[0];
    let kinds: Vec<LineKind> = entry.lines.iter().map(|l| l.kind).collect();
    use LineKind::*;
    assert_eq!(kinds, [Metal, CastingLoss, Labour, Finishing, Margin]);
    for line in &entry.lines {
        assert_eq!(line.amount.scale(), 2, "{line:?}");
        assert!(line.amount > Decimal::ZERO, "{line:?}");
        assert!(!line.detail.is_empty());
    }
    // Metal line is weight × price per gram, rounded half-even to the cent.
    let weight = entry.weight_g.unwrap();
    let metal = (weight * entry.price_per_g)
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointNearestEven);
    assert_eq!(entry.lines[0].amount, metal);
    // Margin is 45 % of the cost lines for retail.
    let cost: Decimal = entry.lines[..4].iter().map(|l| l.amount).sum();
    let margin = (cost * Decimal::new(45, 2))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointNearestEven);
    assert_eq!(entry.lines[4].amount, margin);
}

#[test]
fn a_small_silver_charm_is_raised_to_the_minimum_order() {
    let rules = rules();
    let report = pendant_report(1.2, 0.0);
    let charm = PricingFacts {
        volume_mm3: 60.0,
        area_mm2: 150.0,
        shells: 1,
        triangles: 8_000,
        bbox_max: [10.0, 8.0, 2.0],
        ..pendant_facts(Some(&report))
    };
    let q = quote(&rules, &charm, &["ag925", "au750"], Channel::Mes).unwrap();
    let silver = &q.alloys[0];
    let last = silver.lines.last().unwrap();
    assert_eq!(last.kind, LineKind::MinimumOrderAdjustment);
    assert_eq!(silver.total, Some(rules.minimum_order()));
    assert!(last.amount > Decimal::ZERO);
    // The gold charm is above the minimum: no adjustment.
    let gold = &q.alloys[1];
    assert!(
        gold.lines
            .iter()
            .all(|l| l.kind != LineKind::MinimumOrderAdjustment)
    );
    assert!(gold.total.unwrap() > rules.minimum_order());
}

#[test]
fn channels_order_by_margin() {
    let rules = rules();
    let report = torus_report();
    let facts = torus_facts(Some(&report));
    let total = |c| {
        quote(&rules, &facts, &["au750"], c).unwrap().alloys[0]
            .total
            .unwrap()
    };
    let (retail, partner, mes) = (
        total(Channel::Website),
        total(Channel::Partner),
        total(Channel::Mes),
    );
    assert!(
        mes < partner && partner < retail,
        "{mes} {partner} {retail}"
    );
}

#[test]
fn unknown_or_missing_alloys_and_impossible_facts_are_errors() {
    let rules = rules();
    let report = torus_report();
    let facts = torus_facts(Some(&report));
    let err = quote(&rules, &facts, &["au750", "au800"], Channel::Website).unwrap_err();
    match &err {
        QuoteError::UnknownAlloy { requested, known } => {
            assert_eq!(requested, "au800");
            assert!(
                known.contains("au750y")
                    && known.contains("pd500")
                    && known.contains("au750 = au750y"),
                "{known}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("unknown alloy `au800`"), "{err}");

    let none: [&str; 0] = [];
    assert!(matches!(
        quote(&rules, &facts, &none, Channel::Website),
        Err(QuoteError::NoAlloyRequested { .. })
    ));

    let broken = [
        PricingFacts {
            volume_mm3: f64::NAN,
            ..facts
        },
        PricingFacts {
            area_mm2: f64::INFINITY,
            ..facts
        },
        PricingFacts {
            bbox_max: [f64::NEG_INFINITY; 3],
            ..facts
        },
    ];
    for f in broken {
        assert!(
            matches!(
                quote(&rules, &f, &["au750"], Channel::Website),
                Err(QuoteError::InvalidFacts { .. })
            ),
            "{f:?}"
        );
    }
    let huge = PricingFacts {
        volume_mm3: 1e40,
        ..facts
    };
    assert!(matches!(
        quote(&rules, &huge, &["au750"], Channel::Website),
        Err(QuoteError::OutOfRange { .. })
    ));
}

#[test]
fn the_same_input_gives_the_identical_quote_and_json() {
    let rules = rules();
    let report = pendant_report(0.5, 3.0);
    let facts = PricingFacts {
        units_inferred: true,
        ..pendant_facts(Some(&report))
    };
    let alloys = ["au750", "au375w", "pd950", "ag925"];
    let first = quote(&rules, &facts, &alloys, Channel::Partner).unwrap();
    for _ in 0..3 {
        let again = quote(
            &Rules::default_shipped().unwrap(),
            &facts,
            &alloys,
            Channel::Partner,
        )
        .unwrap();
        assert_eq!(again, first);
        assert_eq!(
            serde_json::to_string(&again).unwrap(),
            serde_json::to_string(&first).unwrap()
        );
    }
}

#[test]
fn json_has_the_shape_the_cli_promises() {
    let rules = rules();
    let report = torus_report();
    let q = quote(
        &rules,
        &torus_facts(Some(&report)),
        &["au750"],
        Channel::Website,
    )
    .unwrap();
    let json = serde_json::to_value(&q).unwrap();
    assert_eq!(json["rules_version"], "2026.12.3");
    assert!(json["measurements"]["volume_mm3"].is_f64());
    for key in ["min_mm", "p05_mm", "thin_area_mm2"] {
        assert!(json["thickness"][key].is_f64(), "thickness.{key}");
    }
    let alloy = &json["alloys"][0];
    assert_eq!(alloy["alloy"], "au750");
    assert_eq!(alloy["status"], "priced");
    assert_eq!(alloy["currency"], "EUR");
    assert!(
        alloy["weight_g"].is_string() && alloy["total"].is_string(),
        "money and weight are decimal strings"
    );
    assert!(
        alloy["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["amount"].is_string())
    );
    assert!(alloy["reasons"].as_array().unwrap().is_empty());
    let severity = serde_json::to_value(Severity::Blocker).unwrap();
    assert_eq!(severity, "blocker");
}

#[test]
fn snapshot_ring_in_four_alloys_website() {
    let report = torus_report();
    let q = quote(
        &rules(),
        &torus_facts(Some(&report)),
        &["au750", "au585w", "pt950", "ag925"],
        Channel::Website,
    )
    .unwrap();
    insta::assert_json_snapshot!(q);
}

#[test]
fn snapshot_thin_pendant_needs_review_partner() {
    let report = pendant_report(0.5, 3.0);
    let facts = PricingFacts {
        units_inferred: true,
        ..pendant_facts(Some(&report))
    };
    let q = quote(
        &rules(),
        &facts,
        &["au750", "au375r", "pd500"],
        Channel::Partner,
    )
    .unwrap();
    insta::assert_json_snapshot!(q);
}

#[test]
fn snapshot_open_oversized_model_rejected_mes() {
    let report = pendant_report(0.2, 3.0);
    let facts = PricingFacts {
        watertight: false,
        bbox_max: [75.0, 31.5, 4.2],
        ..pendant_facts(Some(&report))
    };
    let q = quote(&rules(), &facts, &["pt950", "au999"], Channel::Mes).unwrap();
    insta::assert_json_snapshot!(q);
}

#[test]
fn snapshot_silver_charm_minimum_order_mes() {
    let facts = PricingFacts {
        volume_mm3: 60.0,
        area_mm2: 150.0,
        shells: 1,
        triangles: 8_000,
        bbox_max: [10.0, 8.0, 2.0],
        ..pendant_facts(None)
    };
    let q = quote(&rules(), &facts, &["ag925"], Channel::Mes).unwrap();
    insta::assert_json_snapshot!(q);
}
