//! Criterion benchmarks of pricing-core's hot paths on generated rings (nothing large is committed):
//! the full analysis of a binary STL (3M triangles: the workload), the constant-time probe,
//! per-format parse throughput (criterion reports MB/s), and the whole quote (analysis, wall thickness,
//! pricing) of a 50k-triangle ring on 1 and 2 threads — the website's typical model, target 50 ms.
//!
//! `cargo bench --bench analyze`; `benches/compare.sh` runs the external anchors in the same run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pricing_core::{AnalyzeOptions, Limits};

fn ring_file(triangles: usize, format: fixtures::Format) -> Vec<u8> {
    let (ring, _) = fixtures::big_ring(triangles);
    let mut bytes = Vec::new();
    format
        .write(&ring.to_f32(), &mut bytes)
        .expect("writing to memory cannot fail");
    bytes
}

fn full_analysis(c: &mut Criterion) {
    let mut group = c.benchmark_group("analyze");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let stl = ring_file(3_000_000, fixtures::Format::Stl);
    group.throughput(Throughput::Bytes(stl.len() as u64));
    group.bench_function("stl-binary-3M", |b| {
        b.iter(|| {
            let mut loaded = pricing_core::load_stream(
                &mut &stl[..],
                stl.len() as u64,
                &AnalyzeOptions::default(),
            )
            .unwrap();
            black_box(pricing_core::measure(&mut loaded))
        })
    });
    group.bench_function("probe-stl-binary-3M", |b| {
        b.iter(|| black_box(pricing_core::probe(&stl, None, &Limits::default()).unwrap()))
    });
    group.finish();
}

fn formats(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    for format in [
        fixtures::Format::Stl,
        fixtures::Format::AsciiStl,
        fixtures::Format::Obj,
        fixtures::Format::Glb,
        fixtures::Format::ThreeMf,
    ] {
        let bytes = ring_file(200_000, format);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{format:?}-200k"), |b| {
            b.iter(|| black_box(pricing_core::load(&bytes, &AnalyzeOptions::default()).unwrap()))
        });
        group.bench_function(format!("probe-{format:?}-200k"), |b| {
            b.iter(|| black_box(pricing_core::probe(&bytes, None, &Limits::default()).unwrap()))
        });
    }
    group.finish();
}

fn quote(c: &mut Criterion) {
    let mut group = c.benchmark_group("quote");
    group.sample_size(20);
    let stl = ring_file(50_000, fixtures::Format::Stl);
    let rules = pricing_core::pricing::Rules::default_shipped().unwrap();
    let request = pricing_core::QuoteRequest {
        alloys: vec!["au750y".into(), "ag925".into()],
        channel: pricing_core::pricing::Channel::Website,
        analyze: AnalyzeOptions::default(),
        thickness: Default::default(),
    };
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        group.bench_function(format!("stl-binary-50k-{threads}-threads"), |b| {
            b.iter(|| {
                pool.install(|| {
                    black_box(pricing_core::quote_model(&stl, &rules, &request).unwrap())
                })
            })
        });
    }
    // The same quote without the self-intersection check, in the same run: what the check costs.
    let unchecked = pricing_core::QuoteRequest {
        thickness: pricing_core::thickness::ThicknessOptions {
            self_intersection_max_faces: 0,
            ..Default::default()
        },
        ..request.clone()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    group.bench_function("stl-binary-50k-2-threads-no-self-intersection", |b| {
        b.iter(|| {
            pool.install(|| black_box(pricing_core::quote_model(&stl, &rules, &unchecked).unwrap()))
        })
    });
    group.finish();
}

criterion_group!(benches, full_analysis, formats, quote);
criterion_main!(benches);
