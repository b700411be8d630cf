//! Prometheus metrics. Request metrics (RED per route and role) are recorded by the
//! [`crate::auth::middleware`]; job histograms by the [`crate::stats`] collector; gauges (jobs by
//! status, queue depth, oldest age, workers alive, the cost model's coefficients) are refreshed
//! from the store at each scrape.

use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

/// Job durations and queue waits: 50 ms to one hour.
pub const JOB_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0,
    3600.0,
];
/// |actual − promised| / promised time to final: 5 % to 10×.
pub const ETA_ERROR_BUCKETS: &[f64] = &[0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0];
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
    /// The coefficients this process predicts with, per format and source (default | calibrated).
    pub cost_fixed: GaugeVec,
    pub cost_per_triangle: GaugeVec,
    /// Observations behind a calibrated pair (0 for a default).
    pub cost_samples: IntGaugeVec,
    pub queue_consumers: IntGaugeVec,
    pub dead_letters: IntGaugeVec,
    pub jobs_overdue: IntGaugeVec,
    pub outbox_pending: IntGauge,
    pub outbox_oldest_age: Gauge,
    pub outbox_last_sent_age: Gauge,
    pub eta_error: HistogramVec,
    /// The same error for the queue wait and the run alone (`part`: wait, run).
    pub eta_part_error: HistogramVec,
    pub eta_late: IntCounterVec,
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
        let cost_fixed = GaugeVec::new(
            Opts::new(
                "pricing_cost_model_fixed_seconds",
                "Cost model: predicted seconds per job whatever its size, per format",
            ),
            &["format", "source"],
        )?;
        let cost_per_triangle = GaugeVec::new(
            Opts::new(
                "pricing_cost_model_per_triangle_seconds",
                "Cost model: predicted seconds per triangle, per format",
            ),
            &["format", "source"],
        )?;
        let cost_samples = IntGaugeVec::new(
            Opts::new(
                "pricing_cost_model_samples",
                "Cost model: observed durations behind each format's fit (0: measured default)",
            ),
            &["format"],
        )?;
        let queue_consumers = IntGaugeVec::new(
            Opts::new(
                "pricing_queue_consumers",
                "Consumers subscribed to each lane's queue, as the broker counts them",
            ),
            &["lane"],
        )?;
        let dead_letters = IntGaugeVec::new(
            Opts::new(
                "pricing_dead_letter_messages",
                "Messages in the dead-letter queue of each consuming queue",
            ),
            &["source"],
        )?;
        let jobs_overdue = IntGaugeVec::new(
            Opts::new(
                "pricing_jobs_overdue",
                "Unfinished jobs past 3x their promised time to final (min 30 s), per lane",
            ),
            &["lane"],
        )?;
        let outbox_pending =
            IntGauge::new("pricing_outbox_pending", "Outbox messages not yet sent")?;
        let outbox_oldest_age = Gauge::new(
            "pricing_outbox_oldest_pending_age_seconds",
            "Age of the oldest unsent outbox message (0 when none)",
        )?;
        let outbox_last_sent_age = Gauge::new(
            "pricing_outbox_last_sent_age_seconds",
            "Time since the relay last confirmed a message (0 when it never has)",
        )?;
        let eta_error = HistogramVec::new(
            HistogramOpts::new(
                "pricing_eta_relative_error",
                "Finished jobs' |actual - promised| / promised time to final, per lane",
            )
            .buckets(ETA_ERROR_BUCKETS.to_vec()),
            &["lane"],
        )?;
        let eta_part_error = HistogramVec::new(
            HistogramOpts::new(
                "pricing_eta_part_relative_error",
                "Finished jobs' relative error of the promised queue wait and of the predicted run, per lane",
            )
            .buckets(ETA_ERROR_BUCKETS.to_vec()),
            &["lane", "part"],
        )?;
        let eta_late = IntCounterVec::new(
            Opts::new(
                "pricing_eta_late_total",
                "Finished jobs that took longer than promised, per lane",
            ),
            &["lane"],
        )?;
        // Every lane's series exists from the start (at zero), so dashboards and alerts see a
        // lane that has had no job yet instead of no data.
        for lane in contracts::Lane::ALL {
            let l = [lane.as_str()];
            job_duration.with_label_values(&l);
            queue_wait.with_label_values(&l);
            eta_error.with_label_values(&l);
            for part in ["wait", "run"] {
                eta_part_error.with_label_values(&[lane.as_str(), part]);
            }
            eta_late.with_label_values(&l);
        }
        registry.register(Box::new(queue_consumers.clone()))?;
        registry.register(Box::new(dead_letters.clone()))?;
        registry.register(Box::new(jobs_overdue.clone()))?;
        registry.register(Box::new(outbox_pending.clone()))?;
        registry.register(Box::new(outbox_oldest_age.clone()))?;
        registry.register(Box::new(outbox_last_sent_age.clone()))?;
        registry.register(Box::new(eta_error.clone()))?;
        registry.register(Box::new(eta_part_error.clone()))?;
        registry.register(Box::new(eta_late.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(jobs_by_status.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        registry.register(Box::new(oldest_age.clone()))?;
        registry.register(Box::new(job_duration.clone()))?;
        registry.register(Box::new(queue_wait.clone()))?;
        registry.register(Box::new(workers_alive.clone()))?;
        registry.register(Box::new(cost_fixed.clone()))?;
        registry.register(Box::new(cost_per_triangle.clone()))?;
        registry.register(Box::new(cost_samples.clone()))?;
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
            cost_fixed,
            cost_per_triangle,
            cost_samples,
            queue_consumers,
            dead_letters,
            jobs_overdue,
            outbox_pending,
            outbox_oldest_age,
            outbox_last_sent_age,
            eta_error,
            eta_part_error,
            eta_late,
        })
    }

    /// Sets the cost-model gauges to `model`. The series are rebuilt, so a format whose source
    /// changed from default to calibrated does not keep its old series.
    pub fn set_cost_model(&self, model: &scheduler::CostModel) {
        self.cost_fixed.reset();
        self.cost_per_triangle.reset();
        self.cost_samples.reset();
        let formats = model
            .formats
            .iter()
            .map(|(name, m)| (name.as_str(), m.coefficients, source(m.source), m.samples))
            .chain([("other", model.default, "default", 0)]);
        for (format, c, source, samples) in formats {
            self.cost_fixed
                .with_label_values(&[format, source])
                .set(c.fixed_seconds);
            self.cost_per_triangle
                .with_label_values(&[format, source])
                .set(c.per_triangle_seconds);
            self.cost_samples
                .with_label_values(&[format])
                .set(i64::try_from(samples).unwrap_or(i64::MAX));
        }
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

fn source(s: scheduler::cost::CoefficientSource) -> &'static str {
    match s {
        scheduler::cost::CoefficientSource::Default => "default",
        scheduler::cost::CoefficientSource::Calibrated => "calibrated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scheduler::cost::{CoefficientSource, Coefficients, FormatModel};

    #[test]
    fn cost_model_gauges_follow_the_model() {
        let m = Metrics::new().unwrap();
        let mut model = scheduler::CostModel::default();
        m.set_cost_model(&model);
        let text = m.render().unwrap();
        assert!(
            text.contains(r#"pricing_cost_model_samples{format="obj"} 0"#),
            "{text}"
        );
        assert!(
            text.contains(r#"pricing_cost_model_fixed_seconds{format="obj",source="default"} 0"#)
        );
        model.formats.insert(
            "obj".into(),
            FormatModel {
                coefficients: Coefficients {
                    fixed_seconds: 0.25,
                    per_triangle_seconds: 2e-6,
                },
                source: CoefficientSource::Calibrated,
                samples: 42,
                updated_at: None,
            },
        );
        m.set_cost_model(&model);
        let text = m.render().unwrap();
        for needle in [
            r#"pricing_cost_model_fixed_seconds{format="obj",source="calibrated"} 0.25"#,
            r#"pricing_cost_model_per_triangle_seconds{format="obj",source="calibrated"} 0.000002"#,
            r#"pricing_cost_model_samples{format="obj"} 42"#,
        ] {
            assert!(text.contains(needle), "missing {needle}\n{text}");
        }
        // The default series of a calibrated format is gone.
        assert!(
            !text.contains(r#"{format="obj",source="default"}"#),
            "{text}"
        );
    }
}
