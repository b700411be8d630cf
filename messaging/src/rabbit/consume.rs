//! A consuming task per subscription: forwards deliveries and re-subscribes (on a new channel,
//! reconnecting if needed) whenever the broker cancels the consumer or the connection breaks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use lapin::Channel;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use tokio::sync::mpsc;

use super::RabbitSettler;
use super::connector::Connector;
use super::convert::{self, short};
use crate::consumer::{Cancel, Consumer};
use crate::delivery::{Delivery, Settler};
use crate::error::Result;
use crate::topology::QueueSpec;

struct Subscription {
    channel: Channel,
    consumer: lapin::Consumer,
}

async fn subscribe(
    connector: &Connector,
    queue: &QueueSpec,
    prefetch: u16,
) -> Result<Subscription> {
    let channel = connector.channel().await?;
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await
        .map_err(|e| convert::error("basic.qos", &e))?;
    let consumer = channel
        .basic_consume(
            short("queue", &queue.name)?,
            short("consumer tag", "")?,
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| convert::error("basic.consume", &e))?;
    Ok(Subscription { channel, consumer })
}

/// Subscribes once (so a missing queue is reported to the caller), then keeps the subscription
/// alive in the background until the returned [`Consumer`] is dropped.
pub(crate) async fn start(
    connector: Arc<Connector>,
    queue: QueueSpec,
    prefetch: u16,
) -> Result<Consumer> {
    let first = subscribe(&connector, &queue, prefetch).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let resubscriptions = Arc::new(AtomicU64::new(0));
    let name = queue.name.clone();
    tokio::spawn(keep_subscribed(
        connector,
        queue,
        prefetch,
        tx,
        first,
        resubscriptions.clone(),
    ));
    Ok(Consumer::new(name, rx, Cancel::Rabbit, resubscriptions))
}

enum End {
    ReceiverGone,
    Lost(String),
}

async fn keep_subscribed(
    connector: Arc<Connector>,
    queue: QueueSpec,
    prefetch: u16,
    tx: mpsc::UnboundedSender<Delivery>,
    first: Subscription,
    resubscriptions: Arc<AtomicU64>,
) {
    let mut current = Some(first);
    let mut backoff = connector.config.reconnect_initial;
    loop {
        if let Some(subscription) = current.take() {
            match forward(&connector, &queue, subscription, &tx).await {
                End::ReceiverGone => return,
                End::Lost(reason) => {
                    tracing::warn!(queue = %queue.name, %reason, "consumer lost; re-subscribing");
                    backoff = connector.config.reconnect_initial;
                }
            }
        }
        tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        match subscribe(&connector, &queue, prefetch).await {
            Ok(subscription) => {
                resubscriptions.fetch_add(1, Ordering::Relaxed);
                tracing::info!(queue = %queue.name, "consumer re-subscribed");
                current = Some(subscription);
            }
            Err(error) => {
                tracing::warn!(queue = %queue.name, %error, ?backoff, "re-subscribe failed");
                backoff = (backoff * 2).min(connector.config.reconnect_max);
            }
        }
    }
}

async fn forward(
    connector: &Arc<Connector>,
    queue: &QueueSpec,
    subscription: Subscription,
    tx: &mpsc::UnboundedSender<Delivery>,
) -> End {
    let Subscription {
        channel,
        mut consumer,
    } = subscription;
    loop {
        tokio::select! {
            _ = tx.closed() => {
                // Closing the channel returns every unsettled delivery to the queue.
                let _ = channel.close(200, "consumer dropped".into()).await;
                return End::ReceiverGone;
            }
            next = consumer.next() => match next {
                Some(Ok(delivery)) => {
                    let parts = convert::delivery_parts(&delivery, queue);
                    let settler = RabbitSettler { tag: delivery.delivery_tag, acker: delivery.acker, connector: connector.clone() };
                    if let Err(mpsc::error::SendError(mut unsent)) = tx.send(Delivery::new(parts, Settler::Rabbit(settler))) {
                        unsent.defuse();
                        let _ = channel.close(200, "consumer dropped".into()).await;
                        return End::ReceiverGone;
                    }
                }
                Some(Err(error)) => return End::Lost(error.to_string()),
                None => return End::Lost("consumer cancelled by the broker".into()),
            }
        }
    }
}
