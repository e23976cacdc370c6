//! The Tugas 1 echo client: send, read the echo in small pieces, check it.
//!
//! By default it behaves like the course's `client.py` on the wire
//! ([`EchoMode::Lockstep`]): for each round it sends the payload, reads until
//! that round's whole echo is back (checked byte for byte), waits the
//! interval, and only then sends the next round; after the last echo it
//! closes the connection (one full close, no early half-close).
//!
//! The course's client sends everything and only then reads. With a large
//! file that deadlocks: the server blocks writing the echo because nobody
//! reads it, so it stops reading, so the client blocks writing. Here a second
//! thread writes the round's payload while the main thread reads, so any size
//! works, and the next round still waits for the previous echo.
//!
//! [`EchoMode::Stream`] keeps the older behaviour: a thread sends every round
//! on the interval's timer while the main thread reads, and half-closes
//! (`shutdown(Write)`) right after the last send; the echo is read until the
//! server closes.
//!
//! Every wait has a deadline that bytes trickling in cannot postpone: in
//! lockstep, a round's whole echo must be back `read_timeout` after its send
//! began (its sending must be done by then too); with `--stream`, the whole
//! echo and the close `read_timeout` after the last send was due (the start
//! plus `(repeat - 1) x interval`). Each read and write is given only the
//! time left. Memory: one read buffer (`chunk`) besides the payload.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use progjar_protocol::echo::{EchoMismatch, EchoVerifier};
use progjar_protocol::escape::{escape_preview, quoted};
use tracing::{debug, info};

use crate::connect::{connect_blocking, target, ConnectError};
pub use crate::results::EchoMode;
use crate::results::EchoResult;

/// Above this many bytes in all, pieces are logged at debug level only.
const LOG_EVERY_PIECE_UP_TO: u64 = 64 * 1024;

