//! Async clean-up from `Drop`.

use std::future::Future;

/// Runs the future `make` builds to completion on a thread and runtime of its own, and waits for
/// it. `Drop` cannot await and usually runs inside the test's runtime, where blocking on a future
/// would panic; errors are the callee's to ignore (clean-up is best effort).
pub fn on_own_runtime<F, Fut>(make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let _ = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(make());
    })
    .join();
}
