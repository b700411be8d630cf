//! The `pricing analyze`, `pricing quote`, `pricing bench` and `pricing capacity` commands as a
//! user runs them: output shape and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/models")
}

fn pricing(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pricing"))
        .args(args)
        .output()
        .expect("pricing runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn analyze_json_has_the_documented_keys() {
    let file = models().join("box_with_cavity.obj");
    let out = pricing(&["analyze", file.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    for key in [
        "format",
        "triangles",
        "vertices",
        "units",
        "volume_mm3",
        "area_mm2",
        "bbox_mm",
        "watertight",
        "shells",
        "boundary_edges",
        "non_manifold_edges",
        "volume_reliable",
        "warnings",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["format"], "obj");
    assert_eq!(v["shells"], 2);
    assert_eq!(v["cavities"], 1);
    assert!((v["volume_mm3"].as_f64().unwrap() - 432.0).abs() < 1e-9);
    assert_eq!(v["bbox_mm"]["min"].as_array().unwrap().len(), 3);
}

#[test]
fn analyze_honours_format_and_units_overrides() {
    let file = models().join("box.stl");
    let mm = json(&pricing(&["analyze", file.to_str().unwrap(), "--json"]));
    let cm = json(&pricing(&[
        "analyze",
        file.to_str().unwrap(),
        "--json",
        "--units",
        "cm",
        "--format",
        "stl",
    ]));
    assert_eq!(cm["units"], "cm");
    let ratio = cm["volume_mm3"].as_f64().unwrap() / mm["volume_mm3"].as_f64().unwrap();
    assert!((ratio - 1000.0).abs() < 1e-9);
}

#[test]
fn malformed_input_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("truncated.stl");
    let mut bytes = std::fs::read(models().join("box.stl")).unwrap();
    bytes.truncate(bytes.len() - 10);
    // Still claims to be binary by its header count, but is cut short: read as binary explicitly.
    std::fs::write(&bad, &bytes).unwrap();
    let out = pricing(&["analyze", bad.to_str().unwrap(), "--format", "stl-binary"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("truncated"), "{stderr}");

    let missing = pricing(&["analyze", "/nonexistent/model.stl"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn quote_prices_a_ring_and_reports_its_thin_bezel() {
    let file = models().join("ring_with_seat.stl");
    let out = pricing(&[
        "quote",
        file.to_str().unwrap(),
        "--alloy",
        "au750",
        "--alloy",
        "ag925",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert!(v["rules_version"].is_string());
    assert!(v["measurements"]["volume_mm3"].as_f64().unwrap() > 0.0);
    for key in ["min_mm", "p05_mm", "thin_area_mm2"] {
        assert!(v["thickness"].get(key).is_some(), "thickness.{key}");
    }
    let alloys = v["alloys"].as_array().unwrap();
    assert_eq!(alloys.len(), 2);
    for a in alloys {
        for key in [
            "alloy", "weight_g", "lines", "total", "currency", "status", "reasons",
        ] {
            assert!(a.get(key).is_some(), "alloys[].{key}");
        }
    }
    assert_eq!(alloys[0]["alloy"], "au750");
    assert!(!v["thin_regions"].as_array().unwrap().is_empty());
}

#[test]
fn quote_exit_codes_follow_the_outcome() {
    let open = models().join("open_box.stl");
    let out = pricing(&["quote", open.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json(&out)["alloys"][0]["status"], "rejected");

    let unknown = pricing(&[
        "quote",
        models().join("box.stl").to_str().unwrap(),
        "--alloy",
        "unobtainium",
        "--json",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(json(&unknown)["error"]["code"], "unknown_alloy");

    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "version = \n").unwrap();
    let bad_rules = pricing(&[
        "quote",
        models().join("box.stl").to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(bad_rules.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_rules.stderr).contains("line 1"));
}

#[test]
fn bench_times_each_stage_and_agrees_with_quote() {
    let file = models().join("ring_with_seat.stl");
    let out = pricing(&["bench", file.to_str().unwrap(), "--repeat", "3", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = json(&out);
    let row = &rows[0];
    for stage in ["load", "measure", "thickness", "quote"] {
        assert!(
            row["median"][stage].as_f64().unwrap() > 0.0,
            "{stage}: {row}"
        );
    }
    let (min, median, max) = (
        row["total_min_s"].as_f64().unwrap(),
        row["total_median_s"].as_f64().unwrap(),
        row["total_max_s"].as_f64().unwrap(),
    );
    assert!(min <= median && median <= max, "{row}");
    assert_eq!(row["bytes"], std::fs::metadata(&file).unwrap().len());
    assert!(row["mb_per_s"].as_f64().unwrap() > 0.0);
    // The same weight and price as `pricing quote` on the same file and alloy.
    let quote = json(&pricing(&["quote", file.to_str().unwrap(), "--json"]));
    assert_eq!(row["triangles"], quote["measurements"]["triangles"]);
    assert_eq!(row["total_price"], quote["alloys"][0]["total"]);
    assert_eq!(row["weight_g"], quote["alloys"][0]["weight_g"]);
}

#[test]
fn bench_reads_folders_and_writes_csv() {
    let out = pricing(&["bench", models().to_str().unwrap(), "--csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..4], ["file", "format", "triangles", "bytes"]);
    let rows: Vec<&str> = lines.collect();
    let committed = std::fs::read_dir(models())
        .unwrap()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_lowercase();
            [".stl", ".obj", ".gltf", ".glb", ".3mf"]
                .iter()
                .any(|x| name.ends_with(x))
        })
        .count();
    assert_eq!(rows.len(), committed);
}

#[test]
fn bench_names_a_bad_file_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.stl");
    std::fs::write(&bad, b"solid x\nfacet normal 0 0").unwrap();
    let out = pricing(&["bench", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("broken.stl") && text.contains("error:"),
        "{text}"
    );
    let none = pricing(&["bench", dir.path().join("nothing").to_str().unwrap()]);
    assert!(!none.status.success());
}

#[test]
fn bench_against_a_running_cluster_times_each_job_to_final() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::serve::serve(dir.path(), &[]);
    let key = server
        .admin_key
        .clone()
        .expect("a first start prints the admin key");
    let (ring, obj) = (
        models().join("torus_ring.stl"),
        models().join("hex_prism.obj"),
    );
    let out = pricing(&[
        "bench",
        ring.to_str().unwrap(),
        obj.to_str().unwrap(),
        "--against",
        &server.url,
        "--key",
        &key,
        "--repeat",
        "2",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = json(&out);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for r in rows {
        assert_eq!(r["status"], "PRICE_CALCULATED", "{r}");
        assert!(r["error"].is_null(), "{r}");
        assert!(
            r["lane"].is_string() && r["triangles"].as_u64().unwrap() > 0,
            "{r}"
        );
        let to_final = r["to_final_seconds"].as_f64().unwrap();
        assert!(to_final >= r["upload_seconds"].as_f64().unwrap(), "{r}");
    }
    // The first run of a file is priced (a promise, a wait and a run on the cluster's clock);
    // the second is the same file under the same rules: the quote cache answers it.
    for (first, second) in [(&rows[0], &rows[1]), (&rows[2], &rows[3])] {
        assert_eq!(
            (first["cached"].as_bool(), second["cached"].as_bool()),
            (Some(false), Some(true))
        );
        assert!(first["promised_seconds"].as_f64().unwrap() > 0.0, "{first}");
        let to_final = first["to_final_seconds"].as_f64().unwrap();
        let cluster =
            first["queue_wait_seconds"].as_f64().unwrap() + first["run_seconds"].as_f64().unwrap();
        assert!(cluster <= to_final + 0.01, "{first}");
    }
    // The table names every job; a second invocation makes new jobs (not idempotent replays).
    let table = pricing(&[
        "bench",
        ring.to_str().unwrap(),
        "--against",
        &server.url,
        "--key",
        &key,
    ]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("torus_ring.stl") && text.contains("1 jobs final, 0 errors"),
        "{text}"
    );
    // A wrong key: the refusal is shown and the exit code says so.
    let refused = pricing(&[
        "bench",
        ring.to_str().unwrap(),
        "--against",
        &server.url,
        "--key",
        "alx_wrong",
        "--csv",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let csv = String::from_utf8_lossy(&refused.stdout);
    assert!(
        csv.lines().nth(1).is_some_and(|l| l.contains("401")),
        "{csv}"
    );
    // --against without a key is refused before anything is sent.
    let keyless = Command::new(env!("CARGO_BIN_EXE_pricing"))
        .args(["bench", ring.to_str().unwrap(), "--against", &server.url])
        .env_remove("PRICING_API_KEY")
        .output()
        .unwrap();
    assert!(!keyless.status.success());
    assert!(String::from_utf8_lossy(&keyless.stderr).contains("API key"));
}

#[test]
fn capacity_prints_the_plan_writes_its_plots_and_refuses_nonsense() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("plan.csv");
    let plots = dir.path().join("plots");
    let out = pricing(&[
        "capacity",
        "--months",
        "3",
        "--jobs",
        "500",
        "--plots",
        plots.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("headroom: one worker of 2 cores"),
        "{stdout}"
    );
    // The KEDA values the manifests carry (tests/deploy_files.rs checks those against the code).
    for (lane, value) in [("small", 10), ("medium", 6), ("large", 1)] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(lane) && l.contains("→ value"))
            .unwrap_or_else(|| panic!("no KEDA line for {lane}: {stdout}"));
        assert!(line.ends_with(&format!("value {value}")), "{line}");
    }
    let plan = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<Vec<&str>> = plan
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 4, "{plan}");
    let orders: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    assert_eq!(orders, ["1000", "1100", "1200", "1300"]);
    for name in [
        "cores-by-month.png",
        "small-wait-by-cores.png",
        "one-worker.png",
    ] {
        let png = std::fs::read(plots.join(name)).unwrap();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
            "{name}"
        );
    }

    // The user's own volume: a hundred times the orders needs more cores than the default.
    let big = dir.path().join("big.csv");
    let out = pricing(&[
        "capacity",
        "--orders",
        "100000",
        "--growth",
        "0",
        "--months",
        "0",
        "--jobs",
        "2000",
        "--csv",
        big.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cores = |plan: &str| -> u32 {
        plan.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(3)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(
        cores(&std::fs::read_to_string(&big).unwrap()) > cores(&plan),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    for (args, says) in [
        (
            &["capacity", "--orders=-5"][..],
            "--orders must be above zero",
        ),
        (
            &["capacity", "--worker-cores", "0"][..],
            "--worker-cores must be at least 1",
        ),
        (
            &["capacity", "--jobs", "10"][..],
            "--jobs must be at least 100",
        ),
        (
            &[
                "capacity",
                "--months",
                "0",
                "--jobs",
                "200",
                "--plots",
                plots.to_str().unwrap(),
                "--font",
                "/nonexistent.ttf",
            ][..],
            "cannot read the font /nonexistent.ttf",
        ),
    ] {
        let out = pricing(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(says),
            "{args:?}: {stderr}"
        );
    }
}
