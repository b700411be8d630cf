//! `pricing bench PATH...`: the whole pricing pipeline on each model (files, or folders searched
//! for models), timed per stage, for engineers deciding how many workers to buy or whether a
//! change made pricing slower. A table by default; `--json` or `--csv` for spreadsheets.
//!
//! Stages: `load` (parse and weld, from bytes already in memory, as a worker does), `measure`,
//! `thickness`, `quote` (the pipeline announces each, `pricing_core::Stage`). Peak memory is the
//! process's peak resident size during the model (Linux: reset through `/proc/self/clear_refs`
//! before each run), so it includes the file's bytes.
//!
//! With `--against URL` the models go to a running cluster instead (`super::against`).

use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pricing_core::pricing::Channel;
use pricing_core::{AnalyzeOptions, QuoteRequest, Stage};
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Model files, or folders searched (recursively) for .stl, .obj, .gltf, .glb and .3mf files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The alloy whose weight and price are reported.
    #[arg(long, default_value = "au750")]
    alloy: String,
    /// Runs per model; the table shows the median, and min/max of the total.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Pricing rules file (default: $PRICING_RULES, else the rules shipped with this build).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// One JSON document instead of a table.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV, one row per model, instead of a table.
    #[arg(long)]
    csv: bool,
    /// Also time admesh and trimesh on the same files when they are installed (nothing is
    /// installed; a missing tool is named).
    #[arg(long, conflicts_with = "against")]
    compare: bool,
    /// Submit the models to the running cluster at this URL instead, one at a time, and time
    /// each from upload to final beside the cluster's own figures (lane, promised ETA, queue
    /// wait, run).
    #[arg(long, value_name = "URL")]
    against: Option<String>,
    /// The API key for `--against`.
    #[arg(long, env = "PRICING_API_KEY", hide_env_values = true)]
    key: Option<String>,
}

const MODEL_EXTENSIONS: [&str; 5] = ["stl", "obj", "gltf", "glb", "3mf"];

/// Seconds of each stage of one run.
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Stages {
    load: f64,
    measure: f64,
    thickness: f64,
    quote: f64,
}

impl Stages {
    fn total(&self) -> f64 {
        self.load + self.measure + self.thickness + self.quote
    }
}

#[derive(Debug, Serialize)]
struct ModelRow {
    file: String,
    format: String,
    triangles: u64,
    bytes: u64,
    /// Median of each stage over the runs.
    median: Stages,
    total_min_s: f64,
    total_median_s: f64,
    total_max_s: f64,
    mb_per_s: f64,
    peak_mib: Option<f64>,
    alloy: String,
    weight_g: Option<String>,
    total_price: Option<String>,
    currency: String,
    status: String,
    /// Seconds admesh took on the same file (STL only), when installed and asked for.
    admesh_s: Option<f64>,
    /// Seconds trimesh took to load the file and compute volume and area, inside Python.
    trimesh_s: Option<f64>,
    error: Option<String>,
}

impl ModelRow {
    /// A row for `file` with nothing measured yet.
    fn empty(file: String, alloy: &str) -> ModelRow {
        ModelRow {
            file,
            format: String::new(),
            triangles: 0,
            bytes: 0,
            median: Stages::default(),
            total_min_s: 0.0,
            total_median_s: 0.0,
            total_max_s: 0.0,
            mb_per_s: 0.0,
            peak_mib: None,
            alloy: alloy.to_owned(),
            weight_g: None,
            total_price: None,
            currency: String::new(),
            status: String::new(),
            admesh_s: None,
            trimesh_s: None,
            error: None,
        }
    }
}

/// The median of `xs` (the mean of the middle two for an even count); 0 when empty.
fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The stage-wise median of several runs.
fn median_stages(runs: &[Stages]) -> Stages {
    let of = |f: fn(&Stages) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    Stages {
        load: of(|s| s.load),
        measure: of(|s| s.measure),
        thickness: of(|s| s.thickness),
        quote: of(|s| s.quote),
    }
}

/// The models under `paths`, in a stable order: files as given, folders' models sorted.
fn collect(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if is_model(&path) {
                        found.push(path);
                    }
                }
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    out
}

