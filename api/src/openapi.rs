//! The OpenAPI 3.1 document, generated from the handlers' annotations and the DTOs' schemas.
//! `deploy/openapi.json` is a committed copy; `tests/openapi.rs` fails when they drift apart
//! (`UPDATE_OPENAPI=1 cargo test -p api --test openapi` rewrites it).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{auth, dto, error, routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Alexandrite pricing API",
        description = "Uploads, estimates, job status and events for the website, partners and MES; queues, workers, claims and retries for operators. Every 4xx and 5xx answer is an ErrorBody.",
    ),
    paths(
        routes::submit::submit,
        routes::estimate::estimate,
        routes::jobs::get_job,
        routes::jobs::events,
        routes::ops::list_jobs,
        routes::changes::changes,
        routes::ops::queues,
        routes::ops::workers,
        routes::ops::claim,
        routes::ops::release,
        routes::ops::retry,
        routes::record::record,
        routes::eta_truth::eta_truth,
        routes::eta_truth::eta_truth_chart,
        routes::session::sign_in,
        routes::session::current,
        routes::session::sign_out,
        routes::health::healthz,
        routes::health::readyz,
        routes::health::metrics,
        routes::health::openapi,
    ),
    components(schemas(
        error::ErrorBody,
        dto::JobAccepted,
        dto::JobResponse,
        dto::JobList,
        routes::changes::JobChangeEvent,
        routes::changes::ChangeKind,
        routes::record::JobRecord,
        routes::record::StatusChange,
        routes::record::ClaimChange,
        routes::record::MessageDto,
        routes::eta_truth::EtaTruthResponse,
        routes::eta_truth::LaneTruthDto,
        routes::eta_truth::Window,
        routes::session::SignIn,
        routes::session::SessionInfo,
        dto::EtaDto,
        dto::EstimateResponse,
        dto::LaneStats,
        dto::QueuesResponse,
        dto::WorkerDto,
        dto::WorkersResponse,
        dto::Health,
        pricing_core::estimate::AlloyRange,
        pricing_core::estimate::Bbox,
        auth::Role,
        routes::submit::OptionsField,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "jobs", description = "Uploads, estimates and job status"),
        (name = "operators", description = "Queues, workers, claims and retries"),
        (name = "console", description = "Browser sessions for the operators' console"),
        (name = "health", description = "Probes, metrics and this document"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `Authorization: Bearer alx_...`"))
                    .build(),
            ),
        );
    }
}

/// The document as pretty JSON with a trailing newline (the committed file's exact bytes).
pub fn document_json() -> String {
    let mut doc = ApiDoc::openapi();
    // The crate version would make every release touch the committed file.
    doc.info.version = "1".into();
    let mut text = doc
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
