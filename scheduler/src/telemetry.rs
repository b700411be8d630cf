//! A job's spans: one OpenTelemetry trace per job, whose trace id is the job id
//! (`contracts::trace`), so "where is order X" is one lookup whichever process is asked.
//!
//! The spans whose ids other processes must know are given deterministic ids: the job's root
//! span (`job`, written where the job is created: the API's intake or the MES inbound consumer)
//! and each message's publish span (`publish`, by the relay), whose id is the one the message's
//! `traceparent` header already names. So the relay's span is the parent of the worker's, and
//! the root is the parent of every publish, with nothing stored beside the outbox row. The
//! worker's own spans (`job.run` and its stages) take random ids under the delivery's header.
//!
//! The OpenTelemetry SDK does not accept ids from a span builder, so [`JobIds`] — the id
//! generator the binary installs — takes them from a per-thread slot that [`start_as`] and
//! [`record_root`] fill just before they start the span on the same thread. Without an
//! installed provider (`OTEL_EXPORTER_OTLP_ENDPOINT` unset) the global tracer is a no-op and all
//! of this costs nothing.

use std::cell::Cell;
use std::time::SystemTime;

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
};
use opentelemetry::{Context, KeyValue, global};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
use uuid::Uuid;

/// Instrumentation scope of every span this project makes.
pub const SCOPE: &str = "alexandrite-pricing";

/// Seed of the job's root span id (see `contracts::trace::traceparent`).
pub const ROOT_SEED: &str = "job";

thread_local! {
    static NEXT_IDS: Cell<Option<(TraceId, SpanId)>> = const { Cell::new(None) };
}

/// Random ids, except for a span started by [`start_as`] or [`record_root`] on this thread.
#[derive(Debug, Default)]
pub struct JobIds {
    random: RandomIdGenerator,
}

impl IdGenerator for JobIds {
    fn new_trace_id(&self) -> TraceId {
        NEXT_IDS
            .with(Cell::get)
            .map_or_else(|| self.random.new_trace_id(), |(t, _)| t)
    }

    fn new_span_id(&self) -> SpanId {
        NEXT_IDS
            .with(Cell::get)
            .map_or_else(|| self.random.new_span_id(), |(_, s)| s)
    }
}

/// The (trace, span) ids of `contracts::trace::traceparent(job, seed)`.
pub fn ids(job: Uuid, seed: &str) -> (TraceId, SpanId) {
    let header = contracts::trace::traceparent(job, seed);
    parse(&header).map_or((TraceId::from(job.as_u128()), SpanId::INVALID), |sc| {
        (sc.trace_id(), sc.span_id())
    })
}