/// What to send and how to read it back.
#[derive(Debug, Clone)]
pub struct EchoPlan {
    /// Server name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// The bytes to send (a message or a file's contents).
    pub payload: Vec<u8>,
    /// How many times to send them on this connection.
    pub repeat: u64,
    /// Pause between two sends (lockstep: after the previous echo is back).
    pub interval: Duration,
    /// Bytes read at a time.
    pub chunk: usize,
    /// Give up connecting after this long.
    pub connect_timeout: Duration,
    /// A round's echo must be back this long after its send began (with
    /// `Stream`: after the last send was due): a deadline, not an idle timeout.
    pub read_timeout: Duration,
    /// One round at a time, or all rounds on a timer.
    pub mode: EchoMode,
    /// A pause after every piece read: a slow reader, whose receive
    /// window fills (TCP flow control).
    pub read_pause: Duration,
    /// The socket's receive buffer (SO_RCVBUF), when set: a small one fills
    /// sooner. The kernel doubles it for its bookkeeping.
    pub receive_buffer: Option<usize>,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum EchoError {
    /// Could not connect.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The echo was not what was sent.
    #[error(transparent)]
    Mismatch(#[from] EchoMismatch),
    /// The echo was not all back by the deadline.
    #[error("{received} of {expected} bytes of the echo came back within {secs:.1} s{since}, the deadline (a slow or busy server? raise --timeout)")]
    Timeout {
        /// Bytes of the echo received (all correct) by then.
        received: u64,
        /// Bytes of the echo due by then.
        expected: u64,
        /// The time allowed.
        secs: f64,
        /// From when it was counted.
        since: &'static str,
    },
    /// The whole echo came back, but no close by the deadline (`--stream`).
    #[error("the whole echo ({received} bytes) came back, but the server did not close the connection within {secs:.1} s{since}, the deadline")]
    NoClose {
        /// Bytes of the echo received.
        received: u64,
        /// The time allowed.
        secs: f64,
        /// From when it was counted.
        since: &'static str,
    },
    /// The server did not take all the data by the deadline.
    #[error("the server took only {sent} of {expected} bytes within {secs:.1} s{since}, the deadline: it is not reading, or reading slowly (busy with another client? raise --timeout)")]
    SendTimeout {
        /// Bytes sent by then.
        sent: u64,
        /// Bytes to send by then.
        expected: u64,
        /// The time allowed.
        secs: f64,
        /// From when it was counted.
        since: &'static str,
    },
    /// A socket error.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing.
        what: &'static str,
        /// What the kernel said.
        source: std::io::Error,
    },
}

/// What the sending side did; shared between the threads.
#[derive(Default)]
struct Sent {
    bytes: AtomicU64,
    rounds: AtomicU64,
    half_closed: AtomicBool,
    /// The sending side failed first and shut the socket down to wake the reader.
    gave_up: AtomicBool,
}

/// What the reading side saw.
struct Received {
    verifier: EchoVerifier,
    /// Bytes read, including any beyond what was expected.
    bytes: u64,
    pieces: u64,
    buf: Vec<u8>,
    log_each: bool,
    /// The pause after each piece.
    pause: Duration,
}

/// Sends the payload `repeat` times, reads the echo, and checks it. Never
/// fails: what went wrong is the result's `error`.
pub fn run(plan: &EchoPlan) -> EchoResult {
    let sent = Sent::default();
    let total = plan.payload.len() as u64 * plan.repeat;
    let mut received = Received {
        verifier: EchoVerifier::new(plan.payload.clone(), plan.repeat),
        bytes: 0,
        pieces: 0,
        buf: vec![0u8; plan.chunk.max(1)],
        log_each: total <= LOG_EVERY_PIECE_UP_TO,
        pause: plan.read_pause,
    };
    let mut local = None;
    let outcome = connect_and_exchange(plan, &sent, &mut received, &mut local);
    let rounds_sent = sent.rounds.load(Ordering::SeqCst);
    let echo_ok = outcome.is_ok();
    if echo_ok {
        info!(
            "echo complete: {} bytes in {} pieces, identical to what was sent",
            received.verifier.received(),
            received.pieces
        );
    }
    EchoResult {
        server: target(&plan.host, plan.port),
        local,
        mode: plan.mode,
        rounds_planned: plan.repeat,
        rounds_sent,
        bytes_sent: sent.bytes.load(Ordering::SeqCst),
        bytes_received: received.bytes,
        pieces: received.pieces,
        chunk: plan.chunk.max(1),
        payload_bytes: plan.payload.len() as u64,
        identical: echo_ok && rounds_sent == plan.repeat,
        half_closed: sent.half_closed.load(Ordering::SeqCst),
        error: outcome.err().map(|e| e.to_string()),
    }
}

fn connect_and_exchange(
    plan: &EchoPlan,
    sent: &Sent,
    received: &mut Received,
    local: &mut Option<String>,
) -> Result<(), EchoError> {
    let stream = connect_blocking(&plan.host, plan.port, plan.connect_timeout)?;
    if let Some(bytes) = plan.receive_buffer {
        socket2::SockRef::from(&stream)
            .set_recv_buffer_size(bytes)
            .map_err(|source| EchoError::Io {
                what: "setting the receive buffer",
                source,
            })?;
    }
    if let (Ok(peer), Ok(me)) = (stream.peer_addr(), stream.local_addr()) {
        info!("connected to {peer} from {me}");
        *local = Some(me.to_string());
    }
    if !received.log_each {
        info!(
            "{} bytes to echo: each piece is logged only with RUST_LOG=debug",
            plan.payload.len() as u64 * plan.repeat
        );
    }
    match plan.mode {
        EchoMode::Lockstep => lockstep(&stream, plan, sent, received),
        EchoMode::Stream => stream_mode(&stream, plan, sent, received),
    }
    // Dropping the stream closes it: FIN, after the whole echo in lockstep.
}

/// A deadline, and how to say it in an error.
#[derive(Clone, Copy)]
struct Deadline {
    at: Instant,
    /// The time allowed.
    secs: f64,
    /// From when it is counted, for messages: ` of the round's send`.
    since: &'static str,
}

impl Deadline {
    /// The time left, or `None` once it has passed.
    fn left(&self) -> Option<Duration> {
        let left = self.at.saturating_duration_since(Instant::now());
        // A socket timeout of zero would mean "none": wait at least 1 ms.
        (!left.is_zero()).then(|| left.max(Duration::from_millis(1)))
    }
}

/// One round at a time: send it (on a second thread), read its whole echo,
/// wait, next round; then check nothing more has arrived, and close.
fn lockstep(
    stream: &TcpStream,
    plan: &EchoPlan,
    sent: &Sent,
    received: &mut Received,
) -> Result<(), EchoError> {
    let len = plan.payload.len() as u64;
    for round in 0..plan.repeat {
        if round > 0 && !plan.interval.is_zero() {
            std::thread::sleep(plan.interval);
        }
        let round_end = len * (round + 1);
        let deadline = Deadline {
            at: Instant::now() + plan.read_timeout,
            secs: plan.read_timeout.as_secs_f64(),
            since: if plan.repeat > 1 {
                " of the round's send"
            } else {
                " of the send"
            },
        };
        exchange(
            stream,
            sent,
            received,
            |stream| {
                // Logged before the write: the echo may arrive before it returns.
                log_send(&plan.payload);
                write_counted(stream, &plan.payload, round_end, sent, deadline)?;
                sent.rounds.fetch_add(1, Ordering::SeqCst);
                Ok(())
            },
            |stream, received| read_until(stream, received, round_end, sent, deadline),
        )?;
    }
    extra_already_here(stream, received, len * plan.repeat)
}

/// All rounds on a timer while reading; half-close after the last send.
fn stream_mode(
    stream: &TcpStream,
    plan: &EchoPlan,
    sent: &Sent,
    received: &mut Received,
) -> Result<(), EchoError> {
    let len = plan.payload.len() as u64;
    let last_send_due = plan
        .interval
        .saturating_mul(u32::try_from(plan.repeat.saturating_sub(1)).unwrap_or(u32::MAX));
    let window = last_send_due.saturating_add(plan.read_timeout);
    let deadline = Deadline {
        // A window too long for the clock: a year, far beyond any real run.
        at: Instant::now()
            .checked_add(window)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365)),
        secs: window.as_secs_f64(),
        since: " of the first send",
    };
    exchange(
        stream,
        sent,
        received,
        |stream| {
            for round in 0..plan.repeat {
                if round > 0 && !plan.interval.is_zero() {
                    std::thread::sleep(plan.interval);
                }
                log_send(&plan.payload);
                write_counted(stream, &plan.payload, len * (round + 1), sent, deadline)?;
                sent.rounds.fetch_add(1, Ordering::SeqCst);
            }
            // FIN: tells the server we are done, so it closes after the last echo.
            stream
                .shutdown(Shutdown::Write)
                .map_err(|source| EchoError::Io {
                    what: "half-closing (shutdown(SHUT_WR))",
                    source,
                })?;
            sent.half_closed.store(true, Ordering::SeqCst);
            Ok(())
        },
        |stream, received| read_to_end(stream, received, len * plan.repeat, deadline),
    )
}

