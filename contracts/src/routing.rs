//! Routing keys: of the results exchange (one per result event) and of MES's inbound messages.
//! The run queues' key is the lane itself ([`crate::Lane::as_str`]).

/// A job was priced; the quote is in the event.
pub const PRICE_CALCULATED: &str = "price.calculated";
/// The model cannot be priced as submitted (bad mesh, unknown alloy...): a final answer.
pub const PRICE_REJECTED: &str = "price.rejected";
/// Pricing failed for a technical reason after all attempts.
pub const PRICE_FAILED: &str = "price.failed";
/// A partner's order can be created in the CRM.
pub const CRM_ORDER_READY: &str = "crm.order.ready";
/// Routing key of [`crate::SubmitJob`] on the inbound exchange.
pub const MES_SUBMIT: &str = "mes.submit";

/// Binding of the MES results queue: every `price.*` event.
pub const MES_RESULTS_BINDING: &str = "price.#";
/// Binding of the CRM queue: every `crm.*` event.
pub const CRM_RESULTS_BINDING: &str = "crm.#";
