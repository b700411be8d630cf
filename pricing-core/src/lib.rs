//! pricing-core
