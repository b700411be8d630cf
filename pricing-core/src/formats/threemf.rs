//! 3MF (3D Manufacturing Format, core specification 1.3): a zip package whose model part is XML.
//!
//! What is read: the model part named by the package relationships (`_rels/.rels`, falling back to
//! `3D/3dmodel.model`), its `unit` (micron to metre), every `object` with a `mesh` or `components`, and
//! the `build` items, each placed by its own transform and its components' (3 × 4 affine matrices,
//! applied to row vectors as the specification writes them). Objects that no build item reaches are
//! not part of the printed piece and are left out, as a slicer does.
//!
//! Bounded memory: a zip entry is read only up to `Limits::max_unzipped_bytes` (its declared size is
//! checked first, then the bytes actually inflated, since a header can lie), so a zip bomb is refused
//! early; triangles are counted against `max_triangles` as build items place them, so a component
//! instanced a million times is refused before it is expanded; components nest at most
//! [`MAX_DEPTH`] deep, which also stops a cycle.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::error::ParseError;
use crate::format::Format;
use crate::limits::Limits;
use crate::units::Units;
use crate::weld::Welder;

/// Components referring to components: deeper than any CAD export, and a cycle ends here.
pub const MAX_DEPTH: usize = 16;

const DEFAULT_MODEL_PART: &str = "3D/3dmodel.model";
/// Extensions whose required presence does not change the geometry read here (colours and materials).
const IGNORABLE_EXTENSIONS: &[&str] =
    &["http://schemas.microsoft.com/3dmanufacturing/material/2015/02"];
const MODEL_RELATIONSHIP: &str = "http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel";

/// A 3 × 4 affine transform as 3MF writes it: `m00 m01 m02 m10 m11 m12 m20 m21 m22 m30 m31 m32`,
/// a point `p` maps to `p · M` with the last row the translation.
type Affine = [f64; 12];

const IDENTITY: Affine = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];

#[derive(Default)]
struct Object {
    /// The object's `name` attribute (what a designer called it, e.g. "Diamond 1.5").
    name: String,
    vertices: Vec<[f64; 3]>,
    triangles: Vec<[u32; 3]>,
    components: Vec<(u64, Affine)>,
}

/// The model part, read: objects by id, build items, the unit.
struct Model {
    objects: HashMap<u64, Object>,
    build: Vec<(u64, Affine)>,
    units: Units,
    /// Micron and foot are not among [`Units`]: coordinates are scaled by this to the unit reported.
    scale: f64,
}

fn malformed(detail: impl Into<String>) -> ParseError {
    ParseError::malformed(Format::ThreeMf, None, detail)
}

/// Whether the bytes start like a zip (sniffing: 3MF is the only zip format accepted).
pub fn looks_like_3mf(prefix: &[u8]) -> bool {
    prefix.starts_with(b"PK\x03\x04")
}

/// Triangles the build would place, without welding: the count the scheduler routes on.
pub fn triangle_count(bytes: &[u8], limits: &Limits) -> Result<u64, ParseError> {
    placed(&read_model(bytes, limits)?, limits)
}

/// Triangles every build item places, checked against the limit item by item.
fn placed(model: &Model, limits: &Limits) -> Result<u64, ParseError> {
    let mut total = 0u64;
    for (id, _) in &model.build {
        total = total.saturating_add(placed_triangles(model, *id, 0)?);
        limits.check_triangles(total)?;
    }
    Ok(total)
}

/// Parses the package into `welder`, in millimetres scaled to the unit returned.
pub fn parse(bytes: &[u8], limits: &Limits, welder: &mut Welder) -> Result<Units, ParseError> {
    let model = read_model(bytes, limits)?;
    placed(&model, limits)?;
    let mut corners = Vec::new();
    for (id, transform) in &model.build {
        emit(&model, *id, transform, welder, &mut corners)?;
    }
    Ok(model.units)
}

fn placed_triangles(model: &Model, id: u64, depth: usize) -> Result<u64, ParseError> {
    if depth > MAX_DEPTH {
        return Err(malformed(format!(
            "components nest more than {MAX_DEPTH} deep (or refer to themselves)"
        )));
    }
    let object = model.objects.get(&id).ok_or_else(|| {
        malformed(format!(
            "the build refers to object {id}, which is not defined"
        ))
    })?;
    let mut n = object.triangles.len() as u64;
    for (child, _) in &object.components {
        n = n.saturating_add(placed_triangles(model, *child, depth + 1)?);
    }
    Ok(n)
}

