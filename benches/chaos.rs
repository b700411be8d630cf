//! Fault injection on the real cluster: the roles as separate processes on the local RabbitMQ
//! and PostgreSQL — two `pricing api` behind this runner's client-side fail-over (the first one
//! reaching PostgreSQL through a TCP proxy the runner controls), one `pricing scheduler`, two
//! `pricing worker` reaching the broker through another proxy — plus an MES and a CRM consumer
//! recording every message. A seeded stream of jobs (rings of 20k, 100k and 300k triangles and
//! six committed fixtures in OBJ, ASCII STL, glTF, GLB and 3MF, each
//! with distinct bytes so no quote is served from the cache) arrives over HTTP, with
//! `Idempotency-Key` and retried as a careful partner would, and over MES's AMQP inbound queue,
//! while faults are injected.
//!
//! Per scenario: uploads accepted, jobs priced, lost (accepted, not final after recovery),
//! duplicate effects (two different MES results or CRM orders for one job), missing effects,
//! stuck (final only after the "jobs stuck" alert's budget, `scheduler::overdue`), wrong answers
//! (a total that differs from `pricing quote` on the same file), time to recover, and the
//! broker's and the database's own view afterwards (messages left in the job and dead-letter
//! queues, outbox rows not sent).
//!
//! ```text
//! cargo bench --bench chaos                        # each fault alone, then all together; 100 jobs
//! cargo bench --bench chaos -- --jobs 500 --seed 7
//! cargo bench --bench chaos -- --scenario worker-kill,db-cut --jobs 200
//! cargo bench --bench chaos -- --scenario together
//! faults: worker-kill, api-kill, relay-kill, postgres-restart, rabbitmq-restart, broker-cut,
//!         broker-stall, broker-slow, db-cut, db-stall, db-slow, blob-read, poison
//! ```
//! `postgres-restart` and `rabbitmq-restart` restart this machine's servers: run them when
//! nothing else uses them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

#[path = "../tests/support/mod.rs"]
mod support;

use fixtures::workload::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use support::cluster::{Cluster, amqp_url};
use test_support::proxy::Proxy;

const PRICING: &str = env!("CARGO_BIN_EXE_pricing");
const FINAL: [&str; 3] = ["PRICE_CALCULATED", "REJECTED", "FAILED"];
const MES_TENANT: &str = "chaos-mes";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    WorkerKill,
    ApiKill,
    RelayKill,
    PostgresRestart,
    RabbitmqRestart,
    BrokerCut,
    BrokerStall,
    BrokerSlow,
    DbCut,
    DbStall,
    DbSlow,
    BlobRead,
    Poison,
}

