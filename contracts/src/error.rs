//! What can go wrong turning a contract into bytes or back.

#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// A payload could not be encoded.
    #[error("cannot encode {kind}: {source}")]
    Encode {
        kind: &'static str,
        source: serde_json::Error,
    },
    /// A payload is not a valid message of the expected contract.
    #[error("cannot decode {kind}: {source}")]
    Decode {
        kind: &'static str,
        source: serde_json::Error,
    },
}
