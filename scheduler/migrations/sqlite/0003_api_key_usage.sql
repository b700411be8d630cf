-- SQLite twin of migrations/postgres/0003_api_key_usage.sql (`day` is 'YYYY-MM-DD').
CREATE TABLE api_key_usage (
    key_id  BLOB NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    day     TEXT NOT NULL,
    jobs    INTEGER NOT NULL CHECK (jobs >= 0),
    PRIMARY KEY (key_id, day)
);
