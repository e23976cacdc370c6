//! `echo-client check`: tests any echo server.
//!
//! Two questions: does it echo every byte exactly, however the bytes are cut
//! into writes (1 MiB of random bytes in odd-sized writes, then EOF, which the
//! server must answer by closing); and does it serve a second client while a
//! first one is still connected ("concurrent") or only after ("iterative",
//! as Tugas 1 expects)?

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use progjar_protocol::echo::EchoVerifier;

use crate::connect::connect_blocking;

/// Bytes echoed in the exactness check.
const TOTAL: usize = 1 << 20;
/// Write sizes, cycled: odd, so pieces never line up with a server's buffer.
const WRITE_SIZES: [usize; 8] = [1, 3, 7, 31, 97, 1021, 4093, 65_521];

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
pub fn run(host: &str, port: u16, timeout: Duration) -> EchoCheckReport {
    EchoCheckReport {
        exact: exact_echo(host, port, timeout),
        model: concurrency_model(host, port, timeout),
    }
}

fn exact_echo(host: &str, port: u16, timeout: Duration) -> Result<(), String> {
    let stream = connect_blocking(host, port, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
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
        match (&stream).read(&mut buf) {
            Ok(0) => break verifier.finish().map_err(|e| e.to_string()),
            Ok(n) => {
                if let Err(e) = verifier.check(&buf[..n]) {
                    break Err(e.to_string());
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break Err(if verifier.is_complete() {
                    format!(
                        "all {TOTAL} bytes came back, but the server did not close after our EOF \
                         within {:.0} s",
                        timeout.as_secs_f64()
                    )
                } else {
                    format!(
                        "only {} of {TOTAL} bytes came back within {:.0} s",
                        verifier.received(),
                        timeout.as_secs_f64()
                    )
                });
            }
            Err(e) => break Err(format!("after {} bytes: {e}", verifier.received())),
        }
    };
    let _ = stream.shutdown(Shutdown::Both);
    let _ = sender.join();
    outcome
}

fn concurrency_model(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<(&'static str, String), String> {
    let echo_of = |stream: &mut TcpStream, byte: u8, wait: Duration| -> Result<bool, String> {
        stream.write_all(&[byte]).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(wait))
            .map_err(|e| e.to_string())?;
        let mut got = [0u8; 1];
        match stream.read(&mut got) {
            Ok(1) => Ok(got[0] == byte),
            Ok(_) => Ok(false),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    };
    let mut first = connect_blocking(host, port, timeout).map_err(|e| e.to_string())?;
    if !echo_of(&mut first, b'a', timeout)? {
        return Err("the first client got no echo".into());
    }
    let mut second = connect_blocking(host, port, timeout).map_err(|e| e.to_string())?;
    if echo_of(&mut second, b'b', Duration::from_secs(2))? {
        return Ok((
            "concurrent",
            "a second client was echoed while the first was still connected".into(),
        ));
    }
    drop(first);
    // The 'b' already sent is echoed once the server gets to this client.
    second
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let mut got = [0u8; 1];
    let later = matches!(second.read(&mut got), Ok(1)) && got[0] == b'b';
    Ok((
        "iterative",
        if later {
            "a second client was echoed only after the first closed (one client at a time)".into()
        } else {
            "a second client got no echo while the first was connected, nor after it closed".into()
        },
    ))
}
