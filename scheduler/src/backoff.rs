//! How long a role holds a delivery that failed for a passing reason (blob storage, the job
//! store) before returning it to its queue: doubling with each attempt, so an outage of a few
//! seconds does not use up a message's few deliveries in a few milliseconds.

use std::time::Duration;

/// The longest pause before a retry.
pub const MAX_RETRY_PAUSE: Duration = Duration::from_secs(60);

/// The pause after attempt number `attempts` (1 for the first) failed: `base`, doubling after
/// each further attempt, at most [`MAX_RETRY_PAUSE`].
pub fn retry_pause(base: Duration, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    base.saturating_mul(1 << doublings).min(MAX_RETRY_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_pauses_double_up_to_a_minute() {
        let base = Duration::from_secs(2);
        let cases = [(0, 2), (1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (40, 60)];
        for (attempts, secs) in cases {
            assert_eq!(
                retry_pause(base, attempts),
                Duration::from_secs(secs),
                "after attempt {attempts}"
            );
        }
        assert_eq!(retry_pause(Duration::ZERO, 3), Duration::ZERO);
    }
}
