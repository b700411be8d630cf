//! SQL shared by both dialects. `$n` placeholders work in PostgreSQL and in SQLite (numbered
//! parameters); GREATEST/MAX are avoided in favour of CASE so no statement here differs.

macro_rules! job_columns {
    () => {
        "id, tenant, channel, idempotency_key, partner_ref, model_sha256, format, triangles, \
         alloys, options, options_hash, rules_version, lane, status, version, predicted_seconds, \
         fair_tag, priority, submitted_eta_at, attempts, result, reason, claimed_by, claimed_at, \
         worker_id, created_at, updated_at, status_changed_at, started_at, finished_at, queued_count"
    };
}
pub(crate) use job_columns;

pub(crate) const SELECT_JOB: &str = concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1");

pub(crate) const SELECT_JOB_BY_KEY: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE tenant = $1 AND idempotency_key = $2"
);

pub(crate) const INSERT_JOB: &str = concat!(
    "INSERT INTO jobs (",
    job_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
     $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31) \
     ON CONFLICT (tenant, idempotency_key) DO NOTHING"
);

/// Every mutable column, guarded by the expected version (optimistic concurrency).
pub(crate) const UPDATE_JOB: &str = "UPDATE jobs SET lane = $3, status = $4, version = $5, \
     predicted_seconds = $6, fair_tag = $7, priority = $8, submitted_eta_at = $9, attempts = $10, \
     result = $11, reason = $12, claimed_by = $13, claimed_at = $14, worker_id = $15, \
     updated_at = $16, status_changed_at = $17, started_at = $18, finished_at = $19, \
     rules_version = $20, queued_count = $21 WHERE id = $1 AND version = $2";

/// A take (`claimed_by` set) or release (NULL) for the feed and the job page.
pub(crate) const INSERT_CLAIM: &str =
    "INSERT INTO job_claims (job_id, claimed_by, actor, at) VALUES ($1, $2, $3, $4)";

pub(crate) const INSERT_HISTORY: &str = "INSERT INTO job_history \
     (job_id, from_status, to_status, version, at, actor, note) VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) const SELECT_HISTORY: &str = "SELECT job_id, from_status, to_status, version, at, \
     actor, note FROM job_history WHERE job_id = $1 ORDER BY seq";

pub(crate) const BUMP_COUNT: &str = "INSERT INTO status_counts (status, shard, n) VALUES ($1, $2, $3) \
     ON CONFLICT (status, shard) DO UPDATE SET n = status_counts.n + excluded.n";

pub(crate) const STATUS_COUNTS: &str =
    "SELECT status, CAST(SUM(n) AS BIGINT) AS n FROM status_counts GROUP BY status";

pub(crate) const OLDEST_IN_STATUS: &str = "SELECT id, status_changed_at FROM jobs \
     WHERE status = $1 ORDER BY status_changed_at ASC, id ASC LIMIT 1";

pub(crate) const INSERT_OUTBOX: &str = "INSERT INTO outbox \
     (row_id, destination, exchange, routing_key, message_id, message_type, correlation_id, \
     headers, body, job_id, priority, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (row_id) DO NOTHING";

macro_rules! outbox_columns {
    () => {
        "seq, destination, exchange, routing_key, message_id, message_type, correlation_id, \
         headers, body, job_id, priority, created_at, sent_at"
    };
}
pub(crate) use outbox_columns;

pub(crate) const PENDING_OUTBOX: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1"
);

/// Whether any unsent row was written before the outbox held finished messages.
pub(crate) const ANY_LEGACY_OUTBOX: &str =
    "SELECT seq FROM outbox WHERE sent_at IS NULL AND body IS NULL LIMIT 1";

/// Unsent rows written before the outbox held finished messages (see `outbox/legacy.rs`).
pub(crate) const LEGACY_OUTBOX: &str = "SELECT seq, destination, job_id, payload FROM outbox \
     WHERE sent_at IS NULL AND body IS NULL ORDER BY seq";

