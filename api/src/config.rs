//! What the API decides with, besides its backends.

use std::time::Duration;

/// 256 MiB: the default largest upload.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 256 << 20;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    /// Largest accepted upload, in bytes; larger bodies are refused as soon as that is known.
    pub max_upload_bytes: u64,
    /// Largest accepted triangle count.
    pub max_triangles: u64,
    /// Requests per minute for keys without their own limit; `None` = unlimited.
    pub default_rate_per_minute: Option<u32>,
    /// Unfinished large-lane jobs a tenant may have at once.
    pub max_heavy_jobs_per_tenant: u32,
    /// Retry-After given when that limit refuses a job.
    pub heavy_retry_after: Duration,
    /// Deadline for every request except uploads and event streams.
    pub request_timeout: Duration,
    /// Deadline for an upload (body included).
    pub upload_timeout: Duration,
    /// How often an event stream looks for a change.
    pub events_poll: Duration,
    /// Longest an event stream stays open.
    pub events_max: Duration,
    /// Unauthenticated requests act as a `website` key of tenant `public` (local demos only).
    pub open: bool,
    /// Full-file probes (text formats) running at once; each holds one model in memory.
    pub probe_concurrency: usize,
    /// How long a console sign-in lasts (an operator's shift).
    pub session_ttl: Duration,
    /// Browsers reach this API over TLS: session cookies are `Secure` (also when a proxy says
    /// `X-Forwarded-Proto: https`).
    pub tls: bool,
    /// A `website` key held by the server for the quote page: a call with no key and no session
    /// acts as this key's tenant, limits and quota. The key itself never reaches the browser.
    /// A key of another role is ignored (such calls stay anonymous).
    pub page_key: Option<String>,
    /// A connection that has not sent a request's whole head (request line and headers) within
    /// this is closed: a client trickling its headers cannot hold a connection.
    pub header_read_timeout: Duration,
    /// An upload with no body bytes for this long is answered 408 `upload_stalled`.
    pub upload_idle_timeout: Duration,
    /// After shutdown is signalled, how long requests in flight may finish.
    pub drain_timeout: Duration,
    /// A connection whose peer has read nothing of its answer for this long is closed (a live
    /// feed nobody reads, a download left hanging); see [`crate::stall`].
    pub write_stall_timeout: Duration,
    /// Each connection's kernel send buffer. Fixed rather than autotuned (which grows to 4 MiB
    /// on Linux): answers are small, and a thousand clients that stop reading must not hold
    /// gigabytes of kernel memory until [`ApiConfig::write_stall_timeout`] ends them.
    pub send_buffer_bytes: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            max_triangles: pricing_core::Limits::default().max_triangles,
            default_rate_per_minute: Some(6000),
            max_heavy_jobs_per_tenant: 4,
            heavy_retry_after: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(600),
            events_poll: Duration::from_millis(200),
            events_max: Duration::from_secs(3600),
            open: false,
            probe_concurrency: 4,
            session_ttl: Duration::from_secs(12 * 3600),
            tls: false,
            page_key: None,
            header_read_timeout: Duration::from_secs(10),
            upload_idle_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(30),
            write_stall_timeout: Duration::from_secs(60),
            send_buffer_bytes: 256 * 1024,
        }
    }
}

impl ApiConfig {
    /// The parse limits uploads are checked against.
    pub fn limits(&self) -> pricing_core::Limits {
        pricing_core::Limits {
            max_bytes: self.max_upload_bytes,
            max_triangles: self.max_triangles,
            ..pricing_core::Limits::default()
        }
    }
}
