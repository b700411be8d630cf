//! afl.rs target for [`fuzzing::model`]; build and run with `scripts/fuzz`.

fn main() {
    afl::fuzz!(|data: &[u8]| fuzzing::model(data));
}
