//! The local time of day that time-server reports.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Local, NaiveTime};
use progjar_protocol::time::Clock;

/// The local clock, converted to a time of day at most once per second.
///
/// Reading the clock is cheap; turning it into local time (time zone rules)
/// is not, and a busy connection asks many times a second. Each connection
/// has its own `LocalClock`, so no lock is needed. The time zone is checked
/// again every second, so a change of offset shows at the next second.
#[derive(Debug, Default)]
pub struct LocalClock {
    /// The Unix second last converted, and its local time of day.
    last: Cell<Option<(u64, NaiveTime)>>,
}

impl Clock for LocalClock {
    fn now(&self) -> NaiveTime {
        let now = SystemTime::now();
        let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if let Some((cached_second, time)) = self.last.get() {
            if cached_second == second {
                return time;
            }
        }
        let time = DateTime::<Local>::from(now).time();
        self.last.set(Some((second, time)));
        time
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    #[test]
    fn local_clock_agrees_with_chronos_local_time() {
        let clock = LocalClock::default();
        for _ in 0..3 {
            let before = Local::now().time();
            let ours = clock.now();
            let after = Local::now().time();
            // Same second as one of the readings around it (midnight aside).
            let seconds = |t: NaiveTime| t.num_seconds_from_midnight();
            assert!(
                [seconds(before), seconds(after)].contains(&seconds(ours)),
                "{before} <= {ours} <= {after}"
            );
            std::thread::sleep(std::time::Duration::from_millis(600));
        }
    }
}
