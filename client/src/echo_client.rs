//! The Tugas 1 echo client: send, read the echo in small pieces, check it.
//!
//! The course's client sends everything and only then reads. With a large
//! file that deadlocks: the server blocks writing the echo because nobody
//! reads it, so it stops reading, so the client blocks writing. Here a second
//! thread sends while the main thread reads, so any size works.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use progjar_protocol::echo::{EchoMismatch, EchoVerifier};
use progjar_protocol::escape::{escape_preview, quoted};
use tracing::{debug, info};

use crate::connect::{connect_blocking, ConnectError};

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
    /// Pause between two sends.
    pub interval: Duration,
    /// Bytes read at a time.
    pub chunk: usize,
    /// Give up connecting after this long.
    pub connect_timeout: Duration,
    /// Give up when nothing arrives for this long.
    pub read_timeout: Duration,
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
    /// Nothing arrived for the read timeout.
    #[error("nothing came back for {secs:.1} s after {received} bytes (is the server busy with another client? raise --timeout)")]
    Timeout {
        /// Bytes received before the wait.
        received: u64,
        /// The timeout.
        secs: f64,
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

/// What a successful run saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoReport {
    /// Bytes echoed (and checked).
    pub bytes: u64,
    /// Reads it took.
    pub pieces: u64,
}

/// Sends the payload `repeat` times, reads the echo, and checks it.
pub fn run(plan: &EchoPlan) -> Result<EchoReport, EchoError> {
    let stream = connect_blocking(&plan.host, plan.port, plan.connect_timeout)?;
    if let (Ok(peer), Ok(local)) = (stream.peer_addr(), stream.local_addr()) {
        info!("connected to {peer} from {local}");
    }
    let io = |what| move |source| EchoError::Io { what, source };
    stream
        .set_read_timeout(Some(plan.read_timeout.max(Duration::from_millis(1))))
        .map_err(io("setting the read timeout"))?;
    let sender = {
        let stream = stream.try_clone().map_err(io("cloning the socket"))?;
        let (payload, repeat, interval) = (plan.payload.clone(), plan.repeat, plan.interval);
        std::thread::Builder::new()
            .name("sender".into())
            .spawn(move || send_all(stream, &payload, repeat, interval))
            .map_err(io("starting the sender thread"))?
    };
    let received = receive_and_check(&stream, plan);
    if received.is_err() {
        // Unblock the sender if it is stuck writing, so it can end.
        let _ = stream.shutdown(Shutdown::Both);
    }
    let sent = sender
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("sender thread panicked")));
    let report = received?;
    sent.map_err(io("sending"))?;
    Ok(report)
}

fn send_all(
    mut stream: TcpStream,
    payload: &[u8],
    repeat: u64,
    interval: Duration,
) -> std::io::Result<()> {
    for round in 0..repeat {
        if round > 0 && !interval.is_zero() {
            std::thread::sleep(interval);
        }
        // Logged before the write: the echo may arrive before write_all returns.
        info!(
            "sending {} ({} bytes)",
            quoted_preview(payload),
            payload.len()
        );
        stream.write_all(payload)?;
    }
    // FIN: tells the server we are done, so it closes after the last echo.
    stream.shutdown(Shutdown::Write)
}

fn receive_and_check(mut stream: &TcpStream, plan: &EchoPlan) -> Result<EchoReport, EchoError> {
    let mut verifier = EchoVerifier::new(plan.payload.clone(), plan.repeat);
    let total = plan.payload.len() as u64 * plan.repeat;
    let log_each = total <= LOG_EVERY_PIECE_UP_TO;
    if !log_each {
        info!("{total} bytes to echo: each piece is logged only with RUST_LOG=debug");
    }
    let mut buf = vec![0u8; plan.chunk.max(1)];
    let mut pieces = 0u64;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(EchoError::Timeout {
                    received: verifier.received(),
                    secs: plan.read_timeout.as_secs_f64(),
                })
            }
            Err(source) => {
                return Err(EchoError::Io {
                    what: "receiving",
                    source,
                })
            }
        };
        if n == 0 {
            break;
        }
        let piece = &buf[..n];
        pieces += 1;
        if log_each {
            info!("received {}", quoted(piece));
        } else {
            debug!("received {}", quoted(piece));
        }
        verifier.check(piece)?;
    }
    verifier.finish()?;
    info!(
        "echo complete: {} bytes in {pieces} pieces, identical to what was sent",
        verifier.received()
    );
    Ok(EchoReport {
        bytes: verifier.received(),
        pieces,
    })
}

fn quoted_preview(bytes: &[u8]) -> String {
    if bytes.len() <= 80 {
        quoted(bytes)
    } else {
        format!("\"{}\"", escape_preview(bytes, 80))
    }
}
