//! Wall thickness.
pub mod report;
