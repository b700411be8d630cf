//! Waiting for something that happens in another task or process.

use std::future::Future;
use std::time::{Duration, Instant};

/// Calls `check` every `every` until it returns `Ok`, and returns that value. Fails the test
/// once `within` has passed, with the last `Err` (what was seen instead).
pub async fn poll<T, F, Fut>(within: Duration, every: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + within;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(seen) => assert!(
                Instant::now() < deadline,
                "timed out after {within:?}: {seen}"
            ),
        }
        tokio::time::sleep(every).await;
    }
}

/// Polls `check` every 20 ms until it holds; fails the test naming `what` after `within`.
pub async fn wait_until<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    poll(within, Duration::from_millis(20), || {
        let done = check();
        async move {
            if done.await {
                Ok(())
            } else {
                Err(format!("waiting for {what}"))
            }
        }
    })
    .await
}
