//! The committed `deploy/schemas/*.json` are exactly what the Rust types generate, and the
//! AsyncAPI document references each of them. Regenerate with
//! `UPDATE_SCHEMAS=1 cargo test -p contracts --test schemas`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use contracts::{
    AlloyTotal, Channel, Contract, Format, JobOptions, Lane, ModelRef, OrderReady, PriceCalculated,
    PriceFailed, PriceRejected, QuoteSummary, RingSizeSummary, RunJob, SchemaVersion, SubmitJob,
    Units, schema_files,
};
use uuid::Uuid;

fn deploy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

#[test]
fn committed_schemas_match_the_code() {
    let dir = deploy_dir().join("schemas");
    let generated = schema_files().unwrap();
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for file in &generated {
            std::fs::write(dir.join(&file.file_name), &file.contents).unwrap();
        }
    }
    for file in &generated {
        let committed = std::fs::read_to_string(dir.join(&file.file_name))
            .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_SCHEMAS=1", file.file_name));
        assert_eq!(
            committed, file.contents,
            "{} drifted; run with UPDATE_SCHEMAS=1",
            file.file_name
        );
    }
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    let expected: BTreeSet<String> = generated.iter().map(|f| f.file_name.clone()).collect();
    assert_eq!(on_disk, expected, "stale schema files in deploy/schemas");
}

#[test]
fn asyncapi_references_every_schema_and_message_type() {
    let asyncapi = std::fs::read_to_string(deploy_dir().join("asyncapi.yaml")).unwrap();
    for file in schema_files().unwrap() {
        assert!(
            asyncapi.contains(&format!("./schemas/{}", file.file_name)),
            "asyncapi.yaml lacks {}",
            file.file_name
        );
        assert!(
            asyncapi.contains(file.message_type),
            "asyncapi.yaml lacks type {}",
            file.message_type
        );
    }
}

fn examples() -> Vec<(&'static str, serde_json::Value)> {
    let job_id = Uuid::from_u128(7);
    let run_job = RunJob {
        schema_version: SchemaVersion,
        job_id,
        model_sha256: "0f".repeat(32),
        format: Format::Glb,
        triangles: 250_000,
        lane: Lane::Large,
        alloys: vec!["ag925".into(), "au750y".into()],
        channel: Channel::Mes,
        tenant: "acme".into(),
        partner_ref: None,
        units: Some(Units::Mm),
        correlation_id: Some("req-9".into()),
        attempt: 2,
    };
    let calculated = PriceCalculated {
        schema_version: SchemaVersion,
        job_id,
        tenant: "acme".into(),
        channel: Channel::Mes,
        partner_ref: None,
        correlation_id: Some("req-9".into()),
        quote: serde_json::json!({"currency": "EUR"}),
        rules_version: "2026-01".into(),
    };
    let rejected = PriceRejected {
        schema_version: SchemaVersion,
        job_id,
        tenant: "acme".into(),
        partner_ref: None,
        correlation_id: None,
        reason_code: "unknown_alloy".into(),
        reason: "unknown alloy `pt999`".into(),
    };
    let failed = PriceFailed {
        schema_version: SchemaVersion,
        job_id,
        tenant: "acme".into(),
        partner_ref: Some("PO-1".into()),
        correlation_id: None,
        reason: "worker crashed 3 times".into(),
    };
    let order = OrderReady {
        schema_version: SchemaVersion,
        job_id,
        tenant: "acme".into(),
        partner_ref: "PO-1".into(),
        correlation_id: None,
        quote: QuoteSummary {
            rules_version: "2026-01".into(),
            currency: "EUR".into(),
            alloys: vec![AlloyTotal {
                alloy: "au750y".into(),
                status: "needs_review".into(),
                weight_g: None,
                casting_charge_g: None,
                finished_g: None,
                total: Some("10.00".into()),
            }],
            ring: Some(RingSizeSummary {
                inner_diameter_mm: 16.79,
                iso_8653: None,
                us_canada: None,
                uk_australia: None,
                japan: None,
                note: Some("The inside of the ring is not round enough to size".into()),
            }),
            stones: Some(contracts::StonesSummary {
                count: 1,
                total_carat_if_diamond: 0.25,
                setting_total: "12.00".into(),
                stones: vec![contracts::StoneSummary {
                    cut: "round".into(),
                    length_mm: 4.1,
                    width_mm: 4.08,
                    depth_mm: 2.5,
                    carat_if_diamond: Some(0.25),
                }],
            }),
        },
    };
    let submit = SubmitJob {
        schema_version: SchemaVersion,
        request_id: "req-9".into(),
        tenant: "acme".into(),
        partner_ref: None,
        model: ModelRef::Stored {
            sha256: "0f".repeat(32),
        },
        format: None,
        options: JobOptions {
            alloys: vec!["au750y".into()],
            units: None,
            channel: None,
        },
    };
    vec![
        (RunJob::TYPE, serde_json::to_value(&run_job).unwrap()),
        (
            PriceCalculated::TYPE,
            serde_json::to_value(&calculated).unwrap(),
        ),
        (
            PriceRejected::TYPE,
            serde_json::to_value(&rejected).unwrap(),
        ),
        (PriceFailed::TYPE, serde_json::to_value(&failed).unwrap()),
        (OrderReady::TYPE, serde_json::to_value(&order).unwrap()),
        (SubmitJob::TYPE, serde_json::to_value(&submit).unwrap()),
    ]
}

