//! Reading a model file named on the command line into pricing-core.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use pricing_core::{AnalyzeOptions, FormatHint, Loaded, ParseError, Units};

/// Options shared by every command that reads a model.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// The model file (STL binary/ASCII, OBJ, glTF or GLB).
    pub file: std::path::PathBuf,
    /// Read the file as this format instead of sniffing it: stl, stl-binary, stl-ascii, obj, gltf, glb.
    #[arg(long)]
    pub format: Option<FormatHint>,
    /// The unit of the file's coordinates: mm, cm, m or in (default: declared by glTF, else inferred).
    #[arg(long)]
    pub units: Option<Units>,
}

/// Why a model could not be loaded; both kinds are the user's input, so both exit with status 2.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Parse(#[from] ParseError),
}

impl ModelArgs {
    pub fn options(&self) -> AnalyzeOptions {
        AnalyzeOptions {
            format: self.format,
            units: self.units,
            ..AnalyzeOptions::default()
        }
    }

    /// Load the model; binary STL is decoded while it is read, so memory never holds the whole file.
    pub fn load(&self) -> Result<Loaded, InputError> {
        let io = |source| InputError::Io {
            path: self.file.display().to_string(),
            source,
        };
        let file = File::open(&self.file).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut reader = BufReader::with_capacity(1 << 16, file);
        Ok(pricing_core::load_stream(
            &mut reader,
            len,
            &self.options(),
        )?)
    }

    pub fn name(&self) -> String {
        Path::new(&self.file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}
