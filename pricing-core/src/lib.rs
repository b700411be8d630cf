//! Pure, deterministic core of the pricing cluster (layout doc is written as modules land).

pub mod mesh;
pub mod pricing;
pub mod thickness;
