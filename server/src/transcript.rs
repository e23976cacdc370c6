//! Logging what a connection did, the way the course's examples print it,
//! without letting a flood of requests flood the log.
//!
//! Each request is logged escaped (`received "TIME\r\n"`), with `--show-bytes`
//! also as byte values (`[84, 73, 77, 69, 13, 10]`), each reply as it is
//! sent, and at the end why the connection closed (with how many requests
//! and bytes, when not every request was shown).
//!
//! One by one, that costs about 160 bytes of log per request: a client
//! sending a million requests would write 160 MB. So a connection may have
//! [`BURST`] requests logged one by one at once, and one more for every
//! [`REFILL`] after that: a person typing in telnet sees every request; a
//! program sending thousands sees the first ten, then about one a second,
//! and the others counted in a line every [`SUMMARY_EVERY`] while they come
//! (`... 12,345 more requests (74,070 bytes) within the last 5.0 s, not
//! logged one by one`) and at the close. The first [`ERRORS_SHOWN`] requests beyond
//! that rate that get an `ERROR` reply are logged one by one all the same.
//! Connecting, closing (and why) and the server's own errors are always
//! logged.

use std::time::{Duration, Instant};

use progjar_protocol::escape::escape_preview;
use progjar_protocol::{Action, CloseReason};
use tracing::info;

use crate::options::Protocol;

/// Longest payload shown in a log line; longer ones are cut with their length.
const LOG_PREVIEW: usize = 256;
/// Requests a connection may have logged one by one at once.
pub const BURST: u32 = 10;
/// How long it takes to earn the right to log one more request one by one.
pub const REFILL: Duration = Duration::from_secs(1);
/// How often, while requests come too fast, a line counts those not logged.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(5);
/// Requests with an `ERROR` reply logged one by one even beyond the rate.
pub const ERRORS_SHOWN: u32 = 10;

/// The log of one connection.
pub struct Transcript {
    protocol: Protocol,
    show_bytes: bool,
    /// Whether info lines are written at all (RUST_LOG=warn turns them off).
    logging: bool,
    /// Requests that may be logged one by one now (at most BURST)...
    allowance: u32,
    /// ...and since when the next one is being earned.
    earning_since: Instant,
    /// Error replies still to be logged one by one beyond the rate.
    errors_left: u32,
    /// The request just received and not logged: its reply decides (an
    /// error reply is still logged with it, see ERRORS_SHOWN).
    held: Option<Vec<u8>>,
    /// Whether the replies now being sent answer a request logged one by one.
    replies_shown: bool,
    /// Whether this connection has been told that not every request is logged.
    told: bool,
    /// Requests not logged one by one since the last line that counted them...
    quiet: u64,
    /// ...their bytes...
    quiet_bytes: u64,
    /// ...how many of them got an ERROR reply...
    quiet_errors: u64,
    /// ...and when the first of them came.
    quiet_since: Option<Instant>,
    /// Requests in all, and how many of them were logged one by one.
    requests: u64,
    shown: u64,
    /// Bytes read from and written to the socket.
    bytes_read: u64,
    bytes_written: u64,
}

/// Whether connections' requests and replies are logged (RUST_LOG at info
/// or more for this crate): a session need not report them otherwise.
pub fn enabled() -> bool {
    tracing::enabled!(tracing::Level::INFO)
}

impl Transcript {
    /// A fresh connection's log: a full burst allowed.
    pub fn new(protocol: Protocol, show_bytes: bool) -> Transcript {
        Transcript {
            protocol,
            show_bytes,
            // Escaping a payload for the log costs more than answering it:
            // only do it when the log line will be written.
            logging: enabled(),
            allowance: BURST,
            earning_since: Instant::now(),
            errors_left: ERRORS_SHOWN,
            held: None,
            // A reply that answers no request (none came yet) is logged.
            replies_shown: true,
            told: false,
            quiet: 0,
            quiet_bytes: 0,
            quiet_errors: 0,
            quiet_since: None,
            requests: 0,
            shown: 0,
            bytes_read: 0,
            bytes_written: 0,
        }
    }

    /// Notes `n` bytes read from the client.
    pub fn read(&mut self, n: usize) {
        self.bytes_read += n as u64;
    }

    /// Notes `n` bytes written to the client.
    pub fn wrote(&mut self, n: usize) {
        self.bytes_written += n as u64;
    }

    /// Logs and drains `actions`: requests are logged (or counted), bytes to
    /// send are appended to `outgoing`, and a close, if any, is returned.
    pub fn settle(
        &mut self,
        actions: &mut Vec<Action>,
        outgoing: &mut Vec<u8>,
    ) -> Option<CloseReason> {
        let mut close = None;
        if !self.logging {
            for action in actions.drain(..) {
                match action {
                    Action::Received(_) => self.requests += 1,
                    Action::Send(bytes) => outgoing.extend_from_slice(&bytes),
                    Action::Close(reason) => close = Some(reason),
                }
            }
            return close;
        }
        // One reading of the clock per batch: a read brings up to hundreds
        // of pipelined requests.
        let now = Instant::now();
        self.earn(now);
        for action in actions.drain(..) {
            match action {
                Action::Received(bytes) => self.received(bytes, now),
                Action::Send(bytes) => {
                    self.sent(&bytes);
                    outgoing.extend_from_slice(&bytes);
                }
                Action::Close(reason) => close = Some(reason),
            }
        }
        self.count_held();
        if self
            .quiet_since
            .is_some_and(|since| now.duration_since(since) >= SUMMARY_EVERY)
        {
            self.summarize(now);
        }
        close
    }

