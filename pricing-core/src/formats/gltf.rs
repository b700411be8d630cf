//! glTF 2.0 (`.gltf` with embedded `data:` buffers) and GLB.
//!
//! The `gltf` crate parses and validates the JSON; the GLB container and the accessor bytes are read here,
//! with checked arithmetic, because the crate's own readers assert on inconsistent lengths (a panic on
//! hostile input) and its `import` opens the files an upload names. Only the GLB `BIN` chunk and
//! size-capped `data:` URIs are ever read.

use std::borrow::Cow;

use base64::Engine;
use gltf::accessor::{DataType, Dimensions};
use gltf::mesh::Mode;

use crate::error::ParseError;
use crate::format::Format;
use crate::limits::Limits;
use crate::weld::{WINDOW, Welder};

/// Node instances visited at most: a hostile node graph (shared children) cannot explode the work.
const MAX_NODE_INSTANCES: usize = 100_000;
const MAX_DEPTH: usize = 64;

type Mat4 = [[f64; 4]; 4];
const IDENTITY: Mat4 = [
    [1., 0., 0., 0.],
    [0., 1., 0., 0.],
    [0., 0., 1., 0.],
    [0., 0., 0., 1.],
];

struct Container<'a> {
    json: &'a [u8],
    bin: Option<&'a [u8]>,
    format: Format,
}

/// Triangles the scene would produce, from the JSON alone (accessor counts), without reading geometry.
pub fn triangle_count(bytes: &[u8], limits: &Limits) -> Result<(Format, u64), ParseError> {
    let container = split(bytes)?;
    let doc = document(container.json)?;
    let mut total = 0u64;
    for (_, mesh, _) in instances(&doc)? {
        for primitive in mesh.primitives() {
            total = total.saturating_add(primitive_triangles(&primitive).unwrap_or(0));
        }
    }
    limits.check_triangles(total)?;
    Ok((container.format, total))
}

pub fn parse(bytes: &[u8], limits: &Limits, welder: &mut Welder) -> Result<Format, ParseError> {
    let container = split(bytes)?;
    let format = container.format;
    let doc = document(container.json)?;
    let buffers = load_buffers(&doc, container.bin, limits)?;
    let instances = instances(&doc)?;

    let mut total = 0u64;
    for (_, mesh, _) in &instances {
        for primitive in mesh.primitives() {
            total = total.saturating_add(primitive_triangles(&primitive).unwrap_or(0));
        }
    }
    limits.check_triangles(total)?;

    for (node, mesh, world) in &instances {
        let flip = determinant3(world) < 0.0;
        for primitive in mesh.primitives() {
            if primitive_triangles(&primitive).is_none() {
                continue;
            }
            welder.name_part(&part_name(node, mesh, &primitive));
            read_primitive(&primitive, world, flip, &buffers, welder)?;
        }
    }
    Ok(format)
}

fn split(bytes: &[u8]) -> Result<Container<'_>, ParseError> {
    if !bytes.starts_with(b"glTF") {
        return Ok(Container {
            json: bytes,
            bin: None,
            format: Format::Gltf,
        });
    }
    let f = Format::Glb;
    let u32_at = |o: usize| -> Result<u32, ParseError> {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| ParseError::truncated(f, "the file ends inside a header"))
    };
    let version = u32_at(4)?;
    if version != 2 {
        return Err(ParseError::malformed(
            f,
            None,
            format!("GLB version {version}; only version 2 is supported"),
        ));
    }
    let declared = u32_at(8)? as usize;
    if declared > bytes.len() {
        return Err(ParseError::truncated(
            f,
            format!(
                "the header declares {declared} bytes but the file has {}",
                bytes.len()
            ),
        ));
    }
    let body = &bytes[..declared];
    let mut offset = 12usize;
    let mut json = None;
    let mut bin = None;
    while offset + 8 <= body.len() {
        let len = u32_at(offset)? as usize;
        let kind = &body[offset + 4..offset + 8];
        let start = offset + 8;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= body.len())
            .ok_or_else(|| ParseError::truncated(f, "a chunk extends past the end of the file"))?;
        match kind {
            b"JSON" if json.is_none() => json = Some(&body[start..end]),
            b"BIN\0" if bin.is_none() && json.is_some() => bin = Some(&body[start..end]),
            _ => {}
        }
        offset = end;
    }
    let json = json.ok_or_else(|| ParseError::malformed(f, None, "the GLB has no JSON chunk"))?;
    Ok(Container {
        json,
        bin,
        format: f,
    })
}

