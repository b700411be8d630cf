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

/// W3C `traceparent` for a message about `job_id`: the job is the trace (trace id = the job id,
/// so every message of one job joins one trace whoever publishes it), `span_seed` names the span
/// (e.g. the outbox sequence number). Sampled.
pub fn traceparent(job_id: Uuid, span_seed: &str) -> String {
    let digest = Sha256::digest(format!("{job_id}/{span_seed}").as_bytes());
    let mut span = hex::encode(&digest[..8]);
    if span.bytes().all(|b| b == b'0') {
        // An all-zero parent id is invalid in W3C trace context.
        span.replace_range(15..16, "1");
    }
    format!("00-{}-{span}-01", job_id.simple())
}

/// The trace id of a `traceparent` header, when it is well formed.
pub fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.split('-');
    let (_version, trace, span, _flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex32 = trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit());
    let hex16 = span.len() == 16 && span.bytes().all(|b| b.is_ascii_hexdigit());
    (hex32 && hex16).then_some(trace)
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

    #[test]
    fn traceparent_is_w3c_and_carries_the_job_as_trace() {
        let job = Uuid::from_u128(0xabc);
        let tp = traceparent(job, "12");
        assert_eq!(tp.len(), 55);
        assert_eq!(trace_id(&tp), Some(job.simple().to_string().as_str()));
        assert_eq!(tp, traceparent(job, "12"));
        assert_ne!(tp, traceparent(job, "13"));
        let cases = [
            (
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                true,
            ),
            (
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
                false,
            ),
            ("00-xyz-b7ad6b7169203331-01", false),
            ("", false),
        ];
        for (header, ok) in cases {
            assert_eq!(trace_id(header).is_some(), ok, "{header}");
        }
    }
}
