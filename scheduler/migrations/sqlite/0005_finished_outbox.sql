-- The outbox holds the finished message (exchange, routing key, message id, type, correlation id,
-- headers, body) built in the transaction of the change, so the relay publishes rows as they are.
-- The row's own unique key keeps its column under a name that says what it is; `payload` stays
-- (now nullable: SQLite needs the table rebuilt for that) for rows written before, which the
-- store finishes when it opens.
CREATE TABLE outbox_finished (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    row_id         BLOB NOT NULL UNIQUE,
    destination    TEXT NOT NULL CHECK (destination IN ('run', 'mes', 'crm')),
    exchange       TEXT,
    routing_key    TEXT NOT NULL,
    message_id     TEXT,
    message_type   TEXT,
    correlation_id TEXT,
    headers        TEXT,
    body           BLOB,
    job_id         BLOB NOT NULL,
    payload        TEXT,
    priority       INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    sent_at        TEXT
);
INSERT INTO outbox_finished
    (seq, row_id, destination, routing_key, job_id, payload, priority, created_at, sent_at)
    SELECT seq, message_id, destination, routing_key, job_id, payload, priority, created_at, sent_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_finished RENAME TO outbox;
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