/// A light structural check (no full validator in the dependency tree): the top-level keys a
/// message serialises to are the schema's properties, and every required one is present.
#[test]
fn serialised_messages_have_exactly_the_schema_properties() {
    let files = schema_files().unwrap();
    for (message_type, example) in examples() {
        let file = files
            .iter()
            .find(|f| f.message_type == message_type)
            .unwrap();
        let schema: serde_json::Value = serde_json::from_str(&file.contents).unwrap();
        let properties: BTreeSet<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let keys: BTreeSet<&str> = example
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, properties, "{message_type}");
        for required in schema["required"].as_array().unwrap() {
            assert!(
                keys.contains(required.as_str().unwrap()),
                "{message_type} lacks {required}"
            );
        }
        assert_eq!(
            schema["additionalProperties"],
            serde_json::json!(false),
            "{message_type}"
        );
        assert_eq!(
            schema["properties"]["schema_version"]["const"], example["schema_version"],
            "{message_type}"
        );
    }
}

/// The words the schemas enumerate are the types' own: one lane, channel, format and unit
/// vocabulary, spelled as the Rust types serialise it.
#[test]
fn schema_enums_are_the_vocabulary_types() {
    let files = schema_files().unwrap();
    let run_job = files
        .iter()
        .find(|f| f.message_type == RunJob::TYPE)
        .unwrap();
    let schema: serde_json::Value = serde_json::from_str(&run_job.contents).unwrap();
    let enum_of = |field: &str| -> BTreeSet<String> {
        // A field is `$ref` to a definition, `allOf [$ref]` when documented, or
        // `anyOf [$ref, null]` when optional.
        let property = &schema["properties"][field];
        let reference = property["$ref"]
            .as_str()
            .or_else(|| {
                ["allOf", "anyOf"].iter().find_map(|k| {
                    property[*k]
                        .as_array()?
                        .iter()
                        .find_map(|s| s["$ref"].as_str())
                })
            })
            .unwrap_or_else(|| panic!("{field}: {property}"));
        let name = reference.rsplit('/').next().unwrap();
        let definition = &schema["definitions"][name];
        let values = definition["enum"].as_array().cloned().unwrap_or_else(|| {
            definition["oneOf"]
                .as_array()
                .unwrap_or_else(|| panic!("{field}: {definition}"))
                .iter()
                .flat_map(|v| {
                    v["enum"]
                        .as_array()
                        .cloned()
                        .unwrap_or_else(|| vec![v["const"].clone()])
                })
                .collect()
        });
        values
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let names = |values: Vec<serde_json::Value>| -> BTreeSet<String> {
        values
            .into_iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        enum_of("lane"),
        names(
            Lane::ALL
                .iter()
                .map(|l| serde_json::to_value(l).unwrap())
                .collect()
        )
    );
    assert_eq!(
        enum_of("channel"),
        names(
            Channel::ALL
                .iter()
                .map(|c| serde_json::to_value(c).unwrap())
                .collect()
        )
    );
    assert_eq!(
        enum_of("format"),
        names(
            Format::ALL
                .iter()
                .map(|f| serde_json::to_value(f).unwrap())
                .collect()
        )
    );
    assert_eq!(
        enum_of("units"),
        names(
            [Units::Mm, Units::Cm, Units::M, Units::In]
                .iter()
                .map(|u| serde_json::to_value(u).unwrap())
                .collect()
        )
    );
    assert!(enum_of("channel").contains("website") && !enum_of("channel").contains("retail"));
}
