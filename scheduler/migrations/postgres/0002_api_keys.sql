-- API keys for the HTTP service: only the SHA-256 of each key is stored; the key itself is shown
-- once, when it is created. Lives beside the jobs so `pricing keys` and `pricing serve` share one
-- store.
CREATE TABLE api_keys (
    id              UUID PRIMARY KEY,
    key_hash        TEXT NOT NULL UNIQUE,
    -- The first characters of the key, to tell keys apart in listings.
    key_prefix      TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('website', 'partner', 'mes', 'operator', 'admin')),
    -- Partners are confined to their tenant; other roles may have one (their jobs' tenant).
    tenant          TEXT,
    label           TEXT,
    -- Requests per minute allowed to this key; NULL = the role's default.
    rate_per_minute INTEGER CHECK (rate_per_minute IS NULL OR rate_per_minute > 0),
    -- Jobs per UTC day allowed to this key; NULL = unlimited.
    daily_quota     INTEGER CHECK (daily_quota IS NULL OR daily_quota > 0),
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ,
    CHECK (role <> 'partner' OR tenant IS NOT NULL)
);