fn is_model(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MODEL_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Resets the process's peak resident size (Linux); false where that is not possible.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The process's peak resident size since the last reset, in MiB.
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// One run of the pipeline on `bytes`: its stage times and quote.
fn run_once(
    bytes: &[u8],
    rules: &pricing_core::pricing::Rules,
    request: &QuoteRequest,
) -> Result<(Stages, pricing_core::Loaded, pricing_core::ModelQuote), String> {
    let start = Instant::now();
    let mut loaded = pricing_core::load(bytes, &request.analyze).map_err(|e| e.to_string())?;
    let loaded_at = Instant::now();
    let mut marks: Vec<(Stage, Instant)> = Vec::with_capacity(3);
    let quote = pricing_core::quote_loaded_in_stages(&mut loaded, rules, request, None, &mut |s| {
        marks.push((s, Instant::now()))
    })
    .map_err(|e| e.to_string())?;
    let end = Instant::now();
    let at = |stage: Stage| {
        marks
            .iter()
            .find(|(s, _)| *s == stage)
            .map_or(end, |(_, t)| *t)
    };
    let secs = |a: Instant, b: Instant| b.saturating_duration_since(a).as_secs_f64();
    let stages = Stages {
        load: secs(start, loaded_at),
        measure: secs(at(Stage::Measure), at(Stage::Thickness)),
        thickness: secs(at(Stage::Thickness), at(Stage::Quote)),
        quote: secs(at(Stage::Quote), end),
    };
    Ok((stages, loaded, quote))
}

fn bench_model(
    path: &Path,
    args: &BenchArgs,
    rules: &pricing_core::pricing::Rules,
    tools: &Tools,
) -> ModelRow {
    let file = path.display().to_string();
    let mut row = ModelRow::empty(file, &args.alloy);
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            row.error = Some(format!("cannot read: {e}"));
            return row;
        }
    };
    row.bytes = bytes.len() as u64;
    let request = QuoteRequest {
        alloys: vec![args.alloy.clone()],
        channel: Channel::Website,
        analyze: AnalyzeOptions::default(),
        thickness: Default::default(),
    };
    let can_peak = reset_peak();
    let mut runs = Vec::new();
    for _ in 0..args.repeat.max(1) {
        match run_once(&bytes, rules, &request) {
            Ok((stages, loaded, quote)) => {
                runs.push(stages);
                row.format = loaded.format.to_string();
                row.triangles = quote.measurements.triangles;
                if let Some(a) = quote.alloys.first() {
                    row.weight_g = a.weight_g.map(|w| w.to_string());
                    row.total_price = a.total.map(|t| t.to_string());
                    row.currency = a.currency.clone();
                    row.status = format!("{:?}", a.status).to_lowercase();
                }
            }
            Err(e) => {
                row.error = Some(e);
                return row;
            }
        }
    }
    row.peak_mib = if can_peak { peak_mib() } else { None };
    let totals: Vec<f64> = runs.iter().map(Stages::total).collect();
    row.median = median_stages(&runs);
    row.total_median_s = median(&totals);
    row.total_min_s = totals.iter().copied().fold(f64::INFINITY, f64::min);
    row.total_max_s = totals.iter().copied().fold(0.0, f64::max);
    if row.total_median_s > 0.0 {
        row.mb_per_s = row.bytes as f64 / 1e6 / row.total_median_s;
    }
    if args.compare {
        row.admesh_s = tools.admesh(path);
        row.trimesh_s = tools.trimesh(path);
    }
    row
}

/// The anchors `--compare` runs, where installed.
struct Tools {
    admesh: bool,
    trimesh: bool,
}

const TRIMESH_TIMER: &str = "import sys, time, trimesh\n\
t = time.perf_counter()\n\
m = trimesh.load(sys.argv[1], force='mesh')\n\
m.volume, m.area, m.is_watertight\n\
print(time.perf_counter() - t)";

impl Tools {
    fn find(wanted: bool) -> Tools {
        if !wanted {
            return Tools {
                admesh: false,
                trimesh: false,
            };
        }
        let runs = |cmd: &mut Process| cmd.output().is_ok_and(|o| o.status.success());
        Tools {
            admesh: runs(Process::new("admesh").arg("--version")),
            trimesh: runs(Process::new("python3").args(["-c", "import trimesh"])),
        }
    }

