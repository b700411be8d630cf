//! Declaring and deleting the topology on RabbitMQ. Declaring is idempotent: redeclaring with
//! the same arguments is a no-op; different arguments are refused (PRECONDITION_FAILED).

use lapin::options::{
    ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};

use super::connector::Connector;
use super::convert::{self, long, short};
use crate::error::{MessagingError, Result};
use crate::topology::{ExchangeKind, QueueSpec, Topology};

/// `x-` arguments of a quorum queue. Dead-lettering is at-least-once, which RabbitMQ only
/// honours with `overflow = reject-publish` (it silently falls back to at-most-once otherwise).
pub(crate) fn queue_arguments(queue: &QueueSpec) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), long("quorum"));
    if let Some(limit) = queue.delivery_limit {
        args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongLongInt(i64::from(limit)),
        );
    }
    if let Some(dl) = &queue.dead_letter {
        args.insert("x-dead-letter-exchange".into(), long(&dl.exchange));
        args.insert("x-dead-letter-routing-key".into(), long(&dl.routing_key));
        args.insert("x-dead-letter-strategy".into(), long("at-least-once"));
        args.insert("x-overflow".into(), long("reject-publish"));
    }
    args
}

pub(crate) async fn declare(connector: &Connector, topology: &Topology) -> Result<()> {
    let channel = connector.channel().await?;
    for exchange in topology.exchanges() {
        let kind = match exchange.kind {
            ExchangeKind::Direct => lapin::ExchangeKind::Direct,
            ExchangeKind::Topic => lapin::ExchangeKind::Topic,
        };
        let options = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        channel
            .exchange_declare(
                short("exchange", &exchange.name)?,
                kind,
                options,
                FieldTable::default(),
            )
            .await
            .map_err(|e| convert::error("exchange.declare", &e))?;
    }
    for queue in topology.queues() {
        let options = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .queue_declare(
                short("queue", &queue.name)?,
                options,
                queue_arguments(&queue),
            )
            .await
            .map_err(|e| convert::error("queue.declare", &e))?;
    }
    for binding in topology.bindings() {
        channel
            .queue_bind(
                short("queue", &binding.queue)?,
                short("exchange", &binding.exchange)?,
                short("routing key", &binding.routing_key)?,
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| convert::error("queue.bind", &e))?;
    }
    Ok(())
}

/// Deletes every queue and exchange of the topology (with their messages). Missing ones are fine.
pub(crate) async fn delete(connector: &Connector, topology: &Topology) -> Result<()> {
    let mut first_error: Option<MessagingError> = None;
    for queue in topology.queues() {
        // A refusal closes the channel, so each deletion gets its own.
        let result = async {
            let channel = connector.channel().await?;
            channel
                .queue_delete(short("queue", &queue.name)?, QueueDeleteOptions::default())
                .await
                .map_err(|e| convert::error("queue.delete", &e))?;
            Ok::<(), MessagingError>(())
        }
        .await;
        if let Err(e) = result {
            first_error.get_or_insert(e);
        }
    }
    for exchange in topology.exchanges() {
        let result = async {
            let channel = connector.channel().await?;
            channel
                .exchange_delete(
                    short("exchange", &exchange.name)?,
                    ExchangeDeleteOptions::default(),
                )
                .await
                .map_err(|e| convert::error("exchange.delete", &e))?;
            Ok::<(), MessagingError>(())
        }
        .await;
        if let Err(e) = result {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// (ready messages, consumers) of `queue`, from a passive declare.
pub(crate) async fn counts(connector: &Connector, queue: &str) -> Result<(u32, u32)> {
    let channel = connector.channel().await?;
    let options = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    let declared = channel
        .queue_declare(short("queue", queue)?, options, FieldTable::default())
        .await
        .map_err(|e| convert::error("queue.declare(passive)", &e))?;
    Ok((declared.message_count(), declared.consumer_count()))
}
