//! The one intake path: probe, route once, the caller's admission step, submit. On the real
//! SQLite store and a blob directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use contracts::{Channel, Lane};
use pricing_core::Limits;
use scheduler::intake::{
    self, Admission, Admitted, IntakeError, IntakeRequest, PREFIX_BYTES, StoredModel,
};
use scheduler::{BlobConfig, BlobStore, JobStore, NewJob, Routing, SqliteStore, StoreConfig};

/// Per admission: the lane it saw, and what it was told when the store answered.
type Seen = Arc<Mutex<Vec<(Lane, Option<bool>)>>>;

/// Refuses or admits by a rule, and records the lane it saw and what it was told at settle.
struct Recording {
    refuse: bool,
    seen: Seen,
}

struct Held(Seen);

#[async_trait::async_trait]
impl Admitted for Held {
    async fn settle(self: Box<Self>, created: bool) {
        self.0.lock().unwrap().last_mut().unwrap().1 = Some(created);
    }
}

#[async_trait::async_trait]
impl Admission for Recording {
    async fn admit(
        &self,
        _job: &NewJob,
        routing: &Routing,
    ) -> Result<Box<dyn Admitted>, IntakeError> {
        self.seen.lock().unwrap().push((routing.lane, None));
        if self.refuse {
            return Err(IntakeError::NotAdmitted {
                code: "quota_exceeded",
                message: "no".into(),
                retry_after_seconds: 1,
            });
        }
        Ok(Box::new(Held(self.seen.clone())))
    }
}

fn request(key: &str) -> IntakeRequest {
    IntakeRequest {
        tenant: "acme".into(),
        channel: Channel::Partner,
        idempotency_key: key.into(),
        partner_ref: Some("PO-1".into()),
        alloys: vec!["au750y".into()],
        units: None,
        format_hint: None,
        rules_version: None,
    }
}

#[tokio::test]
async fn admission_sees_the_lane_the_job_is_queued_on_and_a_refusal_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(
        &test_support::sqlite_url(dir.path()),
        StoreConfig::default(),
    )
    .await
    .unwrap();
    let blobs = BlobStore::from_config(&BlobConfig::Local {
        dir: dir.path().join("blobs"),
    })
    .unwrap();
    let bytes = Bytes::from(test_support::fixture("torus_ring.obj"));
    let stored = blobs.put(bytes.clone()).await.unwrap();
    // What MES inbound hands the probe: the length and the opening bytes only.
    let (size, prefix) = blobs
        .head_and_prefix(&stored.sha256, PREFIX_BYTES)
        .await
        .unwrap();
    assert_eq!(size, bytes.len() as u64);
    assert_eq!(prefix, bytes.slice(..PREFIX_BYTES as usize));
    let model = StoredModel {
        sha256: &stored.sha256,
        size,
        prefix: &prefix,
    };
    let seen = Arc::new(Mutex::new(Vec::new()));

    // (refuse, key, expected outcome, expected settle)
    let cases = [
        (true, "k1", Err("quota_exceeded"), None),
        (false, "k1", Ok(true), Some(true)),
        // The replay: admitted, found again, so settled as not created.
        (false, "k1", Ok(false), Some(false)),
    ];
    for (refuse, key, want, settled) in cases {
        let admission = Recording {
            refuse,
            seen: seen.clone(),
        };
        let got = intake::submit_model(
            &store,
            &blobs,
            model,
            request(key),
            intake::Probing {
                limits: &Limits::default(),
                slots: None,
            },
            &admission,
        )
        .await;
        match (&got, want) {
            (Ok(i), Ok(created)) => {
                assert_eq!(i.submission.created, created);
                let (lane, _) = *seen.lock().unwrap().last().unwrap();
                assert_eq!(
                    i.submission.job.job.lane, lane,
                    "queued on the admitted lane"
                );
                assert_eq!(
                    i.submission.job.job.lane,
                    store
                        .route(&intake::new_job(&request(key), model.sha256, &i.probe))
                        .lane
                );
            }
            (Err(IntakeError::NotAdmitted { code, .. }), Err(want)) => {
                assert_eq!(*code, want);
                let none = store.find_by_idempotency_key("acme", key).await.unwrap();
                assert!(none.is_none(), "a refused job is not created");
            }
            (got, want) => panic!("{key}: got {got:?}, want {want:?}"),
        }
        assert_eq!(seen.lock().unwrap().last().unwrap().1, settled);
    }
}
