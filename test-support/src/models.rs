//! The committed model files (`fixtures/models/`).

use std::path::Path;

/// The bytes of `fixtures/models/{name}`, for a test in any crate of the workspace.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/models")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
