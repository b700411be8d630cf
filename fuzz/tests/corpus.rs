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