    fn admesh(&self, path: &Path) -> Option<f64> {
        let is_stl = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("stl"));
        if !self.admesh || !is_stl {
            return None;
        }
        let start = Instant::now();
        let out = Process::new("admesh").arg(path).output().ok()?;
        out.status.success().then(|| start.elapsed().as_secs_f64())
    }

    fn trimesh(&self, path: &Path) -> Option<f64> {
        if !self.trimesh {
            return None;
        }
        let out = Process::new("python3")
            .args(["-c", TRIMESH_TIMER])
            .arg(path)
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    }
}

/// Seconds shown as milliseconds.
pub(super) fn ms(s: f64) -> String {
    format!("{:.1}", s * 1000.0)
}

/// A CSV field: one with a comma, quote or newline is quoted, its quotes doubled (RFC 4180).
pub(super) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn render_table(rows: &[ModelRow], repeat: usize, compare: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let name_of = |r: &ModelRow| {
        Path::new(&r.file)
            .file_name()
            .map_or_else(|| r.file.clone(), |n| n.to_string_lossy().into_owned())
    };
    let width = rows
        .iter()
        .map(|r| name_of(r).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(5, 48);
    let _ = writeln!(
        out,
        "{:<width$} {:<10} {:>10} {:>9} {:>8} {:>8} {:>9} {:>7} {:>9}{} {:>7} {:>8} {:>9} {:>11}{}",
        "model",
        "format",
        "triangles",
        "MB",
        "load ms",
        "meas ms",
        "thick ms",
        "quote ms",
        "total ms",
        if repeat > 1 { "  (min–max)" } else { "" },
        "MB/s",
        "peak MiB",
        "weight g",
        "price",
        if compare { "  admesh×  trimesh×" } else { "" },
    );
    for r in rows {
        let name = name_of(r);
        if let Some(e) = &r.error {
            let _ = writeln!(out, "{name:<width$} error: {e}");
            continue;
        }
        let spread = if repeat > 1 {
            format!("  ({}–{})", ms(r.total_min_s), ms(r.total_max_s))
        } else {
            String::new()
        };
        // How many times faster this pipeline's load + measure is than the anchor's whole run.
        let ratio = |anchor: Option<f64>| {
            let ours = r.median.load + r.median.measure;
            anchor.map_or_else(|| "–".to_owned(), |a| format!("{:.1}", a / ours.max(1e-9)))
        };
        let comparison = if compare {
            format!("  {:>7} {:>8}", ratio(r.admesh_s), ratio(r.trimesh_s))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{:<width$} {:<10} {:>10} {:>9.2} {:>8} {:>8} {:>9} {:>7} {:>9}{} {:>7.1} {:>8} {:>9} {:>11}{}",
            name,
            r.format,
            r.triangles,
            r.bytes as f64 / 1e6,
            ms(r.median.load),
            ms(r.median.measure),
            ms(r.median.thickness),
            ms(r.median.quote),
            ms(r.total_median_s),
            spread,
            r.mb_per_s,
            r.peak_mib
                .map_or_else(|| "–".to_owned(), |p| format!("{p:.0}")),
            r.weight_g.as_deref().unwrap_or("–"),
            r.total_price
                .as_ref()
                .map_or_else(|| "–".to_owned(), |p| format!("{p} {}", r.currency)),
            comparison,
        );
    }
    let ok: Vec<&ModelRow> = rows.iter().filter(|r| r.error.is_none()).collect();
    let seconds: f64 = ok.iter().map(|r| r.total_median_s).sum();
    let bytes: u64 = ok.iter().map(|r| r.bytes).sum();
    let triangles: u64 = ok.iter().map(|r| r.triangles).sum();
    let _ = writeln!(
        out,
        "\n{} models ({} failed), {} triangles, {:.1} MB in {:.2} s: {:.1} MB/s, {:.0} triangles/s",
        rows.len(),
        rows.len() - ok.len(),
        triangles,
        bytes as f64 / 1e6,
        seconds,
        if seconds > 0.0 {
            bytes as f64 / 1e6 / seconds
        } else {
            0.0
        },
        if seconds > 0.0 {
            triangles as f64 / seconds
        } else {
            0.0
        },
    );
    out
}

fn render_csv(rows: &[ModelRow]) -> String {
    let mut out = String::from(
        "file,format,triangles,bytes,load_s,measure_s,thickness_s,quote_s,total_min_s,\
         total_median_s,total_max_s,mb_per_s,peak_mib,alloy,weight_g,price,currency,status,\
         admesh_s,trimesh_s,error\n",
    );
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let field = csv_field;
    for r in rows {
        let cells = [
            field(&r.file),
            r.format.clone(),
            r.triangles.to_string(),
            r.bytes.to_string(),
            r.median.load.to_string(),
            r.median.measure.to_string(),
            r.median.thickness.to_string(),
            r.median.quote.to_string(),
            r.total_min_s.to_string(),
            r.total_median_s.to_string(),
            r.total_max_s.to_string(),
            r.mb_per_s.to_string(),
            opt(r.peak_mib),
            field(&r.alloy),
            r.weight_g.clone().unwrap_or_default(),
            r.total_price.clone().unwrap_or_default(),
            r.currency.clone(),
            r.status.clone(),
            opt(r.admesh_s),
            opt(r.trimesh_s),
            field(r.error.as_deref().unwrap_or_default()),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let rules = worker::load_rules(args.rules.as_deref())?;
    let files = collect(&args.paths);
    if files.is_empty() {
        anyhow::bail!("no model files under the given paths");
    }
    if let Some(url) = &args.against {
        let Some(key) = args.key.as_deref() else {
            anyhow::bail!("--against needs an API key: --key or PRICING_API_KEY");
        };
        let target = super::against::Target {
            url,
            key,
            alloy: &args.alloy,
        };
        return super::against::run(&files, &target, args.repeat, args.json, args.csv);
    }
    let tools = Tools::find(args.compare);
    if args.compare {
        for (name, found) in [("admesh", tools.admesh), ("trimesh", tools.trimesh)] {
            if !found {
                eprintln!("pricing bench: {name} is not installed; its column stays empty");
            }
        }
    }
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_draw_target(ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    let mut rows = Vec::with_capacity(files.len());
    for f in &files {
        bar.set_message(f.display().to_string());
        rows.push(bench_model(f, &args, &rules, &tools));
        bar.inc(1);
    }
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if args.csv {
        print!("{}", render_csv(&rows));
    } else {
        print!("{}", render_table(&rows, args.repeat, args.compare));
    }
    Ok(super::batch_exit(rows.iter().any(|r| r.error.is_some())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        let cases: [(&[f64], f64); 5] = [
            (&[], 0.0),
            (&[3.0], 3.0),
            (&[3.0, 1.0], 2.0),
            (&[5.0, 1.0, 3.0], 3.0),
            (&[4.0, 1.0, 3.0, 2.0], 2.5),
        ];
        for (xs, want) in cases {
            assert_eq!(median(xs), want, "{xs:?}");
        }
    }

    #[test]
    fn stage_medians_are_taken_per_stage() {
        let run = |load, measure| Stages {
            load,
            measure,
            thickness: 1.0,
            quote: 0.5,
        };
        let m = median_stages(&[run(1.0, 9.0), run(3.0, 1.0), run(2.0, 5.0)]);
        assert_eq!(
            (m.load, m.measure, m.thickness, m.quote),
            (2.0, 5.0, 1.0, 0.5)
        );
        assert_eq!(m.total(), 8.5);
    }

    #[test]
    fn folders_are_searched_for_models_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for f in ["b.stl", "a.OBJ", "notes.txt", "sub/c.glb"] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        let names: Vec<String> = collect(&[dir.path().to_path_buf()])
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.OBJ", "b.stl", "sub/c.glb"]);
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        let row = ModelRow {
            format: "stl-binary".into(),
            triangles: 12,
            bytes: 684,
            currency: "EUR".into(),
            status: "priced".into(),
            ..ModelRow::empty("a, \"b\".stl".into(), "au750")
        };
        let csv = render_csv(&[row]);
        let line = csv.lines().nth(1).unwrap();
        assert!(
            line.starts_with("\"a, \"\"b\"\".stl\",stl-binary,12,684,"),
            "{line}"
        );
        assert!(line.ends_with(",EUR,priced,,,"), "{line}");
    }
}