/// The remote span context a `traceparent` header names, when well formed.
pub fn parse(traceparent: &str) -> Option<SpanContext> {
    // Field lengths first: the SDK's hex readers accept short ids.
    contracts::trace::trace_id(traceparent)?;
    let mut parts = traceparent.split('-');
    let (_v, trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let trace = TraceId::from_hex(trace).ok()?;
    let span = SpanId::from_hex(span).ok()?;
    let flags = u8::from_str_radix(flags, 16).ok()?;
    let sc = SpanContext::new(
        trace,
        span,
        TraceFlags::new(flags),
        true,
        TraceState::default(),
    );
    sc.is_valid().then_some(sc)
}

/// A context whose parent is the span `traceparent` names (none when malformed).
pub fn remote_parent(traceparent: Option<&str>) -> Context {
    match traceparent.and_then(parse) {
        Some(sc) => Context::new().with_remote_span_context(sc),
        None => Context::new(),
    }
}

/// A context whose parent is `job`'s root span.
pub fn under_root(job: Uuid) -> Context {
    let (trace, span) = ids(job, ROOT_SEED);
    let sc = SpanContext::new(
        trace,
        span,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    Context::new().with_remote_span_context(sc)
}

/// Builds `builder`'s span under `parent`, with `ids` when given (see [`JobIds`]).
fn build(
    builder: opentelemetry::trace::SpanBuilder,
    ids: Option<(TraceId, SpanId)>,
    parent: &Context,
) -> Context {
    let tracer = global::tracer(SCOPE);
    NEXT_IDS.with(|c| c.set(ids));
    let span = tracer.build_with_context(builder, parent);
    NEXT_IDS.with(|c| c.set(None));
    parent.with_span(span)
}

fn builder(
    name: &'static str,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
) -> opentelemetry::trace::SpanBuilder {
    global::tracer(SCOPE)
        .span_builder(name)
        .with_kind(kind)
        .with_attributes(attributes)
}

/// Starts span `name` with the ids `traceparent` names, under `parent` (fresh ids when the
/// header is malformed); returns a context holding it (end it with [`end`]).
pub fn start_as(
    name: &'static str,
    traceparent: &str,
    parent: &Context,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
) -> Context {
    let ids = parse(traceparent).map(|sc| (sc.trace_id(), sc.span_id()));
    build(builder(name, kind, attributes), ids, parent)
}

/// Starts span `name` under `parent` with fresh ids; returns a context holding it.
pub fn start(
    name: &'static str,
    parent: &Context,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
) -> Context {
    build(builder(name, kind, attributes), None, parent)
}

/// Records `job`'s root span, from `start` (when the request or message arrived) to now; `via`
/// says which door it came in by; `caller` is the caller's own `traceparent` (MES's), linked.
/// Only for a job just created: a replay must not record a second root with the same id.
pub fn record_root(job: &crate::Job, start: SystemTime, via: &'static str, caller: Option<&str>) {
    let attributes = vec![
        KeyValue::new("job.id", job.id.to_string()),
        KeyValue::new("job.tenant", job.tenant.clone()),
        KeyValue::new("job.channel", job.channel.as_str()),
        KeyValue::new("job.format", job.format.as_str()),
        KeyValue::new(
            "job.triangles",
            i64::try_from(job.triangles).unwrap_or(i64::MAX),
        ),
        KeyValue::new("job.lane", job.lane.as_str()),
        KeyValue::new("pricing.via", via),
    ];
    let mut root = builder(ROOT_SEED, SpanKind::Server, attributes).with_start_time(start);
    if let Some(sc) = caller.and_then(parse) {
        root = root.with_links(vec![opentelemetry::trace::Link::with_context(sc)]);
    }
    let cx = build(root, Some(ids(job.id, ROOT_SEED)), &Context::new());
    end(&cx, None);
}

/// Ends the span `cx` holds, as failed with `error` when there is one.
pub fn end(cx: &Context, error: Option<&dyn std::fmt::Display>) {
    let span = cx.span();
    if let Some(e) = error {
        span.set_status(opentelemetry::trace::Status::error(e.to_string()));
    }
    span.end();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_headers_ids() {
        let job = Uuid::from_u128(0x1234_5678_9abc_def0_1122_3344_5566_7788);
        let (trace, span) = ids(job, "m-1");
        let header = contracts::trace::traceparent(job, "m-1");
        assert_eq!(header, format!("00-{trace}-{span}-01"));
        assert_eq!(trace, TraceId::from(job.as_u128()));
        assert!(parse("00-abc-def-01").is_none());
        assert!(parse(&header).is_some_and(|sc| sc.is_remote() && sc.is_sampled()));
    }

    #[test]
    fn the_generator_hands_out_the_slot_once_set_and_random_ids_otherwise() {
        let g = JobIds::default();
        let (trace, span) = ids(Uuid::from_u128(7), "x");
        NEXT_IDS.with(|c| c.set(Some((trace, span))));
        assert_eq!((g.new_trace_id(), g.new_span_id()), (trace, span));
        NEXT_IDS.with(|c| c.set(None));
        assert_ne!(g.new_span_id(), span);
        assert_ne!(g.new_trace_id(), trace);
    }
}
