//! The `JobStore` implementation shared by PostgreSQL and SQLite.
//!
//! sqlx code generic over the database needs a wall of trait bounds; a macro instead expands the
//! same code for each concrete database, so both are type-checked as ordinary code. A store type
//! provides `shared()`, `read_pool()`, `begin_write()`, `relay_outbox_impl()`,
//! `watch_outbox_impl()` and the statement
//! that reads a job for update (`FOR UPDATE` on PostgreSQL, a plain select under SQLite's
//! `BEGIN IMMEDIATE`).

/// Expands `impl JobStore for $store` for database `$db`.
macro_rules! impl_job_store {
    ($store:ty, $db:ty, lock_job = $lock_job:expr) => {
        type Tx = sqlx::Transaction<'static, $db>;
        type DbRow = <$db as sqlx::Database>::Row;

        use $crate::lifecycle::ChangeKind;

        fn job_from_row(r: &DbRow) -> Result<$crate::job::Job, $crate::error::StoreError> {
            use sqlx::Row;
            use sqlx::types::Json;
            let channel: String = r.try_get("channel")?;
            let lane: String = r.try_get("lane")?;
            let status: String = r.try_get("status")?;
            let triangles: i64 = r.try_get("triangles")?;
            let priority: i16 = r.try_get("priority")?;
            let attempts: i32 = r.try_get("attempts")?;
            let queued_count: i32 = r.try_get("queued_count")?;
            let alloys: Json<Vec<String>> = r.try_get("alloys")?;
            let options: Json<serde_json::Value> = r.try_get("options")?;
            let result: Option<Json<serde_json::Value>> = r.try_get("result")?;
            Ok($crate::job::Job {
                id: r.try_get("id")?,
                tenant: r.try_get("tenant")?,
                channel: channel
                    .parse()
                    .map_err(|e| $crate::error::StoreError::Corrupt(format!("{e}")))?,
                idempotency_key: r.try_get("idempotency_key")?,
                partner_ref: r.try_get("partner_ref")?,
                model_sha256: r.try_get("model_sha256")?,
                format: r.try_get::<String, _>("format")?
                    .parse()
                    .map_err(|e| $crate::error::StoreError::Corrupt(format!("{e}")))?,
                triangles: u64::try_from(triangles).unwrap_or(0),
                alloys: alloys.0,
                options: options.0,
                options_hash: r.try_get("options_hash")?,
                rules_version: r.try_get("rules_version")?,
                lane: rows::parse_lane(&lane)?,
                status: rows::parse_status(&status)?,
                version: r.try_get("version")?,
                predicted_seconds: r.try_get("predicted_seconds")?,
                fair_tag: r.try_get("fair_tag")?,
                priority: u8::try_from(priority).unwrap_or(0),
                submitted_eta_at: r.try_get("submitted_eta_at")?,
                attempts: u32::try_from(attempts).unwrap_or(0),
                queued_count: u32::try_from(queued_count).unwrap_or(0),
                result: result.map(|j| j.0),
                reason: r.try_get("reason")?,
                claimed_by: r.try_get("claimed_by")?,
                claimed_at: r.try_get("claimed_at")?,
                worker_id: r.try_get("worker_id")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
                status_changed_at: r.try_get("status_changed_at")?,
                started_at: r.try_get("started_at")?,
                finished_at: r.try_get("finished_at")?,
            })
        }

        fn outbox_from_row(
            r: &DbRow,
        ) -> Result<$crate::outbox::OutboxMessage, $crate::error::StoreError> {
            use sqlx::Row;
            let corrupt = |what: String| $crate::error::StoreError::Corrupt(what);
            let destination: String = r.try_get("destination")?;
            let exchange: String = r.try_get("exchange")?;
            let headers: sqlx::types::Json<$crate::outbox::Headers> = r.try_get("headers")?;
            let priority: i16 = r.try_get("priority")?;
            Ok($crate::outbox::OutboxMessage {
                seq: r.try_get("seq")?,
                job_id: r.try_get("job_id")?,
                message: $crate::outbox::Message {
                    destination: $crate::outbox::Destination::parse(&destination)
                        .ok_or_else(|| corrupt(format!("destination {destination:?}")))?,
                    exchange: contracts::Exchange::parse(&exchange)
                        .ok_or_else(|| corrupt(format!("exchange {exchange:?}")))?,
                    routing_key: r.try_get("routing_key")?,
                    message_id: r.try_get("message_id")?,
                    message_type: r.try_get("message_type")?,
                    correlation_id: r.try_get("correlation_id")?,
                    headers: headers.0,
                    body: r.try_get("body")?,
                    priority: u8::try_from(priority).unwrap_or(0),
                },
                created_at: r.try_get("created_at")?,
                sent_at: r.try_get("sent_at")?,
            })
        }

        fn worker_from_row(r: &DbRow) -> Result<$crate::work::WorkerInfo, $crate::error::StoreError> {
            use sqlx::Row;
            let lanes: String = r.try_get("lanes")?;
            Ok($crate::work::WorkerInfo {
                worker_id: r.try_get("worker_id")?,
                lanes: rows::parse_lanes(&lanes),
                current_job: r.try_get("current_job")?,
                slots: u32::try_from(r.try_get::<i32, _>("slots")?).unwrap_or(1).max(1),
                first_seen: r.try_get("first_seen")?,
                last_seen: r.try_get("last_seen")?,
            })
        }

        /// Binds a message's columns in the order `INSERT_OUTBOX` and `FINISH_LEGACY_OUTBOX`
        /// both list them (exchange … body).
        fn bind_message<'q>(
            q: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments>,
            m: &'q $crate::outbox::Message,
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments> {
            q.bind(m.exchange.as_str())
                .bind(&m.routing_key)
                .bind(&m.message_id)
                .bind(&m.message_type)
                .bind(&m.correlation_id)
                .bind(sqlx::types::Json(&m.headers))
                .bind(&m.body)
        }

        impl $store {
            /// The listing of [`JobStore::list_jobs`] paged by OFFSET: the store benchmark's
            /// anchor (its cost grows with the offset). Not part of the trait: nothing else uses it.
            pub async fn list_jobs_by_offset(
                &self,
                q: &$crate::query::JobQuery,
                offset: u64,
            ) -> Result<Vec<$crate::job::Job>, $crate::error::StoreError> {
                let text = sql::list_jobs_sql(sql::ListShape::of(q, false, true));
                let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
                for s in &q.statuses {
                    query = query.bind(s.as_str());
                }
                if let Some(t) = &q.tenant {
                    query = query.bind(t.clone());
                }
                if let Some(c) = &q.claimed_by {
                    query = query.bind(c.clone());
                }
                let rows = query
                    .bind(i64::from(q.clamped_limit()))
                    .bind(rows::to_i64(offset, "offset")?)
                    .fetch_all(self.read_pool())
                    .await?;
                rows.iter().map(job_from_row).collect()
            }

            async fn fetch_job<'e, E>(
                exec: E,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::job::Job>, $crate::error::StoreError>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let row = sqlx::query(sql::SELECT_JOB).bind(id).fetch_optional(exec).await?;
                row.as_ref().map(job_from_row).transpose()
            }

            async fn lock_job(
                tx: &mut Tx,
                id: uuid::Uuid,
            ) -> Result<$crate::job::Job, $crate::error::StoreError> {
                let row = sqlx::query($lock_job).bind(id).fetch_optional(&mut **tx).await?;
                match row {
                    Some(r) => job_from_row(&r),
                    None => Err($crate::error::StoreError::NotFound(id)),
                }
            }

            async fn insert_history(
                tx: &mut Tx,
                t: &$crate::job::Transition,
            ) -> Result<(), $crate::error::StoreError> {
                sqlx::query(sql::INSERT_HISTORY)
                    .bind(t.job_id)
                    .bind(t.from_status.map(|s| s.as_str()))
                    .bind(t.to_status.as_str())
                    .bind(t.version)
                    .bind(t.at)
                    .bind(&t.actor)
                    .bind(&t.note)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            async fn bump_count(
                tx: &mut Tx,
                status: $crate::status::JobStatus,
                job_id: uuid::Uuid,
                delta: i64,
            ) -> Result<(), $crate::error::StoreError> {
                sqlx::query(sql::BUMP_COUNT)
                    .bind(status.as_str())
                    .bind(rows::shard_of(job_id))
                    .bind(delta)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            async fn insert_outbox(
                tx: &mut Tx,
                job: &$crate::job::Job,
                m: &$crate::outbox::Message,
            ) -> Result<(), $crate::error::StoreError> {
                let row_id = $crate::hashing::outbox_row_id(job.id, m.destination.as_str(), job.version);
                let q = sqlx::query(sql::INSERT_OUTBOX).bind(row_id).bind(m.destination.as_str());
                bind_message(q, m)
                    .bind(job.id)
                    .bind(i16::from(m.priority))
                    .bind(job.updated_at)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// Writes the finished messages a job's new state calls for ([`lifecycle::messages`]).
            async fn emit(tx: &mut Tx, job: &$crate::job::Job) -> Result<(), $crate::error::StoreError> {
                for m in $crate::lifecycle::messages(job)? {
                    Self::insert_outbox(tx, job, &m).await?;
                }
                Ok(())
            }

            /// Finishes the unsent rows written before the outbox held finished messages
            /// (`outbox/legacy.rs`). Runs when the store opens: a read that finds none costs no
            /// write transaction. A row with no subscriber, no job or an unreadable payload is
            /// marked sent (logged), so one bad old row never stops a service from starting.
            /// Returns how many rows it finished.
            async fn finish_legacy_outbox(&self) -> Result<u64, $crate::error::StoreError> {
                use sqlx::Row;
                let any = sqlx::query(sql::ANY_LEGACY_OUTBOX).fetch_optional(self.read_pool()).await?;
                if any.is_none() {
                    return Ok(0);
                }
                let mut tx = self.begin_write().await?;
                let rows = sqlx::query(sql::LEGACY_OUTBOX).fetch_all(&mut *tx).await?;
                let mut finished = 0;
                for r in &rows {
                    let seq: i64 = r.try_get("seq")?;
                    let destination: String = r.try_get("destination")?;
                    let job_id: uuid::Uuid = r.try_get("job_id")?;
                    let payload: Option<sqlx::types::Json<serde_json::Value>> = r.try_get("payload")?;
                    let job = Self::fetch_job(&mut *tx, job_id).await?;
                    let message = match ($crate::outbox::Destination::parse(&destination), job, payload) {
                        (Some(destination), Some(job), Some(payload)) => {
                            $crate::outbox::legacy::finish(destination, &payload.0, &job)
                        }
                        (None, _, _) => Err($crate::error::StoreError::Corrupt(format!("destination {destination:?}"))),
                        _ => Ok(None),
                    };
                    let m = match message {
                        Ok(Some(m)) => m,
                        Ok(None) => {
                            sqlx::query(sql::MARK_OUTBOX_SENT).bind(rows::now()).bind(seq).execute(&mut *tx).await?;
                            continue;
                        }
                        Err(error) => {
                            tracing::error!(seq, %job_id, %error, "old outbox row cannot be finished; marked sent");
                            sqlx::query(sql::MARK_OUTBOX_SENT).bind(rows::now()).bind(seq).execute(&mut *tx).await?;
                            continue;
                        }
                    };
                    bind_message(sqlx::query(sql::FINISH_LEGACY_OUTBOX), &m)
                        .bind(seq)
                        .execute(&mut *tx)
                        .await?;
                    finished += 1;
                }
                tx.commit().await?;
                tracing::info!(rows = rows.len(), finished, "outbox rows from before migration 0005 finished");
                Ok(finished)
            }

            /// Puts a job at the back of its tenant's fair queue in its lane; returns
            /// (start tag, priority).
            async fn enqueue(
                &self,
                tx: &mut Tx,
                job: &$crate::job::Job,
            ) -> Result<(f64, u8), $crate::error::StoreError> {
                let cfg = &self.shared().config;
                let weight = cfg.fairness.weight(&job.tenant, job.channel);
                let clock: f64 = sqlx::query_scalar(sql::LANE_CLOCK)
                    .bind(job.lane.as_str())
                    .fetch_optional(&mut **tx)
                    .await?
                    .unwrap_or(0.0);
                let cost = job.predicted_seconds.max(0.0);
                let finish: f64 = sqlx::query_scalar(sql::ENQUEUE_TENANT)
                    .bind(job.lane.as_str())
                    .bind(&job.tenant)
                    .bind(clock)
                    .bind(cost / weight)
                    .bind(cost)
                    .bind(weight)
                    .fetch_one(&mut **tx)
                    .await?;
                let start = finish - cost / weight;
                let priority = $crate::fairness::priority_for_lag(start - clock, cfg.fairness.quantum_seconds);
                Ok((start, priority))
            }

            async fn dequeue(
                tx: &mut Tx,
                lane: contracts::Lane,
                tenant: &str,
                cost: f64,
            ) -> Result<(), $crate::error::StoreError> {
                sqlx::query(sql::DEQUEUE_TENANT)
                    .bind(lane.as_str())
                    .bind(tenant)
                    .bind(cost)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// Writes `after` (derived from `before`) with optimistic concurrency and records
            /// everything the change implies, in `tx`: executes the [`lifecycle::step`].
            async fn apply(
                &self,
                tx: &mut Tx,
                before: &$crate::job::Job,
                after: $crate::job::Job,
                kind: $crate::lifecycle::ChangeKind,
                actor: &str,
                note: Option<&str>,
            ) -> Result<$crate::job::Job, $crate::error::StoreError> {
                let step = $crate::lifecycle::step(before, after, kind, actor, note, rows::now())?;
                let mut after = step.job;
                if let Some((lane, cost)) = step.queue.leave {
                    Self::dequeue(tx, lane, &before.tenant, cost).await?;
                }
                if let Some((lane, tag)) = step.queue.advance_clock {
                    sqlx::query(sql::ADVANCE_CLOCK)
                        .bind(lane.as_str())
                        .bind(tag)
                        .execute(&mut **tx)
                        .await?;
                }
                if step.queue.join {
                    let (tag, priority) = self.enqueue(tx, &after).await?;
                    after.fair_tag = tag;
                    after.priority = priority;
                }
                let done = sqlx::query(sql::UPDATE_JOB)
                    .bind(before.id)
                    .bind(before.version)
                    .bind(after.lane.as_str())
                    .bind(after.status.as_str())
                    .bind(after.version)
                    .bind(after.predicted_seconds)
                    .bind(after.fair_tag)
                    .bind(i16::from(after.priority))
                    .bind(after.submitted_eta_at)
                    .bind(i32::try_from(after.attempts).unwrap_or(i32::MAX))
                    .bind(after.result.clone().map(sqlx::types::Json))
                    .bind(after.reason.clone())
                    .bind(after.claimed_by.clone())
                    .bind(after.claimed_at)
                    .bind(after.worker_id.clone())
                    .bind(after.updated_at)
                    .bind(after.status_changed_at)
                    .bind(after.started_at)
                    .bind(after.finished_at)
                    .bind(after.rules_version.clone())
                    .bind(i32::try_from(after.queued_count).unwrap_or(i32::MAX))
                    .execute(&mut **tx)
                    .await?;
                if done.rows_affected() != 1 {
                    let actual = Self::fetch_job(&mut **tx, before.id)
                        .await?
                        .ok_or($crate::error::StoreError::NotFound(before.id))?;
                    return Err($crate::error::StoreError::VersionConflict {
                        job_id: before.id,
                        expected: before.version,
                        actual: actual.version,
                    });
                }
                if let Some(history) = &step.history {
                    Self::insert_history(tx, history).await?;
                    for (status, delta) in step.counters {
                        Self::bump_count(tx, status, after.id, delta).await?;
                    }
                    Self::emit(tx, &after).await?;
                }
                Ok(after)
            }

            /// Writes a take or release (`after.claimed_by`) and records it for the feed.
            async fn apply_claim(
                &self,
                tx: &mut Tx,
                before: &$crate::job::Job,
                after: $crate::job::Job,
                operator: &str,
            ) -> Result<$crate::job::Job, $crate::error::StoreError> {
                let job = self
                    .apply(tx, before, after, $crate::lifecycle::ChangeKind::Claim, operator, None)
                    .await?;
                sqlx::query(sql::INSERT_CLAIM)
                    .bind(job.id)
                    .bind(job.claimed_by.clone())
                    .bind(operator)
                    .bind(job.updated_at)
                    .execute(&mut **tx)
                    .await?;
                Ok(job)
            }

            async fn capacity(
                &self,
                lane: contracts::Lane,
            ) -> Result<$crate::eta::LaneCapacity, $crate::error::StoreError> {
                let cfg = &self.shared().config;
                let alive = match self.shared().cached_workers() {
                    Some(w) => w,
                    None => {
                        let w = $crate::store::JobStore::workers_alive(self, cfg.worker_ttl()).await?;
                        self.shared().cache_workers(w.clone());
                        w
                    }
                };
                Ok($crate::eta::LaneCapacity::of(&alive, lane, cfg.assumed_capacity))
            }

            /// ETA of a queued or running job, read with `exec`.
            async fn eta_for(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                job: &$crate::job::Job,
                capacity: &$crate::eta::LaneCapacity,
            ) -> Result<Option<$crate::eta::Eta>, $crate::error::StoreError> {
                use sqlx::Row;
                use $crate::eta;
                use $crate::status::JobStatus;
                let now = rows::now();
                let (work_ahead, wait, own) = match job.status {
                    JobStatus::Queued => {
                        let tenants = sqlx::query(sql::LANE_BACKLOGS)
                            .bind(job.lane.as_str())
                            .fetch_all(&mut *conn)
                            .await?
                            .iter()
                            .map(|r| {
                                Ok(eta::TenantBacklog {
                                    backlog_seconds: r.try_get("backlog_seconds")?,
                                    weight: r.try_get("weight")?,
                                    last_finish: r.try_get("last_finish")?,
                                })
                            })
                            .collect::<Result<Vec<_>, sqlx::Error>>()?;
                        let lane = |i: usize| capacity.sharing.get(i).unwrap_or(&job.lane).as_str();
                        let running: Vec<f64> = sqlx::query(sql::RUNNING_IN_LANES)
                            .bind(lane(0))
                            .bind(lane(1))
                            .bind(lane(2))
                            .fetch_all(&mut *conn)
                            .await?
                            .iter()
                            .map(|r| {
                                let p: f64 = r.try_get("predicted_seconds")?;
                                let s: Option<chrono::DateTime<chrono::Utc>> = r.try_get("started_at")?;
                                let elapsed = s.map_or(0.0, |s| rows::seconds_between(s, now));
                                Ok(eta::remaining_seconds(p, elapsed))
                            })
                            .collect::<Result<Vec<f64>, sqlx::Error>>()?;
                        // Smaller lanes on the same slots go first, all of their queue.
                        let mut first = 0.0;
                        for other in eta::served_before(job.lane, &capacity.sharing) {
                            for r in sqlx::query(sql::LANE_BACKLOGS)
                                .bind(other.as_str())
                                .fetch_all(&mut *conn)
                                .await?
                            {
                                first += r.try_get::<f64, _>("backlog_seconds")?;
                            }
                        }
                        let queued = eta::queued_work_ahead(job.fair_tag, &tenants) + first;
                        let wait = eta::wait_seconds(&running, queued, capacity.slots);
                        (queued + running.iter().sum::<f64>(), wait, job.predicted_seconds)
                    }
                    JobStatus::Calculating => {
                        let elapsed = job.started_at.map_or(0.0, |s| rows::seconds_between(s, now));
                        (0.0, 0.0, eta::remaining_seconds(job.predicted_seconds, elapsed))
                    }
                    _ => return Ok(None),
                };
                let seconds = wait + own;
                let at = now
                    + chrono::Duration::microseconds((seconds * 1e6).min(1e15) as i64);
                Ok(Some(eta::Eta {
                    at,
                    seconds,
                    work_ahead_seconds: work_ahead,
                    capacity: capacity.slots,
                    capacity_assumed: capacity.assumed,
                }))
            }

            async fn view(
                &self,
                job: $crate::job::Job,
            ) -> Result<$crate::job::JobView, $crate::error::StoreError> {
                let eta = if job.status.is_terminal() {
                    None
                } else {
                    let cap = self.capacity(job.lane).await?;
                    let mut conn = self.read_pool().acquire().await?;
                    self.eta_for(&mut conn, &job, &cap).await?
                };
                Ok($crate::job::JobView { job, eta })
            }

            async fn existing_submission(
                &self,
                new: &$crate::job::NewJob,
                options_hash: &str,
            ) -> Result<Option<$crate::job::Submission>, $crate::error::StoreError> {
                let row = sqlx::query(sql::SELECT_JOB_BY_KEY)
                    .bind(&new.tenant)
                    .bind(&new.idempotency_key)
                    .fetch_optional(self.read_pool())
                    .await?;
                let Some(row) = row else { return Ok(None) };
                let job = job_from_row(&row)?;
                if job.model_sha256 != new.model_sha256 || job.options_hash != options_hash {
                    return Err($crate::error::StoreError::IdempotencyKeyReused { job_id: job.id });
                }
                let from_cache = job.attempts == 0 && job.status == $crate::status::JobStatus::PriceCalculated;
                Ok(Some($crate::job::Submission { job: self.view(job).await?, created: false, from_cache }))
            }

            async fn refit(&self) -> Result<$crate::cost::CostModel, $crate::error::StoreError> {
                use sqlx::Row;
                let cal = self.shared().config.calibration.clone();
                let mut tx = self.begin_write().await?;
                let formats: Vec<String> = sqlx::query_scalar(sql::OBSERVED_FORMATS).fetch_all(&mut *tx).await?;
                let now = rows::now();
                for format in formats {
                    let rows = sqlx::query(sql::OBSERVATION_WINDOW)
                        .bind(&format)
                        .bind(i64::from(cal.window))
                        .fetch_all(&mut *tx)
                        .await?;
                    let mut obs = Vec::with_capacity(rows.len());
                    let mut min_seq = i64::MAX;
                    for r in &rows {
                        let seq: i64 = r.try_get("seq")?;
                        let triangles: i64 = r.try_get("triangles")?;
                        min_seq = min_seq.min(seq);
                        obs.push($crate::cost::Observation {
                            triangles: u64::try_from(triangles).unwrap_or(0),
                            seconds: r.try_get("seconds")?,
                        });
                    }
                    if let Some(c) = $crate::cost::fit(&obs, cal.min_samples as usize) {
                        sqlx::query(sql::UPSERT_COEFFICIENTS)
                            .bind(&format)
                            .bind(c.fixed_seconds)
                            .bind(c.per_triangle_seconds)
                            .bind(obs.len() as i64)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                    if rows.len() as u64 >= u64::from(cal.window) {
                        sqlx::query(sql::PRUNE_OBSERVATIONS)
                            .bind(&format)
                            .bind(min_seq)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                self.shared().observed.store(0, std::sync::atomic::Ordering::Relaxed);
                $crate::store::JobStore::reload_cost_model(self).await
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::JobStore for $store {
            async fn submit_routed(
                &self,
                new: $crate::job::NewJob,
                routing: $crate::routing::Routing,
            ) -> Result<$crate::job::Submission, $crate::error::StoreError> {
                use $crate::job::{Job, Submission};
                use $crate::status::JobStatus;
                rows::validate(&new)?;
                let options_hash = $crate::hashing::options_hash(&new.alloys, &new.options);
                if let Some(s) = self.existing_submission(&new, &options_hash).await? {
                    return Ok(s);
                }
                let capacity = self.capacity(routing.lane).await?;
                let now = rows::now();
                let submitted = Job::submitted(&new, options_hash.clone(), &routing, now);
                let mut tx = self.begin_write().await?;
                let cached: Option<sqlx::types::Json<serde_json::Value>> = match &new.rules_version {
                    Some(rv) => {
                        sqlx::query_scalar(sql::SELECT_QUOTE)
                            .bind(&submitted.model_sha256)
                            .bind($crate::hashing::quote_key(new.channel, &options_hash))
                            .bind(rv)
                            .fetch_optional(&mut *tx)
                            .await?
                    }
                    None => None,
                };
                let decided = $crate::lifecycle::submission(submitted, cached.map(|q| q.0), now);
                let mut job = decided.job;
                let mut eta = None;
                if decided.join_queue {
                    let (tag, priority) = self.enqueue(&mut tx, &job).await?;
                    job.fair_tag = tag;
                    job.priority = priority;
                    eta = self.eta_for(&mut tx, &job, &capacity).await?;
                    job.submitted_eta_at = eta.map(|e| e.at);
                }
                let inserted = sqlx::query(sql::INSERT_JOB)
                    .bind(job.id)
                    .bind(&job.tenant)
                    .bind(job.channel.as_str())
                    .bind(&job.idempotency_key)
                    .bind(&job.partner_ref)
                    .bind(&job.model_sha256)
                    .bind(job.format.as_str())
                    .bind(rows::to_i64(job.triangles, "triangle count")?)
                    .bind(sqlx::types::Json(&job.alloys))
                    .bind(sqlx::types::Json(&job.options))
                    .bind(&job.options_hash)
                    .bind(&job.rules_version)
                    .bind(job.lane.as_str())
                    .bind(job.status.as_str())
                    .bind(job.version)
                    .bind(job.predicted_seconds)
                    .bind(job.fair_tag)
                    .bind(i16::from(job.priority))
                    .bind(job.submitted_eta_at)
                    .bind(0_i32)
                    .bind(job.result.clone().map(sqlx::types::Json))
                    .bind(Option::<String>::None)
                    .bind(Option::<String>::None)
                    .bind(Option::<chrono::DateTime<chrono::Utc>>::None)
                    .bind(Option::<String>::None)
                    .bind(job.created_at)
                    .bind(job.updated_at)
                    .bind(job.status_changed_at)
                    .bind(Option::<chrono::DateTime<chrono::Utc>>::None)
                    .bind(job.finished_at)
                    .bind(i32::try_from(job.queued_count).unwrap_or(i32::MAX))
                    .execute(&mut *tx)
                    .await?;
                if inserted.rows_affected() == 0 {
                    // A concurrent submission with the same key committed first.
                    tx.rollback().await?;
                    return self
                        .existing_submission(&new, &options_hash)
                        .await?
                        .ok_or($crate::error::StoreError::Contended(job.id));
                }
                for step in &decided.history {
                    Self::insert_history(&mut tx, step).await?;
                }
                Self::bump_count(&mut tx, decided.counter, job.id, 1).await?;
                Self::emit(&mut tx, &job).await?;
                tx.commit().await?;
                let from_cache = job.status == JobStatus::PriceCalculated;
                // The ETA computed in the transaction is the freshest there is.
                Ok(Submission { job: $crate::job::JobView { job, eta }, created: true, from_cache })
            }

            async fn get_job(&self, id: uuid::Uuid) -> Result<$crate::job::JobView, $crate::error::StoreError> {
                let job = Self::fetch_job(self.read_pool(), id)
                    .await?
                    .ok_or($crate::error::StoreError::NotFound(id))?;
                self.view(job).await
            }

            async fn find_by_idempotency_key(
                &self,
                tenant: &str,
                key: &str,
            ) -> Result<Option<$crate::job::Job>, $crate::error::StoreError> {
                let row = sqlx::query(sql::SELECT_JOB_BY_KEY)
                    .bind(tenant)
                    .bind(key)
                    .fetch_optional(self.read_pool())
                    .await?;
                row.as_ref().map(job_from_row).transpose()
            }

            async fn history(
                &self,
                id: uuid::Uuid,
            ) -> Result<Vec<$crate::job::Transition>, $crate::error::StoreError> {
                use sqlx::Row;
                let rows = sqlx::query(sql::SELECT_HISTORY).bind(id).fetch_all(self.read_pool()).await?;
                rows.iter()
                    .map(|r| {
                        let from: Option<String> = r.try_get("from_status")?;
                        let to: String = r.try_get("to_status")?;
                        Ok($crate::job::Transition {
                            job_id: r.try_get("job_id")?,
                            from_status: from.as_deref().map(rows::parse_status).transpose()?,
                            to_status: rows::parse_status(&to)?,
                            version: r.try_get("version")?,
                            at: r.try_get("at")?,
                            actor: r.try_get("actor")?,
                            note: r.try_get("note")?,
                        })
                    })
                    .collect()
            }

            async fn list_jobs(
                &self,
                q: &$crate::query::JobQuery,
            ) -> Result<$crate::query::JobPage, $crate::error::StoreError> {
                use $crate::query::Cursor;
                let cursor = q.cursor.as_deref().map(Cursor::decode).transpose()?;
                let limit = q.clamped_limit();
                let text = sql::list_jobs_sql(sql::ListShape::of(q, cursor.is_some(), false));
                let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
                for s in &q.statuses {
                    query = query.bind(s.as_str());
                }
                if let Some(t) = &q.tenant {
                    query = query.bind(t.clone());
                }
                if let Some(c) = &q.claimed_by {
                    query = query.bind(c.clone());
                }
                if let Some(c) = cursor {
                    query = query.bind(c.created_at).bind(c.id);
                }
                let rows = query.bind(i64::from(limit) + 1).fetch_all(self.read_pool()).await?;
                let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>, _>>()?;
                let more = jobs.len() > limit as usize;
                jobs.truncate(limit as usize);
                let next_cursor = if more { jobs.last().map(|j| Cursor::after(j).encode()) } else { None };
                Ok($crate::query::JobPage { jobs, next_cursor })
            }

            async fn status_counts(
                &self,
            ) -> Result<std::collections::BTreeMap<$crate::status::JobStatus, u64>, $crate::error::StoreError> {
                use sqlx::Row;
                let mut out: std::collections::BTreeMap<_, _> =
                    $crate::status::JobStatus::ALL.into_iter().map(|s| (s, 0u64)).collect();
                for r in sqlx::query(sql::STATUS_COUNTS).fetch_all(self.read_pool()).await? {
                    let s: String = r.try_get("status")?;
                    let n: i64 = r.try_get("n")?;
                    out.insert(rows::parse_status(&s)?, u64::try_from(n).unwrap_or(0));
                }
                Ok(out)
            }

            async fn oldest_per_status(
                &self,
            ) -> Result<Vec<$crate::query::OldestInStatus>, $crate::error::StoreError> {
                use sqlx::Row;
                let now = rows::now();
                let mut out = Vec::new();
                for status in $crate::status::JobStatus::ALL {
                    let row = sqlx::query(sql::OLDEST_IN_STATUS)
                        .bind(status.as_str())
                        .fetch_optional(self.read_pool())
                        .await?;
                    if let Some(r) = row {
                        let since: chrono::DateTime<chrono::Utc> = r.try_get("status_changed_at")?;
                        out.push($crate::query::OldestInStatus {
                            status,
                            job_id: r.try_get("id")?,
                            since,
                            age_seconds: rows::seconds_between(since, now).max(0.0),
                        });
                    }
                }
                Ok(out)
            }

            async fn transition(
                &self,
                id: uuid::Uuid,
                expected_version: i64,
                to: $crate::status::JobStatus,
                actor: &str,
                reason: Option<String>,
            ) -> Result<$crate::job::Job, $crate::error::StoreError> {
                let mut tx = self.begin_write().await?;
                let before = Self::lock_job(&mut tx, id).await?;
                if before.version != expected_version {
                    return Err($crate::error::StoreError::VersionConflict {
                        job_id: id,
                        expected: expected_version,
                        actual: before.version,
                    });
                }
                let mut after = before.clone();
                after.status = to;
                if reason.is_some() {
                    after.reason = reason.clone();
                }
                if to == $crate::status::JobStatus::Calculating {
                    after.attempts += 1;
                }
                let job = self.apply(&mut tx, &before, after, ChangeKind::Transition, actor, reason.as_deref()).await?;
                tx.commit().await?;
                Ok(job)
            }

            async fn claim(&self, id: uuid::Uuid, operator: &str) -> Result<$crate::job::Job, $crate::error::StoreError> {
                let mut tx = self.begin_write().await?;
                let before = Self::lock_job(&mut tx, id).await?;
                match before.claimed_by.as_deref() {
                    Some(h) if h == operator => return Ok(before),
                    Some(h) => {
                        return Err($crate::error::StoreError::ClaimConflict { job_id: id, holder: h.to_owned() });
                    }
                    None => {}
                }
                let mut after = before.clone();
                after.claimed_by = Some(operator.to_owned());
                after.claimed_at = Some(rows::now());
                let job = self.apply_claim(&mut tx, &before, after, operator).await?;
                tx.commit().await?;
                Ok(job)
            }

            async fn release_claim(
                &self,
                id: uuid::Uuid,
                operator: &str,
            ) -> Result<$crate::job::Job, $crate::error::StoreError> {
                let mut tx = self.begin_write().await?;
                let before = Self::lock_job(&mut tx, id).await?;
                if before.claimed_by.as_deref() != Some(operator) {
                    return Err($crate::error::StoreError::NotClaimant { job_id: id, operator: operator.to_owned() });
                }
                let mut after = before.clone();
                after.claimed_by = None;
                after.claimed_at = None;
                let job = self.apply_claim(&mut tx, &before, after, operator).await?;
                tx.commit().await?;
                Ok(job)
            }

            async fn retry_failed(
                &self,
                id: uuid::Uuid,
                operator: &str,
            ) -> Result<$crate::job::JobView, $crate::error::StoreError> {
                let mut tx = self.begin_write().await?;
                let before = Self::lock_job(&mut tx, id).await?;
                let after = $crate::lifecycle::retry(&before)?;
                let actor = format!("operator:{operator}");
                let job = self
                    .apply(&mut tx, &before, after, ChangeKind::Transition, &actor, Some("operator retry"))
                    .await?;
                tx.commit().await?;
                self.view(job).await
            }

            async fn start_job(
                &self,
                id: uuid::Uuid,
                worker_id: &str,
            ) -> Result<$crate::work::StartOutcome, $crate::error::StoreError> {
                use $crate::work::StartOutcome;
                let max_attempts = self.shared().config.max_attempts.max(1);
                let mut tx = self.begin_write().await?;
                let before = Self::lock_job(&mut tx, id).await?;
                let actor = format!("worker:{worker_id}");
                let outcome = match $crate::lifecycle::start(&before, worker_id, max_attempts)? {
                    $crate::lifecycle::Start::AlreadyFinished => return Ok(StartOutcome::AlreadyFinished(before)),
                    $crate::lifecycle::Start::Change { after, note, dead_lettered } => {
                        let job = self
                            .apply(&mut tx, &before, *after, ChangeKind::Transition, &actor, note.as_deref())
                            .await?;
                        if dead_lettered { StartOutcome::DeadLettered(job) } else { StartOutcome::Started(job) }
                    }
                };
                tx.commit().await?;
                Ok(outcome)
            }

            async fn complete_job(
                &self,
                c: $crate::work::Completion,
            ) -> Result<$crate::work::CompletionOutcome, $crate::error::StoreError> {
                use $crate::work::{CompletionOutcome, Outcome};
                let entered = std::time::Instant::now();
                let cfg = &self.shared().config;
                let now = rows::now();
                let mut tx = self.begin_write().await?;
                let fresh = sqlx::query(sql::INSERT_PROCESSED)
                    .bind(c.message_id)
                    .bind(c.job_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if fresh.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(CompletionOutcome::Duplicate);
                }
                let before = Self::lock_job(&mut tx, c.job_id).await?;
                let actor = format!("worker:{}", c.worker_id);
                let after = $crate::lifecycle::complete(&before, &c.outcome, cfg.max_attempts);
                let mut observed = false;
                let note = after.reason.clone();
                let job = self
                    .apply(&mut tx, &before, after, ChangeKind::Transition, &actor, note.as_deref())
                    .await?;
                if let Outcome::Priced { quote, rules_version } = &c.outcome {
                    sqlx::query(sql::INSERT_QUOTE)
                        .bind(&job.model_sha256)
                        .bind($crate::hashing::quote_key(job.channel, &job.options_hash))
                        .bind(rules_version)
                        .bind(sqlx::types::Json(quote))
                        .bind(job.id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    // The slot's time so far, with the wait for this transaction's locks.
                    let held = c.duration_seconds + entered.elapsed().as_secs_f64();
                    if held.is_finite() && held >= 0.0 {
                        sqlx::query(sql::INSERT_OBSERVATION)
                            .bind(job.format.as_str())
                            .bind(rows::to_i64(job.triangles, "triangle count")?)
                            .bind(held)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        observed = true;
                    }
                }
                tx.commit().await?;
                if observed {
                    let n = self.shared().observed.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    if n >= cfg.calibration.every.max(1) {
                        // Calibration is an optimisation: a failure must not fail the completion.
                        if let Err(e) = self.refit().await {
                            tracing::warn!(error = %e, "cost model recalibration failed");
                        }
                    }
                }
                Ok(CompletionOutcome::Applied(Box::new(job)))
            }

            async fn cached_quote(
                &self,
                model_sha256: &str,
                channel: contracts::Channel,
                options_hash: &str,
                rules_version: &str,
            ) -> Result<Option<serde_json::Value>, $crate::error::StoreError> {
                let q: Option<sqlx::types::Json<serde_json::Value>> = sqlx::query_scalar(sql::SELECT_QUOTE)
                    .bind(model_sha256)
                    .bind($crate::hashing::quote_key(channel, options_hash))
                    .bind(rules_version)
                    .fetch_optional(self.read_pool())
                    .await?;
                Ok(q.map(|j| j.0))
            }

            fn cost_model(&self) -> $crate::cost::CostModel {
                self.shared().model()
            }

            async fn recalibrate(&self) -> Result<$crate::cost::CostModel, $crate::error::StoreError> {
                self.refit().await
            }

            async fn reload_cost_model(&self) -> Result<$crate::cost::CostModel, $crate::error::StoreError> {
                use sqlx::Row;
                use $crate::cost::{CoefficientSource, Coefficients, CostModel, FormatModel};
                let mut model = CostModel::default();
                for r in sqlx::query(sql::SELECT_COEFFICIENTS).fetch_all(self.read_pool()).await? {
                    let format: String = r.try_get("format")?;
                    let samples: i64 = r.try_get("samples")?;
                    model.formats.insert(
                        format,
                        FormatModel {
                            coefficients: Coefficients {
                                fixed_seconds: r.try_get("fixed_seconds")?,
                                per_triangle_seconds: r.try_get("per_triangle_seconds")?,
                            },
                            source: CoefficientSource::Calibrated,
                            samples: u64::try_from(samples).unwrap_or(0),
                            updated_at: r.try_get("updated_at")?,
                        },
                    );
                }
                self.shared().set_model(model.clone());
                Ok(model)
            }

            async fn pending_outbox(
                &self,
                limit: u32,
            ) -> Result<Vec<$crate::outbox::OutboxMessage>, $crate::error::StoreError> {
                let rows = sqlx::query(sql::PENDING_OUTBOX)
                    .bind(i64::from(limit))
                    .fetch_all(self.read_pool())
                    .await?;
                rows.iter().map(outbox_from_row).collect()
            }

            async fn relay_outbox(
                &self,
                limit: u32,
                publisher: &dyn $crate::outbox::OutboxPublisher,
            ) -> Result<$crate::outbox::RelayReport, $crate::error::StoreError> {
                self.relay_outbox_impl(limit, publisher).await
            }

            async fn watch_outbox(
                &self,
                wake: std::sync::Arc<tokio::sync::Notify>,
                stop: tokio_util::sync::CancellationToken,
            ) {
                self.watch_outbox_impl(wake, stop).await
            }

            async fn heartbeat(&self, hb: &$crate::work::Heartbeat) -> Result<(), $crate::error::StoreError> {
                sqlx::query(sql::UPSERT_WORKER)
                    .bind(&hb.worker_id)
                    .bind(rows::lanes_text(&hb.lanes))
                    .bind(hb.current_job)
                    .bind(i32::try_from(hb.slots.max(1)).unwrap_or(i32::MAX))
                    .bind(rows::now())
                    .execute(self.write_pool())
                    .await?;
                self.shared().forget_workers();
                Ok(())
            }

            async fn workers_alive(
                &self,
                within: std::time::Duration,
            ) -> Result<Vec<$crate::work::WorkerInfo>, $crate::error::StoreError> {
                let since = rows::now()
                    - chrono::Duration::from_std(within).unwrap_or_else(|_| chrono::Duration::days(365));
                let rows = sqlx::query(sql::WORKERS_ALIVE).bind(since).fetch_all(self.read_pool()).await?;
                rows.iter().map(worker_from_row).collect()
            }

            fn config(&self) -> &$crate::config::StoreConfig {
                &self.shared().config
            }
        }
    };
}
