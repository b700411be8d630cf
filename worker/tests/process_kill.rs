//! Worker processes stopped in the middle of a job:
//! - SIGKILL (no destructor runs, no acknowledgement is sent): RabbitMQ returns the message when
//!   the connection drops, another worker prices the job, and MES hears of it once;
//! - SIGTERM: the worker finishes the job it holds, then exits cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Child, Command, Stdio};

use contracts::Channel;
use scheduler::JobStatus;
use support::{Backend, Harness, drain_quiet, worker_config};

const CHILD_ENV: &str = "WORKER_TEST_CHILD";

/// The child process: a worker on the parent's database, blobs and topology, until a signal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper: started as a child process by the other tests of this file"]
async fn child_worker_process() {
    let spec = std::env::var(CHILD_ENV).expect("run by the other tests of this file");
    let (worker_id, ctx) = support::child_context(&spec).await;
    worker::run_worker(
        ctx,
        worker_config(&worker_id, 1),
        worker::shutdown_on_signals(),
    )
    .await
    .unwrap();
}

fn spawn_child(h: &Harness, worker_id: &str) -> Child {
    let spec = h.child_spec(worker_id);
    Command::new(std::env::current_exe().unwrap())
        .args([
            "child_worker_process",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_ENV, spec)
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_process_killed_mid_job() {
    let h = Harness::new(Backend::Cluster).await;
    let mut mes = h.mes().await;
    let run = h.start();

    let mut child = spawn_child(&h, "w-child");

    // Seconds of work in a debug build: the kill lands mid-job.
    let model = h.put_model(support::ring(100_000)).await;
    let job = h.submit(&model, Channel::Partner, Some("PO-K")).await;
    run.wake.notify_one();
    h.wait_started_by(job.id, "w-child").await;
    child.kill().unwrap();
    child.wait().unwrap();

    let survivor = h.start_worker(&run, "w-survivor", 1);
    let done = h.wait_priced(job.id).await;
    assert_eq!(done.worker_id.as_deref(), Some("w-survivor"));
    assert_eq!(done.attempts, 2);
    let history = h.store.history(job.id).await.unwrap();
    assert!(
        history
            .iter()
            .any(|t| t.from_status == Some(JobStatus::Calculating)
                && t.to_status == JobStatus::Calculating),
        "{history:?}"
    );
    assert_eq!(drain_quiet(&mut mes).await.len(), 1, "MES hears once");

    run.shutdown([survivor]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_process_drains_on_sigterm() {
    let h = Harness::new(Backend::Cluster).await;
    let mut mes = h.mes().await;
    let run = h.start();
    let mut child = spawn_child(&h, "w-term");

    let model = h.put_model(support::ring(100_000)).await;
    let job = h.submit(&model, Channel::Website, None).await;
    run.wake.notify_one();
    h.wait_started_by(job.id, "w-term").await;
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the worker exits cleanly after draining: {status:?}"
    );

    // Finished by the worker that was told to stop, on its first attempt.
    let done = h.wait_priced(job.id).await;
    assert_eq!(done.worker_id.as_deref(), Some("w-term"));
    assert_eq!(done.attempts, 1);
    assert_eq!(drain_quiet(&mut mes).await.len(), 1);
    let lane = h.topology.lane_queue(contracts::Lane::Small).name;
    assert_eq!(h.broker.ready_count(&lane).await.unwrap(), 0);
    run.shutdown([]).await;
}
