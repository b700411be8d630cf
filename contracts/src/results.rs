//! Events published on the results exchange, for MES (`price.*`) and the CRM (`crm.*`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Channel, Contract, SchemaVersion, routing};

/// A contract published on the results exchange under a fixed routing key.
pub trait ResultEvent: Contract {
    const ROUTING_KEY: &'static str;
}

/// The job was priced. `quote` is the full quote document as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceCalculated {
    /// 2 since the channel is typed and the website channel is spelled `website` (v1 said
    /// `retail`); v1 events are still read.
    pub schema_version: SchemaVersion<2, 1>,
    pub job_id: Uuid,
    pub tenant: String,
    /// Where the job came from, so whose margin the quote carries.
    pub channel: Channel,
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
    /// 2 since the quote summary carries the three weights and the ring size (rules 2026.12.1);
    /// 3 since it carries the stones (rules 2026.12.2).
    pub schema_version: SchemaVersion<3>,
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
    /// The ring's size when the piece is a ring; absent otherwise.
    pub ring: Option<RingSizeSummary>,
    /// The stones the model carries, for the order's setting and stone lines; absent without stones.
    pub stones: Option<StonesSummary>,
}

/// The gem table as the order needs it: how many stones, of what size, and their setting labour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StonesSummary {
    pub count: u32,
    /// Estimated total carats if the stones are diamonds (recognised cuts only).
    pub total_carat_if_diamond: f64,
    /// Setting labour for all stones, decimal string in the quote's currency (already in each total).
    #[schemars(regex(pattern = r"^-?[0-9]+(\.[0-9]+)?$"))]
    pub setting_total: String,
    /// One entry per stone, largest first.
    pub stones: Vec<StoneSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoneSummary {
    /// `round`, `oval`, `square`, `rectangular` or `other`.
    pub cut: String,
    pub length_mm: f64,
    pub width_mm: f64,
    pub depth_mm: f64,
    pub carat_if_diamond: Option<f64>,
}

/// A ring's size as the order needs it; the sizes are absent when the bore cannot be sized
/// (`note` says why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RingSizeSummary {
    pub inner_diameter_mm: f64,
    /// ISO 8653 (EU): inner circumference in mm.
    pub iso_8653: Option<u32>,
    pub us_canada: Option<f64>,
    pub uk_australia: Option<String>,
    pub japan: Option<u32>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlloyTotal {
    pub alloy: String,
    /// `priced`, `needs_review` or `rejected`.
    pub status: String,
    /// Metal weight in grams (as designed), decimal string; absent when the model has no volume.
    #[schemars(regex(pattern = r"^-?[0-9]+(\.[0-9]+)?$"))]
    pub weight_g: Option<String>,
    /// Metal to put in the crucible (with sprue and button), grams, decimal string.
    #[schemars(regex(pattern = r"^-?[0-9]+(\.[0-9]+)?$"))]
    pub casting_charge_g: Option<String>,
    /// Expected weight of the finished piece (after shrinkage and polishing), grams, decimal string.
    #[schemars(regex(pattern = r"^-?[0-9]+(\.[0-9]+)?$"))]
    pub finished_g: Option<String>,
    /// Total price, decimal string in `currency`; absent when rejected.
    #[schemars(regex(pattern = r"^-?[0-9]+(\.[0-9]+)?$"))]
    pub total: Option<String>,
}

macro_rules! result_event {
    ($ty:ty, $type_name:literal, $key:path, $version:literal) => {
        impl Contract for $ty {
            const TYPE: &'static str = $type_name;
            const SCHEMA_VERSION: u32 = $version;
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
    routing::PRICE_CALCULATED,
    2
);
result_event!(
    PriceRejected,
    "alexandrite.price_rejected",
    routing::PRICE_REJECTED,
    1
);
result_event!(
    PriceFailed,
    "alexandrite.price_failed",
    routing::PRICE_FAILED,
    1
);
result_event!(
    OrderReady,
    "alexandrite.order_ready",
    routing::CRM_ORDER_READY,
    3
);
