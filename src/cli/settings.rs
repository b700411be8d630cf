//! Typed settings of the service commands: each flag also reads an environment variable, so the
//! same binary is configured by flags on a laptop and by the environment in a container.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use scheduler::BlobConfig;

/// Where jobs, keys and models are kept.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreSettings {
    /// Job store: `postgres://...` for the cluster, `sqlite:...` embedded.
    #[arg(long, env = "DATABASE_URL", default_value = scheduler::DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Directory for uploaded models when no S3 bucket is set.
    #[arg(long, env = "BLOB_DIR", default_value = ".data/blobs")]
    pub blob_dir: PathBuf,
    /// S3 bucket for uploaded models (credentials from the standard AWS_* variables).
    #[arg(long, env = "S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// S3-compatible endpoint, e.g. http://minio:9000.
    #[arg(long, env = "S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    #[arg(long, env = "S3_REGION")]
    pub s3_region: Option<String>,
    /// Allow a plain-http S3 endpoint.
    #[arg(long, env = "S3_ALLOW_HTTP")]
    pub s3_allow_http: bool,
    /// How jobs queue: `lanes` (one queue per size lane) or `fifo` (one queue in arrival order,
    /// the baseline the load bench measures the lanes against). Every role that accepts jobs
    /// (api, scheduler) must use the same.
    #[arg(long, env = "PRICING_QUEUEING", default_value = "lanes")]
    pub queueing: scheduler::Queueing,
}

impl StoreSettings {
    pub fn config(&self) -> scheduler::StoreConfig {
        scheduler::StoreConfig {
            queueing: self.queueing,
            ..scheduler::StoreConfig::default()
        }
    }

    pub fn blob_config(&self) -> BlobConfig {
        match &self.s3_bucket {
            Some(bucket) => BlobConfig::S3 {
                bucket: bucket.clone(),
                region: self.s3_region.clone(),
                endpoint: self.s3_endpoint.clone(),
                access_key_id: None,
                secret_access_key: None,
                allow_http: self.s3_allow_http,
            },
            None => BlobConfig::Local {
                dir: self.blob_dir.clone(),
            },
        }
    }
}

/// The message broker.
#[derive(Debug, Clone, clap::Args)]
pub struct BrokerSettings {
    /// RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:5672/%2f. Unset: the in-process broker
    /// (`serve` only; the separate roles need a shared broker).
    #[arg(long, env = "AMQP_URL")]
    pub amqp_url: Option<String>,
    /// Prefix of every exchange and queue name.
    #[arg(long, env = "TOPOLOGY_PREFIX", default_value = "alexandrite")]
    pub topology_prefix: String,
}

/// The HTTP API.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiSettings {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "PRICING_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Largest upload in bytes.
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = api::config::DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,
    /// Largest triangle count accepted.
    #[arg(long, env = "MAX_TRIANGLES", default_value_t = pricing_core::Limits::default().max_triangles)]
    pub max_triangles: u64,
    /// Requests per minute for keys without their own limit (0 = unlimited).
    #[arg(long, env = "DEFAULT_RATE_PER_MINUTE", default_value_t = 6000)]
    pub default_rate_per_minute: u32,
    /// Unfinished large jobs a tenant may have at once.
    #[arg(long, env = "MAX_HEAVY_JOBS_PER_TENANT", default_value_t = 4)]
    pub max_heavy_jobs_per_tenant: u32,
    /// Deadline of ordinary requests, in seconds.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Deadline of uploads (body included), in seconds.
    #[arg(long, env = "UPLOAD_TIMEOUT_SECS", default_value_t = 600)]
    pub upload_timeout_secs: u64,
    /// Accept requests without a key as a `website` key of tenant `public`. For local demos:
    /// refused unless listening on a loopback address.
    #[arg(long, env = "PRICING_OPEN")]
    pub open: bool,
    /// A `website` key the quote page (`/`) uses on the server side: callers without a key act
    /// as it. The website's own key, configured here instead of in the page.
    #[arg(long, env = "QUOTE_PAGE_KEY", hide_env_values = true)]
    pub quote_page_key: Option<String>,
}

impl ApiSettings {
    pub fn config(&self) -> anyhow::Result<api::ApiConfig> {
        if self.open && !self.listen.ip().is_loopback() {
            anyhow::bail!(
                "--open is only allowed on a loopback address (got {})",
                self.listen
            );
        }
        Ok(api::ApiConfig {
            max_upload_bytes: self.max_upload_bytes,
            max_triangles: self.max_triangles,
            default_rate_per_minute: (self.default_rate_per_minute > 0)
                .then_some(self.default_rate_per_minute),
            max_heavy_jobs_per_tenant: self.max_heavy_jobs_per_tenant,
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            upload_timeout: Duration::from_secs(self.upload_timeout_secs.max(1)),
            open: self.open,
            page_key: self.quote_page_key.clone(),
            ..api::ApiConfig::default()
        })
    }
}

/// The pricing workers.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkerSettings {
    /// Jobs priced at once (default: one per CPU).
    #[arg(long, env = "WORKER_SLOTS")]
    pub slots: Option<u16>,
    /// This worker's name in heartbeats (default: host-pid).
    #[arg(long, env = "WORKER_ID")]
    pub worker_id: Option<String>,
    /// Lanes this worker consumes, comma-separated (default: all, smallest first). One worker
    /// pool per lane lets each scale on its own queue.
    #[arg(long, env = "WORKER_LANES", value_delimiter = ',')]
    pub lanes: Vec<contracts::Lane>,
    /// On SIGTERM, seconds in-flight jobs may run before they go back to their queue.
    #[arg(long, env = "WORKER_DRAIN_GRACE_SECS")]
    pub drain_grace_secs: Option<u64>,
    /// Threads each job prices with (default: the CPUs shared among the slots, so a run takes
    /// as long however many others run beside it and its ETA holds; the CPU count lets a lone
    /// large job use the whole machine, and overlapping jobs then slow each other down).
    #[arg(long, env = "WORKER_THREADS_PER_JOB")]
    pub threads_per_job: Option<u16>,
}

/// The pricing rules every role prices, estimates and caches quotes with: one file for all of
/// them, so the API's estimates and quote-cache keys match what the workers price.
#[derive(Debug, Clone, clap::Args)]
pub struct RulesSettings {
    /// Pricing rules file (default: $PRICING_RULES, else the shipped rules).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

impl WorkerSettings {
    /// The worker's services with this worker's threads per job.
    pub fn context(&self, ctx: worker::WorkerContext) -> worker::WorkerContext {
        let threads = match self.threads_per_job {
            Some(n) => usize::from(n.max(1)),
            None => worker::config::default_threads_per_job(self.config().slots),
        };
        ctx.with_threads_per_job(threads)
    }

    pub fn config(&self) -> worker::WorkerConfig {
        let mut cfg = worker::WorkerConfig::default();
        if let Some(id) = &self.worker_id {
            cfg.worker_id = id.clone();
        }
        if let Some(slots) = self.slots {
            cfg = cfg.with_slots(slots);
        }
        if !self.lanes.is_empty() {
            let mut lanes = self.lanes.clone();
            lanes.sort();
            lanes.dedup();
            cfg = cfg.with_lanes(lanes);
        }
        if let Some(secs) = self.drain_grace_secs {
            cfg.drain_grace = Duration::from_secs(secs);
        }
        cfg
    }
}

/// How often the scheduler role refits the cost model.
pub const RECALIBRATE_EVERY: Duration = Duration::from_secs(60);
