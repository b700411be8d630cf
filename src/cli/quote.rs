//! `pricing quote FILE`: measure, analyse wall thickness and price a model in one or more alloys.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pricing_core::pricing::{Channel, Status};
use pricing_core::{ModelQuote, PipelineError, QuoteRequest};
use serde_json::json;

use super::analyze::{ring_line, stone_size};
use super::input::{InputError, ModelArgs};
use super::{EXIT_BAD_INPUT, EXIT_NOT_MANUFACTURABLE};

#[derive(Debug, clap::Args)]
pub struct QuoteArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Alloy codes to price (repeatable), e.g. au750, au585w, ag925, pt950.
    #[arg(long = "alloy", default_value = "au750")]
    alloys: Vec<String>,
    /// Sales channel whose margin applies: website, partner or mes (retail is read as website).
    #[arg(long, default_value = "website")]
    channel: Channel,
    /// Pricing rules file (default: $PRICING_RULES, else the rules shipped with this build).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Print one JSON document (also on errors) instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: QuoteArgs) -> anyhow::Result<ExitCode> {
    let rules = worker::load_rules(args.rules.as_deref())?;
    let outcome = args
        .model
        .load()
        .map_err(QuoteFailure::Input)
        .and_then(|mut loaded| {
            let request = QuoteRequest {
                alloys: args.alloys.clone(),
                channel: args.channel,
                analyze: args.model.options(),
                thickness: Default::default(),
            };
            let bar = Progress::new();
            let report = |done: u64, total: u64| bar.update(done, total);
            let quote = pricing_core::quote_loaded(&mut loaded, &rules, &request, Some(&report));
            bar.finish();
            quote.map_err(QuoteFailure::Pipeline)
        });
    match outcome {
        Ok(quote) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&quote)?);
            } else {
                print!("{}", render(&args.model.name(), &quote));
            }
            Ok(match quote.worst_status() {
                Status::Rejected => ExitCode::from(EXIT_NOT_MANUFACTURABLE),
                Status::Priced | Status::NeedsReview => ExitCode::SUCCESS,
            })
        }
        Err(failure) => {
            if args.json {
                let error =
                    json!({ "error": { "code": failure.code(), "message": failure.to_string() } });
                println!("{}", serde_json::to_string_pretty(&error)?);
            }
            eprintln!("error: {failure}");
            Ok(ExitCode::from(EXIT_BAD_INPUT))
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum QuoteFailure {
    #[error(transparent)]
    Input(InputError),
    #[error(transparent)]
    Pipeline(PipelineError),
}

impl QuoteFailure {
    fn code(&self) -> &'static str {
        match self {
            QuoteFailure::Input(InputError::Io { .. }) => "unreadable_file",
            QuoteFailure::Input(InputError::Parse(e)) => e.code(),
            QuoteFailure::Pipeline(e) => e.code(),
        }
    }
}

/// A progress bar on stderr that appears only when the work has already taken about a second, so quick
/// quotes stay quiet and scripts see nothing (indicatif draws only to a terminal).
struct Progress {
    bar: ProgressBar,
    started: Instant,
}

impl Progress {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("wall thickness {bar:40} {pos}/{len} faces ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress {
            bar,
            started: Instant::now(),
        }
    }

    fn update(&self, done: u64, total: u64) {
        if self.bar.is_hidden() && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        self.bar.set_length(total);
        self.bar.set_position(done);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn render(name: &str, q: &ModelQuote) -> String {
    let m = &q.measurements;
    let [sx, sy, sz] = m.bbox_mm.size();
    let mut out = format!(
        "{name}: {} triangles, {:.3} mm³, {:.3} mm², {sx:.2} × {sy:.2} × {sz:.2} mm, units {} ({:?})\n",
        m.triangles, m.volume_mm3, m.area_mm2, m.units, m.units_source
    );
    if let Some(t) = &q.thickness {
        let mm = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.3} mm"));
        out.push_str(&format!(
            "wall thickness: min {}, 5th percentile {}, median {}; {:.2} mm² thinner than {:.2} mm\n",
            mm(t.min_mm),
            mm(t.p05_mm),
            mm(t.p50_mm),
            t.thin_area_mm2,
            t.thin_threshold_mm
        ));
    }
    for r in &q.thin_regions {
        out.push_str(&format!(
            "  thin region {:.2} mm² (min {:.3} mm) in box [{:.2}, {:.2}, {:.2}]–[{:.2}, {:.2}, {:.2}]\n",
            r.area_mm2, r.min_thickness_mm, r.min[0], r.min[1], r.min[2], r.max[0], r.max[1], r.max[2]
        ));
    }
    if let Some(ring) = &q.ring {
        out.push_str(&ring_line(ring));
    }
    if let Some(g) = &q.gems {
        out.push_str(&format!(
            "stones: {}, {:.2} ct if diamond, setting {} {}\n",
            g.count, g.total_carat_if_diamond, g.setting_total, q.currency
        ));
        for r in &g.stones {
            out.push_str(&format!(
                "  {:<36} {:>9}   setting {}\n",
                stone_size(r.cut, (r.length_mm, r.width_mm, r.depth_mm, r.diameter_mm)),
                r.carat_if_diamond
                    .map_or("—".to_owned(), |c| format!("{c:.2} ct")),
                r.setting
            ));
        }
    }
    out.push_str(&format!(
        "rules {} ({}), channel {:?}\n\n",
        q.rules_version,
        &q.rules_sha256[..12.min(q.rules_sha256.len())],
        q.channel
    ));
    for a in &q.alloys {
        let weight = a.weight_g.map_or("—".to_owned(), |w| format!("{w} g"));
        out.push_str(&format!(
            "{} ({}) — {weight} — {:?}\n",
            a.alloy, a.name, a.status
        ));
        if let Some(w) = &a.weights {
            for (what, weight) in [
                ("designed", &w.designed),
                ("casting charge", &w.casting_charge),
                ("finished", &w.finished),
            ] {
                out.push_str(&format!(
                    "  {what:<16} {:>10} g   {}\n",
                    weight.grams, weight.rule
                ));
            }
        }
        for line in &a.lines {
            out.push_str(&format!(
                "  {:<16} {:>12} {}   {}\n",
                format!("{:?}", line.kind),
                line.amount,
                a.currency,
                line.detail
            ));
        }
        if let Some(total) = a.total {
            out.push_str(&format!("  {:<16} {:>12} {}\n", "TOTAL", total, a.currency));
        }
        for r in &a.reasons {
            out.push_str(&format!("  {:?}: {}\n", r.severity, r.message));
        }
        out.push('\n');
    }
    out
}
