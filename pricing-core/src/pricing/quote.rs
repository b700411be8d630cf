//! What a quote says: serialisable, self-explaining, identical whenever it is recomputed.
//!
//! Money is `Decimal`, serialised as strings ("123.45"); measured facts stay f64 (serialised shortest
//! round-trip, hence byte-identical across runs).

use rust_decimal::Decimal;
use serde::Serialize;

use super::channel::Channel;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    pub rules_version: String,
    /// SHA-256 of the exact rules text, to find and replay the rules this quote was made with.
    pub rules_sha256: String,
    pub prices_as_of: String,
    pub currency: String,
    pub channel: Channel,
    pub measurements: Measurements,
    /// `None` when wall thickness was not analysed.
    pub thickness: Option<ThicknessSummary>,
    /// The stones, their sizes and setting labour; `None` when the model has none.
    pub gems: Option<super::gems::GemTable>,
    /// One entry per alloy requested, in the order requested.
    pub alloys: Vec<AlloyQuote>,
}

impl Quote {
    /// The least favourable status over all alloys (`rejected` if any alloy is rejected).
    pub fn worst_status(&self) -> Status {
        self.alloys
            .iter()
            .map(|a| a.status)
            .max()
            .unwrap_or(Status::Priced)
    }

    /// The most favourable status over all alloys (`priced` if any alloy can be priced as is).
    pub fn best_status(&self) -> Status {
        self.alloys
            .iter()
            .map(|a| a.status)
            .min()
            .unwrap_or(Status::Rejected)
    }
}

/// The measured facts, copied verbatim from the analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurements {
    pub volume_mm3: f64,
    pub area_mm2: f64,
    pub shells: u64,
    pub triangles: u64,
    pub bbox_min: [f64; 3],
    pub bbox_max: [f64; 3],
    pub size_mm: [f64; 3],
    pub watertight: bool,
    pub inverted: bool,
    pub volume_reliable: bool,
    pub units_inferred: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThicknessSummary {
    /// `None` when no face found an opposite wall (infinite thickness).
    pub min_mm: Option<f64>,
    pub p05_mm: Option<f64>,
    pub p50_mm: Option<f64>,
    /// Area thinner than `thin_threshold_mm`.
    pub thin_area_mm2: f64,
    /// The largest `min_wall_mm` among the alloys requested (the strictest one); each alloy entry has
    /// its own `thin_area_mm2` against its own minimum.
    pub thin_threshold_mm: f64,
    /// Share of the surface whose thickness was actually measured (0..=1).
    pub measured_area_fraction: f64,
    pub unhit_faces: u64,
    /// Faces whose ray crossed a wedge's tip or a corner rather than a wall (no thickness taken there).
    pub edge_faces: u64,
    /// Pairs of faces that pass through each other; `None` when not checked.
    pub self_intersections: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlloyQuote {
    /// The code as requested (e.g. `au750`).
    pub alloy: String,
    /// The rules' canonical code it resolved to (e.g. `au750y`).
    pub resolved_alloy: String,
    pub name: String,
    pub density_g_cm3: f64,
    pub price_per_g: Decimal,
    pub min_wall_mm: f64,
    /// Area thinner than `min_wall_mm`; `None` without a thickness analysis.
    pub thin_area_mm2: Option<f64>,
    /// Net metal weight, rounded to the rules' `weight_decimals`; `None` when the model has no volume.
    pub weight_g: Option<Decimal>,
    /// The metal as designed, the casting charge and the finished piece, each with its rule; `None`
    /// when the model has no volume.
    pub weights: Option<super::weights::Weights>,
    /// Empty when rejected.
    pub lines: Vec<Line>,
    /// Sum of `lines`; `None` when rejected. Indicative (still to be confirmed) when `needs_review`.
    pub total: Option<Decimal>,
    pub currency: String,
    pub status: Status,
    /// Blockers first, then review reasons, then warnings.
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub kind: LineKind,
    pub amount: Decimal,
    /// How the amount was computed, with the numbers used.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Metal,
    CastingLoss,
    Labour,
    Finishing,
    /// Setting labour for the model's stones.
    StoneSetting,
    Margin,
    MinimumOrderAdjustment,
}

/// Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Priced,
    NeedsReview,
    Rejected,
}

/// Ordered from mildest to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; the price stands.
    Warning,
    /// A person must confirm before the order is accepted: status `needs_review`.
    Review,
    /// The model cannot be cast as it is: status `rejected`, no price.
    Blocker,
}

impl Severity {
    pub fn status(self) -> Status {
        match self {
            Severity::Warning => Status::Priced,
            Severity::Review => Status::NeedsReview,
            Severity::Blocker => Status::Rejected,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub severity: Severity,
    /// A sentence the customer can act on.
    pub message: String,
}

/// Stable machine codes (API clients switch on them; never rename one). Each names one cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The surface has holes (boundary edges), with their count and the largest one's perimeter.
    NotWatertight,
    /// Edges shared by more than two faces.
    NonManifold,
    /// Faces wound the wrong way where the inside cannot be told (an open or non-manifold surface).
    FlippedFaces,
    /// Faces wound the wrong way on a closed surface, turned back; the quote is of the repaired model.
    OrientationRepaired,
    /// The whole model faces inwards.
    Inverted,
    /// One or more closed bodies among several face inwards.
    InvertedShell,
    /// The surface passes through itself.
    SelfIntersecting,
    /// Separate bodies overlap or lie inside one another.
    OverlappingShells,
    /// The size is implausible in the units read and plausible in another.
    UnitsSuspect,
    /// OBJ faces with more than three corners that are not flat.
    NonPlanarFaces,
    NoVolume,
    TooSmall,
    TooLarge,
    WallsTooThin,
    ThinWalls,
    ThinWallsMinor,
    ThicknessUnavailable,
    UnitsInferred,
    VolumeUnreliable,
    /// Solid sections thicker than the rules' `hollow_above_mm`: hollowing them would save metal.
    HollowingSaves,
}
