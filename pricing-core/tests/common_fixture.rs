//! Shared helpers for pricing-core's integration tests (included with `mod common_fixture;`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pricing_core::analysis::{AnalyzeOptions, Loaded};
use pricing_core::{Analysis, Mesh};

pub fn mesh_of(poly: &fixtures::PolyMesh) -> Mesh {
    Mesh {
        positions: poly.positions.clone(),
        triangles: poly.triangles(),
    }
}

/// Measure an in-memory mesh exactly as the file pipeline would after loading.
pub fn measure_mesh(mesh: Mesh) -> Analysis {
    let mut loaded = Loaded::from_mesh(mesh);
    pricing_core::measure(&mut loaded)
}

pub fn write(format: fixtures::Format, poly: &fixtures::PolyMesh) -> Vec<u8> {
    let mut bytes = Vec::new();
    format
        .write(poly, &mut bytes)
        .expect("writing to memory cannot fail");
    bytes
}

pub fn analyze_bytes(bytes: &[u8]) -> Analysis {
    let opts = AnalyzeOptions {
        units: None,
        ..AnalyzeOptions::default()
    };
    pricing_core::analyze(bytes, &opts)
        .expect("fixture must parse")
        .0
}

pub fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}
