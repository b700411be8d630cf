//! The full analysis: load (parse + weld + units) then measure (integrals, topology, shells).

use std::io::Read;

use serde::Serialize;

use crate::defects::{holes, orientation};
use crate::error::ParseError;
use crate::format::{self, Format, FormatHint};
use crate::formats;
use crate::limits::Limits;
use crate::measure::{self, Aabb};
use crate::mesh::Mesh;
use crate::shells::{self, ShellKind, ShellReport};
use crate::stones::{self, Stone};
use crate::topology;
use crate::units::{self, Units, UnitsSource};
use crate::weld::{PartName, WeldMode, WeldStats, Welder};

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
    /// Another plausible reading of the file's units, when the size makes the one taken doubtful.
    pub units_alternative: Option<Units>,
    /// OBJ faces with more than three corners that are not flat (area spread in mm²).
    pub non_planar_faces: u64,
    pub non_planar_area_spread_mm2: f64,
    pub weld: WeldStats,
    pub warnings: Vec<Warning>,
    /// The names the file gives its parts, by first triangle.
    pub parts: Vec<PartName>,
    /// Faces of the bodies [`measure`] found to be stones, ascending; empty before it runs.
    pub stone_faces: Vec<u32>,
}

impl Loaded {
    /// A mesh already in memory, in millimetres, as if loaded from a binary STL with `units=mm`.
    pub fn from_mesh(mesh: Mesh) -> Loaded {
        Loaded {
            format: Format::StlBinary,
            mesh,
            units: Units::Mm,
            units_source: UnitsSource::Override,
            units_alternative: None,
            non_planar_faces: 0,
            non_planar_area_spread_mm2: 0.0,
            weld: WeldStats::default(),
            warnings: Vec::new(),
            parts: Vec::new(),
            stone_faces: Vec::new(),
        }
    }

    /// The mesh without its stones: what wall thickness, the ring's bore and the metal are measured on.
    pub fn metal(&self) -> std::borrow::Cow<'_, Mesh> {
        use std::borrow::Cow;
        if self.stone_faces.is_empty() {
            return Cow::Borrowed(&self.mesh);
        }
        let mut stone = vec![false; self.mesh.triangles.len()];
        for &f in &self.stone_faces {
            stone[f as usize] = true;
        }
        // Vertices keep their order, so the metal's numbering follows the file's as the mesh's does.
        let mut used = vec![u32::MAX; self.mesh.positions.len()];
        let mut metal = Mesh::default();
        for (t, _) in self.mesh.triangles.iter().zip(&stone).filter(|(_, s)| !**s) {
            for &v in t {
                used[v as usize] = 0;
            }
        }
        for (v, slot) in used.iter_mut().enumerate() {
            if *slot == 0 {
                *slot = metal.positions.len() as u32;
                metal.positions.push(self.mesh.positions[v]);
            }
        }
        metal.triangles = self
            .mesh
            .triangles
            .iter()
            .zip(&stone)
            .filter(|(_, s)| !**s)
            .map(|(t, _)| t.map(|v| used[v as usize]))
            .collect();
        Cow::Owned(metal)
    }
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
    /// Another plausible reading of the file's units (see [`units::suspect`]); `None` when the size
    /// leaves no doubt.
    pub units_alternative: Option<Units>,
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
    /// Boundary edges chained into closed loops: the holes to close.
    pub holes: u64,
    /// Perimeter of the largest hole (0 without holes).
    pub largest_hole_perimeter_mm: f64,
    pub non_manifold_edges: u64,
    /// Edges whose faces still disagree about inside and outside (after any repair).
    pub inconsistent_edges: u64,
    /// Faces turned to repair the orientation of closed, manifold shells; the measurements are of the
    /// repaired mesh.
    pub faces_reoriented: u64,
    /// Closed bodies that face inwards without lying inside another (not cavities).
    pub inverted_shells: u64,
    /// Metal bodies inside another, and metal bodies intersecting another metal body (a stone set in
    /// the metal is neither).
    pub nested_shells: u64,
    pub overlapping_shells: u64,
    /// OBJ faces with more than three corners that are not flat, and the surface area (mm²) that
    /// depends on how they were split into triangles.
    pub non_planar_faces: u64,
    pub non_planar_area_spread_mm2: f64,
    pub volume_reliable: bool,
    /// Volume and area of the bodies that are not stones: what the metal weight is computed from.
    pub metal_volume_mm3: f64,
    pub metal_area_mm2: f64,
    /// Bodies that are metal (all shells but the stones).
    pub metal_shells: usize,
    /// The gems the model carries (see [`stones`]); kept out of the metal.
    pub stones: Vec<Stone>,
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
    let mut non_planar = formats::obj::NonPlanar::default();
    let mut declared = None;
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
            non_planar = formats::obj::parse(bytes, &opts.limits, &mut w)?;
            (format, w)
        }
        Format::Gltf | Format::Glb => {
            let (_, n) = formats::gltf::triangle_count(bytes, &opts.limits)?;
            let mut w = Welder::new(opts.weld, n as usize);
            let f = formats::gltf::parse(bytes, &opts.limits, &mut w)?;
            declared = Some(Units::M);
            (f, w)
        }
        Format::ThreeMf => {
            let mut w = Welder::new(opts.weld, 0);
            declared = Some(formats::threemf::parse(bytes, &opts.limits, &mut w)?);
            (format, w)
        }
    };
    finish(format, welder, opts, non_planar, declared)
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
        return finish(Format::StlBinary, w, opts, Default::default(), None);
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

