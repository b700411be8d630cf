//! The full analysis: load (parse + weld + units) then measure (integrals, topology, shells).

use std::io::Read;

use serde::Serialize;

use crate::error::ParseError;
use crate::format::{self, Format, FormatHint};
use crate::formats;
use crate::limits::Limits;
use crate::measure::{self, Aabb};
use crate::mesh::Mesh;
use crate::shells::{self, ShellKind, ShellReport};
use crate::topology;
use crate::units::{self, Units, UnitsSource};
use crate::weld::{WeldMode, WeldStats, Welder};

#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// Skip sniffing and read the file as this format.
    pub format: Option<FormatHint>,
    /// The unit of the file's coordinates, overriding what the format declares or what would be inferred.
    pub units: Option<Units>,
    pub weld: WeldMode,
    pub limits: Limits,
}

/// A machine-readable note about the model that does not stop the analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

/// A parsed, welded mesh in millimetres and how it was read.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub format: Format,
    pub mesh: Mesh,
    pub units: Units,
    pub units_source: UnitsSource,
    pub weld: WeldStats,
    pub warnings: Vec<Warning>,
}

/// Everything measured about a model; all lengths in millimetres.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub format: Format,
    pub triangles: u64,
    pub vertices: u64,
    pub degenerate_dropped: u64,
    pub units: Units,
    pub units_source: UnitsSource,
    /// Signed: negative when the model is inside out. Cavities are already subtracted.
    pub volume_mm3: f64,
    pub area_mm2: f64,
    pub bbox_mm: Aabb,
    pub centroid_mm: Option<[f64; 3]>,
    pub watertight: bool,
    pub inverted: bool,
    pub shells: usize,
    pub cavities: usize,
    pub boundary_edges: u64,
    pub non_manifold_edges: u64,
    pub inconsistent_edges: u64,
    pub volume_reliable: bool,
    pub shell_details: Vec<ShellReport>,
    pub warnings: Vec<Warning>,
}

/// Parse, weld and scale a file held in memory.
pub fn load(bytes: &[u8], opts: &AnalyzeOptions) -> Result<Loaded, ParseError> {
    let len = bytes.len() as u64;
    if bytes.is_empty() {
        return Err(ParseError::Empty);
    }
    opts.limits.check_bytes(len)?;
    let format = format::resolve(opts.format, bytes, len).ok_or(ParseError::UnknownFormat)?;
    let (format, welder) = match format {
        Format::StlBinary => {
            let n = formats::stl_binary::triangle_count(bytes, len)?;
            opts.limits.check_triangles(n)?;
            let mut w = Welder::new(opts.weld, n as usize);
            formats::stl_binary::parse_bytes(bytes, &opts.limits, &mut w)?;
            (format, w)
        }
        Format::StlAscii => {
            let n = formats::stl_ascii::triangle_count(bytes).min(opts.limits.max_triangles);
            let mut w = Welder::new(opts.weld, n as usize);
            formats::stl_ascii::parse(bytes, &opts.limits, &mut w)?;
            (format, w)
        }
        Format::Obj => {
            let n = formats::obj::triangle_count(bytes).min(opts.limits.max_triangles);
            let mut w = Welder::new(opts.weld, n as usize);
            formats::obj::parse(bytes, &opts.limits, &mut w)?;
            (format, w)
        }
        Format::Gltf | Format::Glb => {
            let (_, n) = formats::gltf::triangle_count(bytes, &opts.limits)?;
            let mut w = Welder::new(opts.weld, n as usize);
            let f = formats::gltf::parse(bytes, &opts.limits, &mut w)?;
            (f, w)
        }
    };
    finish(format, welder, opts)
}

/// Like [`load`], but binary STL is decoded as it is read, so memory holds the mesh and never the file.
/// Other formats are read into memory first (bounded by `limits.max_bytes`).
pub fn load_stream<R: Read + Send>(
    reader: &mut R,
    len: u64,
    opts: &AnalyzeOptions,
) -> Result<Loaded, ParseError> {
    if len == 0 {
        return Err(ParseError::Empty);
    }
    opts.limits.check_bytes(len)?;
    let mut header = [0u8; 84];
    let got = read_up_to(reader, &mut header)?;
    let prefix = &header[..got];
    let format = format::resolve(opts.format, prefix, len);
    if format == Some(Format::StlBinary) {
        let n = formats::stl_binary::triangle_count(prefix, len)?;
        opts.limits.check_triangles(n)?;
        let mut w = Welder::new(opts.weld, n as usize);
        formats::stl_binary::parse(&mut prefix.chain(reader), len, &opts.limits, &mut w)?;
        return finish(Format::StlBinary, w, opts);
    }
    let mut bytes = Vec::with_capacity(len as usize);
    bytes.extend_from_slice(prefix);
    reader
        .take(opts.limits.max_bytes)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            ParseError::malformed(
                format.unwrap_or(Format::StlBinary),
                None,
                format!("read failed: {e}"),
            )
        })?;
    load(&bytes, opts)
}

fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<usize, ParseError> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(ParseError::malformed(
                    Format::StlBinary,
                    None,
                    format!("read failed: {e}"),
                ));
            }
        }
    }
    Ok(got)
}

