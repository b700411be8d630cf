//! Identifiers derived deterministically from what a message states.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The key the job store dedups completions by, from an AMQP `message_id`: the id itself when it
/// is a UUID, else a UUID made from its SHA-256 (the contracts' ids are text such as
/// `run_job/<job>/<attempt>`). Every copy of a message maps to the same key.
pub fn completion_key(message_id: &str) -> Uuid {
    if let Ok(id) = Uuid::parse_str(message_id) {
        return id;
    }
    let digest = Sha256::digest(message_id.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// A deterministic job id for a MES request that never became a job (its answer still needs one).
pub fn orphan_job_id(tenant: &str, request_id: &str) -> Uuid {
    completion_key(&format!("submit_job/{tenant}/{request_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_keys_are_stable_and_distinct() {
        let uuid = Uuid::from_u128(7);
        assert_eq!(completion_key(&uuid.to_string()), uuid);
        let a = completion_key("run_job/00000000-0000-0000-0000-000000000007/1");
        assert_eq!(
            a,
            completion_key("run_job/00000000-0000-0000-0000-000000000007/1")
        );
        assert_ne!(
            a,
            completion_key("run_job/00000000-0000-0000-0000-000000000007/2")
        );
        assert_ne!(orphan_job_id("t", "r1"), orphan_job_id("t", "r2"));
        assert_ne!(orphan_job_id("t1", "r"), orphan_job_id("t2", "r"));
    }
}