/// Extensions that change nothing about geometry; a file may require them and still be measured.
fn harmless_extension(name: &str) -> bool {
    name.starts_with("KHR_materials_")
        || name == "KHR_texture_transform"
        || name == "KHR_lights_punctual"
}

fn document(json: &[u8]) -> Result<gltf::Document, ParseError> {
    let mut root: gltf::json::Root =
        gltf::json::deserialize::from_slice(json).map_err(|e| ParseError::Json(e.to_string()))?;
    if let Some(ext) = root
        .extensions_required
        .iter()
        .find(|e| !harmless_extension(e))
    {
        return Err(ParseError::UnsupportedExtension(ext.clone()));
    }
    root.extensions_required.clear();
    gltf::Document::from_json(root).map_err(|e| ParseError::Json(format!("validation failed: {e}")))
}

fn load_buffers<'a>(
    doc: &gltf::Document,
    bin: Option<&'a [u8]>,
    limits: &Limits,
) -> Result<Vec<Cow<'a, [u8]>>, ParseError> {
    let mut out = Vec::new();
    for buffer in doc.buffers() {
        let data: Cow<'a, [u8]> = match buffer.source() {
            gltf::buffer::Source::Bin => Cow::Borrowed(bin.ok_or_else(|| {
                ParseError::malformed(Format::Glb, None, "a buffer refers to a missing BIN chunk")
            })?),
            gltf::buffer::Source::Uri(uri) => Cow::Owned(decode_data_uri(uri, limits)?),
        };
        if data.len() < buffer.length() {
            return Err(ParseError::truncated(
                Format::Gltf,
                format!(
                    "buffer {} declares {} bytes but holds {}",
                    buffer.index(),
                    buffer.length(),
                    data.len()
                ),
            ));
        }
        out.push(data);
    }
    Ok(out)
}

fn decode_data_uri(uri: &str, limits: &Limits) -> Result<Vec<u8>, ParseError> {
    let Some(rest) = uri.strip_prefix("data:") else {
        let shown: String = uri.chars().take(80).collect();
        return Err(ParseError::ExternalUri(shown));
    };
    let (meta, payload) = rest
        .split_once(',')
        .ok_or_else(|| ParseError::malformed(Format::Gltf, None, "a data: URI has no comma"))?;
    if !meta.ends_with(";base64") {
        return Err(ParseError::malformed(
            Format::Gltf,
            None,
            "only base64 data: URIs are supported",
        ));
    }
    let decoded_len = (payload.len() as u64 / 4) * 3;
    if decoded_len > limits.max_data_uri_bytes {
        return Err(ParseError::TooLarge {
            found: decoded_len,
            limit: limits.max_data_uri_bytes,
        });
    }
    base64::engine::general_purpose::STANDARD
        .decode(payload)
        .map_err(|e| {
            ParseError::malformed(
                Format::Gltf,
                None,
                format!("a data: URI is not valid base64: {e}"),
            )
        })
}

/// What the file calls a primitive: its node's, mesh's and material's names, any of which may say "diamond".
fn part_name(node: &gltf::Node<'_>, mesh: &gltf::Mesh<'_>, p: &gltf::Primitive<'_>) -> String {
    [node.name(), mesh.name(), p.material().name()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" / ")
}

/// Every mesh placed in the scene, with its node and world transform. Uses the default scene, else the
/// first, else every root node.
type Instance<'a> = (gltf::Node<'a>, gltf::Mesh<'a>, Mat4);

