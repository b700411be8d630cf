//! The one error type at this crate's boundary.

/// Everything that can go wrong talking to a broker or reading a message.
#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    /// The broker could not be reached or the connection broke; retrying later may succeed.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    /// The broker refused an operation (missing exchange or queue, conflicting declaration, ...).
    #[error("broker refused {operation}: {detail}")]
    Refused {
        operation: &'static str,
        detail: String,
    },
    /// A mandatory publish matched no queue: the message was NOT stored anywhere.
    #[error(
        "unroutable message: no queue bound to exchange `{exchange}` for routing key `{routing_key}`"
    )]
    Unroutable {
        exchange: String,
        routing_key: String,
    },
    /// The broker negatively acknowledged a publish: the message may not be stored.
    #[error("broker rejected publish to `{exchange}` with routing key `{routing_key}`")]
    Nacked {
        exchange: String,
        routing_key: String,
    },
    /// No publisher confirm arrived in time: the message may or may not be stored.
    #[error("no publisher confirm within {0:?}")]
    ConfirmTimeout(std::time::Duration),
    /// An exchange or queue does not exist (in-process broker; RabbitMQ reports [`Self::Refused`]).
    #[error("{kind} `{name}` not found")]
    NotFound { kind: &'static str, name: String },
    /// Redeclaring an entity with different settings (RabbitMQ's PRECONDITION_FAILED).
    #[error("`{name}` already declared with different settings")]
    Conflict { name: String },
    /// The acknowledgement could not reach the broker (channel or consumer gone): the broker
    /// will deliver the message again, so the caller must not assume it was settled.
    #[error("delivery {tag} could not be settled: {reason}")]
    SettleFailed { tag: u64, reason: String },
    /// A name, header or id is not valid on the wire (AMQP short strings hold 255 bytes).
    #[error("invalid {what}: {detail}")]
    Invalid { what: &'static str, detail: String },
    /// A payload could not be encoded, or is not a valid message of the expected contract.
    #[error(transparent)]
    Contract(#[from] contracts::ContractError),
    /// The message's `type` property names another contract than the one expected.
    #[error("expected message type `{expected}`, got `{found}`")]
    UnexpectedType {
        expected: &'static str,
        found: String,
    },
}

pub type Result<T, E = MessagingError> = std::result::Result<T, E>;