fn finish(
    format: Format,
    mut welder: Welder,
    opts: &AnalyzeOptions,
    non_planar: formats::obj::NonPlanar,
    declared: Option<Units>,
) -> Result<Loaded, ParseError> {
    let parts = welder.take_parts();
    let (mut mesh, weld) = welder.finish();
    if mesh.triangles.is_empty() {
        return Err(ParseError::NoTriangles);
    }
    let mut warnings = Vec::new();
    // The size decides the unit or whether to doubt it; an override leaves nothing to decide.
    let extent = match opts.units {
        Some(_) => 0.0,
        None => measure::bbox(&mesh).max_extent(),
    };
    let (units, units_source) = match (opts.units, declared) {
        (Some(u), _) => (u, UnitsSource::Override),
        (None, Some(u)) => (u, UnitsSource::Declared),
        (None, None) => {
            let (u, doubt) = units::infer(extent);
            if let Some(message) = doubt {
                warnings.push(Warning {
                    code: "units_uncertain",
                    message,
                });
            }
            (u, UnitsSource::Inferred)
        }
    };
    let units_alternative = units::suspect(extent, units, units_source);
    if let Some(alt) = units_alternative {
        let read = |u: Units| extent * u.to_mm();
        let why = if units_source == UnitsSource::Declared {
            format!("the file declares {units}, as {format} specifies")
        } else {
            format!("the file states no unit and {units} was inferred")
        };
        warnings.push(Warning {
            code: "units_suspect",
            message: format!(
                "{why}, so the model is {:.1} mm across; read as {alt} it would be {:.1} mm across. If \
                 its numbers are {alt}, price it again with units={alt}",
                read(units),
                read(alt)
            ),
        });
    }
    let scale = units.to_mm();
    if non_planar.polygons > 0 {
        warnings.push(Warning {
            code: "non_planar_faces",
            message: format!(
                "{} faces with more than three corners are not flat, so their area depends on how they \
                 are split into triangles: up to {:.2} mm² of the surface is uncertain. Triangulate the \
                 model in your modelling software to fix the surface you mean",
                non_planar.polygons,
                non_planar.area_spread * scale * scale
            ),
        });
    }
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
        units_alternative,
        non_planar_faces: non_planar.polygons,
        non_planar_area_spread_mm2: non_planar.area_spread * scale * scale,
        weld,
        warnings,
        parts,
        stone_faces: Vec::new(),
    })
}

