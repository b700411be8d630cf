//! Running pricing-core off the async runtime, with a time limit and a net for panics.
//!
//! The pipeline is CPU-bound and uses rayon; it runs on tokio's blocking pool, inside a rayon
//! pool of its own ([`ComputePools`]), so the runtime keeps serving heartbeats, acks and other
//! lanes, and a small job's parallel work never queues behind a large job's.
//!
//! Two ways out besides an answer:
//! - a panic anywhere in the pipeline (a parser bug on a hostile file) is caught and reported;
//! - the time limit: the wall-thickness stage, by far the longest, reports progress per chunk of
//!   faces, and the progress hook unwinds with a private payload once the deadline has passed or
//!   the run was abandoned. pricing-core tolerates a panicking hook (see `thickness::cast`). The
//!   async side stops waiting at the deadline in any case, so a stage that cannot be interrupted
//!   (parsing, bounded by the size limits) only keeps its thread busy a little longer.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use pricing_core::pricing::Rules;
use pricing_core::{ModelQuote, PipelineError, QuoteRequest};

use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use scheduler::telemetry;

use crate::compute::ComputePools;

/// How one pricing run ended.
#[derive(Debug)]
pub enum PriceRun {
    Quoted(Box<ModelQuote>),
    /// The model cannot be priced (parse or quote error): a final answer about the model.
    Invalid(PipelineError),
    /// The pipeline panicked; the message of the panic.
    Panicked(String),
    /// Still running when the limit passed.
    TimedOut(Duration),
}

/// Unwinding payload of an abandoned run (not a bug, so not a panic message).
struct Abandoned;

/// Prices `bytes` on the calling thread; returns early once `deadline` passes or `cancel` is set
/// (checked between chunks of the thickness analysis).
pub fn price_blocking(
    bytes: &[u8],
    rules: &Rules,
    request: &QuoteRequest,
    deadline: Option<Instant>,
    cancel: &AtomicBool,
) -> PriceRun {
    let started = Instant::now();
    let expired =
        || cancel.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d);
    let hook = |_done: u64, _total: u64| {
        if expired() {
            resume_unwind(Box::new(Abandoned));
        }
    };
    // The job's trace (the worker's `job.run` span, when tracing is on): one span per stage.
    let trace = opentelemetry::Context::current();
    let stage = |name, stages| {
        telemetry::start(
            name,
            &trace,
            SpanKind::Internal,
            vec![KeyValue::new("pricing.stages", stages)],
        )
    };
    let run = catch_unwind(AssertUnwindSafe(|| {
        let span = stage("parse", "parse, weld, units");
        let loaded = pricing_core::load(bytes, &request.analyze);
        telemetry::end(
            &span,
            loaded.as_ref().err().map(|e| e as &dyn std::fmt::Display),
        );
        let mut loaded = loaded?;
        if expired() {
            resume_unwind(Box::new(Abandoned));
        }
        // One span per step of the pipeline, each ended as the next begins.
        let mut current: Option<opentelemetry::Context> = None;
        let mut next = |step: pricing_core::Stage| {
            if let Some(cx) = current.take() {
                telemetry::end(&cx, None);
            }
            let (name, stages) = match step {
                pricing_core::Stage::Measure => ("measure", "volume, area, shells, watertightness"),
                pricing_core::Stage::Thickness => {
                    ("thickness", "wall thickness, self-intersections")
                }
                pricing_core::Stage::Quote => ("quote", "weight per alloy, price, ring size"),
            };
            current = Some(stage(name, stages));
        };
        let quoted = pricing_core::quote_loaded_in_stages(
            &mut loaded,
            rules,
            request,
            Some(&hook),
            &mut next,
        );
        if let Some(cx) = current.take() {
            telemetry::end(
                &cx,
                quoted.as_ref().err().map(|e| e as &dyn std::fmt::Display),
            );
        }
        quoted
    }));
    match run {
        Ok(Ok(quote)) => PriceRun::Quoted(Box::new(quote)),
        Ok(Err(error)) => PriceRun::Invalid(error),
        Err(payload) if payload.is::<Abandoned>() => PriceRun::TimedOut(started.elapsed()),
        Err(payload) => PriceRun::Panicked(panic_message(payload.as_ref())),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_owned()
    }
}