    /// Counts the requests not counted yet, then logs why the connection
    /// closed, and what it did if not every request was shown.
    pub fn closed(&mut self, reason: &CloseReason) {
        if !self.logging {
            return;
        }
        self.count_held();
        self.summarize(Instant::now());
        // When every request was shown, the log has said it all already.
        if self.requests == self.shown {
            info!("connection closed: {reason}");
            return;
        }
        info!(
            "connection closed: {reason}; {} ({} of them only counted), {} bytes read, {} sent",
            self.protocol.count(self.requests),
            thousands(self.requests - self.shown),
            thousands(self.bytes_read),
            thousands(self.bytes_written),
        );
    }

    /// Earns one request logged one by one per REFILL, up to BURST.
    fn earn(&mut self, now: Instant) {
        if self.allowance >= BURST {
            self.earning_since = now;
            return;
        }
        let earned = now.duration_since(self.earning_since).as_nanos() / REFILL.as_nanos();
        let earned = u32::try_from(earned).unwrap_or(u32::MAX).min(BURST);
        self.allowance = (self.allowance + earned).min(BURST);
        self.earning_since = if self.allowance >= BURST {
            now
        } else {
            self.earning_since + REFILL * earned
        };
    }

    fn received(&mut self, bytes: Vec<u8>, now: Instant) {
        self.count_held();
        self.requests += 1;
        if self.allowance > 0 {
            self.allowance -= 1;
            self.show("received", &bytes, self.show_bytes);
            self.shown += 1;
            self.replies_shown = true;
        } else {
            self.held = Some(bytes);
            self.replies_shown = false;
            self.quiet_since.get_or_insert(now);
        }
    }

    fn sent(&mut self, bytes: &[u8]) {
        if let Some(request) = self.held.take() {
            let error = self.protocol.error_replies && bytes.starts_with(b"ERROR");
            if error && self.errors_left > 0 {
                self.errors_left -= 1;
                self.show("received", &request, self.show_bytes);
                self.shown += 1;
                self.replies_shown = true;
            } else {
                self.count_quiet(&request, error);
            }
        }
        if self.replies_shown {
            self.show("sent", bytes, false);
        }
    }

    /// Counts the request held back, if its reply did not come with it.
    fn count_held(&mut self) {
        if let Some(request) = self.held.take() {
            self.count_quiet(&request, false);
        }
    }

    fn count_quiet(&mut self, request: &[u8], error: bool) {
        self.quiet += 1;
        self.quiet_bytes += request.len() as u64;
        self.quiet_errors += u64::from(error);
        if self.told {
            return;
        }
        self.told = true;
        let errors = if self.protocol.error_replies {
            format!(", except the first {ERRORS_SHOWN} that get an ERROR reply, which are shown")
        } else {
            String::new()
        };
        info!(
            "{units} come faster than the log shows them one by one ({BURST} at once, then \
             one a second): the others are counted, in a line every {every} s while they come \
             and at the close{errors}",
            units = self.protocol.units,
            every = SUMMARY_EVERY.as_secs(),
        );
    }

    /// Logs how many requests were not logged one by one since the last such line.
    fn summarize(&mut self, now: Instant) {
        let Some(since) = self.quiet_since.take() else {
            return;
        };
        let (quiet, bytes, errors) = (self.quiet, self.quiet_bytes, self.quiet_errors);
        (self.quiet, self.quiet_bytes, self.quiet_errors) = (0, 0, 0);
        if quiet == 0 {
            return;
        }
        let errors = match errors {
            0 => String::new(),
            n => format!(", {} of them with an ERROR reply", thousands(n)),
        };
        info!(
            "... {} more {} ({} bytes) within the last {}, not logged one by one{errors}",
            thousands(quiet),
            if quiet == 1 {
                self.protocol.unit
            } else {
                self.protocol.units
            },
            thousands(bytes),
            span(now.duration_since(since)),
        );
    }

    fn show(&self, verb: &str, bytes: &[u8], show_bytes: bool) {
        let text = format!("\"{}\"", escape_preview(bytes, LOG_PREVIEW));
        if show_bytes && bytes.len() <= LOG_PREVIEW {
            info!("{verb} {text} {bytes:?}");
        } else {
            info!("{verb} {text}");
        }
    }
}

/// A span of time for "within the last ...": milliseconds, rounded up,
/// under a second; seconds to a tenth, rounded up, from there.
fn span(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_micros().div_ceil(1000).max(1))
    } else {
        format!("{:.1} s", d.as_micros().div_ceil(100_000) as f64 / 10.0)
    }
}

/// `12345678` as `12,345,678`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_rounded_up_so_that_within_is_true() {
        for (d, text) in [
            (Duration::ZERO, "1 ms"),
            (Duration::from_micros(300), "1 ms"),
            (Duration::from_micros(2_001), "3 ms"),
            (Duration::from_millis(999), "999 ms"),
            (Duration::from_millis(1_000), "1.0 s"),
            (Duration::from_millis(5_001), "5.1 s"),
            (Duration::from_micros(5_000_001), "5.1 s"),
        ] {
            assert_eq!(span(d), text, "{d:?}");
        }
    }

    #[test]
    fn thousands_are_separated_by_commas() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (12_345, "12,345"),
            (1_234_567, "1,234,567"),
            (u64::MAX, "18,446,744,073,709,551,615"),
        ] {
            assert_eq!(thousands(n), text);
        }
    }
}
