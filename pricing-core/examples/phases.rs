//! Times each phase of the analysis on one file: `cargo run --release -p pricing-core --example phases -- FILE`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::time::Instant;

/// CPU seconds used by this process so far (user + system), so figures hold on a busy machine.
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: phases FILE");
    let t = Instant::now();
    let bytes = std::fs::read(&path).expect("read");
    println!("read      {:>8.3} s", t.elapsed().as_secs_f64());
    let (t, c) = (Instant::now(), cpu());
    let loaded = pricing_core::load(&bytes, &Default::default()).expect("load");
    println!(
        "load+weld {:>8.3} s wall {:>8.3} s cpu",
        t.elapsed().as_secs_f64(),
        cpu() - c
    );
    let mesh = &loaded.mesh;
    let t = Instant::now();
    let b = pricing_core::measure::bbox(mesh);
    let i = pricing_core::measure::integrals(mesh, b.center());
    println!(
        "integrals {:>8.3} s  (volume {})",
        t.elapsed().as_secs_f64(),
        i.volume
    );
    let (t, c) = (Instant::now(), cpu());
    let topo = pricing_core::topology::analyze(mesh);
    println!(
        "topology  {:>8.3} s wall {:>8.3} s cpu ({} edges)",
        t.elapsed().as_secs_f64(),
        cpu() - c,
        topo.edges
    );
    let t = Instant::now();
    let a = pricing_core::measure(&loaded);
    println!(
        "measure   {:>8.3} s  ({} shells)",
        t.elapsed().as_secs_f64(),
        a.shells
    );
}
