//! Pricing rules and quotes.
