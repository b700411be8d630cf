//! RabbitMQ transport (lapin 4): quorum queues, persistent mandatory publishing with confirms,
//! manual acknowledgement, and explicit reconnection (lapin's own auto-recovery is not used, so
//! what happens after a broker restart is visible here: a new connection, new channels, every
//! consumer re-subscribed; unsettled deliveries of the old channels are redelivered by RabbitMQ).

mod connector;
mod consume;
mod convert;
mod declare;

use std::sync::Arc;
use std::time::Duration;

use lapin::Acker;
use lapin::options::{BasicAckOptions, BasicNackOptions};

use crate::consumer::Consumer;
use crate::error::{MessagingError, Result};
use crate::message::Publish;
use crate::topology::{QueueSpec, Topology};
use connector::Connector;

/// Default broker URL (the local RabbitMQ of a developer machine and CI).
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

#[derive(Debug, Clone, PartialEq)]
pub struct RabbitConfig {
    pub url: String,
    /// Shown in the management UI and `rabbitmqctl list_connections client_properties`.
    pub connection_name: String,
    /// How long `publish` waits for the broker's confirm before giving up.
    pub confirm_timeout: Duration,
    /// How long opening a connection may take (an unreachable host would otherwise hang for
    /// the operating system's TCP timeout while holding the connection lock).
    pub connect_timeout: Duration,
    /// Attempts per publish or declare while the broker is unavailable (1 = no retry).
    pub attempts: u32,
    /// First delay before reconnecting; doubled per failure up to `reconnect_max`.
    pub reconnect_initial: Duration,
    pub reconnect_max: Duration,
}

impl RabbitConfig {
    pub fn new(url: impl Into<String>) -> Self {
        RabbitConfig {
            url: url.into(),
            connection_name: "alexandrite".into(),
            confirm_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            attempts: 5,
            reconnect_initial: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(5),
        }
    }

    /// `AMQP_URL` from the environment, else [`DEFAULT_AMQP_URL`].
    pub fn from_env() -> Self {
        RabbitConfig::new(std::env::var("AMQP_URL").unwrap_or_else(|_| DEFAULT_AMQP_URL.to_owned()))
    }

    pub fn with_connection_name(mut self, name: impl Into<String>) -> Self {
        self.connection_name = name.into();
        self
    }

    /// The URL without its password, for logs and errors.
    pub fn redacted_url(&self) -> String {
        match (self.url.find("://"), self.url.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                let userinfo = &self.url[scheme_end + 3..at];
                let user = userinfo.split(':').next().unwrap_or("");
                format!(
                    "{}{}:***{}",
                    &self.url[..scheme_end + 3],
                    user,
                    &self.url[at..]
                )
            }
            _ => self.url.clone(),
        }
    }
}

/// Cheap to clone; clones share one connection.
#[derive(Clone)]
pub struct RabbitBroker {
    connector: Arc<Connector>,
}

impl RabbitBroker {
    /// Connects once to check the URL and credentials; later breaks are repaired on demand.
    pub async fn connect(config: RabbitConfig) -> Result<Self> {
        let connector = Arc::new(Connector::new(config));
        connector.connection().await?;
        Ok(RabbitBroker { connector })
    }

    pub fn config(&self) -> &RabbitConfig {
        &self.connector.config
    }

    pub async fn declare(&self, topology: &Topology) -> Result<()> {
        self.connector
            .retrying("declare", || declare::declare(&self.connector, topology))
            .await
    }

    pub async fn delete(&self, topology: &Topology) -> Result<()> {
        declare::delete(&self.connector, topology).await
    }

    pub async fn publish(&self, publish: &Publish) -> Result<()> {
        self.connector.publish(publish).await
    }

    pub async fn consume(&self, queue: &QueueSpec, prefetch: u16) -> Result<Consumer> {
        consume::start(self.connector.clone(), queue.clone(), prefetch).await
    }

    pub async fn ready_count(&self, queue: &str) -> Result<u32> {
        Ok(self.queue_counts(queue).await?.ready)
    }

    pub async fn queue_counts(&self, queue: &str) -> Result<crate::broker::QueueCounts> {
        let (ready, consumers) = declare::counts(&self.connector, queue).await?;
        Ok(crate::broker::QueueCounts { ready, consumers })
    }
}

/// Settles one RabbitMQ delivery on the channel it came from.
pub(crate) struct RabbitSettler {
    acker: Acker,
    tag: u64,
    connector: Arc<Connector>,
}

fn settle_result(tag: u64, result: lapin::Result<bool>) -> Result<()> {
    match result {
        Ok(true) => Ok(()),
        Ok(false) => Err(MessagingError::SettleFailed {
            tag,
            reason: "channel closed; the broker will redeliver the message".into(),
        }),
        Err(e) => Err(MessagingError::SettleFailed {
            tag,
            reason: e.to_string(),
        }),
    }
}

impl RabbitSettler {
    fn tag(&self) -> u64 {
        self.tag
    }

    pub async fn ack(&self) -> Result<()> {
        settle_result(self.tag(), self.acker.ack(BasicAckOptions::default()).await)
    }

    pub async fn nack(&self, requeue: bool) -> Result<()> {
        let options = BasicNackOptions {
            multiple: false,
            requeue,
        };
        settle_result(self.tag(), self.acker.nack(options).await)
    }

    pub async fn publish(&self, publish: &Publish) -> Result<()> {
        self.connector.publish(publish).await
    }

    /// Requeues from `Drop`: spawned, since dropping cannot wait. Without a runtime the message
    /// stays unacked until its channel closes, when RabbitMQ returns it anyway.
    pub fn abandon(&self) {
        if !self.acker.usable() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let acker = self.acker.clone();
            runtime.spawn(async move {
                let _ = acker
                    .nack(BasicNackOptions {
                        multiple: false,
                        requeue: true,
                    })
                    .await;
            });
        }
    }
}
