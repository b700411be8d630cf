//! The [`Contract`] trait: what every message type on the exchanges is.
//!
//! Every payload is JSON and carries a `schema_version` field; the AMQP `type` property carries
//! [`Contract::TYPE`] and `message_id` carries [`Contract::dedup_key`], a key deterministic for
//! the fact the message states, so a redelivered or republished copy has the same id.

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ContractError;

/// A message type with a stable name, a version and a deterministic id.
pub trait Contract: Serialize + DeserializeOwned + JsonSchema {
    /// AMQP `type` property, e.g. `alexandrite.run_job`.
    const TYPE: &'static str;
    /// The value of the payload's `schema_version` field.
    const SCHEMA_VERSION: u32;

    /// `message_id`: identical for every copy of the same fact (same job, same attempt...).
    fn dedup_key(&self) -> String;

    /// Where this message's schema is committed, relative to `deploy/schemas/`.
    fn schema_file() -> String {
        let name = Self::TYPE.rsplit('.').next().unwrap_or(Self::TYPE);
        format!("{name}.v{}.json", Self::SCHEMA_VERSION)
    }

    fn to_json(&self) -> Result<Vec<u8>, ContractError> {
        serde_json::to_vec(self).map_err(|source| ContractError::Encode {
            kind: Self::TYPE,
            source,
        })
    }

    fn from_json(bytes: &[u8]) -> Result<Self, ContractError> {
        serde_json::from_slice(bytes).map_err(|source| ContractError::Decode {
            kind: Self::TYPE,
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Channel, Format, Lane, ModelRef, RunJob, SchemaVersion, Units, schema_files};
    use uuid::Uuid;

    fn job() -> RunJob {
        RunJob {
            schema_version: SchemaVersion,
            job_id: Uuid::from_u128(42),
            model_sha256: "ab".repeat(32),
            format: Format::Obj,
            triangles: 10,
            lane: Lane::Small,
            alloys: vec!["au750y".into()],
            channel: Channel::Website,
            tenant: "t".into(),
            partner_ref: None,
            units: Some(Units::Mm),
            correlation_id: None,
            attempt: 1,
        }
    }

    #[test]
    fn round_trips_and_dedup_key_is_per_job_and_attempt() {
        let job = job();
        let bytes = job.to_json().unwrap();
        assert_eq!(RunJob::from_json(&bytes).unwrap(), job);
        assert_eq!(
            job.dedup_key(),
            "run_job/00000000-0000-0000-0000-00000000002a/1"
        );
        let retry = RunJob {
            attempt: 2,
            ..job.clone()
        };
        assert_ne!(retry.dedup_key(), job.dedup_key());
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["schema_version"], 2);
        assert_eq!(value["lane"], "small");
        assert_eq!(value["channel"], "website");
        assert_eq!(value["format"], "obj");
        assert_eq!(value["units"], "mm");
    }

    #[test]
    fn refuses_other_versions_and_unknown_fields() {
        for version in [0, 3] {
            let mut value = serde_json::to_value(job()).unwrap();
            value["schema_version"] = version.into();
            let err = RunJob::from_json(value.to_string().as_bytes()).unwrap_err();
            assert!(err.to_string().contains("schema_version"), "{err}");
        }

        // A type the contract does not know is refused at the edge, with the words it expects.
        let mut value = serde_json::to_value(job()).unwrap();
        value["channel"] = "wholesale".into();
        let err = RunJob::from_json(value.to_string().as_bytes()).unwrap_err();
        assert!(err.to_string().contains("website"), "{err}");

        let mut value = serde_json::to_value(job()).unwrap();
        value["surprise"] = true.into();
        assert!(RunJob::from_json(value.to_string().as_bytes()).is_err());

        let mut value = serde_json::to_value(job()).unwrap();
        value.as_object_mut().unwrap().remove("schema_version");
        assert!(RunJob::from_json(value.to_string().as_bytes()).is_err());
    }

    /// A run message written before v2 (channel `retail`, the same spellings otherwise) is still
    /// read, so messages queued across an upgrade are priced, not dead-lettered.
    #[test]
    fn reads_version_1_run_messages() {
        let mut value = serde_json::to_value(job()).unwrap();
        value["schema_version"] = 1.into();
        value["channel"] = "retail".into();
        value["format"] = "stl-binary".into();
        let read = RunJob::from_json(value.to_string().as_bytes()).unwrap();
        assert_eq!(read.channel, Channel::Website);
        assert_eq!(read.format, Format::StlBinary);
        // Written back, it is a v2 message.
        assert_eq!(serde_json::to_value(&read).unwrap()["schema_version"], 2);
    }

    #[test]
    fn schema_file_names_follow_type_and_version() {
        let names: Vec<String> = schema_files()
            .unwrap()
            .into_iter()
            .map(|f| f.file_name)
            .collect();
        assert_eq!(
            names,
            [
                "run_job.v2.json",
                "price_calculated.v2.json",
                "price_rejected.v1.json",
                "price_failed.v1.json",
                "order_ready.v3.json",
                "submit_job.v1.json"
            ]
        );
    }

    #[test]
    fn model_ref_is_tagged_by_source() {
        let stored: ModelRef =
            serde_json::from_str(r#"{"source":"stored","sha256":"aa"}"#).unwrap();
        assert_eq!(
            stored,
            ModelRef::Stored {
                sha256: "aa".into()
            }
        );
        let url: ModelRef =
            serde_json::from_str(r#"{"source":"url","url":"https://x/y.stl"}"#).unwrap();
        assert_eq!(
            url,
            ModelRef::Url {
                url: "https://x/y.stl".into()
            }
        );
        assert!(serde_json::from_str::<ModelRef>(r#"{"source":"ftp","url":"x"}"#).is_err());
    }
}
