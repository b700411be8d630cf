//! Model in, quote out: the one path the CLI, the embedded server and the cluster workers all run, so a
//! price is the same whoever computes it.

use serde::Serialize;
use thiserror::Error;

use crate::analysis::{self, Analysis, AnalyzeOptions, Loaded};
use crate::error::ParseError;
use crate::pricing::{
    self, AlloyQuote, Channel, Defects, GemTable, PricingFacts, QuoteError, RingSize, Rules,
    ThicknessSummary,
};
use crate::ring;
use crate::thickness::{self, Progress, ThicknessError, ThicknessOptions, ThinRegion};
use crate::units::UnitsSource;

/// What to price and how to read the model.
#[derive(Debug, Clone)]
pub struct QuoteRequest {
    pub alloys: Vec<String>,
    pub channel: Channel,
    pub analyze: AnalyzeOptions,
    pub thickness: ThicknessOptions,
}

/// Why a model could not be quoted. Parse and quote errors are the customer's input (HTTP 4xx, exit 2);
/// a thickness error means no ray could be cast at all, which only a degenerate model causes.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PipelineError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("wall thickness could not be measured: {0}")]
    Thickness(#[from] ThicknessError),
    #[error(transparent)]
    Quote(#[from] QuoteError),
}

impl PipelineError {
    pub fn code(&self) -> &'static str {
        match self {
            PipelineError::Parse(e) => e.code(),
            PipelineError::Thickness(_) => "malformed_mesh",
            PipelineError::Quote(QuoteError::UnknownAlloy { .. }) => "unknown_alloy",
            PipelineError::Quote(QuoteError::NoAlloyRequested { .. }) => "no_alloy",
            PipelineError::Quote(_) => "malformed_mesh",
        }
    }
}

/// A quote with the measurements it rests on; serialises as the document `pricing quote --json` prints
/// and the cluster stores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelQuote {
    pub rules_version: String,
    pub rules_sha256: String,
    pub prices_as_of: String,
    pub currency: String,
    pub channel: Channel,
    pub measurements: Analysis,
    pub thickness: Option<ThicknessSummary>,
    /// Where the walls are thinner than the strictest requested alloy allows.
    pub thin_regions: Vec<ThinRegion>,
    /// The ring's size when the piece is a ring (a bore round one axis), else `None`.
    pub ring: Option<RingSize>,
    /// The stones the model carries, with sizes, carats and setting labour; `None` without stones.
    pub gems: Option<GemTable>,
    pub alloys: Vec<AlloyQuote>,
}

impl ModelQuote {
    pub fn worst_status(&self) -> pricing::Status {
        self.alloys
            .iter()
            .map(|a| a.status)
            .max()
            .unwrap_or(pricing::Status::Priced)
    }
}

/// Regions reported per quote, largest first; a model riddled with thin spots gets the worst few.
const MAX_THIN_REGIONS: usize = 20;

/// The steps of [`quote_loaded`], announced to its caller as each begins (a worker times them
/// as trace spans; the pipeline itself reads no clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Volume, area, shells, watertightness, units.
    Measure,
    /// Wall thickness, self-intersections, sections.
    Thickness,
    /// Weights per alloy and the price; the ring's size.
    Quote,
}

/// Quote a model already loaded (the CLI loads with streaming; workers load from blob bytes). A closed
/// shell with faces wound the wrong way is repaired in `loaded` first (see [`analysis::measure`]).
pub fn quote_loaded(
    loaded: &mut Loaded,
    rules: &Rules,
    req: &QuoteRequest,
    progress: Option<Progress<'_>>,
) -> Result<ModelQuote, PipelineError> {
    quote_loaded_in_stages(loaded, rules, req, progress, &mut |_| {})
}

