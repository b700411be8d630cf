//! `sqlx::migrate!` embeds `migrations/` at compile time, but on stable Rust cargo does not know
//! the macro read those files: without this, adding a migration leaves a build with the old set.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
