//! The one vocabulary of the pricing cluster: what the scheduler, the workers, the API and the
//! MES/CRM consumers say to each other. Pure types (serde + JSON Schema), no IO.
//!
//! Layout:
//! - [`Contract`] (`contract.rs`) and [`SchemaVersion`] (`version.rs`): every message type has an
//!   AMQP `type`, a schema version checked when decoding, and a deterministic dedup `message_id`.
//! - The messages: [`RunJob`] (scheduler → a lane), the result events [`PriceCalculated`],
//!   [`PriceRejected`], [`PriceFailed`] (→ MES) and [`OrderReady`] (→ the CRM), [`SubmitJob`]
//!   (MES → intake).
//! - The words they use, one type each: [`Lane`], [`Channel`] (pricing-core's, which the rules
//!   price by), [`Format`] and [`Units`] (pricing-core's), [`Reason`] (a code and a sentence),
//!   the [`Exchange`]s and the routing keys in [`routing`]; [`trace`]: the W3C trace context a
//!   job's messages carry; `summary.rs`: the CRM's [`QuoteSummary`] of a quote document.
//! - [`schema_files`]: the JSON Schemas committed under `deploy/schemas/`, kept in sync by a test.
//!
//! Changing a contract's wire form means a new schema version (and a new schema file); a reader
//! keeps accepting the previous version where the change only retypes what it already said.

mod contract;
mod error;
mod exchange;
mod inbound;
mod lane;
mod reason;
mod results;
pub mod routing;
mod run_job;
mod schemas;
mod summary;
pub mod trace;
mod version;

pub use contract::Contract;
pub use error::ContractError;
pub use exchange::Exchange;
pub use inbound::{JobOptions, ModelRef, SubmitJob};
pub use lane::{Lane, UnknownLane};
pub use pricing_core::pricing::{Channel, UnknownChannel};
pub use pricing_core::{Format, Units};
pub use reason::Reason;
pub use results::{
    AlloyTotal, OrderReady, PriceCalculated, PriceFailed, PriceRejected, QuoteSummary, ResultEvent,
    RingSizeSummary, StoneSummary, StonesSummary,
};
pub use run_job::RunJob;
pub use schemas::{SchemaFile, schema_files};
pub use version::SchemaVersion;