/// [`quote_loaded`], calling `stage` as each [`Stage`] begins.
pub fn quote_loaded_in_stages(
    loaded: &mut Loaded,
    rules: &Rules,
    req: &QuoteRequest,
    progress: Option<Progress<'_>>,
    stage: &mut dyn FnMut(Stage),
) -> Result<ModelQuote, PipelineError> {
    stage(Stage::Measure);
    let mut analysis = analysis::measure(loaded);
    // Thin-wall queries must cover every requested alloy's minimum, whatever the rules file says.
    let strictest = req
        .alloys
        .iter()
        .filter_map(|a| rules.resolve_alloy(a))
        .map(|(_, alloy)| alloy.min_wall_mm)
        .fold(req.thickness.max_thin_limit_mm, f64::max);
    let options = ThicknessOptions {
        max_thin_limit_mm: strictest,
        section_above_mm: rules.weights().hollow_above_mm,
        ..req.thickness
    };
    // Walls, bore and metal are the metal's: a stone is neither a wall nor a surface to polish.
    let metal = loaded.metal();
    stage(Stage::Thickness);
    let report = thickness::analyze_thickness_with_progress(&metal, &options, progress)?;
    stage(Stage::Quote);
    // Only the thickness stage's BVH finds self-intersections; the quote's measurements must agree
    // with the reasons built from them.
    analysis.volume_reliable &= report.self_intersections.unwrap_or(0) == 0;
    let facts = PricingFacts {
        volume_mm3: analysis.metal_volume_mm3,
        area_mm2: analysis.metal_area_mm2,
        shells: analysis.metal_shells as u64,
        triangles: analysis.triangles,
        bbox_min: analysis.bbox_mm.min,
        bbox_max: analysis.bbox_mm.max,
        watertight: analysis.watertight,
        inverted: analysis.inverted,
        volume_reliable: analysis.volume_reliable,
        units_inferred: analysis.units_source == UnitsSource::Inferred,
        units: analysis.units,
        units_alternative: analysis.units_alternative,
        defects: defects(&analysis, &report),
        thickness: Some(&report),
        stones: &analysis.stones,
    };
    let quote = pricing::quote(rules, &facts, &req.alloys, req.channel)?;
    let mut thin_regions = match &quote.thickness {
        Some(t) if t.thin_threshold_mm > 0.0 => report.thin_regions(t.thin_threshold_mm),
        _ => Vec::new(),
    };
    thin_regions.sort_by(|a, b| b.area_mm2.total_cmp(&a.area_mm2));
    thin_regions.truncate(MAX_THIN_REGIONS);
    let ring = ring::bore(&metal).map(|b| pricing::ring_size(&b, rules.ring_sizes()));
    Ok(ModelQuote {
        rules_version: quote.rules_version,
        rules_sha256: quote.rules_sha256,
        prices_as_of: quote.prices_as_of,
        currency: quote.currency,
        channel: quote.channel,
        measurements: analysis,
        thickness: quote.thickness,
        thin_regions,
        ring,
        gems: quote.gems,
        alloys: quote.alloys,
    })
}

fn defects(a: &Analysis, report: &thickness::ThicknessReport) -> Defects {
    Defects {
        holes: a.holes,
        largest_hole_perimeter_mm: a.largest_hole_perimeter_mm,
        non_manifold_edges: a.non_manifold_edges,
        flipped_edges: a.inconsistent_edges,
        faces_reoriented: a.faces_reoriented,
        inverted_shells: a.inverted_shells,
        overlapping_shells: a.overlapping_shells,
        nested_shells: a.nested_shells,
        self_intersections: report.self_intersections,
        non_planar_faces: a.non_planar_faces,
        non_planar_area_spread_mm2: a.non_planar_area_spread_mm2,
    }
}

/// Parse, measure, analyse wall thickness and price, from the bytes of an upload.
pub fn quote_model(
    bytes: &[u8],
    rules: &Rules,
    req: &QuoteRequest,
) -> Result<ModelQuote, PipelineError> {
    let mut loaded = analysis::load(bytes, &req.analyze)?;
    quote_loaded(&mut loaded, rules, req, None)
}
