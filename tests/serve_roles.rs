//! The cluster roles as separate processes — `pricing api`, `pricing scheduler`, `pricing worker`
//! — on the real RabbitMQ and a fresh PostgreSQL database, sharing a blob directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

const PRICING: &str = env!("CARGO_BIN_EXE_pricing");

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// A fresh database and topology prefix, removed on drop; child processes are stopped first.
struct Cluster {
    children: Vec<Child>,
    env: Vec<(&'static str, String)>,
    db: String,
    prefix: String,
    dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let (admin, db, prefix, amqp) = (
            admin_url(),
            self.db.clone(),
            self.prefix.clone(),
            amqp_url(),
        );
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let sql = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await;
                }
                if let Ok(b) = messaging::Broker::from_url(Some(&amqp)).await {
                    let _ = b.delete(&messaging::Topology::new(prefix)).await;
                }
            });
        })
        .join();
    }
}

impl Cluster {
    async fn new() -> Cluster {
        let name = format!("test_roles_{}", uuid::Uuid::new_v4().simple());
        let admin = admin_url();
        let mut c = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await
            .unwrap();
        let root = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(r, _)| r)
            .to_owned();
        let dir = tempfile::tempdir().unwrap();
        let env = vec![
            ("DATABASE_URL", format!("{root}/{name}")),
            ("AMQP_URL", amqp_url()),
            ("TOPOLOGY_PREFIX", name.clone()),
            ("BLOB_DIR", dir.path().join("blobs").display().to_string()),
            ("RUST_LOG", "warn".to_owned()),
        ];
        Cluster {
            children: Vec::new(),
            env,
            db: name.clone(),
            prefix: name,
            dir,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(PRICING);
        cmd.args(args).current_dir(self.dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    fn key(&self, args: &[&str]) -> String {
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
    fn start(&mut self, args: &[&str]) -> Option<String> {
        let mut child = self
            .command(args)
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

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/models")
            .join(name),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_roles_price_over_rabbitmq_and_postgres() {
    let mut cluster = Cluster::new().await;
    let partner = cluster.key(&["--role", "partner", "--tenant", "acme"]);
    let operator = cluster.key(&["--role", "operator"]);
    let url = cluster.start(&["api", "--listen", "127.0.0.1:0"]).unwrap();
    cluster.start(&["scheduler"]);
    cluster.start(&["worker", "--slots", "2", "--worker-id", "roles-test-worker"]);

    let client = reqwest::Client::new();
    let ready = client.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());
    let mut urls = Vec::new();
    for name in ["torus_ring.glb", "torus_ring.obj"] {
        let resp = client
            .post(format!("{url}/v1/jobs?alloys=au585y"))
            .bearer_auth(&partner)
            .body(fixture(name))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202, "{name}");
        let v: serde_json::Value = resp.json().await.unwrap();
        urls.push(format!("{url}{}", v["status_url"].as_str().unwrap()));
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut totals = Vec::new();
    for job_url in &urls {
        loop {
            let v: serde_json::Value = client
                .get(job_url)
                .bearer_auth(&partner)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if v["status"] == "PRICE_CALCULATED" {
                assert_eq!(v["channel"], "partner");
                totals.push(
                    v["quote"]["alloys"][0]["total"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
                break;
            }
            assert!(
                !["REJECTED", "FAILED"].contains(&v["status"].as_str().unwrap()),
                "{v}"
            );
            assert!(Instant::now() < deadline, "not priced in 90 s: {v}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // The same ring in two formats has the same price.
    assert_eq!(totals[0], totals[1]);

    let workers: serde_json::Value = client
        .get(format!("{url}/v1/workers"))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        workers["workers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["worker_id"] == "roles-test-worker"),
        "{workers}"
    );
    let queues: serde_json::Value = client
        .get(format!("{url}/v1/queues"))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Depths come from RabbitMQ itself.
    assert_eq!(queues["lanes"][0]["depth"], 0, "{queues}");
    assert_eq!(queues["lanes"][0]["consumers"], 1, "{queues}");
}

#[test]
fn roles_refuse_to_start_without_a_broker() {
    for role in ["api", "scheduler", "worker"] {
        let out = Command::new(PRICING)
            .arg(role)
            .env_remove("AMQP_URL")
            .env("DATABASE_URL", "sqlite://unused.db")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{role}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("AMQP_URL"), "{role}: {err}");
    }
}
