//! Defence in depth: the databases themselves refuse what the store code never writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use contracts::Channel;
use scheduler::{NewJob, StoreConfig};
use sqlx::Connection;

fn job() -> NewJob {
    NewJob {
        tenant: "acme".into(),
        channel: Channel::Mes,
        idempotency_key: "guard".into(),
        partner_ref: None,
        model_sha256: scheduler::hashing::sha256_hex(b"guard"),
        format: contracts::Format::StlBinary,
        triangles: 1000,
        alloys: vec![],
        options: serde_json::json!({}),
        rules_version: None,
    }
}

const ILLEGAL_HISTORY: &str = "INSERT INTO job_history (job_id, from_status, to_status, version, at, actor) \
     VALUES ($1, 'PRICE_CALCULATED', 'QUEUED', 9, $2, 'manual edit')";
const LEGAL_HISTORY: &str = "INSERT INTO job_history (job_id, from_status, to_status, version, at, actor) \
     VALUES ($1, 'QUEUED', 'CALCULATING', 9, $2, 'manual edit')";
const DUPLICATE_KEY: &str = "UPDATE jobs SET idempotency_key = 'guard' WHERE id = $1";

#[tokio::test]
async fn postgres_refuses_illegal_history_and_duplicate_keys() {
    let fx = support::postgres(StoreConfig::default()).await;
    let id = fx.store.submit(job()).await.unwrap().job.job.id;
    let other = fx
        .store
        .submit(NewJob {
            idempotency_key: "other".into(),
            ..job()
        })
        .await
        .unwrap();
    let mut c = sqlx::PgConnection::connect(&fx.url).await.unwrap();
    let now = chrono::Utc::now();
    let err = sqlx::query(ILLEGAL_HISTORY)
        .bind(id)
        .bind(now)
        .execute(&mut c)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("foreign key"), "{err}");
    sqlx::query(LEGAL_HISTORY)
        .bind(id)
        .bind(now)
        .execute(&mut c)
        .await
        .unwrap();
    let err = sqlx::query(DUPLICATE_KEY)
        .bind(other.job.job.id)
        .execute(&mut c)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("jobs_idempotency"), "{err}");
}

#[tokio::test]
async fn sqlite_refuses_illegal_history_and_duplicate_keys() {
    let fx = support::sqlite(StoreConfig::default()).await;
    let id = fx.store.submit(job()).await.unwrap().job.job.id;
    let other = fx
        .store
        .submit(NewJob {
            idempotency_key: "other".into(),
            ..job()
        })
        .await
        .unwrap();
    let mut c = sqlx::SqliteConnection::connect(&fx.url).await.unwrap();
    let now = chrono::Utc::now();
    let err = sqlx::query(ILLEGAL_HISTORY)
        .bind(id)
        .bind(now)
        .execute(&mut c)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    sqlx::query(LEGAL_HISTORY)
        .bind(id)
        .bind(now)
        .execute(&mut c)
        .await
        .unwrap();
    let err = sqlx::query(DUPLICATE_KEY)
        .bind(other.job.job.id)
        .execute(&mut c)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
}
