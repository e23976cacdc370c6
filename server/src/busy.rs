//! Telling a client the server is busy, when it cannot take the connection
//! on: no thread can be started for it, or no file descriptor is left.
//!
//! A server out of file descriptors cannot even accept a connection: accept()
//! fails with EMFILE at once, every time, and the client waits in the
//! backlog without a word. So the accept thread keeps one descriptor spare
//! ([`Spare`], /dev/null): when accept() fails for want of one, it lets the
//! spare go, accepts the waiting client with it, answers it (the time
//! server: `ERROR busy`), closes it, and takes the spare back.

use std::fmt::Display;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use progjar_protocol::escape::quoted;
use tracing::warn;

use crate::options::Protocol;

/// How long the accept loop waits after a failed accept() before it tries
/// again: a failure that repeats at once (EMFILE does) must not make it spin.
pub const BACK_OFF: Duration = Duration::from_millis(50);
/// At most one warning about failed accepts per this long; the ones in
/// between are counted in the next.
pub const WARN_EVERY: Duration = Duration::from_secs(5);

/// Answers a connection the server cannot serve with the protocol's busy
/// reply (none for echo) and closes it, without waiting for the client.
pub fn answer_busy(stream: TcpStream, peer: SocketAddr, protocol: &Protocol, why: &str) {
    let _ = stream.set_nonblocking(true);
    // Read and drop what the client sent already (without waiting), so that
    // closing sends a FIN after the reply, not a reset.
    let mut scratch = [0u8; 1024];
    for _ in 0..64 {
        match (&stream).read(&mut scratch) {
            Ok(n) if n > 0 => continue,
            _ => break,
        }
    }
    let reply = protocol.busy_reply;
    let answered = !reply.is_empty() && (&stream).write_all(reply).is_ok();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    drop(stream);
    if answered {
        warn!(
            "connection from {peer} answered {} and closed: {why}",
            quoted(reply)
        );
    } else if reply.is_empty() {
        warn!("connection from {peer} closed at once with nothing sent: {why}");
    } else {
        warn!(
            "connection from {peer} closed: {why}; {} could not be sent",
            quoted(reply)
        );
    }
}

/// Why a connection gets the busy reply when descriptors run out.
pub fn no_descriptor_left() -> String {
    match crate::limits::open_files_limit() {
        Some(limit) => format!("no file descriptor left (open files limit {limit}, ulimit -n)"),
        None => "no file descriptor left".into(),
    }
}

/// One file descriptor kept spare, to accept a client with when none is left.
pub struct Spare(Option<File>);

impl Spare {
    /// Opens the spare (if /dev/null cannot be opened there is none).
    pub fn open() -> Spare {
        Spare(File::open("/dev/null").ok())
    }

    /// Closes the spare, freeing its descriptor; false if there was none.
    pub fn release(&mut self) -> bool {
        self.0.take().is_some()
    }

    /// Opens the spare again if it is not held; true if it is held now.
    pub fn restore(&mut self) -> bool {
        if self.0.is_none() {
            self.0 = File::open("/dev/null").ok();
        }
        self.0.is_some()
    }
}

/// Warnings about failed accepts, which can fail thousands of times a
/// second: the first is logged at once, then at most one per [`WARN_EVERY`],
/// counting the failures in between.
#[derive(Default)]
pub struct AcceptWarnings {
    last: Option<Instant>,
    unreported: u64,
}

impl AcceptWarnings {
    /// Logs `message`, or counts it when a warning was logged less than
    /// [`WARN_EVERY`] ago.
    pub fn warn(&mut self, message: impl Display) {
        let now = Instant::now();
        if let Some(last) = self.last {
            if now.duration_since(last) < WARN_EVERY {
                self.unreported += 1;
                return;
            }
        }
        match std::mem::take(&mut self.unreported) {
            0 => warn!("{message}"),
            n => warn!(
                "{message} (and {} more failed accepts since the last such warning)",
                crate::transcript::thousands(n)
            ),
        }
        self.last = Some(now);
    }
}