/// Sets the cancel flag when the waiting side goes away (timeout, or the task was aborted).
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Prices on the blocking pool, with a rayon pool of its own from `pools`, and waits at most
/// `limit`.
pub async fn price(
    bytes: Bytes,
    rules: Arc<Rules>,
    request: QuoteRequest,
    limit: Duration,
    pools: Arc<ComputePools>,
) -> PriceRun {
    let cancel = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancel.clone());
    let deadline = Instant::now().checked_add(limit);
    let flag = cancel.clone();
    let trace = opentelemetry::Context::current();
    let task = tokio::task::spawn_blocking(move || {
        // On the pool's thread, where the stages run.
        pools.run(|| {
            let _trace = trace.attach();
            price_blocking(&bytes, &rules, &request, deadline, &flag)
        })
    });
    match tokio::time::timeout(limit, task).await {
        Ok(Ok(PriceRun::TimedOut(_))) | Err(_) => PriceRun::TimedOut(limit),
        Ok(Ok(run)) => run,
        // The blocking task itself panicked outside catch_unwind, or the runtime is shutting down.
        Ok(Err(join)) => PriceRun::Panicked(join.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pricing_core::pricing::Channel;

    fn request() -> QuoteRequest {
        QuoteRequest {
            alloys: vec!["au750y".into()],
            channel: Channel::Website,
            analyze: Default::default(),
            thickness: Default::default(),
        }
    }

    fn torus_stl(major: usize, minor: usize) -> Vec<u8> {
        let (mesh, _) = fixtures::torus_ring(9.0, 1.2, major, minor);
        let mut out = Vec::new();
        fixtures::write_stl_binary(&mesh.to_f32(), &mut out).unwrap();
        out
    }

    #[tokio::test]
    async fn prices_a_ring_and_reports_bad_input_as_invalid() {
        let rules = Arc::new(Rules::default_shipped().unwrap());
        let run = price(
            Bytes::from(torus_stl(48, 24)),
            rules.clone(),
            request(),
            Duration::from_secs(60),
            Arc::default(),
        )
        .await;
        let PriceRun::Quoted(quote) = run else {
            panic!("expected a quote, got {run:?}")
        };
        assert_eq!(quote.measurements.triangles, 2304);
        assert_eq!(quote.alloys.len(), 1);

        let run = price(
            Bytes::new(),
            rules,
            request(),
            Duration::from_secs(60),
            Arc::default(),
        )
        .await;
        let PriceRun::Invalid(error) = run else {
            panic!("expected a parse error, got {run:?}")
        };
        assert_eq!(error.code(), "empty_file");
    }

    #[test]
    fn an_expired_or_cancelled_run_stops_and_says_so() {
        let rules = Rules::default_shipped().unwrap();
        let bytes = torus_stl(48, 24);
        let past = Instant::now().checked_sub(Duration::from_millis(1));
        let run = price_blocking(&bytes, &rules, &request(), past, &AtomicBool::new(false));
        assert!(matches!(run, PriceRun::TimedOut(_)), "{run:?}");
        let run = price_blocking(&bytes, &rules, &request(), None, &AtomicBool::new(true));
        assert!(matches!(run, PriceRun::TimedOut(_)), "{run:?}");
    }

    #[tokio::test]
    async fn the_time_limit_interrupts_the_thickness_stage() {
        let rules = Arc::new(Rules::default_shipped().unwrap());
        // Big enough that the thickness analysis takes far longer than the limit in any build.
        let bytes = Bytes::from(torus_stl(600, 300));
        let started = Instant::now();
        let run = price(
            bytes,
            rules,
            request(),
            Duration::from_millis(30),
            Arc::default(),
        )
        .await;
        assert!(matches!(run, PriceRun::TimedOut(_)), "{run:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn panic_messages_are_kept() {
        let payload = catch_unwind(|| std::panic::panic_any("boom")).unwrap_err();
        assert_eq!(panic_message(payload.as_ref()), "boom");
        let payload = catch_unwind(|| std::panic::panic_any(String::from("bang"))).unwrap_err();
        assert_eq!(panic_message(payload.as_ref()), "bang");
        let payload = catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert_eq!(
            panic_message(payload.as_ref()),
            "panic with a non-text payload"
        );
    }
}
