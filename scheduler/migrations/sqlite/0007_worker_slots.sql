-- SQLite twin of migrations/postgres/0007_worker_slots.sql.
ALTER TABLE workers ADD COLUMN slots INTEGER NOT NULL DEFAULT 1;
