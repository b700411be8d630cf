//! RabbitMQ operations a test performs as an administrator, beside the client under test.

use lapin::options::QueueDeleteOptions;
use lapin::{Connection, ConnectionProperties};

/// Deletes `queue` over a connection of its own; RabbitMQ cancels the queue's consumers
/// (`basic.cancel`), as it does when a queue is deleted under a running client.
pub async fn delete_queue(amqp_url: &str, queue: &str) {
    let admin = Connection::connect(amqp_url, ConnectionProperties::default())
        .await
        .unwrap_or_else(|e| panic!("RabbitMQ at {amqp_url}: {e}"));
    let channel = admin.create_channel().await.unwrap();
    channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await
        .unwrap();
}
