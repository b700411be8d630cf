//! Which bodies of a model are stones, and their cut and size: a jeweller's model carries the gems it
//! is designed around, and their volume is not metal.
//!
//! A body is a stone when it sits in the metal (overlaps a metal body, lies inside one, or in its box:
//! a seat or a bezel) and either the file names it as a gem (then even an open surface counts) (an OBJ group, a glTF node, mesh or
//! material, a 3MF object called "Diamond.001", "ruby", "cz 1.5mm"...) or it looks like a cut stone:
//! closed, convex, faceted, with a table (its largest facet) across its shortest extent, and a volume
//! that fills between a cone and a cushion of its box. A metal part shaped like that (a faceted bead)
//! would be taken for a stone; a box, a cylinder or a ball is not, and the largest body never is.
//!
//! The cut is read looking down on the table: round, oval, square (princess) and rectangular (emerald,
//! baguette) by the outline's aspect and how much of its box the outline fills; anything else is
//! `other`. Carats are estimated by pricing from the volume (see `pricing::gems`).

use serde::Serialize;

use crate::measure::{Aabb, across, cross, dot, norm, sub};
use crate::mesh::Mesh;
use crate::shells::{ShellKind, ShellReport};
use crate::weld::PartName;

/// Bodies with more triangles than this are not tested for a cut-stone shape (a modelled gem has tens
/// to hundreds of facets; the test is quadratic in them). Named stones have no such limit.
pub const MAX_SHAPE_TRIANGLES: u64 = 4096;
/// Triangles tested for a cut shape per model, over all bodies: a pavé of hundreds of stones fits, a
/// file of thousands of large bodies does not make the test quadratic in the model.
pub const MAX_SHAPE_TRIANGLES_TOTAL: u64 = 1 << 18;
/// A faceted stone has at least this many flat faces and at most [`MAX_FACETS`].
pub const MIN_FACETS: usize = 8;
pub const MAX_FACETS: usize = 256;

/// Words that name a gem in a part name (compared whole, case-insensitive, with a plural `s` dropped).
pub const GEM_WORDS: &[&str] = &[
    "amethyst",
    "aquamarine",
    "brilliant",
    "cabochon",
    "citrine",
    "cz",
    "diamond",
    "emerald",
    "garnet",
    "gem",
    "gemstone",
    "moissanite",
    "opal",
    "pearl",
    "peridot",
    "ruby",
    "sapphire",
    "spinel",
    "stone",
    "tanzanite",
    "topaz",
    "tourmaline",
    "zirconia",
];

/// How a stone was told apart from the metal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundBy {
    /// Its shape: closed, convex, faceted, with a table.
    Shape,
    /// The file names it as a gem.
    Name,
}

/// How the stone sits in the metal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Seat {
    /// It intersects a metal body (modelled sunk into its setting).
    Overlapping,
    /// Wholly inside a metal body.
    Enclosed,
    /// Within a metal body's box without touching it: in a seat, a bezel or between prongs.
    InSeat,
}

/// The outline seen on the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cut {
    Round,
    Oval,
    /// Square outline (princess, asscher-like with small corners).
    Square,
    /// Rectangular outline (emerald, baguette).
    Rectangular,
    /// Not recognised (marquise, pear, heart, a cabochon...): sizes are given, no carat.
    Other,
}

/// One stone: which body it is and what it measures, in mm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stone {
    /// Index into the analysis's shells.
    pub shell: usize,
    pub found_by: FoundBy,
    /// The name the file gives the body, if any.
    pub name: Option<String>,
    pub cut: Cut,
    pub seat: Seat,
    /// Across the outline, its longer and shorter extent; `depth_mm` from the table to the culet.
    pub length_mm: f64,
    pub width_mm: f64,
    pub depth_mm: f64,
    /// Outline diameter (the mean of length and width) for a round stone.
    pub diameter_mm: Option<f64>,
    pub volume_mm3: f64,
    /// The stone's surface is closed, so its volume (and a carat) can be trusted.
    pub closed: bool,
    /// Centre of the stone's box, to find it on the model.
    pub centre_mm: [f64; 3],
}

