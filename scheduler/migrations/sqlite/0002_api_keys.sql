-- SQLite twin of migrations/postgres/0002_api_keys.sql.
CREATE TABLE api_keys (
    id              BLOB PRIMARY KEY,
    key_hash        TEXT NOT NULL UNIQUE,
    key_prefix      TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('website', 'partner', 'mes', 'operator', 'admin')),
    tenant          TEXT,
    label           TEXT,
    rate_per_minute INTEGER CHECK (rate_per_minute IS NULL OR rate_per_minute > 0),
    daily_quota     INTEGER CHECK (daily_quota IS NULL OR daily_quota > 0),
    created_at      TEXT NOT NULL,
    revoked_at      TEXT,
    CHECK (role <> 'partner' OR tenant IS NOT NULL)
);
