//! Same bytes, same bits, whatever the thread count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common_fixture;

use common_fixture::write;

fn analyze_on(threads: usize, bytes: &[u8]) -> pricing_core::Analysis {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| pricing_core::analyze(bytes, &Default::default()).unwrap().0)
}

#[test]
fn one_and_two_threads_give_identical_results() {
    // Large enough for many parallel chunks.
    let (ring, _) = fixtures::big_ring(200_000);
    let bytes = write(fixtures::Format::Stl, &ring.to_f32());
    let one = analyze_on(1, &bytes);
    let two = analyze_on(2, &bytes);
    assert_eq!(one.volume_mm3.to_bits(), two.volume_mm3.to_bits());
    assert_eq!(one.area_mm2.to_bits(), two.area_mm2.to_bits());
    assert_eq!(one, two);
    let again = analyze_on(2, &bytes);
    assert_eq!(two, again);
}