/// Finds the stones among the shells. `shells[i]` describes the faces `f` with `triangle_shell[f] == i`;
/// `parts` are the file's part names (see [`crate::weld::Welder::name_part`]).
pub fn find(
    mesh: &Mesh,
    triangle_shell: &[u32],
    shells: &[ShellReport],
    parts: &[PartName],
) -> Vec<Stone> {
    if shells.len() < 2 {
        return Vec::new();
    }
    // The largest body is the piece itself, whatever it is called ("diamond ring").
    let largest = shells
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.volume_mm3.total_cmp(&b.1.volume_mm3))
        .map(|(i, _)| i);
    // Only the first face of each shell (for its name) and the faces of the bodies tested for a cut
    // shape are gathered: a large model of a few big bodies allocates nothing per face.
    let mut first_face = vec![u32::MAX; shells.len()];
    for (f, &s) in triangle_shell.iter().enumerate() {
        let first = &mut first_face[s as usize];
        if *first == u32::MAX {
            *first = f as u32;
        }
    }
    let mut candidates: Vec<(usize, Option<String>, bool, bool)> = Vec::new();
    let mut budget = MAX_SHAPE_TRIANGLES_TOTAL;
    for (i, shell) in shells.iter().enumerate() {
        if Some(i) == largest || shell.kind == ShellKind::Cavity {
            continue;
        }
        let name = part_name(parts, first_face[i]);
        let named = name.as_deref().is_some_and(names_a_gem);
        // A body the file names as a gem is a stone even when its surface is open (an exporter's
        // leaky gem is still not metal); an unnamed one must be a closed, outward body to be judged.
        let closed = matches!(shell.kind, ShellKind::Solid | ShellKind::Nested)
            && shell.watertight
            && shell.volume_mm3 > 0.0;
        let testable = closed && shell.triangles <= MAX_SHAPE_TRIANGLES.min(budget);
        if testable {
            budget -= shell.triangles;
        }
        if named || closed {
            candidates.push((i, name, named, testable));
        }
    }
    let mut slot = vec![usize::MAX; shells.len()];
    let mut faces: Vec<Vec<u32>> = Vec::new();
    for (i, _, _, testable) in &candidates {
        if *testable {
            slot[*i] = faces.len();
            faces.push(Vec::with_capacity(shells[*i].triangles as usize));
        }
    }
    if !faces.is_empty() {
        for (f, &s) in triangle_shell.iter().enumerate() {
            if let Some(list) = faces.get_mut(slot[s as usize]) {
                list.push(f as u32);
            }
        }
    }
    let mut stones = Vec::new();
    for (i, name, named, testable) in candidates {
        let closed = shells[i].watertight && shells[i].volume_mm3 > 0.0;
        let shape = if testable {
            facets(mesh, &faces[slot[i]])
        } else {
            None
        };
        let looks_cut = shape
            .as_ref()
            .is_some_and(|s| s.looks_cut(shells[i].volume_mm3));
        if !named && !looks_cut {
            continue;
        }
        let Some(seat) = seat(i, shells, largest) else {
            continue;
        };
        let shell = &shells[i];
        let (length, width, depth, cut) = match shape.filter(|s| s.has_table()) {
            Some(s) => (s.length, s.width, s.depth, s.cut()),
            None => {
                // A smooth or irregular named stone: its box, longest first.
                let mut size = shell.bbox_mm.size();
                size.sort_by(|a, b| b.total_cmp(a));
                (size[0], size[1], size[2], Cut::Other)
            }
        };
        stones.push(Stone {
            shell: i,
            found_by: if looks_cut {
                FoundBy::Shape
            } else {
                FoundBy::Name
            },
            name,
            cut,
            seat,
            length_mm: length,
            width_mm: width,
            depth_mm: depth,
            diameter_mm: (cut == Cut::Round).then_some((length + width) / 2.0),
            volume_mm3: shell.volume_mm3,
            closed,
            centre_mm: shell.bbox_mm.center(),
        });
    }
    stones
}

