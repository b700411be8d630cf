//! Message contracts: what travels on the exchanges, one type per message, each with a JSON Schema.
//!
//! Every payload is JSON and carries a `schema_version` field; the AMQP `type` property carries
//! [`Contract::TYPE`] and `message_id` carries [`Contract::dedup_key`], a key deterministic for
//! the fact the message states, so a redelivered or republished copy has the same id.

mod inbound;
mod results;
mod run_job;
mod schemas;
mod version;

pub use inbound::{JobOptions, ModelRef, SubmitJob};
pub use results::{
    AlloyTotal, OrderReady, PriceCalculated, PriceFailed, PriceRejected, QuoteSummary, ResultEvent,
};
pub use run_job::RunJob;
pub use schemas::{SchemaFile, schema_files};
pub use version::SchemaVersion;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{MessagingError, Result};

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

    fn to_json(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|source| MessagingError::Encode {
            kind: Self::TYPE,
            source,
        })
    }

    fn from_json(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|source| MessagingError::Decode {
            kind: Self::TYPE,
            source,
        })
    }
}
