//! afl.rs target for [`fuzzing::multipart`]; build and run with `scripts/fuzz`.

fn main() {
    afl::fuzz!(|data: &[u8]| fuzzing::multipart(data));
}
