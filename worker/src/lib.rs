//! The worker role (layout grows with the crate):
//! - [`rules`]: loading the pricing rules in force.

pub mod rules;

pub use rules::{LoadRulesError, load_rules};
