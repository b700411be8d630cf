//! Exports the job spans (`scheduler::telemetry`) with OpenTelemetry when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set: OTLP over HTTP with JSON bodies (to
//! `$OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces`), batched on a thread of its own. Unset, nothing is
//! installed and the spans are no-ops.

use anyhow::Context as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Flushes and stops the exporter when dropped (after the runtime has stopped).
pub struct Telemetry(Option<SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("pricing: flushing traces failed: {e}");
        }
    }
}

/// Installs the exporter for `service` (the OpenTelemetry `service.name`) when configured.
/// Call before the async runtime starts.
pub fn init(service: &'static str) -> anyhow::Result<Telemetry> {
    let configured =
        std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_ok_and(|e| !e.trim().is_empty());
    if !configured {
        return Ok(Telemetry(None));
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .build()
        .context("cannot set up the OTLP exporter (OTEL_EXPORTER_OTLP_ENDPOINT)")?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_id_generator(scheduler::telemetry::JobIds::default())
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    Ok(Telemetry(Some(provider)))
}