/// Integrals and topology of a mesh, the part of [`measure`] that reads every triangle.
struct Pass {
    bbox: Aabb,
    origin: [f64; 3],
    totals: measure::Integrals,
    topo: topology::Topology,
}

fn pass(mesh: &Mesh) -> Pass {
    // Integrals and topology read the mesh independently; side by side they keep both cores busy.
    let ((bbox, origin, totals), topo) = rayon::join(
        || {
            let bbox = measure::bbox(mesh);
            let origin = bbox.center();
            (bbox, origin, measure::integrals(mesh, origin))
        },
        || topology::analyze(mesh),
    );
    Pass {
        bbox,
        origin,
        totals,
        topo,
    }
}

/// Measure a loaded mesh. A closed, manifold shell whose faces disagree about inside and outside is
/// reoriented in place first (see [`orientation`]), so `loaded.mesh` is then the repaired mesh that
/// wall thickness and pricing go on to use; the analysis says how many faces were turned.
pub fn measure(loaded: &mut Loaded) -> Analysis {
    let mut p = pass(&loaded.mesh);
    let repair = if orientation::needed(&p.topo) {
        let r = orientation::repair(&mut loaded.mesh, &p.topo);
        if r.faces_turned > 0 {
            p = pass(&loaded.mesh);
        }
        r
    } else {
        orientation::OrientationRepair::default()
    };
    let mesh = &loaded.mesh;
    let Pass {
        bbox,
        origin,
        totals,
        topo,
    } = p;
    let per_shell = if topo.shells.len() > 1 {
        measure::shell_integrals(mesh, origin, &topo.triangle_shell, topo.shells.len())
    } else {
        vec![(totals, bbox)]
    };
    let (shell_details, nesting_checked) =
        shells::classify(mesh, &topo.triangle_shell, &per_shell, &topo.shells);
    let stones = stones::find(mesh, &topo.triangle_shell, &shell_details, &loaded.parts);
    let mut is_stone = vec![false; shell_details.len()];
    for s in &stones {
        is_stone[s.shell] = true;
    }
    let (metal_volume, metal_area) = match stones.is_empty() {
        true => (totals.volume, totals.area),
        false => per_shell
            .iter()
            .zip(&is_stone)
            .filter(|(_, s)| !**s)
            .fold((0.0, 0.0), |(v, a), ((i, _), _)| (v + i.volume, a + i.area)),
    };
    loaded.stone_faces = match stones.is_empty() {
        true => Vec::new(),
        false => (0..mesh.triangles.len() as u32)
            .filter(|&f| is_stone[topo.triangle_shell[f as usize] as usize])
            .collect(),
    };
    let holes = if topo.boundary_edges > 0 {
        holes::find(mesh)
    } else {
        holes::Holes::default()
    };

    let mut warnings = loaded.warnings.clone();
    let watertight = topo.watertight();
    let count = |k: ShellKind| shell_details.iter().filter(|s| s.kind == k).count();
    // A stone set into the metal overlaps it by design: only metal bodies meeting metal are counted.
    let metal_overlaps =
        |i: usize| !is_stone[i] && shell_details[i].overlaps.iter().any(|&j| !is_stone[j]);
    // An open body's sign says nothing about its faces (its holes are the cause to report).
    let inverted_shells = shell_details
        .iter()
        .filter(|s| s.kind == ShellKind::Inverted && s.watertight)
        .count();
    let nested = shell_details
        .iter()
        .zip(&is_stone)
        .filter(|(s, stone)| s.kind == ShellKind::Nested && !**stone)
        .count();
    let overlapping = (0..shell_details.len())
        .filter(|&i| metal_overlaps(i))
        .count();
    let inverted = totals.volume < 0.0 || inverted_shells > 0;

    let mut warn = |code: &'static str, message: String| warnings.push(Warning { code, message });
    if repair.faces_turned > 0 {
        warn(
            "orientation_repaired",
            format!(
                "{} faces were wound the wrong way on a closed surface and have been turned to agree with \
                 their neighbours; the measurements are of the repaired model",
                repair.faces_turned
            ),
        );
    }
    if loaded.weld.degenerate_dropped > 0 {
        warn(
            "degenerate_triangles",
            format!(
                "{} degenerate triangles were dropped",
                loaded.weld.degenerate_dropped
            ),
        );
    }
    if topo.boundary_edges > 0 {
        warn(
            "open_mesh",
            format!(
                "the surface has {} holes ({} boundary edges; the largest hole is {:.2} mm around); the \
                 volume is not reliable",
                holes.count, topo.boundary_edges, holes.largest_perimeter_mm
            ),
        );
    }
    if topo.non_manifold_edges > 0 {
        warn(
            "non_manifold",
            format!(
                "{} edges are shared by more than two faces",
                topo.non_manifold_edges
            ),
        );
    }
    if topo.inconsistent_edges > 0 {
        warn(
            "inconsistent_orientation",
            format!(
                "{} edges join faces that disagree about inside and outside",
                topo.inconsistent_edges
            ),
        );
    }
    if totals.volume < 0.0 {
        warn(
            "inverted",
            "faces point inwards (the model is inside out); the volume is reported as negative"
                .into(),
        );
    } else if inverted_shells > 0 {
        warn(
            "inverted_shell",
            format!(
                "{inverted_shells} of {} bodies face inwards; the volume subtracts them instead of adding them",
                shell_details.len()
            ),
        );
    }
    if nested > 0 {
        warn(
            "nested_shells",
            format!("{nested} bodies lie inside another body and are counted twice"),
        );
    }
    if overlapping > 0 {
        warn(
            "overlapping_shells",
            format!(
                "{overlapping} bodies intersect each other; their shared volume is counted twice"
            ),
        );
    }
    if !stones.is_empty() {
        let volume: f64 = stones.iter().map(|s| s.volume_mm3).sum();
        warn(
            "stones_found",
            format!(
                "{} bodies are stones ({volume:.2} mm³ in all): they are listed in the gem table and \
                 kept out of the metal",
                stones.len()
            ),
        );
    }
    if !nesting_checked {
        warn(
            "too_many_shells",
            format!(
                "{} separate bodies: nesting and overlap were not checked",
                shell_details.len()
            ),
        );
    }

    Analysis {
        format: loaded.format,
        triangles: mesh.triangles.len() as u64,
        vertices: mesh.positions.len() as u64,
        degenerate_dropped: loaded.weld.degenerate_dropped,
        units: loaded.units,
        units_source: loaded.units_source,
        units_alternative: loaded.units_alternative,
        volume_mm3: totals.volume,
        area_mm2: totals.area,
        bbox_mm: bbox,
        centroid_mm: measure::centroid(&totals, origin),
        watertight,
        inverted,
        shells: shell_details.len(),
        cavities: count(ShellKind::Cavity),
        boundary_edges: topo.boundary_edges,
        holes: holes.count,
        largest_hole_perimeter_mm: holes.largest_perimeter_mm,
        non_manifold_edges: topo.non_manifold_edges,
        inconsistent_edges: topo.inconsistent_edges,
        faces_reoriented: repair.faces_turned,
        inverted_shells: inverted_shells as u64,
        nested_shells: nested as u64,
        overlapping_shells: overlapping as u64,
        non_planar_faces: loaded.non_planar_faces,
        non_planar_area_spread_mm2: loaded.non_planar_area_spread_mm2,
        volume_reliable: watertight
            && !inverted
            && nested == 0
            && overlapping == 0
            && nesting_checked,
        metal_volume_mm3: metal_volume,
        metal_area_mm2: metal_area,
        metal_shells: shell_details.len() - stones.len(),
        stones,
        shell_details,
        warnings,
    }
}

/// Load and measure in one call.
pub fn analyze(bytes: &[u8], opts: &AnalyzeOptions) -> Result<(Analysis, Mesh), ParseError> {
    let mut loaded = load(bytes, opts)?;
    let analysis = measure(&mut loaded);
    Ok((analysis, loaded.mesh))
}
