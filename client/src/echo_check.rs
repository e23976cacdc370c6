//! `echo-client check`: tests any echo server.
//!
//! Two questions: does it echo every byte exactly, however the bytes are cut
//! into writes (1 MiB of random bytes in odd-sized writes, then EOF, which the
//! server must answer by closing); and does it serve a second client while a
//! first one is still connected ("concurrent") or only after ("iterative",
//! as Tugas 1 expects)?
//!
//! Whatever the server does, the check ends within [`WORST_CASE`]: every
//! wait has a deadline fixed when it begins and each read or write is given
//! only the time left, so bytes trickling in cannot postpone it; a wrong or
//! extra byte ends the exactness check at once. Memory: the 1 MiB sent and
//! one 64 KiB read buffer.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use progjar_protocol::echo::EchoVerifier;
use progjar_protocol::escape::quoted;

use crate::connect::connect_blocking;

/// Bytes echoed in the exactness check.
const TOTAL: usize = 1 << 20;
/// Write sizes, cycled: odd, so pieces never line up with a server's buffer.
const WRITE_SIZES: [usize; 8] = [1, 3, 7, 31, 97, 1021, 4093, 65_521];
/// Each connect, per address the name resolves to.
const CONNECT: Duration = Duration::from_secs(5);
/// The whole echo of the exactness check, and the close after our EOF,
/// counted from the connect.
const EXACT: Duration = Duration::from_secs(10);
/// The first client's echo of one byte.
const FIRST_ECHO: Duration = Duration::from_secs(5);
/// The second client's echo while the first is connected.
const SECOND_ECHO: Duration = Duration::from_secs(2);
/// The second client's echo once the first has left.
const LATER_ECHO: Duration = Duration::from_secs(5);
/// The longest `echo-client check` can take against a server with one
/// address, whatever it does: the sum of the waits above (37 s), rounded up.
pub const WORST_CASE: Duration = Duration::from_secs(40);

/// The outcome of the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoCheckReport {
    /// Whether 1 MiB came back exactly; with what went wrong otherwise.
    pub exact: Result<(), String>,
    /// `concurrent` or `iterative`, with what was seen.
    pub model: Result<(&'static str, String), String>,
}

/// Pseudo-random bytes, the same every run.
fn test_bytes() -> Vec<u8> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    (0..TOTAL)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect()
}

/// Runs both checks against `host:port`.
pub fn run(host: &str, port: u16) -> EchoCheckReport {
    EchoCheckReport {
        exact: exact_echo(host, port),
        model: concurrency_model(host, port),
    }
}

/// The time left until `deadline`, at least 1 ms (a socket timeout of zero
/// means none), or `None` once it has passed.
fn left(deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (!left.is_zero()).then(|| left.max(Duration::from_millis(1)))
}

