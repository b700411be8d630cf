//! afl.rs target for [`fuzzing::message`]; build and run with `scripts/fuzz`.

fn main() {
    afl::fuzz!(|data: &[u8]| fuzzing::message(data));
}
