-- SQLite twin of migrations/postgres/0006_console.sql.
CREATE TABLE job_claims (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     BLOB NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    claimed_by TEXT,
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX job_claims_job ON job_claims (job_id, seq);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    key_id     BLOB NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at   TEXT
);
CREATE INDEX sessions_key ON sessions (key_id);
