//! Between this crate's plain types and AMQP properties, headers and names.

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

use crate::delivery::{self, DeliveryParts};
use crate::error::{MessagingError, Result};
use crate::message::{DeadLetterInfo, Headers, Publish};
use crate::topology::QueueSpec;

/// Names and ids are AMQP short strings (at most 255 bytes): refuse instead of panicking.
pub(crate) fn short(what: &'static str, value: &str) -> Result<ShortString> {
    ShortString::try_new(value).map_err(|e| MessagingError::Invalid {
        what,
        detail: e.to_string(),
    })
}

pub(crate) fn long(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

pub(crate) fn properties(publish: &Publish) -> Result<BasicProperties> {
    let mut headers = FieldTable::default();
    for (name, value) in &publish.headers {
        headers.insert(short("header name", name)?, long(value));
    }
    // Persistent: written to disk by the quorum queue before the confirm.
    let mut props = BasicProperties::default()
        .with_delivery_mode(2)
        .with_headers(headers);
    if !publish.message_id.is_empty() {
        props = props.with_message_id(short("message_id", &publish.message_id)?);
    }
    if let Some(kind) = &publish.message_type {
        props = props
            .with_type(short("message type", kind)?)
            .with_content_type(ShortString::from("application/json"));
    }
    if let Some(correlation) = &publish.correlation_id {
        props = props.with_correlation_id(short("correlation_id", correlation)?);
    }
    let now = chrono::Utc::now().timestamp();
    if let Ok(seconds) = u64::try_from(now) {
        props = props.with_timestamp(seconds);
    }
    Ok(props)
}

fn as_text(value: &AMQPValue) -> Option<String> {
    Some(match value {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.as_str().to_owned(),
        AMQPValue::Boolean(b) => b.to_string(),
        other => as_integer(other)?.to_string(),
    })
}

fn as_integer(value: &AMQPValue) -> Option<i64> {
    Some(match value {
        AMQPValue::ShortShortInt(v) => i64::from(*v),
        AMQPValue::ShortShortUInt(v) => i64::from(*v),
        AMQPValue::ShortInt(v) => i64::from(*v),
        AMQPValue::ShortUInt(v) => i64::from(*v),
        AMQPValue::LongInt(v) => i64::from(*v),
        AMQPValue::LongUInt(v) => i64::from(*v),
        AMQPValue::LongLongInt(v) => *v,
        AMQPValue::Timestamp(v) => i64::try_from(*v).ok()?,
        _ => return None,
    })
}

fn headers_of(table: Option<&FieldTable>) -> Headers {
    table
        .map(|t| {
            t.inner()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), as_text(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// RabbitMQ's `x-death`: an array of tables, most recent death first.
fn x_death(table: Option<&FieldTable>) -> Option<DeadLetterInfo> {
    let deaths = table?.inner().get("x-death")?;
    let AMQPValue::FieldArray(deaths) = deaths else {
        return None;
    };
    let AMQPValue::FieldTable(latest) = deaths.as_slice().first()? else {
        return None;
    };
    let field = |name: &str| latest.inner().get(name).and_then(as_text);
    Some(DeadLetterInfo {
        reason: field("reason")?,
        queue: field("queue").unwrap_or_default(),
        detail: None,
    })
}

pub(crate) fn delivery_parts(
    delivery: &lapin::message::Delivery,
    queue: &QueueSpec,
) -> DeliveryParts {
    let props = &delivery.properties;
    let table = props.headers().as_ref();
    let headers = headers_of(table);
    let delivery_count = table
        .and_then(|t| t.inner().get("x-delivery-count"))
        .and_then(as_integer)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0);
    let dead_letter = delivery::death_from_headers(&headers).or_else(|| x_death(table));
    DeliveryParts {
        tag: delivery.delivery_tag,
        queue: queue.name.clone(),
        exchange: delivery.exchange.as_str().to_owned(),
        routing_key: delivery.routing_key.as_str().to_owned(),
        message_id: props.message_id().as_ref().map(|s| s.as_str().to_owned()),
        message_type: props.kind().as_ref().map(|s| s.as_str().to_owned()),
        correlation_id: props
            .correlation_id()
            .as_ref()
            .map(|s| s.as_str().to_owned()),
        headers,
        payload: delivery.data.clone(),
        redelivered: delivery.redelivered,
        delivery_count,
        dead_letter,
        dead_letter_route: queue.dead_letter.clone(),
    }
}

/// Maps a client error. Channel-level refusals (NOT_FOUND, PRECONDITION_FAILED...) are final for
/// the operation; anything that kills the connection — I/O, a connection-level (hard) error such
/// as the INTERNAL_ERROR RabbitMQ 3.10 raises when a consumer races a quorum queue's creation —
/// is transient: a new connection may succeed.
pub(crate) fn error(operation: &'static str, error: &lapin::Error) -> MessagingError {
    if error.is_amqp_soft_error() {
        MessagingError::Refused {
            operation,
            detail: error.to_string(),
        }
    } else {
        MessagingError::Unavailable(format!("{operation}: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::types::FieldArray;

    #[test]
    fn reads_headers_delivery_count_and_x_death() {
        let mut death = FieldTable::default();
        death.insert("reason".into(), long("delivery_limit"));
        death.insert("queue".into(), long("p.jobs.small"));
        death.insert("count".into(), AMQPValue::LongLongInt(1));
        let mut table = FieldTable::default();
        table.insert("traceparent".into(), long("00-abc-def-01"));
        table.insert("x-delivery-count".into(), AMQPValue::LongLongInt(3));
        table.insert(
            "x-death".into(),
            AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::FieldTable(death)])),
        );
        let headers = headers_of(Some(&table));
        assert_eq!(
            headers.get("traceparent").map(String::as_str),
            Some("00-abc-def-01")
        );
        assert_eq!(
            headers.get("x-delivery-count").map(String::as_str),
            Some("3")
        );
        assert!(!headers.contains_key("x-death"));
        let info = x_death(Some(&table)).unwrap();
        assert_eq!(
            (info.reason.as_str(), info.queue.as_str()),
            ("delivery_limit", "p.jobs.small")
        );
    }

    #[test]
    fn connection_level_errors_are_transient_channel_level_ones_final() {
        use lapin::protocol::{AMQPError, AMQPErrorKind, AMQPHardError, AMQPSoftError};
        let protocol = |kind| {
            lapin::Error::from(lapin::ErrorKind::ProtocolError(AMQPError::new(
                kind,
                "x".into(),
            )))
        };
        let cases = [
            (
                protocol(AMQPErrorKind::Hard(AMQPHardError::INTERNALERROR)),
                true,
            ),
            (
                protocol(AMQPErrorKind::Hard(AMQPHardError::CONNECTIONFORCED)),
                true,
            ),
            (
                lapin::Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
                true,
            ),
            (
                protocol(AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND)),
                false,
            ),
            (
                protocol(AMQPErrorKind::Soft(AMQPSoftError::PRECONDITIONFAILED)),
                false,
            ),
        ];
        for (err, transient) in cases {
            let mapped = error("op", &err);
            assert_eq!(
                matches!(mapped, MessagingError::Unavailable(_)),
                transient,
                "{err}"
            );
        }
    }

    #[test]
    fn overlong_names_are_errors_not_panics() {
        assert!(short("message_id", &"x".repeat(256)).is_err());
        assert!(short("message_id", &"x".repeat(255)).is_ok());
    }
}
