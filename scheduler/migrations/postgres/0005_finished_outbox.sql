-- The outbox holds the finished message (exchange, routing key, message id, type, correlation id,
-- headers, body) built in the transaction of the change, so the relay publishes rows as they are.
-- The row's own unique key keeps its column under a name that says what it is; `payload` stays
-- for rows written before, which the store finishes when it opens.
ALTER TABLE outbox RENAME COLUMN message_id TO row_id;
ALTER TABLE outbox ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE outbox
    ADD COLUMN exchange       TEXT,
    ADD COLUMN message_id     TEXT,
    ADD COLUMN message_type   TEXT,
    ADD COLUMN correlation_id TEXT,
    ADD COLUMN headers        JSONB,
    ADD COLUMN body           BYTEA;
