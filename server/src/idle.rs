//! The idle timeout of one async connection: one timer, pushed back lazily.
//!
//! The obvious way, `timeout(idle, read)` around every read, arms a new timer
//! for each read: inserting into and removing from tokio's timer wheel for a
//! batch of 64 pipelined requests cost more than answering them. Here a
//! connection owns one timer. A read or write that makes progress only notes
//! the time ([`IdleTimer::progress`]); when the timer fires, it checks whether
//! the connection really was quiet that long, and if not, sets itself for
//! the new deadline and sleeps on. A busy connection touches the timer wheel
//! about once per timeout, not once per read.

use std::pin::Pin;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// How long a connection may go without progress, and when it last made some.
pub struct IdleTimer {
    limit: Duration,
    last_progress: Instant,
    sleep: Pin<Box<Sleep>>,
}

impl IdleTimer {
    /// A timer that expires after `limit` without progress, counted from now.
    pub fn new(limit: Duration) -> Self {
        IdleTimer {
            limit,
            last_progress: Instant::now(),
            sleep: Box::pin(tokio::time::sleep(limit)),
        }
    }

    /// Notes that the connection made progress just now.
    pub fn progress(&mut self) {
        self.last_progress = Instant::now();
    }

    /// Completes once `limit` has passed since the last progress.
    ///
    /// Cancel-safe: dropped and called again, it goes on waiting for the same
    /// deadline, so it can sit in a `select!` beside a read or a write.
    pub async fn expired(&mut self) {
        loop {
            self.sleep.as_mut().await;
            let deadline = self.last_progress + self.limit;
            if Instant::now() >= deadline {
                return;
            }
            // Progress since the timer was set: sleep until the new deadline.
            self.sleep.as_mut().reset(deadline);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tokio's clock is paused in these tests and jumps ahead whenever every
    // task waits, so the instants below are exact, not "about".

    const LIMIT: Duration = Duration::from_millis(100);

    #[tokio::test(start_paused = true)]
    async fn expires_exactly_one_limit_after_the_start_without_progress() {
        let started = Instant::now();
        let mut timer = IdleTimer::new(LIMIT);
        timer.expired().await;
        assert_eq!(started.elapsed(), LIMIT);
    }

    #[tokio::test(start_paused = true)]
    async fn progress_pushes_the_deadline_back_to_one_limit_after_it() {
        let started = Instant::now();
        let mut timer = IdleTimer::new(LIMIT);
        // Progress every 40 ms, ten times: four times the limit in all.
        for _ in 0..10 {
            let waited = tokio::time::timeout(Duration::from_millis(40), timer.expired()).await;
            assert!(
                waited.is_err(),
                "expired at {:?} despite progress",
                started.elapsed()
            );
            timer.progress();
        }
        let last_progress = Instant::now();
        timer.expired().await;
        assert_eq!(last_progress.elapsed(), LIMIT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_wait_does_not_move_the_deadline() {
        let started = Instant::now();
        let mut timer = IdleTimer::new(LIMIT);
        for _ in 0..3 {
            let _ = tokio::time::timeout(Duration::from_millis(20), timer.expired()).await;
        }
        timer.expired().await;
        assert_eq!(started.elapsed(), LIMIT);
    }
}
