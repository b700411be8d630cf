-- Jobs each API key had accepted per UTC day, for its daily quota. Counted here rather than in an
-- API process's memory so that every replica, and a restarted one, enforces one quota together:
-- the API takes a unit with one conditional upsert (`... DO UPDATE ... WHERE jobs < quota
-- RETURNING jobs`) just before it creates the job, and gives it back if the job was not created.
-- One row per key and day; old days are kept as a usage record (a few hundred rows a day at most).
CREATE TABLE api_key_usage (
    key_id  UUID NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    -- The UTC calendar day the jobs were accepted on.
    day     DATE NOT NULL,
    jobs    BIGINT NOT NULL CHECK (jobs >= 0),
    PRIMARY KEY (key_id, day)
);
