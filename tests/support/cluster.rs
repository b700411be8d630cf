//! The cluster roles as separate processes on the real RabbitMQ and a fresh PostgreSQL database
//! (own topology prefix), sharing a blob directory; everything is removed on drop.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use test_support::PgDatabase;

/// A fresh database and topology prefix, removed on drop; child processes are stopped first.
pub struct Cluster {
    binary: &'static str,
    children: Vec<Child>,
    env: Vec<(&'static str, String)>,
    db: PgDatabase,
    prefix: String,
    dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // The database goes with the `db` guard.
        let prefix = self.prefix.clone();
        test_support::on_own_runtime(move || async move {
            if let Ok(b) = messaging::Broker::from_url(Some(&amqp_url())).await {
                let _ = b.delete(&messaging::Topology::new(prefix)).await;
            }
        });
    }
}

/// The broker the roles share: `AMQP_URL`, else the local default.
pub fn amqp_url() -> String {
    messaging::RabbitConfig::from_env().url
}

impl Cluster {
    /// `binary` is the test's `env!("CARGO_BIN_EXE_pricing")`.
    pub async fn new(binary: &'static str) -> Cluster {
        let db = PgDatabase::create("test_roles").await;
        let prefix = test_support::unique_name("test_roles");
        let dir = tempfile::tempdir().unwrap();
        let env = vec![
            ("DATABASE_URL", db.url().to_owned()),
            ("AMQP_URL", amqp_url()),
            ("TOPOLOGY_PREFIX", prefix.clone()),
            ("BLOB_DIR", dir.path().join("blobs").display().to_string()),
            ("RUST_LOG", "warn".to_owned()),
        ];
        Cluster {
            binary,
            children: Vec::new(),
            env,
            db,
            prefix,
            dir,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.binary);
        cmd.args(args).current_dir(self.dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn key(&self, args: &[&str]) -> String {
        let out = self
            .command(&[&["keys", "create"], args].concat())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Starts a role; for `api`, returns its URL once it listens.
    pub fn start(&mut self, args: &[&str]) -> Option<String> {
        self.start_with(args, &[])
    }

    /// [`Cluster::start`] with `extra` environment for this process only (a role reaching a
    /// service through a proxy, say).
    pub fn start_with(&mut self, args: &[&str], extra: &[(&str, String)]) -> Option<String> {
        let mut cmd = self.command(args);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("pricing: API listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        self.children.push(child);
        (args[0] == "api").then(|| {
            rx.recv_timeout(Duration::from_secs(60))
                .expect("api did not listen")
        })
    }
}

impl Cluster {
    /// Sets `name=value` for every role started from now on.
    pub fn set_env(&mut self, name: &'static str, value: impl Into<String>) {
        self.env.push((name, value.into()));
    }

    /// Where the roles keep uploaded models.
    pub fn blob_dir(&self) -> PathBuf {
        self.dir.path().join("blobs")
    }

    /// The roles' topology prefix (queue and exchange names).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// How many role processes were started (the next one's index).
    pub fn started(&self) -> usize {
        self.children.len()
    }

    /// The database URL the roles share.
    pub fn database_url(&self) -> &str {
        self.db.url()
    }

    /// Stops the role started `index`-th (0-based) and waits for it.
    pub fn stop(&mut self, index: usize) {
        let c = &mut self.children[index];
        let _ = c.kill();
        let _ = c.wait();
    }
}