fn instances(doc: &gltf::Document) -> Result<Vec<Instance<'_>>, ParseError> {
    let roots: Vec<gltf::Node<'_>> = match doc.default_scene().or_else(|| doc.scenes().next()) {
        Some(scene) => scene.nodes().collect(),
        None => {
            let mut is_child = vec![false; doc.nodes().len()];
            for node in doc.nodes() {
                for child in node.children() {
                    is_child[child.index()] = true;
                }
            }
            doc.nodes().filter(|n| !is_child[n.index()]).collect()
        }
    };
    let mut stack: Vec<(gltf::Node<'_>, Mat4, usize)> =
        roots.into_iter().map(|n| (n, IDENTITY, 0)).collect();
    let mut out = Vec::new();
    let mut visited = 0usize;
    while let Some((node, parent, depth)) = stack.pop() {
        visited += 1;
        if visited > MAX_NODE_INSTANCES || depth > MAX_DEPTH {
            return Err(ParseError::Json(
                "the node hierarchy is cyclic or too large".into(),
            ));
        }
        let local = node.transform().matrix().map(|col| col.map(|x| x as f64));
        let world = multiply(&parent, &local);
        for child in node.children() {
            stack.push((child, world, depth + 1));
        }
        if let Some(mesh) = node.mesh() {
            out.push((node, mesh, world));
        }
    }
    Ok(out)
}

/// Triangles a primitive makes, or `None` when it is not a triangle primitive (points, lines).
fn primitive_triangles(p: &gltf::Primitive<'_>) -> Option<u64> {
    let count = match p.indices() {
        Some(a) => a.count(),
        None => p.get(&gltf::Semantic::Positions)?.count(),
    } as u64;
    match p.mode() {
        Mode::Triangles => Some(count / 3),
        Mode::TriangleStrip | Mode::TriangleFan => Some(count.saturating_sub(2)),
        _ => None,
    }
}