fn finish(format: Format, welder: Welder, opts: &AnalyzeOptions) -> Result<Loaded, ParseError> {
    let (mut mesh, weld) = welder.finish();
    if mesh.triangles.is_empty() {
        return Err(ParseError::NoTriangles);
    }
    let mut warnings = Vec::new();
    let (units, units_source) = match (opts.units, format.declares_units()) {
        (Some(u), _) => (u, UnitsSource::Override),
        (None, true) => (Units::M, UnitsSource::Declared),
        (None, false) => {
            let (u, doubt) = units::infer(measure::bbox(&mesh).max_extent());
            if let Some(message) = doubt {
                warnings.push(Warning {
                    code: "units_uncertain",
                    message,
                });
            }
            (u, UnitsSource::Inferred)
        }
    };
    let scale = units.to_mm();
    if scale != 1.0 {
        for p in &mut mesh.positions {
            *p = p.map(|x| x * scale);
        }
    }
    Ok(Loaded {
        format,
        mesh,
        units,
        units_source,
        weld,
        warnings,
    })
}

/// Measure a loaded mesh.
pub fn measure(loaded: &Loaded) -> Analysis {
    let mesh = &loaded.mesh;
    // Integrals and topology read the mesh independently; side by side they keep both cores busy.
    let ((bbox, origin, totals), topo) = rayon::join(
        || {
            let bbox = measure::bbox(mesh);
            let origin = bbox.center();
            (bbox, origin, measure::integrals(mesh, origin))
        },
        || topology::analyze(mesh),
    );
    let per_shell = if topo.shells.len() > 1 {
        measure::shell_integrals(mesh, origin, &topo.triangle_shell, topo.shells.len())
    } else {
        vec![(totals, bbox)]
    };
    let (shell_details, nesting_checked) =
        shells::classify(mesh, &topo.triangle_shell, &per_shell, &topo.shells);

    let mut warnings = loaded.warnings.clone();
    let watertight = topo.watertight();
    let count = |k: ShellKind| shell_details.iter().filter(|s| s.kind == k).count();
    let inverted_shells = count(ShellKind::Inverted);
    let nested = count(ShellKind::Nested);
    let overlapping = shell_details
        .iter()
        .filter(|s| !s.overlaps.is_empty())
        .count();
    let inverted = totals.volume < 0.0 || inverted_shells > 0;

    if loaded.weld.degenerate_dropped > 0 {
        warnings.push(Warning {
            code: "degenerate_triangles",
            message: format!(
                "{} degenerate triangles were dropped",
                loaded.weld.degenerate_dropped
            ),
        });
    }
    if topo.boundary_edges > 0 {
        warnings.push(Warning {
            code: "open_mesh",
            message: format!(
                "the surface has {} boundary edges (holes); the volume is not reliable",
                topo.boundary_edges
            ),
        });
    }
    if topo.non_manifold_edges > 0 {
        warnings.push(Warning {
            code: "non_manifold",
            message: format!(
                "{} edges are shared by more than two faces",
                topo.non_manifold_edges
            ),
        });
    }
    if topo.inconsistent_edges > 0 {
        warnings.push(Warning {
            code: "inconsistent_orientation",
            message: format!(
                "{} edges join faces that disagree about inside and outside",
                topo.inconsistent_edges
            ),
        });
    }
    if inverted {
        warnings.push(Warning {
            code: "inverted",
            message:
                "faces point inwards (the model is inside out); the volume is reported as negative"
                    .into(),
        });
    }
    if nested > 0 {
        warnings.push(Warning {
            code: "nested_shells",
            message: format!("{nested} bodies lie inside another body and are counted twice"),
        });
    }
    if overlapping > 0 {
        warnings.push(Warning {
            code: "overlapping_shells",
            message: format!(
                "{overlapping} bodies intersect each other; their shared volume is counted twice"
            ),
        });
    }
    if !nesting_checked {
        warnings.push(Warning {
            code: "too_many_shells",
            message: format!(
                "{} separate bodies: nesting and overlap were not checked",
                shell_details.len()
            ),
        });
    }

    Analysis {
        format: loaded.format,
        triangles: mesh.triangles.len() as u64,
        vertices: mesh.positions.len() as u64,
        degenerate_dropped: loaded.weld.degenerate_dropped,
        units: loaded.units,
        units_source: loaded.units_source,
        volume_mm3: totals.volume,
        area_mm2: totals.area,
        bbox_mm: bbox,
        centroid_mm: measure::centroid(&totals, origin),
        watertight,
        inverted,
        shells: shell_details.len(),
        cavities: count(ShellKind::Cavity),
        boundary_edges: topo.boundary_edges,
        non_manifold_edges: topo.non_manifold_edges,
        inconsistent_edges: topo.inconsistent_edges,
        volume_reliable: watertight
            && !inverted
            && nested == 0
            && overlapping == 0
            && nesting_checked,
        shell_details,
        warnings,
    }
}

/// Load and measure in one call.
pub fn analyze(bytes: &[u8], opts: &AnalyzeOptions) -> Result<(Analysis, Mesh), ParseError> {
    let loaded = load(bytes, opts)?;
    let analysis = measure(&loaded);
    Ok((analysis, loaded.mesh))
}