/// True when a part name contains a gem word.
pub fn names_a_gem(name: &str) -> bool {
    name.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .any(|w| {
            let w = w.to_ascii_lowercase();
            let singular = match w.strip_suffix("ies") {
                Some(stem) => format!("{stem}y"),
                None => w.strip_suffix('s').unwrap_or(&w).to_owned(),
            };
            GEM_WORDS.contains(&w.as_str()) || GEM_WORDS.contains(&singular.as_str())
        })
}

fn part_name(parts: &[PartName], face: u32) -> Option<String> {
    let at = parts.partition_point(|p| p.first_triangle <= face);
    let part = parts.get(at.checked_sub(1)?)?;
    (!part.name.is_empty()).then(|| part.name.clone())
}

/// How stone `i` sits in the metal, or `None` when it is apart from every metal body. The metal is the
/// largest body and every body that is not itself a candidate stone sitting in it; the largest is
/// enough to decide (a stone set in a separate metal part overlaps that part, which is then checked).
fn seat(i: usize, shells: &[ShellReport], largest: Option<usize>) -> Option<Seat> {
    let stone = &shells[i];
    if stone.kind == ShellKind::Nested {
        return Some(Seat::Enclosed);
    }
    if !stone.overlaps.is_empty() {
        return Some(Seat::Overlapping);
    }
    let metal = &shells[largest?];
    // A seat holds the stone within reach of the metal: its box meets the metal's, grown by a tenth of
    // the stone's size for a stone resting on prongs.
    let margin = 0.1 * stone.bbox_mm.max_extent();
    let grown = Aabb {
        min: metal.bbox_mm.min.map(|x| x - margin),
        max: metal.bbox_mm.max.map(|x| x + margin),
    };
    grown.overlaps(&stone.bbox_mm).then_some(Seat::InSeat)
}

/// A convex, faceted body's facets and its measures on its table.
struct Facets {
    /// The largest facet's area, and the outline's box across it: length ≥ width, and the depth below.
    table_area: f64,
    length: f64,
    width: f64,
    depth: f64,
    /// Area of the outline seen from above the table.
    outline_area: f64,
}

struct Plane {
    normal: [f64; 3],
    offset: f64,
    area: f64,
}

/// The body's flat faces, when it is convex and has between [`MIN_FACETS`] and [`MAX_FACETS`] of them.
fn facets(mesh: &Mesh, faces: &[u32]) -> Option<Facets> {
    let mut vertices: Vec<u32> = faces
        .iter()
        .flat_map(|&f| mesh.triangles[f as usize])
        .collect();
    vertices.sort_unstable();
    vertices.dedup();
    let points: Vec<[f64; 3]> = vertices
        .iter()
        .map(|&v| mesh.positions[v as usize])
        .collect();
    let mut bbox = Aabb::EMPTY;
    for &p in &points {
        bbox.include(p);
    }
    let extent = bbox.max_extent();
    if extent.is_nan() || extent <= 0.0 {
        return None;
    }
    // Facets are flat to the precision a file stores (f32 is 1e-7 relative); 1e-4 of the size allows
    // a modeller's rounding without merging facets a cutter makes distinct (they differ by degrees).
    let tolerance = 1e-4 * extent;
    let mut planes: Vec<Plane> = Vec::new();
    for &f in faces {
        let [a, b, c] = mesh.triangle(f as usize);
        let n = cross(sub(b, a), sub(c, a));
        let len = norm(n);
        if len.is_nan() || len <= 0.0 {
            continue;
        }
        let normal = n.map(|x| x / len);
        let offset = dot(normal, a);
        let area = 0.5 * len;
        match planes
            .iter_mut()
            .find(|p| dot(p.normal, normal) > 1.0 - 1e-6 && (p.offset - offset).abs() < tolerance)
        {
            Some(p) => p.area += area,
            None => {
                if planes.len() == MAX_FACETS {
                    return None;
                }
                planes.push(Plane {
                    normal,
                    offset,
                    area,
                });
            }
        }
    }
    if planes.len() < MIN_FACETS {
        return None;
    }
    // Convex: every corner lies on the inner side of every facet.
    let convex = planes.iter().all(|p| {
        points
            .iter()
            .all(|&v| dot(p.normal, v) - p.offset <= tolerance)
    });
    if !convex {
        return None;
    }
    let table = planes.iter().max_by(|a, b| a.area.total_cmp(&b.area))?;
    let n = table.normal;
    let depth = points
        .iter()
        .map(|&v| table.offset - dot(n, v))
        .fold(0.0, f64::max);
    // The outline's principal direction in the table's plane, from the corners' spread.
    let (e1, e2) = across(n);
    let flat: Vec<[f64; 2]> = points.iter().map(|&v| [dot(e1, v), dot(e2, v)]).collect();
    let count = flat.len() as f64;
    let mean = flat.iter().fold([0.0, 0.0], |m, p| {
        [m[0] + p[0] / count, m[1] + p[1] / count]
    });
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for p in &flat {
        let (x, y) = (p[0] - mean[0], p[1] - mean[1]);
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
    }
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let (u, w) = ([angle.cos(), angle.sin()], [-angle.sin(), angle.cos()]);
    let spread = |d: [f64; 2]| {
        let (lo, hi) = flat.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
            let x = d[0] * p[0] + d[1] * p[1];
            (lo.min(x), hi.max(x))
        });
        hi - lo
    };
    let (a, b) = (spread(u), spread(w));
    // Seen from above, a convex body's outline has the area of its faces that look up, projected.
    let outline_area = planes
        .iter()
        .map(|p| p.area * dot(p.normal, n).max(0.0))
        .sum();
    Some(Facets {
        table_area: table.area,
        length: a.max(b),
        width: a.min(b),
        depth,
        outline_area,
    })
}

