//! What MES sends to have a model priced over the broker instead of HTTP.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Contract, SchemaVersion};

/// A pricing request from MES. The answer is a `price.*` event on the results exchange whose
/// `correlation_id` is this `request_id` (also set as the AMQP `correlation_id` property).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitJob {
    pub schema_version: SchemaVersion<1>,
    /// MES's idempotency key: resubmitting the same `request_id` does not create a second job.
    #[schemars(length(min = 1, max = 200))]
    pub request_id: String,
    pub tenant: String,
    pub partner_ref: Option<String>,
    pub model: ModelRef,
    /// Upload format override (`stl`, `stl-binary`, `stl-ascii`, `obj`, `gltf`, `glb`, `3mf`); detected
    /// from the content when absent.
    pub format: Option<String>,
    pub options: JobOptions,
}

/// Where the model is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelRef {
    /// A model already stored (uploaded earlier over HTTP), by the SHA-256 of its bytes.
    Stored {
        #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
        sha256: String,
    },
    /// A model to fetch from a URL the service can reach.
    Url { url: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobOptions {
    /// Alloy codes to quote (at least one).
    #[schemars(length(min = 1))]
    pub alloys: Vec<String>,
    /// Unit of the coordinates when the format does not say (`mm`, `cm`, `m`, `in`).
    #[serde(default)]
    pub units: Option<String>,
    /// Sales channel; `mes` when absent.
    #[serde(default)]
    pub channel: Option<String>,
}

impl Contract for SubmitJob {
    const TYPE: &'static str = "alexandrite.submit_job";
    const SCHEMA_VERSION: u32 = 1;

    fn dedup_key(&self) -> String {
        format!("submit_job/{}/{}", self.tenant, self.request_id)
    }
}
