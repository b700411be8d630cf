//! Pricing rules and quotes.
//!
//! Layout (one concept per file):
//! - `rules/default.toml` (crate root): the shipped, versioned rules file, embedded with `include_str!`.
//! - `raw`: the file's serde shape (unknown keys refused); `validate`: range and cross-reference checks
//!   that turn it into [`Rules`] ([`rules`]); [`location`]: byte span -> line/column for every error.
//! - [`facts`]: [`PricingFacts`], what the mesh analysis tells pricing (thin-wall area per
//!   alloy comes from `ThicknessReport::thin_area`).
//! - `checks`: manufacturability reasons (blockers, review, warnings) as pure functions.
//! - `money`: the only f64 -> Decimal conversion and the rounding rule; `lines`: the line items.
//! - `compute`: [`quote()`]; [`quote`](mod@quote): the serialisable [`Quote`].
//! - [`weights`]: designed, casting-charge and finished weight per alloy; [`ring_size`]: a bore's size
//!   in the ISO, US, UK and Japanese charts; [`gems`]: the gem table (carats, setting labour).
//!
//! Determinism: no clocks, no randomness, no hash-map iteration; f64 only for measured facts, every
//! amount of money an exact `Decimal` rounded once per line with the rules' mode.

pub mod channel;
mod checks;
mod compute;
pub mod error;
pub mod facts;
pub mod gems;
mod lines;
pub mod location;
mod money;
pub mod quote;
mod raw;
pub mod ring_size;
pub mod rules;
mod validate;
pub mod weights;

pub use channel::{Channel, UnknownChannel};
pub use compute::{metal_weight_g, quote};
pub use error::{QuoteError, RulesError};
pub use facts::{Defects, PricingFacts};
pub use gems::{GemRow, GemTable, gem_table};
pub use location::Location;
pub use quote::{
    AlloyQuote, Line, LineKind, Measurements, Quote, Reason, ReasonCode, Severity, Status,
    ThicknessSummary,
};
pub use raw::RoundingMode;
pub use ring_size::{RingSize, ring_size};
pub use rules::{
    Alloy, Finishing, Labour, ManufacturingLimits, RULES_PATH_ENV, RingSizeCharts, Rounding, Rules,
    SHIPPED_RULES_TOML, SettingTier, StoneRules, WeightRules,
};
pub use weights::{Weight, Weights};
