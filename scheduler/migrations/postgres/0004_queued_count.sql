-- How many times each job has been queued: the run message's attempt, kept on the row so the
-- relay need not read a job's history for every run message it publishes.
ALTER TABLE jobs ADD COLUMN queued_count INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET queued_count = (
    SELECT count(*) FROM job_history h WHERE h.job_id = jobs.id AND h.to_status = 'QUEUED'
);
