//! Every fuzz target's invariants on the committed inputs: the project's fixtures (models and
//! the defect corpus), the message seeds, and every input a fuzzer ever crashed on
//! (`regressions/<target>/`, committed by `scripts/fuzz` when it finds one).

use std::path::{Path, PathBuf};

fn files(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_owned()
}

/// Runs `check` on each file (and, for models, under every format hint).
fn run(target: &str, dirs: &[PathBuf], hinted: bool, check: fn(&[u8])) -> usize {
    let mut dirs = dirs.to_vec();
    dirs.push(root().join("regressions").join(target));
    let all = files(&dirs);
    for f in &all {
        let bytes = std::fs::read(f).unwrap_or_default();
        let hints: &[u8] = if hinted {
            &[0, 1, 2, 3, 4, 5, 6, 7]
        } else {
            &[]
        };
        if hinted {
            for &h in hints {
                let mut data = vec![h];
                data.extend_from_slice(&bytes);
                check(&data);
            }
        } else {
            check(&bytes);
        }
    }
    all.len()
}

#[test]
fn model_invariants_hold_on_the_fixtures_and_past_crashes() {
    let fixtures = root().join("../fixtures");
    let n = run(
        "model",
        &[fixtures.join("models"), fixtures.join("defects")],
        true,
        fuzzing::model,
    );
    assert!(n >= 40, "{n} files");
}

#[test]
fn estimate_invariants_hold_on_the_fixtures_and_past_crashes() {
    let fixtures = root().join("../fixtures");
    let n = run(
        "estimate",
        &[fixtures.join("models"), fixtures.join("defects")],
        false,
        fuzzing::estimate,
    );
    assert!(n >= 40, "{n} files");
}

#[test]
fn message_invariants_hold_on_the_seeds_and_past_crashes() {
    let n = run(
        "message",
        &[root().join("seeds/message")],
        false,
        fuzzing::message,
    );
    assert!(n >= 2, "{n} files");
    // The seeds are real messages: they parse.
    for f in files(&[root().join("seeds/message")]) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            serde_json::from_slice::<contracts::SubmitJob>(&bytes).is_ok(),
            "{}",
            f.display()
        );
    }
}

#[test]
fn multipart_invariants_hold_on_the_seeds_and_past_crashes() {
    let n = run(
        "multipart",
        &[root().join("seeds/multipart")],
        false,
        fuzzing::multipart,
    );
    assert!(n >= 12, "{n} files");
    // Each seed stands for one case of the reader; its answer is the route's.
    let expected: &[(&str, Option<&str>)] = &[
        ("file_and_fields", None),
        ("options_json", None),
        ("model_name", None),
        ("empty_file", None),
        ("no_file", Some("invalid_request")),
        ("two_files", Some("invalid_request")),
        ("unknown_field", Some("invalid_request")),
        ("not_utf8", Some("invalid_request")),
        ("many_parts", Some("too_many_parts")),
        ("bad_json", Some("invalid_request")),
        ("unterminated", Some("upload_interrupted")),
        ("no_boundary", Some("invalid_request")),
    ];
    for (name, code) in expected {
        let bytes = std::fs::read(root().join("seeds/multipart").join(name)).unwrap_or_default();
        assert_eq!(
            fuzzing::multipart_answer(&bytes).as_deref(),
            *code,
            "seed {name}"
        );
    }
    // Over the file limit: refused with the size code, however the body is cut.
    let mut big = b"multipart/form-data; boundary=B\n--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n".to_vec();
    big.extend(std::iter::repeat_n(
        b's',
        fuzzing::multipart::MAX_FILE_BYTES as usize + 1,
    ));
    big.extend_from_slice(b"\r\n--B--\r\n");
    assert_eq!(
        fuzzing::multipart_answer(&big).as_deref(),
        Some("too_large")
    );
}
