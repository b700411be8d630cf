//! `pricing analyze FILE`: measurements, readable or as one JSON object.

use std::process::ExitCode;

use pricing_core::Analysis;

use super::EXIT_BAD_INPUT;
use super::input::ModelArgs;

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    model: ModelArgs,
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
    let analysis = pricing_core::measure(&mut loaded);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&analysis)?);
    } else {
        print!("{}", render(&args.model.name(), &analysis));
    }
    Ok(ExitCode::SUCCESS)
}

fn render(name: &str, a: &Analysis) -> String {
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
    for w in &a.warnings {
        out.push_str(&format!("  warning: {} [{}]\n", w.message, w.code));
    }
    out
}
