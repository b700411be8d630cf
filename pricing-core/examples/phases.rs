//! Times each phase of the analysis on one file, with peak memory:
//! `cargo run --release -p pricing-core --example phases -- FILE [--stream] [--repeat N]`.
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

/// Peak resident memory so far, in MiB (what `/usr/bin/time %M` reports at exit).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: phases FILE [--stream]");
    let stream = std::env::args().any(|a| a == "--stream");
    let (t, c) = (Instant::now(), cpu());
    let mut loaded = if stream {
        // The CLI's path: binary STL is decoded as it is read and never held whole.
        let mut file = std::fs::File::open(&path).expect("open");
        let len = file.metadata().expect("metadata").len();
        pricing_core::load_stream(&mut file, len, &Default::default()).expect("load")
    } else {
        let bytes = std::fs::read(&path).expect("read");
        println!("read      {:>8.3} s", t.elapsed().as_secs_f64());
        pricing_core::load(&bytes, &Default::default()).expect("load")
    };
    println!(
        "load+weld {:>8.3} s wall {:>8.3} s cpu  peak {:>6.1} MiB",
        t.elapsed().as_secs_f64(),
        cpu() - c,
        peak_mib()
    );
    let mesh = &loaded.mesh;
    let t = Instant::now();
    let b = pricing_core::measure::bbox(mesh);
    println!("bbox      {:>8.3} s", t.elapsed().as_secs_f64());
    let i = pricing_core::measure::integrals(mesh, b.center());
    println!(
        "integrals {:>8.3} s  (volume {})",
        t.elapsed().as_secs_f64(),
        i.volume
    );
    let (t, c) = (Instant::now(), cpu());
    let topo = pricing_core::topology::analyze(mesh);
    println!(
        "topology  {:>8.3} s wall {:>8.3} s cpu ({} edges)  peak {:>6.1} MiB",
        t.elapsed().as_secs_f64(),
        cpu() - c,
        topo.edges,
        peak_mib()
    );
    drop(topo);
    // `--repeat N`: time the topology N more times on the loaded mesh and print the fastest, a steadier
    // figure than one run on a noisy machine.
    let repeat = std::env::args()
        .skip_while(|a| a != "--repeat")
        .nth(1)
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    if repeat > 0 {
        let best = (0..repeat)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(pricing_core::topology::analyze(mesh));
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        println!("topology  {best:>8.3} s fastest of {repeat}");
    }
    let t = Instant::now();
    let a = pricing_core::measure(&mut loaded);
    println!(
        "measure   {:>8.3} s  ({} shells)  peak {:>6.1} MiB",
        t.elapsed().as_secs_f64(),
        a.shells,
        peak_mib()
    );
}
