//! The work order the scheduler sends to a lane.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Channel, Contract, Format, Lane, SchemaVersion, Units};

/// Price one stored model. Published to the jobs exchange with the lane as routing key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunJob {
    /// 2 since format, channel and units are typed and the website channel is spelled `website`
    /// (v1 said `retail`); v1 messages are still read.
    pub schema_version: SchemaVersion<2, 1>,
    pub job_id: Uuid,
    /// Hex SHA-256 of the uploaded bytes: the key of the model in the object store.
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub model_sha256: String,
    /// Detected upload format.
    pub format: Format,
    /// Triangle count measured at upload; what the lane was chosen from.
    pub triangles: u64,
    pub lane: Lane,
    /// Alloy codes to quote, in the order requested (at least one).
    #[schemars(length(min = 1))]
    pub alloys: Vec<String>,
    /// Where the job came from, so whose margin applies.
    pub channel: Channel,
    pub tenant: String,
    /// The partner's own reference for this order, echoed in every result.
    pub partner_ref: Option<String>,
    /// Unit of the model's coordinates when the format does not say.
    pub units: Option<Units>,
    /// The submitter's correlation id (MES `request_id`), echoed in every result.
    pub correlation_id: Option<String>,
    /// 1 for the first submission; the scheduler increments it when it re-enqueues the job.
    /// Broker redeliveries of the same message keep the same attempt.
    #[schemars(range(min = 1))]
    pub attempt: u32,
}

impl Contract for RunJob {
    const TYPE: &'static str = "alexandrite.run_job";
    const SCHEMA_VERSION: u32 = 2;

    fn dedup_key(&self) -> String {
        format!("run_job/{}/{}", self.job_id, self.attempt)
    }
}
