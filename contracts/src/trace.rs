//! W3C trace context for the messages of a job: the job is the trace (trace id = the job id), so
//! every message about one job joins one trace whoever publishes it.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// AMQP header names, carried verbatim so traces continue across the broker.
pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";

/// `traceparent` for a message about `job_id`; `span_seed` names the span (e.g. the message's
/// id), so a republished copy carries the same header. Sampled.
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
