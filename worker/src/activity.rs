//! What a worker is doing right now, and the heartbeats that tell operators.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use scheduler::{Heartbeat, JobStore};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The jobs being priced by this process. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    jobs: Arc<Mutex<BTreeMap<Uuid, Instant>>>,
}

/// Removes its job from the activity when dropped (also when the task is aborted).
#[derive(Debug)]
pub struct Busy {
    activity: Activity,
    job: Uuid,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.activity.lock().remove(&self.job);
    }
}

impl Activity {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<Uuid, Instant>> {
        // Inserts and removes only: a panic elsewhere cannot leave the map half-updated.
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn begin(&self, job: Uuid) -> Busy {
        self.lock().insert(job, Instant::now());
        Busy {
            activity: self.clone(),
            job,
        }
    }

    /// Jobs in progress, longest-running first, with how long each has run.
    pub fn in_flight(&self) -> Vec<(Uuid, Duration)> {
        let mut jobs: Vec<(Uuid, Duration)> = self
            .lock()
            .iter()
            .map(|(id, since)| (*id, since.elapsed()))
            .collect();
        jobs.sort_by_key(|job| std::cmp::Reverse(job.1));
        jobs
    }

    /// The job a heartbeat names: the one running longest (the one an operator would ask about).
    pub fn current(&self) -> Option<Uuid> {
        self.in_flight().first().map(|(id, _)| *id)
    }
}

/// Sends a heartbeat now and every `every` until `stop`, then a last one saying "idle".
pub async fn heartbeats(
    store: Arc<dyn JobStore>,
    worker_id: String,
    lanes: Vec<contracts::Lane>,
    slots: u32,
    activity: Activity,
    every: Duration,
    stop: CancellationToken,
) {
    let beat = |current_job| Heartbeat {
        worker_id: worker_id.clone(),
        lanes: lanes.clone(),
        current_job,
        slots,
    };
    loop {
        let hb = beat(activity.current());
        if let Err(error) = store.heartbeat(&hb).await {
            tracing::warn!(%error, worker_id = %hb.worker_id, "heartbeat failed");
        }
        let in_flight = activity.in_flight();
        tracing::debug!(worker_id = %hb.worker_id, jobs = in_flight.len(), ?in_flight, "heartbeat");
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(every) => {}
        }
    }
    if let Err(error) = store.heartbeat(&beat(None)).await {
        tracing::warn!(%error, %worker_id, "last heartbeat failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_guards_track_jobs_longest_first() {
        let activity = Activity::default();
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let first = activity.begin(a);
        std::thread::sleep(Duration::from_millis(5));
        let second = activity.begin(b);
        assert_eq!(activity.current(), Some(a));
        assert_eq!(activity.in_flight().len(), 2);
        drop(first);
        assert_eq!(activity.current(), Some(b));
        drop(second);
        assert_eq!(activity.current(), None);
    }
}
