//! Caps that keep memory bounded by the input and by configuration, whatever a header claims.

/// Limits applied before any allocation that a file's own counts would size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted upload.
    pub max_bytes: u64,
    /// Largest accepted triangle count (after triangulating polygons and strips).
    pub max_triangles: u64,
    /// Largest decoded `data:` URI in a `.gltf` file.
    pub max_data_uri_bytes: u64,
    /// Largest part of a 3MF package once inflated: a zip bomb is refused at this many bytes.
    pub max_unzipped_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1 << 30,
            max_triangles: 20_000_000,
            max_data_uri_bytes: 512 << 20,
            max_unzipped_bytes: 1 << 30,
        }
    }
}

impl Limits {
    pub(crate) fn check_bytes(&self, len: u64) -> Result<(), crate::ParseError> {
        if len > self.max_bytes {
            return Err(crate::ParseError::TooLarge {
                found: len,
                limit: self.max_bytes,
            });
        }
        Ok(())
    }

    pub(crate) fn check_triangles(&self, n: u64) -> Result<(), crate::ParseError> {
        if n > self.max_triangles {
            return Err(crate::ParseError::TooManyTriangles {
                found: n,
                limit: self.max_triangles,
            });
        }
        Ok(())
    }
}
