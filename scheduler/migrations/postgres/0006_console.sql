-- The operators' console: who took a job and when (the live feed shows takes and releases beside
-- status changes), and browser sessions exchanged for an operator's key.

-- One row per take or release; `claimed_by` is NULL for a release. The job row keeps the current
-- holder; this is the feed's and the job page's record of the changes.
CREATE TABLE job_claims (
    seq        BIGSERIAL PRIMARY KEY,
    job_id     UUID NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    claimed_by TEXT,
    actor      TEXT NOT NULL,
    at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX job_claims_job ON job_claims (job_id, seq);

-- A browser session: only the SHA-256 of the cookie's token is stored. A session ends at
-- `expires_at`, at sign-out (`ended_at`), or when its key is revoked (checked on every request).
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    key_id     UUID NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    -- Sent back by the page in `X-CSRF-Token` on every state-changing request.
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ended_at   TIMESTAMPTZ
);
CREATE INDEX sessions_key ON sessions (key_id);
