//! `pricing analyze FILE`: measurements, the ring's size and the stones, readable or as one JSON object.

use std::path::PathBuf;
use std::process::ExitCode;

use pricing_core::Analysis;
use pricing_core::pricing::RingSize;
use pricing_core::stones::Stone;

use super::EXIT_BAD_INPUT;
use super::input::ModelArgs;

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Pricing rules file for the ring-size charts (default: $PRICING_RULES, else the shipped rules).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let mut loaded = match args.model.load() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let rules = worker::load_rules(args.rules.as_deref())?;
    let analysis = pricing_core::measure(&mut loaded);
    // The bore is the metal's, as in a quote.
    let ring = pricing_core::ring::bore(&loaded.metal())
        .map(|b| pricing_core::pricing::ring_size(&b, rules.ring_sizes()));
    if args.json {
        let mut doc = serde_json::to_value(&analysis)?;
        if let Some(object) = doc.as_object_mut() {
            object.insert("ring".into(), serde_json::to_value(&ring)?);
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", render(&args.model.name(), &analysis, ring.as_ref()));
    }
    Ok(ExitCode::SUCCESS)
}

/// The ring-size line shared with `pricing quote`.
pub(super) fn ring_line(ring: &RingSize) -> String {
    let mut out = format!(
        "ring: inner diameter {:.2} mm, circumference {:.2} mm",
        ring.inner_diameter_mm, ring.inner_circumference_mm
    );
    match (&ring.note, ring.iso_8653, ring.us_canada) {
        (None, Some(iso), Some(us)) => out.push_str(&format!(
            "; size ISO 8653 {iso}, US/Canada {us}, UK/Australia {}, Japan {}\n",
            ring.uk_australia.as_deref().unwrap_or("—"),
            ring.japan.map_or("—".to_owned(), |j| j.to_string())
        )),
        (note, _, _) => out.push_str(&format!("; {}\n", note.as_deref().unwrap_or("no size"))),
    }
    out
}

/// One stone as a jeweller reads it: cut, size, how it sits and how it was recognised.
pub(super) fn stone_size(cut: impl std::fmt::Debug, s: (f64, f64, f64, Option<f64>)) -> String {
    let (length, width, depth, diameter) = s;
    match diameter {
        Some(d) => format!("{cut:?} ⌀ {d:.2} × {depth:.2} mm deep"),
        None => format!("{cut:?} {length:.2} × {width:.2} × {depth:.2} mm"),
    }
}

fn stone_line(s: &Stone) -> String {
    format!(
        "  stone {} ({:?}, found by {:?}{}) at [{:.2}, {:.2}, {:.2}]\n",
        stone_size(s.cut, (s.length_mm, s.width_mm, s.depth_mm, s.diameter_mm)),
        s.seat,
        s.found_by,
        s.name
            .as_deref()
            .map_or(String::new(), |n| format!(" \"{n}\"")),
        s.centre_mm[0],
        s.centre_mm[1],
        s.centre_mm[2]
    )
}

fn render(name: &str, a: &Analysis, ring: Option<&RingSize>) -> String {
    let [sx, sy, sz] = a.bbox_mm.size();
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut out = format!(
        "{name}\n\
         \x20 format           {}\n\
         \x20 units            {} ({:?})\n\
         \x20 triangles        {} ({} degenerate dropped)\n\
         \x20 vertices         {}\n\
         \x20 volume           {:.3} mm³{}\n\
         \x20 surface area     {:.3} mm²\n\
         \x20 size             {sx:.3} × {sy:.3} × {sz:.3} mm\n\
         \x20 shells           {} ({} cavities)\n\
         \x20 watertight       {} (boundary edges {}, non-manifold {}, flipped {})\n",
        a.format,
        a.units,
        a.units_source,
        a.triangles,
        a.degenerate_dropped,
        a.vertices,
        a.volume_mm3,
        if a.volume_reliable {
            ""
        } else {
            "  (NOT reliable)"
        },
        a.area_mm2,
        a.shells,
        a.cavities,
        yes_no(a.watertight),
        a.boundary_edges,
        a.non_manifold_edges,
        a.inconsistent_edges,
    );
    if !a.stones.is_empty() {
        out.push_str(&format!(
            "  metal            {:.3} mm³, {:.3} mm² in {} bodies; {} stones:\n",
            a.metal_volume_mm3,
            a.metal_area_mm2,
            a.metal_shells,
            a.stones.len()
        ));
        for s in &a.stones {
            out.push_str(&stone_line(s));
        }
    }
    if let Some(ring) = ring {
        out.push_str(&format!("  {}", ring_line(ring)));
    }
    for w in &a.warnings {
        out.push_str(&format!("  warning: {} [{}]\n", w.message, w.code));
    }
    out
}