/// Runs `send` on a second thread while `read` runs on this one. When one
/// side fails it shuts the socket down so the other cannot stay blocked.
/// The error reported is the one that came first: a mismatch always wins,
/// a failed send wins over the read failure it caused.
fn exchange(
    stream: &TcpStream,
    sent: &Sent,
    received: &mut Received,
    send: impl FnOnce(&TcpStream) -> Result<(), EchoError> + Send,
    read: impl FnOnce(&TcpStream, &mut Received) -> Result<(), EchoError>,
) -> Result<(), EchoError> {
    std::thread::scope(|scope| {
        let sender = std::thread::Builder::new()
            .name("sender".into())
            .spawn_scoped(scope, || {
                let result = send(stream);
                if result.is_err() {
                    sent.gave_up.store(true, Ordering::SeqCst);
                    let _ = stream.shutdown(Shutdown::Both);
                }
                result
            })
            .map_err(|source| EchoError::Io {
                what: "starting the sender thread",
                source,
            })?;
        let read_result = read(stream, received);
        if read_result.is_err() {
            // Unblock the sender if it is stuck writing, so it can end.
            let _ = stream.shutdown(Shutdown::Both);
        }
        let send_result = sender.join().unwrap_or_else(|_| {
            Err(EchoError::Io {
                what: "sending",
                source: std::io::Error::other("the sender thread panicked"),
            })
        });
        match (read_result, send_result) {
            (Err(e @ EchoError::Mismatch(EchoMismatch::Different { .. })), _) => Err(e),
            (Err(read_error), Err(send_error)) => {
                if sent.gave_up.load(Ordering::SeqCst) {
                    Err(send_error)
                } else {
                    Err(read_error)
                }
            }
            (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
            (Ok(()), Ok(())) => Ok(()),
        }
    })
}

/// Writes all of `payload` by `deadline`, counting every byte the kernel
/// takes; `end` is the bytes sent in all once it is done.
fn write_counted(
    mut stream: &TcpStream,
    payload: &[u8],
    end: u64,
    sent: &Sent,
    deadline: Deadline,
) -> Result<(), EchoError> {
    let timed_out = || EchoError::SendTimeout {
        sent: sent.bytes.load(Ordering::SeqCst),
        expected: end,
        secs: deadline.secs,
        since: deadline.since,
    };
    let mut rest = payload;
    while !rest.is_empty() {
        // The time left, not a fresh timeout: a server that takes a byte
        // now and then cannot postpone the deadline.
        let left = deadline.left().ok_or_else(timed_out)?;
        stream
            .set_write_timeout(Some(left))
            .map_err(|source| EchoError::Io {
                what: "setting the write timeout",
                source,
            })?;
        match stream.write(rest) {
            Ok(0) => {
                return Err(EchoError::Io {
                    what: "sending",
                    source: ErrorKind::WriteZero.into(),
                })
            }
            Ok(n) => {
                sent.bytes.fetch_add(n as u64, Ordering::SeqCst);
                rest = &rest[n..];
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // The write timeout ran out: the loop finds the deadline passed.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(source) => {
                return Err(EchoError::Io {
                    what: "sending",
                    source,
                })
            }
        }
    }
    Ok(())
}

/// One read of up to `chunk` bytes by `deadline`: `Ok(0)` is the server's
/// close; `expected` is the echo due by then, for the error.
fn read_piece(
    mut stream: &TcpStream,
    received: &mut Received,
    expected: u64,
    deadline: Deadline,
) -> Result<usize, EchoError> {
    loop {
        // The time left, not a fresh timeout: bytes trickling in cannot
        // postpone the deadline.
        let Some(left) = deadline.left() else {
            let got = received.verifier.received();
            return Err(if got >= expected {
                EchoError::NoClose {
                    received: got,
                    secs: deadline.secs,
                    since: deadline.since,
                }
            } else {
                EchoError::Timeout {
                    received: got,
                    expected,
                    secs: deadline.secs,
                    since: deadline.since,
                }
            });
        };
        stream
            .set_read_timeout(Some(left))
            .map_err(|source| EchoError::Io {
                what: "setting the read timeout",
                source,
            })?;
        match stream.read(&mut received.buf) {
            Ok(0) => return Ok(0),
            Ok(n) => {
                received.pieces += 1;
                received.bytes += n as u64;
                let piece = &received.buf[..n];
                if received.log_each {
                    info!("received {}", quoted(piece));
                } else {
                    debug!("received {}", quoted(piece));
                }
                if !received.pause.is_zero() {
                    // A slow reader: the bytes wait in the receive buffer.
                    std::thread::sleep(received.pause);
                }
                return Ok(n);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // The read timeout ran out: the loop finds the deadline passed.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(source) => {
                return Err(EchoError::Io {
                    what: "receiving",
                    source,
                })
            }
        }
    }
}

/// Reads until the echo reaches `end` bytes in all; anything beyond is an error.
fn read_until(
    stream: &TcpStream,
    received: &mut Received,
    end: u64,
    sent: &Sent,
    deadline: Deadline,
) -> Result<(), EchoError> {
    while received.verifier.received() < end {
        let n = read_piece(stream, received, end, deadline)?;
        if n == 0 {
            return Err(EchoMismatch::TooShort {
                sent: sent.bytes.load(Ordering::SeqCst),
                received: received.verifier.received(),
            }
            .into());
        }
        let wanted = usize::try_from(end - received.verifier.received()).unwrap_or(usize::MAX);
        let (echo, extra) = received.buf[..n].split_at(n.min(wanted));
        let extra = !extra.is_empty();
        received.verifier.check(echo)?;
        if extra {
            return Err(EchoMismatch::TooLong { sent: end }.into());
        }
    }
    Ok(())
}

/// Reads until the server closes; the echo must be complete by then.
fn read_to_end(
    stream: &TcpStream,
    received: &mut Received,
    total: u64,
    deadline: Deadline,
) -> Result<(), EchoError> {
    loop {
        let n = read_piece(stream, received, total, deadline)?;
        if n == 0 {
            return Ok(received.verifier.finish()?);
        }
        let Received { verifier, buf, .. } = received;
        verifier.check(&buf[..n])?;
    }
}

/// After the last echo, without waiting: bytes already received beyond it
/// are an error (the course's client would never read them).
fn extra_already_here(
    mut stream: &TcpStream,
    received: &mut Received,
    total: u64,
) -> Result<(), EchoError> {
    if stream.set_nonblocking(true).is_err() {
        return Ok(());
    }
    let mut byte = [0u8; 1];
    let extra = loop {
        match stream.read(&mut byte) {
            Ok(n) => break n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break 0,
        }
    };
    let _ = stream.set_nonblocking(false);
    if extra > 0 {
        received.bytes += extra as u64;
        received.pieces += 1;
        debug!("received {} after the whole echo", quoted(&byte));
        return Err(EchoMismatch::TooLong { sent: total }.into());
    }
    Ok(())
}

fn log_send(payload: &[u8]) {
    info!(
        "sending {} ({} bytes)",
        quoted_preview(payload),
        payload.len()
    );
}

fn quoted_preview(bytes: &[u8]) -> String {
    if bytes.len() <= 80 {
        quoted(bytes)
    } else {
        format!("\"{}\"", escape_preview(bytes, 80))
    }
}
