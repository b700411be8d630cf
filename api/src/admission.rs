//! The API's admission step of the intake (`scheduler::intake::Admission`): the heavy-job gate
//! (large lane, per tenant) and the key's daily quota, checked after the model is probed and
//! routed and before the job exists. A job refused here, or found to exist already (an
//! idempotent replay), does not count against the quota.

use chrono::Utc;
use contracts::Lane;
use scheduler::intake::{Admission, Admitted, IntakeError};
use scheduler::{NewJob, Routing};
use tokio::sync::OwnedMutexGuard;

use crate::auth::Principal;
use crate::limits::{heavy_admitted, quota_day};
use crate::state::AppState;
use scheduler::accounts::{Quotas, Unit};

pub struct HttpAdmission {
    pub state: AppState,
    pub principal: Principal,
    /// The client sent its own `Idempotency-Key`, so a replay of an accepted job is possible.
    pub explicit_key: bool,
}

/// What an admitted HTTP submission holds until the store answered.
struct Hold {
    /// Large-lane admissions of this replica one at a time, so two cannot both see room.
    _gate: Option<OwnedMutexGuard<()>>,
    unit: Option<(std::sync::Arc<Quotas>, Unit)>,
}

#[async_trait::async_trait]
impl Admitted for Hold {
    async fn settle(self: Box<Self>, created: bool) {
        if let (false, Some((quotas, unit))) = (created, self.unit)
            && let Err(e) = quotas.give_back(unit).await
        {
            // The key is one job short today; it gets it back at midnight.
            tracing::warn!(error = %e, key_id = %unit.key_id, "could not give back a quota unit");
        }
    }
}

#[async_trait::async_trait]
impl Admission for HttpAdmission {
    async fn admit(
        &self,
        job: &NewJob,
        routing: &Routing,
    ) -> Result<Box<dyn Admitted>, IntakeError> {
        let state = &self.state;
        let large = routing.lane == Lane::Large;
        let gate = if large {
            Some(state.heavy_gate.clone().lock_owned().await)
        } else {
            None
        };
        let existing = self.explicit_key
            && state
                .store
                .find_by_idempotency_key(&job.tenant, &job.idempotency_key)
                .await?
                .is_some();
        if large && !existing {
            let active = scheduler::stats::active_heavy_jobs(&state.db, &job.tenant)
                .await
                .map_err(|e| unavailable("heavy-job count", &e))?;
            let limit = state.config.max_heavy_jobs_per_tenant;
            if !heavy_admitted(active, limit) {
                return Err(IntakeError::NotAdmitted {
                    code: "too_many_heavy_jobs",
                    message: format!(
                        "tenant {} already has {active} large jobs in progress (limit {limit})",
                        job.tenant
                    ),
                    retry_after_seconds: state.config.heavy_retry_after.as_secs().max(1),
                });
            }
        }
        let unit = match (self.principal.key_id, self.principal.daily_quota, existing) {
            (Some(id), Some(quota), false) => {
                let (day, wait) = quota_day(Utc::now());
                let taken = state
                    .quotas
                    .take(id, day, quota)
                    .await
                    .map_err(|e| unavailable("quota store", &e))?;
                Some(taken.ok_or_else(|| quota_exceeded(quota, wait))?)
            }
            _ => None,
        };
        Ok(Box::new(Hold {
            _gate: gate,
            unit: unit.map(|u| (state.quotas.clone(), u)),
        }))
    }
}

/// Why a key at its daily quota gets no new job (also checked before its upload is read).
pub fn quota_exceeded(quota: u32, retry_after_seconds: u64) -> IntakeError {
    IntakeError::NotAdmitted {
        code: "quota_exceeded",
        message: format!("this key's daily quota of {quota} jobs is used up"),
        retry_after_seconds,
    }
}

fn unavailable(what: &str, e: &sqlx::Error) -> IntakeError {
    IntakeError::Unavailable(format!("{what}: {e}"))
}
