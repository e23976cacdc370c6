//! A one-way switch that says "stop", usable from threads and from tasks.
//!
//! The signal handler flips it when Ctrl-C or SIGTERM arrives; the accept
//! loops watch it to stop taking connections. A second switch of the same
//! kind tells open connections to close when the grace period runs out.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::sync::watch;

/// A cloneable "stop" switch; every clone sees the same state.
#[derive(Clone)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

struct Inner {
    triggered: Mutex<bool>,
    changed: Condvar,
    async_tx: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A switch that is not yet triggered.
    pub fn new() -> Self {
        Shutdown {
            inner: Arc::new(Inner {
                triggered: Mutex::new(false),
                changed: Condvar::new(),
                async_tx: watch::channel(false).0,
            }),
        }
    }

    /// Flips the switch; waiting threads and tasks wake up.
    pub fn trigger(&self) {
        let mut triggered = self.lock();
        *triggered = true;
        self.inner.changed.notify_all();
        self.inner.async_tx.send_replace(true);
    }

    /// Whether the switch has been flipped.
    pub fn is_triggered(&self) -> bool {
        *self.lock()
    }

    /// Blocks the thread until the switch is flipped.
    pub fn wait_blocking(&self) {
        let mut triggered = self.lock();
        while !*triggered {
            triggered = self
                .inner
                .changed
                .wait(triggered)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Waits asynchronously until the switch is flipped.
    pub async fn wait(&self) {
        let mut rx = self.inner.async_tx.subscribe();
        // The sender lives in `inner`, which we hold, so this cannot fail.
        let _ = rx.wait_for(|triggered| *triggered).await;
    }

    /// Blocks up to `timeout`; returns whether the switch was flipped.
    pub fn wait_blocking_timeout(&self, timeout: Duration) -> bool {
        let triggered = self.lock();
        let (triggered, _) = self
            .inner
            .changed
            .wait_timeout_while(triggered, timeout, |t| !*t)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *triggered
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, bool> {
        // A panic elsewhere cannot leave a bool half-written: keep going.
        self.inner
            .triggered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_wakes_a_blocked_thread() {
        let shutdown = Shutdown::new();
        let waiter = {
            let shutdown = shutdown.clone();
            std::thread::spawn(move || shutdown.wait_blocking())
        };
        assert!(!shutdown.wait_blocking_timeout(Duration::from_millis(20)));
        shutdown.trigger();
        waiter.join().expect("waiter finished");
        assert!(shutdown.is_triggered());
    }

    #[tokio::test]
    async fn trigger_wakes_a_task_even_if_flipped_before_it_waits() {
        let shutdown = Shutdown::new();
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(1), shutdown.wait())
            .await
            .expect("already triggered");
    }
}
