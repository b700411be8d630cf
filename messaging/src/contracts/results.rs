//! Events published on the results exchange, for MES (`price.*`) and the CRM (`crm.*`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Contract, SchemaVersion};
use crate::routing;

/// A contract published on the results exchange under a fixed routing key.
pub trait ResultEvent: Contract {
    const ROUTING_KEY: &'static str;
}

/// The job was priced. `quote` is the full quote document as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceCalculated {
    pub schema_version: SchemaVersion<1>,
    pub job_id: Uuid,
    pub tenant: String,
    /// Sales channel the quote was priced for.
    pub channel: String,
    pub partner_ref: Option<String>,
    pub correlation_id: Option<String>,
    /// The quote (see the HTTP API's quote schema); money amounts are decimal strings.
    pub quote: serde_json::Value,
    /// Version of the pricing rules the quote was made with.
    pub rules_version: String,
}

/// The model cannot be priced as submitted. Final: resubmitting the same model gives the same answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceRejected {
    pub schema_version: SchemaVersion<1>,
    pub job_id: Uuid,
    pub tenant: String,
    pub partner_ref: Option<String>,
    pub correlation_id: Option<String>,
    /// Stable machine code (`unparseable_model`, `unknown_alloy`, `too_large`, ...).
    pub reason_code: String,
    /// A sentence a person can act on.
    pub reason: String,
}

/// Pricing failed for a technical reason and will not be retried automatically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceFailed {
    pub schema_version: SchemaVersion<1>,
    pub job_id: Uuid,
    pub tenant: String,
    pub partner_ref: Option<String>,
    pub correlation_id: Option<String>,
    pub reason: String,
}

/// A partner's job was priced: the CRM can create the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderReady {
    pub schema_version: SchemaVersion<1>,
    pub job_id: Uuid,
    pub tenant: String,
    /// The partner's reference for the order to create.
    pub partner_ref: String,
    pub correlation_id: Option<String>,
    pub quote: QuoteSummary,
}

/// What the CRM needs from a quote to create an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteSummary {
    pub rules_version: String,
    pub currency: String,
    /// One entry per alloy quoted, in the order requested.
    pub alloys: Vec<AlloyTotal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlloyTotal {
    pub alloy: String,
    /// `priced`, `needs_review` or `rejected`.
    pub status: String,
    /// Metal weight in grams, decimal string; absent when the model has no volume.
    #[schemars(regex(pattern = r"^-?[0-9]+(\.[0-9]+)?$"))]
    pub weight_g: Option<String>,
    /// Total price, decimal string in `currency`; absent when rejected.
    #[schemars(regex(pattern = r"^-?[0-9]+(\.[0-9]+)?$"))]
    pub total: Option<String>,
}

macro_rules! result_event {
    ($ty:ty, $type_name:literal, $key:path) => {
        impl Contract for $ty {
            const TYPE: &'static str = $type_name;
            const SCHEMA_VERSION: u32 = 1;
            fn dedup_key(&self) -> String {
                format!("{}/{}", $key, self.job_id)
            }
        }
        impl ResultEvent for $ty {
            const ROUTING_KEY: &'static str = $key;
        }
    };
}

result_event!(
    PriceCalculated,
    "alexandrite.price_calculated",
    routing::PRICE_CALCULATED
);
result_event!(
    PriceRejected,
    "alexandrite.price_rejected",
    routing::PRICE_REJECTED
);
result_event!(
    PriceFailed,
    "alexandrite.price_failed",
    routing::PRICE_FAILED
);
result_event!(
    OrderReady,
    "alexandrite.order_ready",
    routing::CRM_ORDER_READY
);
