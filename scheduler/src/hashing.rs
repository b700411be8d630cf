//! Content hashes and derived identifiers.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use contracts::Channel;

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// True for 64 lower-case hex digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Canonical JSON: object keys sorted at every depth, no whitespace, so equal options hash
/// equally whatever order the client sent them in.
pub fn canonical_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(val) = map.get(k) {
                    write_canonical(val, out);
                }
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Fingerprint of a request's alloys and options (`jobs.options_hash`): what an idempotency key
/// must be reused with. Alloys are sorted and de-duplicated: a quote covers the set of alloys
/// asked for, not their order.
pub fn options_hash(alloys: &[String], options: &serde_json::Value) -> String {
    let mut a: Vec<&str> = alloys.iter().map(String::as_str).collect();
    a.sort_unstable();
    a.dedup();
    let doc = serde_json::json!({ "alloys": a, "options": options });
    sha256_hex(canonical_json(&doc).as_bytes())
}

/// Quote-cache key part (`quote_cache.options_hash`): the options fingerprint scoped to the
/// sales channel. A quote carries the channel's margins, so a website quote must never answer a
/// partner's request. Idempotency keeps comparing [`options_hash`] alone, so its semantics (and
/// jobs stored before the channel was part of this key) are unchanged; cache rows written
/// before simply stop matching.
pub fn quote_key(channel: Channel, options_hash: &str) -> String {
    let doc = serde_json::json!({ "channel": channel.as_str(), "options_hash": options_hash });
    sha256_hex(canonical_json(&doc).as_bytes())
}

/// Deterministic key of an outbox row: the same job, destination and job version always give
/// the same key, so a state's messages are written once however often it is recorded.
pub fn outbox_row_id(job_id: Uuid, destination: &str, version: i64) -> Uuid {
    let digest = Sha256::digest(format!("{job_id}/{destination}/{version}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

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
    use serde_json::json;

    #[test]
    fn options_hash_ignores_key_and_alloy_order() {
        let a = options_hash(
            &["au750".into(), "ag925".into()],
            &json!({"finish": "polished", "stones": {"count": 3, "kind": "cz"}}),
        );
        let b = options_hash(
            &["ag925".into(), "au750".into(), "ag925".into()],
            &json!({"stones": {"kind": "cz", "count": 3}, "finish": "polished"}),
        );
        let c = options_hash(&["ag925".into()], &json!({"finish": "polished"}));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(is_sha256_hex(&a));
    }

    #[test]
    fn quote_key_depends_on_the_channel() {
        let h = options_hash(&["au750".into()], &json!({"finish": "polished"}));
        let keys: Vec<String> = Channel::ALL.iter().map(|&c| quote_key(c, &h)).collect();
        for (i, a) in keys.iter().enumerate() {
            assert!(is_sha256_hex(a));
            assert_ne!(a, &h, "the key is not the bare options hash");
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(quote_key(Channel::Partner, &h), keys[1]);
        let other = options_hash(&["ag925".into()], &json!({}));
        assert_ne!(quote_key(Channel::Partner, &other), keys[1]);
    }

    #[test]
    fn canonical_json_cases() {
        let cases = [
            (
                json!({"b": 1, "a": [true, null, {"d": 1.5, "c": "x"}]}),
                r#"{"a":[true,null,{"c":"x","d":1.5}],"b":1}"#,
            ),
            (json!("q\"uote"), r#""q\"uote""#),
            (json!({}), "{}"),
        ];
        for (v, want) in cases {
            assert_eq!(canonical_json(&v), want);
        }
    }

    #[test]
    fn outbox_row_ids_are_deterministic() {
        let j = Uuid::nil();
        assert_eq!(outbox_row_id(j, "run", 2), outbox_row_id(j, "run", 2));
        assert_ne!(outbox_row_id(j, "run", 2), outbox_row_id(j, "run", 3));
        assert_ne!(outbox_row_id(j, "run", 2), outbox_row_id(j, "mes", 2));
    }

    #[test]
    fn sha_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(!is_sha256_hex("ABC"));
    }

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
