//! The one error type every parser returns: typed, with a stable machine-readable code.

use thiserror::Error;

use crate::format::Format;

/// Why an upload could not be read. Never a panic: every malformed input maps to one of these.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ParseError {
    #[error("the file is empty")]
    Empty,
    #[error(
        "the file format was not recognised (expected binary or ASCII STL, OBJ, glTF, GLB or 3MF)"
    )]
    UnknownFormat,
    #[error("{format} file is truncated: {detail}")]
    Truncated { format: Format, detail: String },
    #[error("{format} file is malformed{}: {detail}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Malformed {
        format: Format,
        line: Option<u64>,
        detail: String,
    },
    #[error("{format} file has a vertex index out of range{}: {detail}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    IndexOutOfRange {
        format: Format,
        line: Option<u64>,
        detail: String,
    },
    #[error(
        "{format} file has a coordinate that is not a finite number (NaN or infinity) in triangle {triangle}"
    )]
    NonFinite { format: Format, triangle: u64 },
    #[error("{format} file is not valid UTF-8 text near byte {offset}")]
    BadUtf8 { format: Format, offset: u64 },
    #[error("glTF JSON is invalid: {0}")]
    Json(String),
    #[error(
        "glTF refers to an external file ({0}); upload a GLB or a .gltf with embedded data: buffers"
    )]
    ExternalUri(String),
    #[error(
        "glTF requires extension {0}, which is not supported (export without Draco/meshopt compression)"
    )]
    UnsupportedExtension(String),
    #[error(
        "3MF requires extension {0}, which is not supported (save the file without it: the core mesh, materials and colours are read)"
    )]
    Unsupported3mfExtension(String),
    #[error("the model has {found} triangles; the limit is {limit}")]
    TooManyTriangles { found: u64, limit: u64 },
    #[error("the file is {found} bytes; the limit is {limit}")]
    TooLarge { found: u64, limit: u64 },
    #[error("the model contains no triangles")]
    NoTriangles,
}

impl ParseError {
    /// Stable code for APIs and logs; never changes meaning once published.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Empty => "empty_file",
            ParseError::UnknownFormat => "unsupported_format",
            ParseError::Truncated { .. } => "truncated_file",
            ParseError::Malformed { .. } => "malformed_mesh",
            ParseError::IndexOutOfRange { .. } => "index_out_of_range",
            ParseError::NonFinite { .. } => "non_finite_coordinate",
            ParseError::BadUtf8 { .. } => "bad_utf8",
            ParseError::Json(_) => "bad_json",
            ParseError::ExternalUri(_) => "external_reference",
            ParseError::UnsupportedExtension(_) | ParseError::Unsupported3mfExtension(_) => {
                "unsupported_extension"
            }
            ParseError::TooManyTriangles { .. } => "too_many_triangles",
            ParseError::TooLarge { .. } => "too_large",
            ParseError::NoTriangles => "no_triangles",
        }
    }

    pub(crate) fn malformed(format: Format, line: Option<u64>, detail: impl Into<String>) -> Self {
        ParseError::Malformed {
            format,
            line,
            detail: detail.into(),
        }
    }

    pub(crate) fn truncated(format: Format, detail: impl Into<String>) -> Self {
        ParseError::Truncated {
            format,
            detail: detail.into(),
        }
    }
}