fn read_primitive(
    p: &gltf::Primitive<'_>,
    world: &Mat4,
    flip: bool,
    buffers: &[Cow<'_, [u8]>],
    welder: &mut Welder,
) -> Result<(), ParseError> {
    let positions = p
        .get(&gltf::Semantic::Positions)
        .ok_or_else(|| ParseError::Json(format!("mesh primitive {} has no POSITION", p.index())))?;
    if positions.data_type() != DataType::F32 || positions.dimensions() != Dimensions::Vec3 {
        return Err(ParseError::Json(
            "POSITION must be FLOAT VEC3 (quantized positions are not supported)".into(),
        ));
    }
    let pos = ElementReader::new(&positions, buffers)?;
    let mut welded = Vec::with_capacity(pos.count);
    let mut window = Vec::with_capacity(WINDOW);
    for i in 0..pos.count {
        let b = pos.element(i);
        let f = |k: usize| {
            f32::from_le_bytes([b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3]]) as f64
        };
        let local = [f(0), f(1), f(2)];
        if local.iter().any(|x| !x.is_finite()) {
            return Err(ParseError::NonFinite {
                format: Format::Gltf,
                triangle: i as u64 / 3,
            });
        }
        window.push(transform_point(world, local));
        if window.len() == WINDOW {
            welder.vertices(&window, &mut welded);
            window.clear();
        }
    }
    welder.vertices(&window, &mut welded);

    let indices: Vec<u32> = match p.indices() {
        None => (0..pos.count as u32).collect(),
        Some(acc) => {
            if acc.dimensions() != Dimensions::Scalar {
                return Err(ParseError::Json("indices must be SCALAR".into()));
            }
            let r = ElementReader::new(&acc, buffers)?;
            let read: fn(&[u8]) -> u32 = match acc.data_type() {
                DataType::U8 => |b| b[0] as u32,
                DataType::U16 => |b| u16::from_le_bytes([b[0], b[1]]) as u32,
                DataType::U32 => |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                other => {
                    return Err(ParseError::Json(format!(
                        "indices of type {other:?} are not allowed"
                    )));
                }
            };
            (0..r.count).map(|i| read(r.element(i))).collect()
        }
    };
    let lookup = |i: u32| -> Result<u32, ParseError> {
        welded
            .get(i as usize)
            .copied()
            .ok_or_else(|| ParseError::IndexOutOfRange {
                format: Format::Gltf,
                line: None,
                detail: format!("index {i} but the primitive has {} vertices", welded.len()),
            })
    };
    let mut emit = |a: u32, b: u32, c: u32| -> Result<(), ParseError> {
        let t = [lookup(a)?, lookup(b)?, lookup(c)?];
        welder.triangle(if flip { [t[0], t[2], t[1]] } else { t });
        Ok(())
    };
    match p.mode() {
        Mode::Triangles => {
            for t in indices.chunks_exact(3) {
                emit(t[0], t[1], t[2])?;
            }
        }
        // Strip winding alternates so every triangle keeps the strip's orientation (glTF spec 3.7.2.1).
        Mode::TriangleStrip => {
            for i in 0..indices.len().saturating_sub(2) {
                if i % 2 == 0 {
                    emit(indices[i], indices[i + 1], indices[i + 2])?;
                } else {
                    emit(indices[i + 1], indices[i], indices[i + 2])?;
                }
            }
        }
        Mode::TriangleFan => {
            for i in 1..indices.len().saturating_sub(1) {
                emit(indices[i], indices[i + 1], indices[0])?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Bounds-checked access to an accessor's elements.
struct ElementReader<'b> {
    data: &'b [u8],
    start: usize,
    stride: usize,
    size: usize,
    count: usize,
}

impl<'b> ElementReader<'b> {
    fn new(acc: &gltf::Accessor<'_>, buffers: &'b [Cow<'_, [u8]>]) -> Result<Self, ParseError> {
        let bad = |what: &str| ParseError::Json(format!("accessor {}: {what}", acc.index()));
        if acc.sparse().is_some() {
            return Err(bad("sparse accessors are not supported"));
        }
        let view = acc.view().ok_or_else(|| bad("has no buffer view"))?;
        let data: &[u8] = buffers
            .get(view.buffer().index())
            .ok_or_else(|| bad("refers to a missing buffer"))?;
        let size = acc.size();
        let stride = view.stride().unwrap_or(size);
        if stride < size {
            return Err(bad("byteStride is smaller than an element"));
        }
        let count = acc.count();
        let view_end = view
            .offset()
            .checked_add(view.length())
            .ok_or_else(|| bad("view overflows"))?;
        let start = view
            .offset()
            .checked_add(acc.offset())
            .ok_or_else(|| bad("offset overflows"))?;
        if count > 0 {
            let last_end = (count - 1)
                .checked_mul(stride)
                .and_then(|x| x.checked_add(start))
                .and_then(|x| x.checked_add(size))
                .ok_or_else(|| bad("extent overflows"))?;
            if last_end > view_end || view_end > data.len() {
                return Err(ParseError::truncated(
                    Format::Gltf,
                    format!("accessor {} reads past its buffer", acc.index()),
                ));
            }
        }
        Ok(ElementReader {
            data,
            start,
            stride,
            size,
            count,
        })
    }

    fn element(&self, i: usize) -> &'b [u8] {
        let o = self.start + i * self.stride;
        &self.data[o..o + self.size]
    }
}

fn multiply(a: &Mat4, b: &Mat4) -> Mat4 {
    // Column-major, as glTF stores matrices: result[col][row].
    let mut r = [[0.0; 4]; 4];
    for (col, out) in r.iter_mut().enumerate() {
        for (row, cell) in out.iter_mut().enumerate() {
            *cell = (0..4).map(|k| a[k][row] * b[col][k]).sum();
        }
    }
    r
}

fn transform_point(m: &Mat4, p: [f64; 3]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (row, o) in out.iter_mut().enumerate() {
        *o = m[0][row] * p[0] + m[1][row] * p[1] + m[2][row] * p[2] + m[3][row];
    }
    out
}

fn determinant3(m: &Mat4) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[2][1] * m[1][2])
        - m[1][0] * (m[0][1] * m[2][2] - m[2][1] * m[0][2])
        + m[2][0] * (m[0][1] * m[1][2] - m[1][1] * m[0][2])
}
