//! afl.rs target for [`fuzzing::estimate`]; build and run with `scripts/fuzz`.

fn main() {
    afl::fuzz!(|data: &[u8]| fuzzing::estimate(data));
}