/// Places object `id` and its components (their depth was checked by [`placed_triangles`]).
fn emit(
    model: &Model,
    id: u64,
    transform: &Affine,
    welder: &mut Welder,
    corners: &mut Vec<u32>,
) -> Result<(), ParseError> {
    let Some(object) = model.objects.get(&id) else {
        return Err(malformed(format!("object {id} is not defined")));
    };
    // A mirroring transform turns the faces inside out: wind them back.
    let flip = determinant(transform) < 0.0;
    if !object.triangles.is_empty() {
        welder.name_part(&object.name);
    }
    corners.clear();
    let points: Vec<[f64; 3]> = object
        .vertices
        .iter()
        .map(|p| apply(transform, p).map(|x| x * model.scale))
        .collect();
    welder.vertices(&points, corners);
    for t in &object.triangles {
        let v = t.map(|i| corners[i as usize]);
        welder.triangle(if flip { [v[0], v[2], v[1]] } else { v });
    }
    for (child, local) in &object.components {
        // The child is placed by its own transform, then by its parent's.
        emit(model, *child, &compose(local, transform), welder, corners)?;
    }
    Ok(())
}

/// `p · M`.
fn apply(m: &Affine, p: &[f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|c| p[0] * m[c] + p[1] * m[3 + c] + p[2] * m[6 + c] + m[9 + c])
}

/// The transform that applies `first`, then `then`.
fn compose(first: &Affine, then: &Affine) -> Affine {
    let mut out = [0.0; 12];
    for r in 0..3 {
        for c in 0..3 {
            out[3 * r + c] = (0..3).map(|k| first[3 * r + k] * then[3 * k + c]).sum();
        }
    }
    let t = apply(then, &[first[9], first[10], first[11]]);
    out[9..12].copy_from_slice(&t);
    out
}

fn determinant(m: &Affine) -> f64 {
    m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
        + m[2] * (m[3] * m[7] - m[4] * m[6])
}

fn read_model(bytes: &[u8], limits: &Limits) -> Result<Model, ParseError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| malformed(format!("not a readable zip package: {e}")))?;
    let part = model_part(&mut zip, limits)?;
    let xml = entry(&mut zip, &part, limits)?
        .ok_or_else(|| malformed(format!("the package has no model part {part}")))?;
    parse_model(&xml, limits)
}

/// The model part's name from the package relationships, or the conventional one.
fn model_part(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    limits: &Limits,
) -> Result<String, ParseError> {
    let Some(rels) = entry(zip, "_rels/.rels", limits)? else {
        return Ok(DEFAULT_MODEL_PART.to_owned());
    };
    let mut reader = Reader::from_reader(rels.as_slice());
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Empty(e) | Event::Start(e)) if e.local_name().as_ref() == b"Relationship" => {
                let kind = attr(&e, b"Type")?;
                if kind.as_deref() == Some(MODEL_RELATIONSHIP)
                    && let Some(target) = attr(&e, b"Target")?
                {
                    return Ok(target.trim_start_matches('/').to_owned());
                }
            }
            Ok(Event::Eof) => return Ok(DEFAULT_MODEL_PART.to_owned()),
            Ok(_) => {}
            Err(e) => return Err(malformed(format!("_rels/.rels is not valid XML: {e}"))),
        }
        buf.clear();
    }
}

