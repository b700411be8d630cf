//! One AMQP connection per broker handle, re-opened on demand after it breaks, and the
//! confirm-mode channel used for publishing.

use std::sync::Arc;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::LongString;
use lapin::{Channel, Confirmation, Connection, ConnectionProperties};
use tokio::sync::Mutex;

use super::RabbitConfig;
use super::convert::{self, short};
use crate::error::{MessagingError, Result};
use crate::message::Publish;

pub(crate) struct Connector {
    pub config: RabbitConfig,
    connection: Mutex<Option<Arc<Connection>>>,
    publisher: Mutex<Option<Channel>>,
}

impl Connector {
    pub fn new(config: RabbitConfig) -> Self {
        Connector {
            config,
            connection: Mutex::new(None),
            publisher: Mutex::new(None),
        }
    }

    /// The live connection, opening a new one if there is none or the last one broke.
    pub async fn connection(&self) -> Result<Arc<Connection>> {
        let mut slot = self.connection.lock().await;
        if let Some(conn) = slot.as_ref()
            && conn.status().connected()
        {
            return Ok(conn.clone());
        }
        let props = ConnectionProperties::default()
            .with_connection_name(LongString::from(self.config.connection_name.as_str()));
        let url = self.config.redacted_url();
        let conn = match tokio::time::timeout(
            self.config.connect_timeout,
            Connection::connect(&self.config.url, props),
        )
        .await
        {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => {
                return Err(MessagingError::Unavailable(format!(
                    "connect to {url}: {e}"
                )));
            }
            Err(_) => {
                return Err(MessagingError::Unavailable(format!(
                    "connect to {url}: no answer within {:?}",
                    self.config.connect_timeout
                )));
            }
        };
        let conn = Arc::new(conn);
        *slot = Some(conn.clone());
        Ok(conn)
    }

    pub async fn channel(&self) -> Result<Channel> {
        let conn = self.connection().await?;
        conn.create_channel()
            .await
            .map_err(|e| convert::error("channel.open", &e))
    }

    async fn publish_channel(&self) -> Result<Channel> {
        let mut slot = self.publisher.lock().await;
        if let Some(channel) = slot.as_ref()
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        let channel = self.channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| convert::error("confirm.select", &e))?;
        *slot = Some(channel.clone());
        Ok(channel)
    }

    async fn forget_publish_channel(&self) {
        *self.publisher.lock().await = None;
    }

    /// Runs `operation` again on a fresh connection while the broker is unavailable, up to
    /// `config.attempts` times with exponential backoff.
    pub async fn retrying<T, F, Fut>(&self, what: &'static str, mut operation: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut backoff = self.config.reconnect_initial;
        let mut attempt = 1;
        loop {
            match operation().await {
                Err(MessagingError::Unavailable(reason)) if attempt < self.config.attempts => {
                    tracing::warn!(%reason, attempt, what, "broker unavailable, retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.config.reconnect_max);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Publishes and waits for the broker's confirm; retries while the broker is unavailable (a
    /// retry after an unconfirmed attempt may duplicate the message, which `message_id` lets
    /// consumers drop).
    pub async fn publish(&self, publish: &Publish) -> Result<()> {
        self.retrying("publish", || self.publish_once(publish))
            .await
    }

    async fn publish_once(&self, publish: &Publish) -> Result<()> {
        let exchange = short("exchange", &publish.route.exchange)?;
        let routing_key = short("routing key", &publish.route.routing_key)?;
        let props = convert::properties(publish)?;
        let channel = self.publish_channel().await?;
        let options = BasicPublishOptions {
            mandatory: true,
            immediate: false,
        };
        let result = async {
            let confirm = channel
                .basic_publish(exchange, routing_key, options, &publish.payload, props)
                .await
                .map_err(|e| convert::error("basic.publish", &e))?;
            match tokio::time::timeout(self.config.confirm_timeout, confirm).await {
                Err(_) => Err(MessagingError::ConfirmTimeout(self.config.confirm_timeout)),
                Ok(confirmation) => confirmation.map_err(|e| convert::error("basic.publish", &e)),
            }
        }
        .await;
        let unroutable = || MessagingError::Unroutable {
            exchange: publish.route.exchange.clone(),
            routing_key: publish.route.routing_key.clone(),
        };
        match result {
            Ok(Confirmation::Ack(None)) => Ok(()),
            Ok(Confirmation::Ack(Some(_returned))) => Err(unroutable()),
            Ok(Confirmation::Nack(_)) => Err(MessagingError::Nacked {
                exchange: publish.route.exchange.clone(),
                routing_key: publish.route.routing_key.clone(),
            }),
            Ok(Confirmation::NotRequested) => Err(MessagingError::Refused {
                operation: "basic.publish",
                detail: "channel is not in confirm mode".into(),
            }),
            Err(error) => {
                // The broker closes a channel on any refusal, and a timed-out channel is suspect.
                self.forget_publish_channel().await;
                Err(error)
            }
        }
    }
}
