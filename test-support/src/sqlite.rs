//! SQLite job stores in a directory the test owns.

use std::path::Path;

/// The URL of `jobs.db` in `dir`, created on first connect.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("jobs.db").display())
}