fn exact_echo(host: &str, port: u16) -> Result<(), String> {
    let stream = connect_blocking(host, port, CONNECT).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + EXACT;
    // Writes wait at most this long each; the reader shuts the socket down
    // at its deadline, which ends a write still waiting.
    stream
        .set_write_timeout(Some(EXACT))
        .map_err(|e| e.to_string())?;
    let data = test_bytes();
    let sender = {
        let mut stream = stream.try_clone().map_err(|e| e.to_string())?;
        let data = data.clone();
        std::thread::spawn(move || -> std::io::Result<()> {
            let mut sent = 0;
            for size in WRITE_SIZES.iter().cycle() {
                if sent == data.len() {
                    break;
                }
                let end = (sent + size).min(data.len());
                stream.write_all(&data[sent..end])?;
                sent = end;
            }
            stream.shutdown(Shutdown::Write)
        })
    };
    let mut verifier = EchoVerifier::new(data, 1);
    let mut buf = vec![0u8; 64 * 1024];
    let outcome = loop {
        // The time left, not a fresh timeout: bytes trickling in cannot
        // postpone the deadline.
        let Some(left) = left(deadline) else {
            break Err(if verifier.is_complete() {
                format!(
                    "all {TOTAL} bytes came back, but the server did not close after our EOF \
                     within {:.0} s of connecting",
                    EXACT.as_secs_f64()
                )
            } else {
                format!(
                    "only {} of {TOTAL} bytes came back within {:.0} s of connecting{}",
                    verifier.received(),
                    EXACT.as_secs_f64(),
                    if verifier.received() > 0 {
                        " (correct so far)"
                    } else {
                        ""
                    }
                )
            });
        };
        if let Err(e) = stream.set_read_timeout(Some(left)) {
            break Err(e.to_string());
        }
        match (&stream).read(&mut buf) {
            Ok(0) => break verifier.finish().map_err(|e| e.to_string()),
            Ok(n) => {
                if let Err(e) = verifier.check(&buf[..n]) {
                    break Err(e.to_string());
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // The read timeout ran out: the loop finds the deadline passed.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => break Err(format!("after {} bytes: {e}", verifier.received())),
        }
    };
    let _ = stream.shutdown(Shutdown::Both);
    let _ = sender.join();
    outcome
}

/// What came back for one byte sent.
enum Echo {
    /// The same byte.
    Same,
    /// Another byte.
    Other(u8),
    /// Nothing within the wait.
    Nothing,
    /// The server closed the connection.
    Closed,
}

/// Sends `byte` and reads one byte back, each within `wait`.
fn echo_of(stream: &mut TcpStream, byte: u8, wait: Duration) -> Result<Echo, String> {
    stream
        .set_write_timeout(Some(wait))
        .map_err(|e| e.to_string())?;
    stream.write_all(&[byte]).map_err(|e| e.to_string())?;
    wait_echo(stream, byte, wait)
}

/// Reads one byte, within `wait`: one read, so nothing can extend it.
fn wait_echo(stream: &mut TcpStream, byte: u8, wait: Duration) -> Result<Echo, String> {
    stream
        .set_read_timeout(Some(wait))
        .map_err(|e| e.to_string())?;
    let mut got = [0u8; 1];
    match stream.read(&mut got) {
        Ok(0) => Ok(Echo::Closed),
        Ok(_) if got[0] == byte => Ok(Echo::Same),
        Ok(_) => Ok(Echo::Other(got[0])),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            Ok(Echo::Nothing)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// What a client that sent `byte` got instead of its echo, in words.
fn not_echoed(who: &str, byte: u8, echo: &Echo, wait: Duration) -> String {
    let sent = quoted(&[byte]);
    match echo {
        Echo::Same => format!("{who} sent {sent} and got it back"),
        Echo::Other(got) => format!(
            "{who} sent {sent} and got {} instead of its echo",
            quoted(&[*got])
        ),
        Echo::Nothing => format!(
            "{who} sent {sent} and got nothing back within {:.0} s",
            wait.as_secs_f64()
        ),
        Echo::Closed => format!("{who} sent {sent} and the server closed the connection"),
    }
}

fn concurrency_model(host: &str, port: u16) -> Result<(&'static str, String), String> {
    let mut first = connect_blocking(host, port, CONNECT).map_err(|e| e.to_string())?;
    let echo = echo_of(&mut first, b'a', FIRST_ECHO)?;
    if !matches!(echo, Echo::Same) {
        return Err(not_echoed("the first client", b'a', &echo, FIRST_ECHO));
    }
    let mut second = connect_blocking(host, port, CONNECT).map_err(|e| e.to_string())?;
    match echo_of(&mut second, b'b', SECOND_ECHO)? {
        Echo::Same => {
            return Ok((
                "concurrent",
                "a second client was echoed while the first was still connected".into(),
            ))
        }
        Echo::Nothing => {}
        other => {
            return Err(format!(
                "{}, while the first was still connected",
                not_echoed("a second client", b'b', &other, SECOND_ECHO)
            ))
        }
    }
    drop(first);
    // The 'b' already sent is echoed once the server gets to this client.
    Ok(match wait_echo(&mut second, b'b', LATER_ECHO)? {
        Echo::Same => (
            "iterative",
            "a second client was echoed only after the first closed (one client at a time)".into(),
        ),
        Echo::Nothing => (
            "iterative",
            format!(
                "a second client got no echo while the first was connected, nor within {:.0} s after it closed",
                LATER_ECHO.as_secs_f64()
            ),
        ),
        other => {
            return Err(format!(
                "a second client got no echo while the first was connected; after it closed, {}",
                not_echoed("the second client", b'b', &other, LATER_ECHO)
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stated_bound_covers_every_wait() {
        let waits = CONNECT + EXACT + CONNECT + FIRST_ECHO + CONNECT + SECOND_ECHO + LATER_ECHO;
        assert!(waits <= WORST_CASE, "{waits:?}");
        assert!(WORST_CASE - waits < Duration::from_secs(5));
    }
}