impl Facets {
    /// A table across the shortest extent, taking a fair share of the outline.
    fn has_table(&self) -> bool {
        self.width > 0.0
            && self.depth < 0.9 * self.width
            && self.table_area >= 0.1 * self.length * self.width
    }

    /// A cut stone: a table, and a volume between a cone's (0.26 of the box: a pointed pavilion) and a
    /// cushion's; a box fills 1, a cylinder 0.79 and a ball 0.52, round brilliants about 0.34.
    fn looks_cut(&self, volume_mm3: f64) -> bool {
        if !self.has_table() {
            return false;
        }
        let fill = volume_mm3 / (self.length * self.width * self.depth);
        (0.2..=0.65).contains(&fill)
    }

    fn cut(&self) -> Cut {
        let aspect = self.length / self.width;
        let fill = self.outline_area / (self.length * self.width);
        // A circle fills π/4 ≈ 0.785 of its square, a 16-gon 0.78, a 64-gon 0.785; a square 1.
        let round = (0.70..=0.86).contains(&fill);
        match (aspect <= 1.06, round, fill >= 0.9) {
            (true, true, _) => Cut::Round,
            (false, true, _) => Cut::Oval,
            (true, false, true) => Cut::Square,
            (false, false, true) => Cut::Rectangular,
            _ => Cut::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gem_words_are_found_in_the_names_modellers_write() {
        for name in [
            "Diamond.001",
            "gem_round_1.5mm",
            "Stones",
            "CZ 2mm",
            "Rubies",
            "node / Mesh / Sapphire",
        ] {
            assert!(names_a_gem(name), "{name}");
        }
        for name in ["Ring", "shank", "Prong.003", "stoneware_base", "", "bezel"] {
            assert!(!names_a_gem(name), "{name}");
        }
    }

    #[test]
    fn a_part_name_covers_its_triangles_up_to_the_next() {
        let parts = [
            PartName {
                first_triangle: 0,
                name: "Band".into(),
            },
            PartName {
                first_triangle: 10,
                name: String::new(),
            },
            PartName {
                first_triangle: 20,
                name: "Diamond".into(),
            },
        ];
        assert_eq!(part_name(&parts, 0).as_deref(), Some("Band"));
        assert_eq!(part_name(&parts, 9).as_deref(), Some("Band"));
        assert_eq!(part_name(&parts, 10), None);
        assert_eq!(part_name(&parts, 25).as_deref(), Some("Diamond"));
        assert_eq!(part_name(&[], 3), None);
    }
}
