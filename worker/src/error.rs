//! Errors that end a role. Failures of single jobs or messages never do: they are settled on the
//! message (retry, dead letter) and recorded on the job.

/// Why `run_worker` (or the relay beside it) stopped without being asked to.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Declaring the topology or subscribing failed at start-up.
    #[error("broker: {0}")]
    Broker(#[from] messaging::MessagingError),
    /// Every subscription ended (the in-process broker was dropped or its queues deleted).
    #[error("the broker closed every subscription of this worker")]
    SubscriptionsEnded,
    /// A scheduler loop run beside the worker (its outbox relay) stopped.
    #[error("scheduler loop: {0}")]
    SchedulerLoop(#[from] scheduler::roles::RoleError),
}
