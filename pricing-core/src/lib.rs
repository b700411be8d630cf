//! Pure, deterministic core of the pricing cluster: bytes of an uploaded model in, measurements and a
//! price out. No async runtime, no network, no filesystem: callers hand it bytes (or a reader), and a
//! reference inside a file (an `mtllib`, a glTF `uri`) never opens anything.
//!
//! Layout, in the order data flows:
//! - [`format`] names the upload formats and sniffs them from content; [`probe`] gives format and triangle
//!   count without building a mesh (the scheduler's input); [`estimate`] reads a bounded sample's
//!   bounding box and a price range from it (the website's instant answer).
//! - [`formats`] holds one parser per format; each feeds triangles into [`weld::Welder`], which builds the
//!   shared-vertex [`mesh::Mesh`]. [`limits`] caps bytes and triangles before anything is allocated.
//! - [`units`] decides the unit (declared, overridden or inferred) and everything downstream is in mm.
//! - [`measure`] (volume, area, bbox, centroid), [`topology`] (edges, shells), [`shells`] (cavity,
//!   inverted, nested, overlapping) and [`stones`] (which bodies are gems, their cut and size) are
//!   combined by [`analysis`], which keeps the stones out of the metal.
//! - [`thickness`] measures local wall thickness; [`pricing`] turns measurements into a quote;
//!   [`pipeline`] runs the whole path (load, measure, thickness, quote) that every caller shares.
//!
//! Invariants: the same bytes and options give bit-identical results whatever the rayon thread count
//! (parallel sums run over fixed chunks combined in order); no input makes a function panic; memory is
//! bounded by the input and [`limits::Limits`], never by a count the file claims.

pub mod analysis;
pub mod defects;
pub mod error;
pub mod estimate;
pub mod format;
pub mod formats;
pub mod limits;
pub mod measure;
pub mod mesh;
pub mod pipeline;
pub mod pricing;
pub mod probe;
pub mod ring;
pub mod shells;
pub mod stones;
pub mod thickness;
pub mod topology;
pub mod units;
pub mod weld;

pub use analysis::{
    Analysis, AnalyzeOptions, Loaded, Warning, analyze, load, load_stream, measure,
};
pub use error::ParseError;
pub use format::{Format, FormatHint};
pub use limits::Limits;
pub use mesh::Mesh;
pub use pipeline::{
    ModelQuote, PipelineError, QuoteRequest, Stage, quote_loaded, quote_loaded_in_stages,
    quote_model,
};
pub use probe::{Probe, probe};
pub use units::{Units, UnitsSource};