impl Fault {
    const ALL: [Fault; 13] = [
        Fault::WorkerKill,
        Fault::ApiKill,
        Fault::RelayKill,
        Fault::PostgresRestart,
        Fault::RabbitmqRestart,
        Fault::BrokerCut,
        Fault::BrokerStall,
        Fault::BrokerSlow,
        Fault::DbCut,
        Fault::DbStall,
        Fault::DbSlow,
        Fault::BlobRead,
        Fault::Poison,
    ];
    fn name(self) -> &'static str {
        match self {
            Fault::WorkerKill => "worker-kill",
            Fault::ApiKill => "api-kill",
            Fault::RelayKill => "relay-kill",
            Fault::PostgresRestart => "postgres-restart",
            Fault::RabbitmqRestart => "rabbitmq-restart",
            Fault::BrokerCut => "broker-cut",
            Fault::BrokerStall => "broker-stall",
            Fault::BrokerSlow => "broker-slow",
            Fault::DbCut => "db-cut",
            Fault::DbStall => "db-stall",
            Fault::DbSlow => "db-slow",
            Fault::BlobRead => "blob-read",
            Fault::Poison => "poison",
        }
    }
    fn parse(s: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// What one job is, and the answer it must get.
#[derive(Debug, Clone)]
struct Planned {
    /// Index into [`Models::models`]; `None` for a poison model.
    ring: Option<usize>,
    /// Submitted as MES would, on the AMQP inbound queue, instead of over HTTP.
    mes: bool,
}

/// The stream's models (as [`MIX`] lists them) and their reference totals per channel.
struct Models {
    models: Vec<(Vec<u8>, Stamp)>,
    partner_total: Vec<String>,
    mes_total: Vec<String>,
}

/// Where a model comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// `fixtures::big_ring` with this many triangles, as binary STL.
    Ring(usize),
    /// A committed fixture under `fixtures/models`.
    Fixture(&'static str),
}

/// How a job's copy of a model is made distinct (no quote-cache hit) without changing its
/// geometry, so one reference quote per model holds.
#[derive(Debug, Clone, Copy)]
enum Stamp {
    /// Binary STL: the 80-byte header names the job.
    StlHeader,
    /// ASCII STL: the `solid` line names the job.
    SolidName,
    /// OBJ: a comment line first.
    ObjComment,
    /// glTF: the asset's generator names the job.
    GltfGenerator,
    /// GLB: the generator in the JSON chunk names the job (the chunk re-padded, lengths fixed).
    GlbGenerator,
    /// 3MF: one more entry in the zip names the job (the model part is copied as it is).
    ThreeMfEntry,
}

/// The generator string every committed glTF and GLB fixture carries.
const GENERATOR: &str = "\"generator\": \"alexandrite fixtures\"";

fn stamp_generator(json: &[u8], i: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(json);
    assert!(
        text.contains(GENERATOR),
        "a glTF fixture without the generator"
    );
    text.replacen(GENERATOR, &format!("\"generator\": \"chaos job {i}\""), 1)
        .into_bytes()
}

fn stamp_glb(glb: &[u8], i: usize) -> Vec<u8> {
    let word = |at: usize| u32::from_le_bytes(glb[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(&glb[16..20], b"JSON", "a GLB whose first chunk is not JSON");
    let json_len = word(12);
    let mut json = stamp_generator(&glb[20..20 + json_len], i);
    while !json.len().is_multiple_of(4) {
        json.push(b' ');
    }
    let rest = &glb[20 + json_len..];
    let total = 12 + 8 + json.len() + rest.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&glb[..8]);
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json);
    out.extend_from_slice(rest);
    out
}

fn stamp_3mf(package: &[u8], i: usize) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(package)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for k in 0..archive.len() {
        out.raw_copy_file(archive.by_index_raw(k).unwrap()).unwrap();
    }
    out.start_file(
        "Metadata/chaos-job.txt",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    std::io::Write::write_all(&mut out, format!("chaos job {i}\n").as_bytes()).unwrap();
    out.finish().unwrap().into_inner()
}

/// The models and their shares of the stream: mostly small rings, a tail of large ones, and
/// committed fixtures in other formats.
const MIX: [(Source, f64); 9] = [
    (Source::Ring(20_000), 0.5),
    (Source::Ring(100_000), 0.25),
    (Source::Ring(300_000), 0.1),
    (Source::Fixture("torus_ring.obj"), 0.025),
    (Source::Fixture("band_with_stones.obj"), 0.025),
    (Source::Fixture("hollow_sphere.ascii.stl"), 0.025),
    (Source::Fixture("torus_ring.glb"), 0.025),
    (Source::Fixture("ring_with_seat.gltf"), 0.025),
    (Source::Fixture("band_with_stones.3mf"), 0.025),
];

impl Source {
    fn label(self) -> String {
        match self {
            Source::Ring(t) => format!("{}k ring", t / 1000),
            Source::Fixture(name) => name.to_owned(),
        }
    }

    fn load(self) -> (Vec<u8>, Stamp) {
        match self {
            Source::Ring(triangles) => {
                let (mesh, _) = fixtures::big_ring(triangles);
                let mut bytes = Vec::new();
                fixtures::write_stl_binary(&mesh, &mut bytes).unwrap();
                (bytes, Stamp::StlHeader)
            }
            Source::Fixture(name) => {
                let bytes = std::fs::read(fixtures::models_dir().join(name)).unwrap();
                let stamp = if name.ends_with(".obj") {
                    Stamp::ObjComment
                } else if name.ends_with(".gltf") {
                    Stamp::GltfGenerator
                } else if name.ends_with(".glb") {
                    Stamp::GlbGenerator
                } else if name.ends_with(".3mf") {
                    Stamp::ThreeMfEntry
                } else if bytes.starts_with(b"solid") {
                    Stamp::SolidName
                } else {
                    Stamp::StlHeader
                };
                (bytes, stamp)
            }
        }
    }
}

fn plan(rng: &mut Rng, jobs: usize, poison: bool) -> Vec<Planned> {
    (0..jobs)
        .map(|i| {
            let u = rng.unit();
            let mut acc = 0.0;
            let ring = MIX
                .iter()
                .position(|&(_, share)| {
                    acc += share;
                    u < acc
                })
                .unwrap_or(MIX.len() - 1);
            let mes = rng.unit() < 0.2;
            // One job in ten is poison in the scenarios that add them; never the first, so the
            // stream starts with real work.
            let poisoned = poison && i % 10 == 9;
            Planned {
                ring: (!poisoned).then_some(ring),
                mes: mes && !poisoned,
            }
        })
        .collect()
}

/// Job `i`'s copy of a model: distinct bytes, the same geometry.
fn stamped((model, stamp): &(Vec<u8>, Stamp), i: usize) -> Vec<u8> {
    match stamp {
        Stamp::StlHeader => {
            let mut bytes = model.clone();
            let header = format!("chaos job {i:<70}");
            bytes[..80].copy_from_slice(&header.as_bytes()[..80]);
            bytes
        }
        Stamp::SolidName => {
            let rest = model
                .iter()
                .position(|&b| b == b'\n')
                .map_or(&[][..], |n| &model[n..]);
            [format!("solid chaos-job-{i}").as_bytes(), rest].concat()
        }
        Stamp::ObjComment => [format!("# chaos job {i}\n").as_bytes(), model].concat(),
        Stamp::GltfGenerator => stamp_generator(model, i),
        Stamp::GlbGenerator => stamp_glb(model, i),
        Stamp::ThreeMfEntry => stamp_3mf(model, i),
    }
}

/// A poison model: well-formed binary STL framing (the probe accepts it) whose coordinates are
/// NaN and infinities. It must end REJECTED or FAILED with a reason, and must not hold up the
/// jobs around it.
fn poison(i: usize) -> Vec<u8> {
    let triangles = 2_000u32;
    let mut bytes = format!("chaos poison {i:<67}").into_bytes();
    bytes.truncate(80);
    bytes.extend_from_slice(&triangles.to_le_bytes());
    for t in 0..triangles {
        for k in 0..12u32 {
            let v = match (t + k) % 3 {
                0 => f32::NAN,
                1 => f32::INFINITY,
                _ => 1.0e38,
            };
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.extend_from_slice(&[0, 0]);
    }
    bytes
}

fn body(models: &Models, p: &Planned, i: usize) -> Vec<u8> {
    match p.ring {
        Some(r) => stamped(&models.models[r], i),
        None => poison(i),
    }
}

fn reference_total(bytes: &[u8], channel: &str) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    let out = std::process::Command::new(PRICING)
        .args([
            "quote",
            file.path().to_str().unwrap(),
            "--channel",
            channel,
            "--json",
        ])
        .output()
        .unwrap();
    let quote: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("pricing quote --json");
    quote["alloys"][0]["total"].as_str().unwrap().to_owned()
}

/// Messages MES and the CRM received: (destination, job id) → distinct message ids, and how many
/// deliveries in all.
#[derive(Debug, Default)]
struct Received {
    ids: BTreeMap<(&'static str, String), BTreeSet<String>>,
    deliveries: u64,
}

/// Consumes `queue` for good, as MES or the CRM would: reconnects after the broker goes away.
async fn record(queue: messaging::QueueSpec, dest: &'static str, into: Arc<Mutex<Received>>) {
    loop {
        let consumer = match messaging::Broker::from_url(Some(&amqp_url())).await {
            Ok(broker) => broker.consume(&queue, 64).await.map(|c| (broker, c)),
            Err(e) => Err(e),
        };
        if let Ok((_broker, mut consumer)) = consumer {
            while let Some(d) = consumer.next().await {
                let body: serde_json::Value =
                    serde_json::from_slice(d.payload()).unwrap_or_default();
                let job = body["job_id"].as_str().unwrap_or_default().to_owned();
                let id = d.message_id().unwrap_or_default().to_owned();
                {
                    let mut r = into.lock().unwrap();
                    r.deliveries += 1;
                    r.ids.entry((dest, job)).or_default().insert(id);
                }
                let _ = d.ack().await;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Uploads until accepted, failing over between the APIs. `Err` carries the refusal when the
/// API answered 4xx for good (expected only for poison).
async fn upload(
    client: &reqwest::Client,
    apis: &[String],
    key: &str,
    body: Vec<u8>,
    i: usize,
    retries: &AtomicU64,
) -> Result<String, String> {
    for attempt in 0..240 {
        if attempt > 0 {
            retries.fetch_add(1, Ordering::Relaxed);
        }
        let api = &apis[(i + attempt) % apis.len()];
        let resp = client
            .post(format!("{api}/v1/jobs?partner_ref=CHAOS-{i}"))
            .bearer_auth(key)
            .header("idempotency-key", format!("chaos-{i}"))
            .body(body.clone())
            .send()
            .await;
        if let Ok(r) = resp {
            let status = r.status().as_u16();
            if status == 202 {
                let v: serde_json::Value = r.json().await.unwrap_or_default();
                if let Some(id) = v["id"].as_str() {
                    return Ok(id.to_owned());
                }
            } else if (400..500).contains(&status) && status != 408 && status != 429 {
                return Err(format!("{status} {}", r.text().await.unwrap_or_default()));
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err("no API accepted it within a minute".to_owned())
}

/// Stores the model and sends MES's `SubmitJob` until the broker confirms it; MES's request id
/// is the job's idempotency key.
async fn submit_mes(blobs: &scheduler::BlobStore, prefix: &str, body: Vec<u8>, i: usize) {
    let sha256 = loop {
        match blobs.put(body.clone().into()).await {
            Ok(stored) => break stored.sha256,
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    };
    let request = contracts::SubmitJob {
        schema_version: contracts::SchemaVersion,
        request_id: format!("chaos-mes-{i}"),
        tenant: MES_TENANT.into(),
        partner_ref: Some(format!("WO-{i}")),
        model: contracts::ModelRef::Stored { sha256 },
        format: None,
        options: contracts::JobOptions {
            alloys: vec!["au750".into()],
            units: None,
            channel: None,
        },
    };
    let topology = messaging::Topology::new(prefix.to_owned());
    let publish = messaging::Publish::contract(topology.inbound_route(), &request)
        .unwrap()
        .with_correlation_id(request.request_id.clone());
    loop {
        if let Ok(broker) = messaging::Broker::from_url(Some(&amqp_url())).await
            && broker.publish(&publish).await.is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn pg_restart() {
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .max()
        })
        .expect("a Debian PostgreSQL cluster under /etc/postgresql");
    let ok = std::process::Command::new("pg_ctlcluster")
        .args([
            "--skip-systemctl-redirect",
            &version,
            "main",
            "restart",
            "-m",
            "fast",
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "pg_ctlcluster restart failed");
}

fn rabbitmqctl(args: &[&str]) -> String {
    let out = std::process::Command::new("rabbitmqctl")
        .arg("-q")
        .args(args)
        .output()
        .expect("rabbitmqctl");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Restarts the RabbitMQ application (the Erlang node stays up): every connection drops, and
/// quorum queues recover from their logs. Returns whether the node still has its at-least-once
/// dead-letter supervisor afterwards (RabbitMQ 3.10 can lose it: see the README).
fn rabbitmq_restart() -> bool {
    rabbitmqctl(&["stop_app"]);
    rabbitmqctl(&["start_app"]);
    rabbitmqctl(&["await_startup"]);
    rabbitmqctl(&["eval", "whereis(rabbit_fifo_dlx_sup)."]) != "undefined"
}

/// The blob store fails every read of a model stored so far for `window`: each file is moved
/// aside and a symlink loop put in its place (`ELOOP`, an I/O error, not "not found"; the
/// runner is root, so permissions would not stop a read).
async fn break_blob_reads(dir: PathBuf, window: Duration) {
    let mut moved = Vec::new();
    let mut stack = vec![dir.join("models")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_none() {
                let aside = path.with_extension("aside");
                if std::fs::rename(&path, &aside).is_ok() {
                    let _ = std::os::unix::fs::symlink(&path, &path);
                    moved.push((path, aside));
                }
            }
        }
    }
    tokio::time::sleep(window).await;
    for (path, aside) in moved {
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::rename(&aside, &path);
    }
}

/// `postgres://…@127.0.0.1:5432/db` with the host and port replaced by `addr`.
fn via(url: &str, addr: std::net::SocketAddr) -> String {
    let (scheme_user, rest) = url.split_once('@').expect("a database URL with a user");
    let (_, path) = rest.split_once('/').expect("a database URL with a name");
    format!("{scheme_user}@{addr}/{path}")
}

#[derive(Default)]
struct Row {
    scenario: String,
    accepted: usize,
    refused: usize,
    priced: usize,
    lost: usize,
    duplicates: usize,
    missing: usize,
    stuck: usize,
    wrong: usize,
    redelivered: u64,
    recover_s: f64,
    upload_retries: u64,
    restarted: u64,
    poison_final: usize,
    poison_total: usize,
    queued_after: u64,
    dead_after: u64,
    outbox_after: i64,
    notes: Vec<String>,
}

impl Row {
    fn failed(&self, jobs: usize) -> bool {
        self.lost + self.duplicates + self.missing + self.stuck + self.wrong + self.refused > 0
            || self.accepted + self.poison_total != jobs
            || self.poison_final != self.poison_total
            || self.queued_after + self.dead_after > 0
            || self.outbox_after > 0
    }
}

/// The role processes by their index in the cluster, kept current as faults restart them.
struct Roles {
    api1: usize,
    scheduler: usize,
    workers: [usize; 2],
    restarts: u32,
}

struct Env {
    broker_proxy: Proxy,
    db_proxy: Proxy,
    worker_env: Vec<(&'static str, String)>,
}

async fn inject(
    fault: Fault,
    cluster: &mut Cluster,
    roles: &mut Roles,
    env: &Env,
    rng: &mut Rng,
    notes: &mut Vec<String>,
) {
    let pause =
        |rng: &mut Rng, lo: f64, hi: f64| Duration::from_secs_f64(lo + (hi - lo) * rng.unit());
    match fault {
        Fault::WorkerKill => {
            for n in 0..2 {
                cluster.stop(roles.workers[n]);
                tokio::time::sleep(pause(rng, 0.2, 1.0)).await;
                roles.restarts += 1;
                let id = format!("chaos-w{}-{}", n + 1, roles.restarts);
                roles.workers[n] = cluster.started();
                cluster.start_with(
                    &["worker", "--slots", "2", "--worker-id", &id],
                    &env.worker_env,
                );
                tokio::time::sleep(pause(rng, 1.0, 3.0)).await;
            }
        }
        // Uploads in flight to it fail; the client retries them on the other API with the same
        // Idempotency-Key. It comes back on a new port the client does not know.
        Fault::ApiKill => {
            cluster.stop(roles.api1);
            tokio::time::sleep(pause(rng, 1.0, 3.0)).await;
            roles.api1 = cluster.started();
            let db = [(
                "DATABASE_URL",
                via(cluster.database_url(), env.db_proxy.addr()),
            )];
            cluster.start_with(&["api", "--listen", "127.0.0.1:0"], &db);
        }
        // Killed three times at random moments while it relays: some rows are published but not
        // yet marked sent, and the next relay publishes them again under the same message ids,
        // which consumers recognise (the `redelivered` column counts those deliveries).
        Fault::RelayKill => {
            for _ in 0..3 {
                tokio::time::sleep(pause(rng, 0.2, 1.5)).await;
                cluster.stop(roles.scheduler);
                roles.scheduler = cluster.started();
                cluster.start(&["scheduler"]);
            }
        }
        Fault::PostgresRestart => pg_restart(),
        Fault::RabbitmqRestart => {
            if !rabbitmq_restart() {
                notes.push("RabbitMQ lost rabbit_fifo_dlx_sup on restart".to_owned());
            }
        }
        Fault::BrokerCut => env.broker_proxy.outage(pause(rng, 2.0, 4.0)).await,
        // Every byte between the workers and the broker held for 15 s: connections stay open
        // but nothing moves, then everything resumes.
        Fault::BrokerStall => env.broker_proxy.stall(Duration::from_secs(15)).await,
        Fault::BrokerSlow => {
            let window = pause(rng, 4.0, 8.0);
            env.broker_proxy
                .slow_for(Duration::from_millis(150), window)
                .await;
        }
        Fault::DbCut => env.db_proxy.outage(pause(rng, 2.0, 4.0)).await,
        // The first API's database link held for 10 s, connections open: its requests wait
        // (within the client's 30 s timeout) and are answered when it resumes.
        Fault::DbStall => env.db_proxy.stall(Duration::from_secs(10)).await,
        Fault::DbSlow => {
            let window = pause(rng, 4.0, 8.0);
            env.db_proxy
                .slow_for(Duration::from_millis(100), window)
                .await;
        }
        Fault::BlobRead => break_blob_reads(cluster.blob_dir(), pause(rng, 2.0, 4.0)).await,
        Fault::Poison => {}
    }
}

struct Scenario {
    name: String,
    faults: Vec<Fault>,
}

async fn run(scenario: &Scenario, jobs: usize, seed: u64, models: &Models) -> Row {
    // The runner's only source of randomness, so a seed replays a run's choices (which models,
    // which jobs go through MES, when each fault lands).
    let mut rng = Rng::new(seed);
    let poisoned = scenario.faults.contains(&Fault::Poison);
    let planned = plan(&mut rng, jobs, poisoned);
    let mut cluster = Cluster::new(PRICING).await;
    let partner = cluster.key(&["--role", "partner", "--tenant", "chaos"]);
    let db_addr: std::net::SocketAddr = "127.0.0.1:5432".parse().unwrap();
    let broker_addr: std::net::SocketAddr = "127.0.0.1:5672".parse().unwrap();
    let env = Env {
        db_proxy: Proxy::start(db_addr).await,
        broker_proxy: Proxy::start(broker_addr).await,
        worker_env: Vec::new(),
    };
    let via_broker = amqp_url().replace("127.0.0.1:5672", &env.broker_proxy.addr().to_string());
    let env = Env {
        worker_env: vec![("AMQP_URL", via_broker)],
        ..env
    };
    let db = [(
        "DATABASE_URL",
        via(cluster.database_url(), env.db_proxy.addr()),
    )];
    let api1 = cluster
        .start_with(&["api", "--listen", "127.0.0.1:0"], &db)
        .unwrap();
    let api2 = cluster.start(&["api", "--listen", "127.0.0.1:0"]).unwrap();
    cluster.start(&["scheduler"]);
    for n in 1..=2 {
        let id = format!("chaos-w{n}");
        cluster.start_with(
            &["worker", "--slots", "2", "--worker-id", &id],
            &env.worker_env,
        );
    }
    let mut roles = Roles {
        api1: 0,
        scheduler: 2,
        workers: [3, 4],
        restarts: 0,
    };

    let topology = messaging::Topology::new(cluster.prefix().to_owned());
    let received = Arc::new(Mutex::new(Received::default()));
    let recorders = [
        tokio::spawn(record(
            topology.mes_results_queue(),
            "mes",
            received.clone(),
        )),
        tokio::spawn(record(
            topology.crm_results_queue(),
            "crm",
            received.clone(),
        )),
    ];
    let blobs = scheduler::BlobStore::from_config(&scheduler::BlobConfig::Local {
        dir: cluster.blob_dir(),
    })
    .unwrap();

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let apis = Arc::new(vec![api1, api2]);
    let retries = Arc::new(AtomicU64::new(0));
    // About 25 jobs a second, up to 64 at a time: the faults land while work is in flight.
    // Together, the faults take about 45 s one after another, so the stream is spread over
    // that long at least.
    let gap = if scenario.faults.len() > 2 {
        Duration::from_millis(40)
            .max(Duration::from_secs(45) / u32::try_from(jobs.max(1)).unwrap_or(1))
    } else {
        Duration::from_millis(40)
    };
    let prefix = cluster.prefix().to_owned();
    let submissions = futures::stream::iter(planned.iter().cloned().enumerate())
        .map(|(i, p)| {
            let (client, apis, key, blobs, prefix) = (
                client.clone(),
                apis.clone(),
                partner.clone(),
                blobs.clone(),
                prefix.clone(),
            );
            let bytes = body(models, &p, i);
            let retries = retries.clone();
            async move {
                tokio::time::sleep(gap * u32::try_from(i).unwrap_or(0)).await;
                if p.mes {
                    submit_mes(&blobs, &prefix, bytes, i).await;
                    (i, Ok(None))
                } else {
                    let r = upload(&client, &apis, &key, bytes, i, &retries).await;
                    (i, r.map(Some))
                }
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>();
    let span = gap * u32::try_from(jobs).unwrap_or(0);
    let mut notes = Vec::new();
    let timed: Vec<Fault> = scenario
        .faults
        .iter()
        .copied()
        .filter(|f| *f != Fault::Poison)
        .collect();
    let faults = async {
        // Alone, a fault lands between a fifth and a half of the stream; together, they follow
        // one another from a tenth of it on.
        let start = if timed.len() > 1 {
            0.1
        } else {
            0.2 + 0.3 * rng.unit()
        };
        tokio::time::sleep(span.mul_f64(start)).await;
        for f in &timed {
            inject(*f, &mut cluster, &mut roles, &env, &mut rng, &mut notes).await;
        }
    };
    let (outcomes, ()) = tokio::join!(submissions, faults);
    let fault_over = Instant::now();

    // Which job each submission became; MES jobs are found by their request id.
    let pool = sqlx::PgPool::connect(cluster.database_url()).await.unwrap();
    let mut refused = 0;
    let mut poison_refused = 0;
    let mut http_jobs: BTreeMap<usize, String> = BTreeMap::new();
    for (i, r) in &outcomes {
        match r {
            Ok(Some(id)) => {
                http_jobs.insert(*i, id.clone());
            }
            Ok(None) => {}
            Err(why) if planned[*i].ring.is_none() => {
                poison_refused += 1;
                let _ = why;
            }
            Err(why) => {
                refused += 1;
                eprintln!("job {i} refused: {why}");
            }
        }
    }

    // Recovery: every job final and every effect delivered, or give up after 180 s.
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut jobs_by_index: BTreeMap<usize, String>;
    let mut rows: BTreeMap<String, JobRow>;
    loop {
        (jobs_by_index, rows) = read_jobs(&pool, &http_jobs).await;
        let all_in = jobs_by_index.len() + poison_refused + refused == jobs;
        let done = all_in
            && jobs_by_index.values().all(|id| {
                rows.get(id)
                    .is_some_and(|r| FINAL.contains(&r.status.as_str()))
            });
        let effects_in = {
            let r = received.lock().unwrap();
            jobs_by_index
                .values()
                .all(|id| effects_of(&r, id, &rows) == (true, true))
        };
        if (done && effects_in) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let recover_s = fault_over.elapsed().as_secs_f64();
    // Late duplicates would arrive now, if any.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut row = Row {
        scenario: scenario.name.clone(),
        refused,
        recover_s,
        upload_retries: retries.load(Ordering::Relaxed),
        ..Row::default()
    };
    {
        let r = received.lock().unwrap();
        row.duplicates = r.ids.values().filter(|ids| ids.len() > 1).count();
        let distinct: usize = r.ids.values().map(BTreeSet::len).sum();
        row.redelivered = r.deliveries - distinct as u64;
        for (i, p) in planned.iter().enumerate() {
            let Some(id) = jobs_by_index.get(&i) else {
                if p.ring.is_none() {
                    row.poison_total += 1;
                    row.poison_final += 1;
                } else if p.mes {
                    // Sent and confirmed by the broker, and never became a job: MES was either
                    // answered with a refusal (a wrong answer: the model is good) or not at all.
                    row.accepted += 1;
                    let orphan =
                        scheduler::hashing::orphan_job_id(MES_TENANT, &format!("chaos-mes-{i}"));
                    match r.ids.get(&("mes", orphan.to_string())) {
                        Some(answers) => {
                            row.wrong += 1;
                            eprintln!("MES request {i} answered without a job: {answers:?}");
                        }
                        None => row.lost += 1,
                    }
                }
                continue;
            };
            let job = rows.get(id);
            let is_final = job.is_some_and(|j| FINAL.contains(&j.status.as_str()));
            if p.ring.is_none() {
                row.poison_total += 1;
                if is_final && job.is_some_and(|j| j.status != "PRICE_CALCULATED") {
                    row.poison_final += 1;
                }
                continue;
            }
            row.accepted += 1;
            if !is_final {
                row.lost += 1;
                row.stuck += 1;
                continue;
            }
            let job = job.unwrap();
            if job.attempts > 1 {
                row.restarted += 1;
            }
            if job.overdue {
                row.stuck += 1;
            }
            let (mes, crm) = effects_of(&r, id, &rows);
            if !mes || !crm {
                row.missing += 1;
            }
            let ring = p.ring.unwrap_or_default();
            let expected = if p.mes {
                &models.mes_total[ring]
            } else {
                &models.partner_total[ring]
            };
            if job.status != "PRICE_CALCULATED" || job.total.as_ref() != Some(expected) {
                row.wrong += 1;
                eprintln!(
                    "job {i} ({id}): {} {:?}, expected {expected}",
                    job.status, job.total
                );
            }
            if job.status == "PRICE_CALCULATED" {
                row.priced += 1;
            }
        }
    }

    // The broker's and the database's own view: nothing left waiting or dead-lettered, nothing
    // left in the outbox.
    if let Ok(broker) = messaging::Broker::from_url(Some(&amqp_url())).await {
        for lane in contracts::Lane::ALL {
            let q = topology.lane_queue(lane);
            let d = topology.lane_dead_queue(lane);
            row.queued_after += broker
                .queue_counts(&q.name)
                .await
                .map_or(0, |c| u64::from(c.ready));
            row.dead_after += broker
                .queue_counts(&d.name)
                .await
                .map_or(0, |c| u64::from(c.ready));
        }
        let inbound = topology.inbound_queue();
        row.queued_after += broker
            .queue_counts(&inbound.name)
            .await
            .map_or(0, |c| u64::from(c.ready));
        let inbound_dead = topology.dead_queue_of(&inbound);
        row.dead_after += broker
            .queue_counts(&inbound_dead.name)
            .await
            .map_or(0, |c| u64::from(c.ready));
    }
    row.outbox_after = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(&pool)
        .await
        .unwrap_or(-1);
    row.notes = notes;
    for r in recorders {
        r.abort();
    }
    row
}

struct JobRow {
    status: String,
    /// Whether the CRM is owed an order for this job (`scheduler::lifecycle::has_subscriber`).
    crm_owed: bool,
    total: Option<String>,
    attempts: i32,
    /// Final only after the "jobs stuck" alert's budget had run out.
    overdue: bool,
}

/// Submission index → job id (HTTP ids as answered, MES jobs by request id), and every job.
async fn read_jobs(
    pool: &sqlx::PgPool,
    http: &BTreeMap<usize, String>,
) -> (BTreeMap<usize, String>, BTreeMap<String, JobRow>) {
    type Raw = (
        uuid::Uuid,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<serde_json::Value>,
        i32,
        chrono::DateTime<chrono::Utc>,
        Option<chrono::DateTime<chrono::Utc>>,
        chrono::DateTime<chrono::Utc>,
    );
    let sql = "SELECT id, tenant, idempotency_key, status, channel, partner_ref, result, \
               attempts, created_at, submitted_eta_at, status_changed_at FROM jobs";
    let Ok(raw) = sqlx::query_as::<_, Raw>(sql).fetch_all(pool).await else {
        return (http.clone(), BTreeMap::new());
    };
    let mut by_index = http.clone();
    let mut rows = BTreeMap::new();
    for (id, tenant, key, status, channel, partner_ref, result, attempts, created, eta, changed) in
        raw
    {
        let id = id.to_string();
        if tenant == MES_TENANT
            && let Some(i) = key.strip_prefix("chaos-mes-").and_then(|i| i.parse().ok())
        {
            by_index.insert(i, id.clone());
        }
        let overdue = FINAL.contains(&status.as_str())
            && eta.is_some_and(|eta| scheduler::overdue::is_overdue(created, eta, changed));
        let total = result
            .as_ref()
            .and_then(|v| v["alloys"][0]["total"].as_str().map(str::to_owned));
        let crm_owed = match (status.parse(), channel.parse()) {
            (Ok(s), Ok(c)) => scheduler::lifecycle::has_subscriber(
                scheduler::Destination::Crm,
                s,
                c,
                partner_ref.as_deref(),
            ),
            _ => false,
        };
        rows.insert(
            id,
            JobRow {
                status,
                crm_owed,
                total,
                attempts,
                overdue,
            },
        );
    }
    (by_index, rows)
}

/// Whether MES got its answer for job `id`, and the CRM its order where one is owed.
fn effects_of(r: &Received, id: &str, rows: &BTreeMap<String, JobRow>) -> (bool, bool) {
    let owed = rows.get(id).is_some_and(|j| j.crm_owed);
    let mes = r.ids.contains_key(&("mes", id.to_owned()));
    let crm = !owed || r.ids.contains_key(&("crm", id.to_owned()));
    (mes, crm)
}

fn scenarios(arg: Option<&str>) -> Vec<Scenario> {
    let alone = |f: Fault| Scenario {
        name: f.name().to_owned(),
        faults: vec![f],
    };
    let together = || Scenario {
        name: "together".to_owned(),
        faults: Fault::ALL.to_vec(),
    };
    match arg {
        None | Some("all") => Fault::ALL
            .into_iter()
            .map(alone)
            .chain(std::iter::once(together()))
            .collect(),
        Some(list) => list
            .split(',')
            .map(|name| match name {
                "together" => together(),
                name => alone(Fault::parse(name).unwrap_or_else(|| panic!("unknown fault {name}"))),
            })
            .collect(),
    }
}

#[tokio::main]
async fn main() {
    let mut jobs = 100usize;
    let mut seed = 1u64;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--jobs" => jobs = args.next().and_then(|v| v.parse().ok()).expect("--jobs N"),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).expect("--seed N"),
            "--scenario" => only = args.next(),
            _ => {}
        }
    }
    let models: Vec<(Vec<u8>, Stamp)> = MIX.iter().map(|(source, _)| source.load()).collect();
    // The answer every job must get: `pricing quote` on the same bytes, in its channel.
    let models = Models {
        partner_total: models
            .iter()
            .map(|m| reference_total(&stamped(m, 0), "partner"))
            .collect(),
        mes_total: models
            .iter()
            .map(|m| reference_total(&stamped(m, 0), "mes"))
            .collect(),
        models,
    };
    let sizes: Vec<String> = MIX
        .iter()
        .map(|(source, share)| format!("{} {}%", source.label(), share * 100.0))
        .collect();
    println!(
        "chaos: {jobs} jobs per scenario, seed {seed}; models {}; 20% through MES's inbound \
         queue; poison 1 in 10 where named",
        sizes.join(", ")
    );
    println!(
        "{:<17} {:>8} {:>7} {:>6} {:>4} {:>4} {:>5} {:>7} {:>5} {:>6} {:>6} {:>9} {:>7} {:>9} {:>6} {:>4} {:>6}",
        "scenario",
        "accepted",
        "refused",
        "priced",
        "lost",
        "dup",
        "stuck",
        "missing",
        "wrong",
        "poison",
        "redeliv",
        "recover s",
        "retries",
        "restarted",
        "queued",
        "dead",
        "outbox"
    );
    let mut bad = false;
    for s in scenarios(only.as_deref()) {
        let row = run(&s, jobs, seed, &models).await;
        println!(
            "{:<17} {:>8} {:>7} {:>6} {:>4} {:>4} {:>5} {:>7} {:>5} {:>6} {:>6} {:>9.1} {:>7} {:>9} {:>6} {:>4} {:>6}",
            row.scenario,
            row.accepted,
            row.refused,
            row.priced,
            row.lost,
            row.duplicates,
            row.stuck,
            row.missing,
            row.wrong,
            format!("{}/{}", row.poison_final, row.poison_total),
            row.redelivered,
            row.recover_s,
            row.upload_retries,
            row.restarted,
            row.queued_after,
            row.dead_after,
            row.outbox_after
        );
        for n in &row.notes {
            println!("  note: {n}");
        }
        bad |= row.failed(jobs);
    }
    if bad {
        println!("FAILED: a scenario lost, duplicated, missed, held up or mispriced a job");
        std::process::exit(1);
    }
    println!(
        "every scenario: 0 lost, 0 duplicate effects, 0 missing effects, 0 stuck, 0 wrong answers, \
         every poison model final and not priced, nothing left in queues or outbox"
    );
}
