-- SQLite twin of migrations/postgres/0008_outbox_notify.sql: nothing to do. One process writes
-- the file and wakes its relay directly. The file keeps the two databases' versions in step.
SELECT 1;
