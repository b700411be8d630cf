//! `pricing serve` as a user starts it: the real binary in a directory of its own, on the
//! embedded default (no `DATABASE_URL`, no `AMQP_URL`), on a free port.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const PRICING: &str = env!("CARGO_BIN_EXE_pricing");

pub struct Server {
    pub child: Child,
    pub url: String,
    /// The admin key a first start prints.
    pub admin_key: Option<String>,
    _stderr: std::thread::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `pricing serve` on a free port in `dir`; waits for its address (and first-run key).
pub fn serve(dir: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(PRICING)
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("AMQP_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = BufReader::new(stderr).lines();
        let mut key = None;
        while let Some(Ok(line)) = lines.next() {
            if line.contains("created admin key") {
                key = lines.next().and_then(Result::ok);
            }
            if let Some(url) = line.strip_prefix("pricing: API listening on ") {
                let _ = tx.send((url.trim().to_owned(), key.take()));
            }
        }
    });
    let (url, admin_key) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("pricing serve did not start listening within 60 s");
    Server {
        child,
        url,
        admin_key,
        _stderr: reader,
    }
}