pub(crate) const FINISH_LEGACY_OUTBOX: &str = "UPDATE outbox SET exchange = $1, routing_key = $2, \
     message_id = $3, message_type = $4, correlation_id = $5, headers = $6, body = $7 \
     WHERE seq = $8";

pub(crate) const MARK_OUTBOX_SENT: &str =
    "UPDATE outbox SET sent_at = $1 WHERE seq = $2 AND sent_at IS NULL";

pub(crate) const LANE_CLOCK: &str = "SELECT vclock FROM lanes WHERE lane = $1";

/// Adds a job of cost `$5` to a tenant's backlog; `$3` is the lane clock, `$4` cost / weight.
pub(crate) const ENQUEUE_TENANT: &str = "INSERT INTO lane_tenants \
     (lane, tenant, last_finish, backlog_seconds, backlog_jobs, weight) \
     VALUES ($1, $2, $3 + $4, $5, 1, $6) \
     ON CONFLICT (lane, tenant) DO UPDATE SET \
     last_finish = (CASE WHEN lane_tenants.last_finish > $3 THEN lane_tenants.last_finish ELSE $3 END) + $4, \
     backlog_seconds = lane_tenants.backlog_seconds + $5, \
     backlog_jobs = lane_tenants.backlog_jobs + 1, weight = $6 \
     RETURNING last_finish";

/// Removes a job of cost `$3` from a tenant's backlog (exactly zero once no job is left, so
/// float error does not accumulate).
pub(crate) const DEQUEUE_TENANT: &str = "UPDATE lane_tenants SET \
     backlog_seconds = CASE WHEN backlog_jobs <= 1 OR backlog_seconds <= $3 THEN 0 \
     ELSE backlog_seconds - $3 END, \
     backlog_jobs = CASE WHEN backlog_jobs <= 1 THEN 0 ELSE backlog_jobs - 1 END \
     WHERE lane = $1 AND tenant = $2";

pub(crate) const ADVANCE_CLOCK: &str =
    "UPDATE lanes SET vclock = CASE WHEN vclock > $2 THEN vclock ELSE $2 END WHERE lane = $1";

pub(crate) const LANE_BACKLOGS: &str = "SELECT tenant, backlog_seconds, weight, last_finish FROM lane_tenants \
     WHERE lane = $1 AND backlog_jobs > 0";

/// Bounded: running jobs are at most one per worker; jobs stuck in CALCULATING beyond that (lost
/// workers) must not make every ETA read scan them all.
/// Runs in the lanes that share a lane's slots (three lane names; repeat one for fewer).
pub(crate) const RUNNING_IN_LANES: &str = "SELECT predicted_seconds, started_at FROM jobs \
     WHERE lane IN ($1, $2, $3) AND status = 'CALCULATING' LIMIT 1000";

pub(crate) const INSERT_PROCESSED: &str = "INSERT INTO processed_messages \
     (message_id, job_id, processed_at) VALUES ($1, $2, $3) ON CONFLICT (message_id) DO NOTHING";

// `quote_cache.options_hash` holds `hashing::quote_key(channel, options_hash)`: the channel is
// part of the key because a quote carries the channel's margins.
pub(crate) const SELECT_QUOTE: &str = "SELECT quote FROM quote_cache \
     WHERE model_sha256 = $1 AND options_hash = $2 AND rules_version = $3";

pub(crate) const INSERT_QUOTE: &str = "INSERT INTO quote_cache \
     (model_sha256, options_hash, rules_version, quote, job_id, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (model_sha256, options_hash, rules_version) DO NOTHING";

pub(crate) const INSERT_OBSERVATION: &str = "INSERT INTO duration_observations \
     (format, triangles, seconds, observed_at) VALUES ($1, $2, $3, $4)";

pub(crate) const OBSERVED_FORMATS: &str = "SELECT DISTINCT format FROM duration_observations";

pub(crate) const OBSERVATION_WINDOW: &str = "SELECT seq, triangles, seconds FROM duration_observations \
     WHERE format = $1 ORDER BY seq DESC LIMIT $2";

pub(crate) const PRUNE_OBSERVATIONS: &str =
    "DELETE FROM duration_observations WHERE format = $1 AND seq < $2";

