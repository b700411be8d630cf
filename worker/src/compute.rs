//! Thread pools for pricing runs: each run in progress has a rayon pool of its own.
//!
//! pricing-core parallelises with rayon. On the one global pool, a large model's chunks are
//! queued ahead of a small model's, and pool threads finish their own queued chunks before they
//! take injected work: the small job waits for the large one, which breaks the promise of the
//! lanes (a small job never waits behind a large one taken by the same process). Seen in the
//! poison-model test: a 2,304-triangle torus timed out three times behind a 300k-triangle ring.
//! With a pool per run, each job has its own threads and the OS shares the cores between them,
//! so concurrent jobs progress side by side. The `pricing` roles give each run the CPUs shared
//! among the slots (`worker::config::default_threads_per_job`): had a lone job every core, it
//! would run up to twice as fast alone as beside another, and no promise could say which.
//!
//! Pools are kept for reuse when a run ends, so a worker holds at most as many as it ever ran
//! at once: its slots, plus abandoned runs still finishing (they stop at their next check).
//! Results do not depend on the pool: pricing-core's reductions are chunked in a fixed order.

use std::sync::Mutex;

use rayon::{ThreadPool, ThreadPoolBuilder};

/// Pools for pricing runs, `threads` threads each.
#[derive(Debug)]
pub struct ComputePools {
    threads: usize,
    idle: Mutex<Vec<ThreadPool>>,
}

impl ComputePools {
    /// Pools of `threads` threads each (at least one).
    pub fn new(threads: usize) -> Self {
        ComputePools {
            threads: threads.max(1),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// As many threads per pool as this process may use CPUs.
    pub fn per_cpu() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// Runs `op` on a pool no other run is using; rayon calls inside `op` stay in that pool.
    /// If no pool can be built (threads exhausted), `op` runs on the calling thread with the
    /// global pool: slower under contention, never a lost job.
    pub fn run<R: Send>(&self, op: impl FnOnce() -> R + Send) -> R {
        let Some(pool) = self.take() else {
            return op();
        };
        let out = pool.install(op);
        self.give_back(pool);
        out
    }

    /// Idle pools kept for the next runs.
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }

    fn take(&self) -> Option<ThreadPool> {
        if let Some(pool) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Some(pool);
        }
        ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .thread_name(|i| format!("pricing-{i}"))
            .build()
            .inspect_err(|error| {
                tracing::warn!(%error, "no thread pool for this run; using the shared one");
            })
            .ok()
    }

    fn give_back(&self, pool: ThreadPool) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(pool);
        }
    }
}

impl Default for ComputePools {
    fn default() -> Self {
        Self::per_cpu()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    use rayon::prelude::*;

    #[test]
    fn a_run_gets_a_pool_of_its_own_and_returns_it() {
        let pools = ComputePools::new(2);
        assert_eq!(pools.run(rayon::current_num_threads), 2);
        assert_eq!(pools.idle(), 1);
        pools.run(|| ());
        assert_eq!(pools.idle(), 1, "the idle pool is reused");
    }

    /// The failure this module exists for: a parallel run started while another keeps every
    /// thread of its pool busy still finishes. On one shared pool it would wait for the release,
    /// which comes only after the answer (or 30 s without one, then the test fails).
    #[test]
    fn a_run_does_not_wait_for_another_runs_threads() {
        let pools = ComputePools::new(2);
        let released = AtomicBool::new(false);
        let busy = AtomicUsize::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                pools.run(|| {
                    rayon::broadcast(|_| {
                        busy.fetch_add(1, Ordering::SeqCst);
                        while !released.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    })
                })
            });
            while busy.load(Ordering::SeqCst) < 2 {
                std::thread::sleep(Duration::from_millis(1));
            }
            let (tx, rx) = mpsc::channel();
            let pools = &pools;
            s.spawn(move || tx.send(pools.run(|| (0..10_000u64).into_par_iter().sum::<u64>())));
            let got = rx.recv_timeout(Duration::from_secs(30));
            released.store(true, Ordering::SeqCst);
            assert_eq!(got, Ok(49_995_000));
        });
        assert_eq!(pools.idle(), 2);
    }
}