/// An entry's bytes, refused beyond `max_unzipped_bytes` whatever its header claims.
fn entry(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, ParseError> {
    let mut file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(malformed(format!("cannot open {name}: {e}"))),
    };
    let limit = limits.max_unzipped_bytes;
    if file.size() > limit {
        return Err(ParseError::TooLarge {
            found: file.size(),
            limit,
        });
    }
    let mut out = Vec::with_capacity(file.size() as usize);
    (&mut file)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| malformed(format!("cannot inflate {name}: {e}")))?;
    if out.len() as u64 > limit {
        return Err(ParseError::TooLarge {
            found: out.len() as u64,
            limit,
        });
    }
    Ok(Some(out))
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, ParseError> {
    for a in e.attributes() {
        let a = a.map_err(|err| malformed(format!("bad attribute: {err}")))?;
        if a.key.local_name().as_ref() == name {
            // 3MF parts are XML 1.0; attribute values are numbers and names, so normalising whitespace
            // as 1.0 does cannot change them.
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| malformed(format!("bad attribute value: {err}")))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

/// An attribute's text as it stands in the part, when it holds no entity reference (a number never
/// does): the millions of vertex coordinates are read without a String each, which was half of a
/// large model's parse time.
fn raw_attr<'a>(e: &'a BytesStart<'_>, name: &[u8]) -> Result<Option<Cow<'a, str>>, ParseError> {
    for a in e.attributes() {
        let a = a.map_err(|err| malformed(format!("bad attribute: {err}")))?;
        if a.key.local_name().as_ref() != name {
            continue;
        }
        if a.value.contains(&b'&') {
            return Ok(attr(e, name)?.map(Cow::Owned));
        }
        let text = match a.value {
            Cow::Borrowed(b) => std::str::from_utf8(b).map(Cow::Borrowed).ok(),
            Cow::Owned(v) => String::from_utf8(v).map(Cow::Owned).ok(),
        };
        return text
            .map(Some)
            .ok_or_else(|| malformed("an attribute is not UTF-8"));
    }
    Ok(None)
}

fn number(e: &BytesStart<'_>, name: &[u8], what: &str) -> Result<f64, ParseError> {
    let text = raw_attr(e, name)?.ok_or_else(|| {
        malformed(format!(
            "a {what} has no {} attribute",
            String::from_utf8_lossy(name)
        ))
    })?;
    let x: f64 = text
        .trim()
        .parse()
        .map_err(|_| malformed(format!("a {what} has {text:?} where a number belongs")))?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(ParseError::NonFinite {
            format: Format::ThreeMf,
            triangle: 0,
        })
    }
}

fn index(e: &BytesStart<'_>, name: &[u8]) -> Result<u64, ParseError> {
    let text = raw_attr(e, name)?.ok_or_else(|| {
        malformed(format!(
            "a triangle or reference has no {} attribute",
            String::from_utf8_lossy(name)
        ))
    })?;
    text.trim()
        .parse()
        .map_err(|_| malformed(format!("{text:?} is not an index")))
}

fn transform(e: &BytesStart<'_>) -> Result<Affine, ParseError> {
    let Some(text) = attr(e, b"transform")? else {
        return Ok(IDENTITY);
    };
    let values: Vec<f64> = text
        .split_ascii_whitespace()
        .map(|v| v.parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| malformed(format!("transform {text:?} is not 12 numbers")))?;
    let m: Affine = values
        .try_into()
        .map_err(|_| malformed(format!("transform {text:?} is not 12 numbers")))?;
    if m.iter().all(|x| x.is_finite()) {
        Ok(m)
    } else {
        Err(malformed(format!(
            "transform {text:?} has a non-finite number"
        )))
    }
}

/// Refuses a model whose `requiredextensions` names one that changes what the geometry is (beam
/// lattices, slices, production parts, volumetric data): a consumer that ignored it would price
/// something other than the piece.
fn required_extensions(model: &BytesStart<'_>) -> Result<(), ParseError> {
    let Some(required) = attr(model, b"requiredextensions")? else {
        return Ok(());
    };
    for prefix in required.split_ascii_whitespace() {
        let mut namespace = None;
        for a in model.attributes().flatten() {
            let key = a.key.as_ref();
            if key.strip_prefix(b"xmlns:") == Some(prefix.as_bytes()) {
                namespace = Some(String::from_utf8_lossy(&a.value).into_owned());
            }
        }
        let namespace = namespace.unwrap_or_else(|| prefix.to_owned());
        if !IGNORABLE_EXTENSIONS.contains(&namespace.as_str()) {
            return Err(ParseError::Unsupported3mfExtension(namespace));
        }
    }
    Ok(())
}

/// The production extension's `p:path` places objects from another model part; not read here.
fn no_external_part(e: &BytesStart<'_>) -> Result<(), ParseError> {
    match attr(e, b"path")? {
        Some(path) => Err(ParseError::Unsupported3mfExtension(format!(
            "production (an object in another part, {path})"
        ))),
        None => Ok(()),
    }
}

fn unit(name: &str) -> Result<(Units, f64), ParseError> {
    Ok(match name {
        "micron" => (Units::Mm, 0.001),
        "millimeter" => (Units::Mm, 1.0),
        "centimeter" => (Units::Cm, 1.0),
        "inch" => (Units::In, 1.0),
        "foot" => (Units::In, 12.0),
        "meter" => (Units::M, 1.0),
        other => {
            return Err(malformed(format!(
                "unit {other:?} is not one of micron, millimeter, centimeter, inch, foot, meter"
            )));
        }
    })
}

fn parse_model(xml: &[u8], limits: &Limits) -> Result<Model, ParseError> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut model = Model {
        objects: HashMap::new(),
        build: Vec::new(),
        // The specification's default unit.
        units: Units::Mm,
        scale: 1.0,
    };
    let mut current: Option<(u64, Object)> = None;
    let mut read_triangles = 0u64;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| malformed(format!("the model part is not valid XML: {e}")))?;
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                b"model" => {
                    if let Some(u) = attr(&e, b"unit")? {
                        (model.units, model.scale) = unit(u.trim())?;
                    }
                    required_extensions(&e)?;
                }
                b"object" => {
                    let id = index(&e, b"id")?;
                    let name = attr(&e, b"name")?.unwrap_or_default();
                    current = Some((
                        id,
                        Object {
                            name,
                            ..Object::default()
                        },
                    ));
                }
                b"vertex" => {
                    let (_, o) = current
                        .as_mut()
                        .ok_or_else(|| malformed("a vertex outside an object"))?;
                    o.vertices.push([
                        number(&e, b"x", "vertex")?,
                        number(&e, b"y", "vertex")?,
                        number(&e, b"z", "vertex")?,
                    ]);
                }
                b"triangle" => {
                    read_triangles += 1;
                    limits.check_triangles(read_triangles)?;
                    let (id, o) = current
                        .as_mut()
                        .ok_or_else(|| malformed("a triangle outside an object"))?;
                    let v = [index(&e, b"v1")?, index(&e, b"v2")?, index(&e, b"v3")?];
                    let n = o.vertices.len() as u64;
                    if let Some(&bad) = v.iter().find(|&&i| i >= n) {
                        return Err(ParseError::IndexOutOfRange {
                            format: Format::ThreeMf,
                            line: None,
                            detail: format!(
                                "object {id} has a triangle on vertex {bad}, but {n} vertices"
                            ),
                        });
                    }
                    o.triangles.push(v.map(|i| i as u32));
                }
                b"component" => {
                    let (_, o) = current
                        .as_mut()
                        .ok_or_else(|| malformed("a component outside an object"))?;
                    no_external_part(&e)?;
                    o.components.push((index(&e, b"objectid")?, transform(&e)?));
                }
                b"item" => {
                    no_external_part(&e)?;
                    model.build.push((index(&e, b"objectid")?, transform(&e)?));
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == b"object" => {
                if let Some((id, o)) = current.take()
                    && model.objects.insert(id, o).is_some()
                {
                    return Err(malformed(format!("object id {id} is defined twice")));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if model.build.is_empty() {
        return Err(malformed("the build has no items: nothing would be made"));
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_compose_as_row_vectors() {
        // Scale by 2, then move by (10, 0, 0): (1, 1, 1) -> (12, 2, 2).
        let scale = [2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0];
        let shift = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 10.0, 0.0, 0.0];
        let both = compose(&scale, &shift);
        assert_eq!(apply(&both, &[1.0, 1.0, 1.0]), [12.0, 2.0, 2.0]);
        let other = compose(&shift, &scale);
        assert_eq!(apply(&other, &[1.0, 1.0, 1.0]), [22.0, 2.0, 2.0]);
        assert_eq!(determinant(&both), 8.0);
    }

    #[test]
    fn unit_table() {
        let cases = [
            ("micron", Units::Mm, 0.001),
            ("millimeter", Units::Mm, 1.0),
            ("centimeter", Units::Cm, 1.0),
            ("inch", Units::In, 1.0),
            ("foot", Units::In, 12.0),
            ("meter", Units::M, 1.0),
        ];
        for (name, units, scale) in cases {
            assert_eq!(unit(name).unwrap(), (units, scale), "{name}");
        }
        assert!(unit("furlong").is_err());
    }
}