pub(crate) const UPSERT_COEFFICIENTS: &str = "INSERT INTO cost_coefficients \
     (format, fixed_seconds, per_triangle_seconds, samples, updated_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (format) DO UPDATE SET fixed_seconds = excluded.fixed_seconds, \
     per_triangle_seconds = excluded.per_triangle_seconds, samples = excluded.samples, \
     updated_at = excluded.updated_at";

pub(crate) const SELECT_COEFFICIENTS: &str = "SELECT format, fixed_seconds, per_triangle_seconds, \
     samples, updated_at FROM cost_coefficients";

pub(crate) const UPSERT_WORKER: &str = "INSERT INTO workers \
     (worker_id, lanes, current_job, slots, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $5) \
     ON CONFLICT (worker_id) DO UPDATE SET lanes = excluded.lanes, \
     current_job = excluded.current_job, slots = excluded.slots, last_seen = excluded.last_seen";

pub(crate) const WORKERS_ALIVE: &str = "SELECT worker_id, lanes, current_job, slots, first_seen, last_seen \
     FROM workers WHERE last_seen >= $1 ORDER BY worker_id";

/// Which filters a listing statement has; only fixed fragments are joined, all values are bound
/// in this order: statuses, tenant, claimant, cursor, limit, offset.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ListShape {
    pub statuses: usize,
    pub tenant: bool,
    pub claimed_by: bool,
    pub cursor: bool,
    pub offset: bool,
}

impl ListShape {
    pub(crate) fn of(q: &crate::query::JobQuery, cursor: bool, offset: bool) -> Self {
        Self {
            statuses: q.statuses.len(),
            tenant: q.tenant.is_some(),
            claimed_by: q.claimed_by.is_some(),
            cursor,
            offset,
        }
    }
}

/// Builds the listing statement for the filters present.
pub(crate) fn list_jobs_sql(shape: ListShape) -> String {
    let mut sql = format!("SELECT {} FROM jobs", job_columns!());
    let mut conds = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    match shape.statuses {
        0 => {}
        1 => conds.push(format!("status = ${}", next())),
        k => {
            let list: Vec<String> = (0..k).map(|_| format!("${}", next())).collect();
            conds.push(format!("status IN ({})", list.join(", ")));
        }
    }
    if shape.tenant {
        conds.push(format!("tenant = ${}", next()));
    }
    if shape.claimed_by {
        conds.push(format!("claimed_by = ${}", next()));
    }
    if shape.cursor {
        let (a, b) = (next(), next());
        conds.push(format!("(created_at, id) < (${a}, ${b})"));
    }
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(&format!(
        " ORDER BY created_at DESC, id DESC LIMIT ${}",
        next()
    ));
    if shape.offset {
        sql.push_str(&format!(" OFFSET ${}", next()));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::{ListShape, list_jobs_sql};

    #[test]
    fn listing_sql_numbers_placeholders_in_bind_order() {
        let shape = |statuses, tenant, claimed_by, cursor, offset| ListShape {
            statuses,
            tenant,
            claimed_by,
            cursor,
            offset,
        };
        let cases = [
            (
                shape(1, true, false, true, false),
                "WHERE status = $1 AND tenant = $2 AND (created_at, id) < ($3, $4) ORDER BY created_at DESC, id DESC LIMIT $5",
            ),
            (
                shape(1, false, false, false, false),
                "WHERE status = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
            ),
            (
                shape(0, false, false, false, false),
                "FROM jobs ORDER BY created_at DESC, id DESC LIMIT $1",
            ),
            (
                shape(0, true, false, false, true),
                "WHERE tenant = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
            ),
            (
                shape(3, false, true, true, false),
                "WHERE status IN ($1, $2, $3) AND claimed_by = $4 AND (created_at, id) < ($5, $6) ORDER BY created_at DESC, id DESC LIMIT $7",
            ),
        ];
        for (shape, tail) in cases {
            let sql = list_jobs_sql(shape);
            assert!(sql.ends_with(tail), "{sql}");
        }
    }
}
