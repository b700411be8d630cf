-- Job store: jobs, their status history, the outbox, counters and scheduling state.

CREATE TABLE allowed_transitions (
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    PRIMARY KEY (from_status, to_status)
);
INSERT INTO allowed_transitions (from_status, to_status) VALUES
    ('SUBMITTED', 'QUEUED'), ('SUBMITTED', 'REJECTED'), ('SUBMITTED', 'PRICE_CALCULATED'),
    ('SUBMITTED', 'FAILED'),
    ('QUEUED', 'CALCULATING'), ('QUEUED', 'REJECTED'), ('QUEUED', 'FAILED'),
    ('CALCULATING', 'CALCULATING'), ('CALCULATING', 'QUEUED'), ('CALCULATING', 'PRICE_CALCULATED'),
    ('CALCULATING', 'REJECTED'), ('CALCULATING', 'FAILED'),
    ('FAILED', 'QUEUED');

CREATE TABLE jobs (
    id                UUID PRIMARY KEY,
    tenant            TEXT NOT NULL,
    channel           TEXT NOT NULL CHECK (channel IN ('website', 'partner', 'mes')),
    idempotency_key   TEXT NOT NULL,
    partner_ref       TEXT,
    model_sha256      TEXT NOT NULL,
    format            TEXT NOT NULL,
    triangles         BIGINT NOT NULL CHECK (triangles >= 0),
    alloys            JSONB NOT NULL,
    options           JSONB NOT NULL,
    options_hash      TEXT NOT NULL,
    rules_version     TEXT,
    lane              TEXT NOT NULL CHECK (lane IN ('small', 'medium', 'large')),
    status            TEXT NOT NULL CHECK (status IN ('SUBMITTED', 'QUEUED', 'CALCULATING',
                                                      'PRICE_CALCULATED', 'REJECTED', 'FAILED')),
    version           BIGINT NOT NULL,
    predicted_seconds DOUBLE PRECISION NOT NULL,
    fair_tag          DOUBLE PRECISION NOT NULL,
    priority          SMALLINT NOT NULL,
    submitted_eta_at  TIMESTAMPTZ,
    attempts          INTEGER NOT NULL DEFAULT 0,
    result            JSONB,
    reason            TEXT,
    claimed_by        TEXT,
    claimed_at        TIMESTAMPTZ,
    worker_id         TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    status_changed_at TIMESTAMPTZ NOT NULL,
    started_at        TIMESTAMPTZ,
    finished_at       TIMESTAMPTZ,
    CONSTRAINT jobs_idempotency UNIQUE (tenant, idempotency_key)
);
-- Newest by status, and by tenant and status: keyset pagination on (created_at, id).
CREATE INDEX jobs_status_newest ON jobs (status, created_at DESC, id DESC);
CREATE INDEX jobs_tenant_status_newest ON jobs (tenant, status, created_at DESC, id DESC);
CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);
-- Oldest job per status (time in status).
CREATE INDEX jobs_status_since ON jobs (status, status_changed_at);
-- Running jobs of a lane, for ETAs (small: bounded by the number of workers).
CREATE INDEX jobs_running ON jobs (lane) WHERE status = 'CALCULATING';

CREATE TABLE job_history (
    seq         BIGSERIAL PRIMARY KEY,
    job_id      UUID NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    version     BIGINT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT,
    -- The database itself refuses an illegal transition.
    FOREIGN KEY (from_status, to_status) REFERENCES allowed_transitions (from_status, to_status)
);
CREATE INDEX job_history_job ON job_history (job_id, seq);

-- Per-status counts without COUNT(*): sharded so concurrent transactions rarely share a row.
CREATE TABLE status_counts (
    status TEXT NOT NULL,
    shard  SMALLINT NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (status, shard)
);

CREATE TABLE outbox (
    seq          BIGSERIAL PRIMARY KEY,
    message_id   UUID NOT NULL UNIQUE,
    destination  TEXT NOT NULL CHECK (destination IN ('run', 'mes', 'crm')),
    routing_key  TEXT NOT NULL,
    job_id       UUID NOT NULL,
    payload      JSONB NOT NULL,
    priority     SMALLINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    sent_at      TIMESTAMPTZ
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;

-- Fair queueing state: each lane's virtual clock and each tenant's last finish tag and backlog.
CREATE TABLE lanes (
    lane   TEXT PRIMARY KEY,
    vclock DOUBLE PRECISION NOT NULL
);
INSERT INTO lanes (lane, vclock) VALUES ('small', 0), ('medium', 0), ('large', 0);

CREATE TABLE lane_tenants (
    lane            TEXT NOT NULL,
    tenant          TEXT NOT NULL,
    last_finish     DOUBLE PRECISION NOT NULL,
    backlog_seconds DOUBLE PRECISION NOT NULL,
    backlog_jobs    BIGINT NOT NULL,
    weight          DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (lane, tenant)
);

CREATE TABLE processed_messages (
    message_id   UUID PRIMARY KEY,
    job_id       UUID NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE quote_cache (
    model_sha256  TEXT NOT NULL,
    options_hash  TEXT NOT NULL,
    rules_version TEXT NOT NULL,
    quote         JSONB NOT NULL,
    job_id        UUID NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (model_sha256, options_hash, rules_version)
);

CREATE TABLE duration_observations (
    seq         BIGSERIAL PRIMARY KEY,
    format      TEXT NOT NULL,
    triangles   BIGINT NOT NULL,
    seconds     DOUBLE PRECISION NOT NULL,
    observed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX duration_observations_format ON duration_observations (format, seq DESC);

CREATE TABLE cost_coefficients (
    format               TEXT PRIMARY KEY,
    fixed_seconds        DOUBLE PRECISION NOT NULL,
    per_triangle_seconds DOUBLE PRECISION NOT NULL,
    samples              BIGINT NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE workers (
    worker_id   TEXT PRIMARY KEY,
    lanes       TEXT NOT NULL,
    current_job UUID,
    first_seen  TIMESTAMPTZ NOT NULL,
    last_seen   TIMESTAMPTZ NOT NULL
);
CREATE INDEX workers_last_seen ON workers (last_seen);
