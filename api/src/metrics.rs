//! Prometheus metrics. Request metrics (RED per route and role) are recorded by the
//! [`crate::auth::middleware`]; job histograms by the [`crate::stats`] collector; gauges (jobs by
//! status, queue depth, oldest age, workers alive) are refreshed from the store at each scrape.

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Job durations and queue waits: 50 ms to one hour.
pub const JOB_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0,
    3600.0,
];
/// HTTP latencies: 1 ms to 2 minutes (uploads).
pub const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
];

#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub jobs_by_status: IntGaugeVec,
    pub queue_depth: IntGaugeVec,
    pub oldest_age: GaugeVec,
    pub job_duration: HistogramVec,
    pub queue_wait: HistogramVec,
    pub workers_alive: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method, role and status",
            ),
            &["route", "method", "role", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency")
                .buckets(HTTP_BUCKETS.to_vec()),
            &["route", "method", "role"],
        )?;
        let jobs_by_status = IntGaugeVec::new(
            Opts::new("pricing_jobs", "Jobs in each status"),
            &["status"],
        )?;
        let queue_depth = IntGaugeVec::new(
            Opts::new(
                "pricing_queue_depth",
                "Messages waiting in each lane's queue",
            ),
            &["lane"],
        )?;
        let oldest_age = GaugeVec::new(
            Opts::new(
                "pricing_oldest_job_age_seconds",
                "Time the longest-waiting job has been in each status",
            ),
            &["status"],
        )?;
        let job_duration = HistogramVec::new(
            HistogramOpts::new(
                "pricing_job_duration_seconds",
                "From a worker's start to the final state, per lane",
            )
            .buckets(JOB_BUCKETS.to_vec()),
            &["lane"],
        )?;
        let queue_wait = HistogramVec::new(
            HistogramOpts::new(
                "pricing_job_queue_wait_seconds",
                "From submission to a worker's start, per lane",
            )
            .buckets(JOB_BUCKETS.to_vec()),
            &["lane"],
        )?;
        let workers_alive = IntGauge::new("pricing_workers_alive", "Workers seen recently")?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(jobs_by_status.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        registry.register(Box::new(oldest_age.clone()))?;
        registry.register(Box::new(job_duration.clone()))?;
        registry.register(Box::new(queue_wait.clone()))?;
        registry.register(Box::new(workers_alive.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_duration,
            jobs_by_status,
            queue_depth,
            oldest_age,
            job_duration,
            queue_wait,
            workers_alive,
        })
    }

    /// One request's outcome.
    pub fn observe_request(&self, route: &str, method: &str, role: &str, status: u16, secs: f64) {
        self.http_requests
            .with_label_values(&[route, method, role, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[route, method, role])
            .observe(secs);
    }

    /// The text exposition format.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf)?;
        String::from_utf8(buf).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}
