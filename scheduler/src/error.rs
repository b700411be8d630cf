//! Errors at the store and blob-store boundaries.

use uuid::Uuid;

use crate::status::JobStatus;

/// What can go wrong in a `JobStore` call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("job {0} not found")]
    NotFound(Uuid),
    #[error("illegal transition {from} -> {to} for job {job_id}")]
    IllegalTransition {
        job_id: Uuid,
        from: JobStatus,
        to: JobStatus,
    },
    /// Optimistic concurrency: someone changed the job since `expected` was read.
    #[error("job {job_id} is at version {actual}, not {expected}")]
    VersionConflict {
        job_id: Uuid,
        expected: i64,
        actual: i64,
    },
    /// Another operator holds the claim.
    #[error("job {job_id} is already claimed by {holder}")]
    ClaimConflict { job_id: Uuid, holder: String },
    /// Release by someone who does not hold the claim.
    #[error("job {job_id} is not claimed by {operator}")]
    NotClaimant { job_id: Uuid, operator: String },
    /// The idempotency key was used before for a different model or options.
    #[error("idempotency key already used for job {job_id} with a different request")]
    IdempotencyKeyReused { job_id: Uuid },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error(transparent)]
    Cursor(#[from] crate::query::InvalidCursor),
    /// The job changed under us more often than we retry.
    #[error("job {0} kept changing concurrently; try again")]
    Contended(Uuid),
    /// A stored value that does not parse (a bug or a manual edit).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("unsupported database url {0:?} (expected postgres:// or sqlite:)")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// What can go wrong in a `BlobStore` call.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no blob {0}")]
    NotFound(String),
    #[error("{0:?} is not a lower-case hex SHA-256")]
    BadHash(String),
    #[error("blob store configuration: {0}")]
    Config(String),
    #[error("reading the upload: {0}")]
    Upload(#[source] std::io::Error),
    #[error(transparent)]
    ObjectStore(#[from] object_store::Error),
}
