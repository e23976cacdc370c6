//! How echo-client sends its rounds, seen from the server's side of a real
//! TCP connection on 127.0.0.1: lockstep like the course's client.py by
//! default, the older timer-driven stream with `--stream`.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use progjar_client::results::{EchoMode, EchoResult};
use progjar_server::Mode;
use support::{echo_server, random_bytes, run_json, text};

/// How long the server holds back the last byte of each echo.
const HOLD: Duration = Duration::from_millis(300);

/// What the server saw while it held back the last byte of one round's echo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hold {
    /// Bytes of a later round had arrived (before or during the hold).
    data: bool,
    /// The client's FIN arrived (a half-close, or its close).
    eof: bool,
}

/// What the server saw on the whole connection.
#[derive(Debug)]
struct ServerLog {
    holds: Vec<Hold>,
    /// From writing the last byte of round r's echo to the first byte of round r + 1.
    gaps: Vec<Duration>,
    /// The client's FIN arrived in the end.
    eof_at_end: bool,
}

/// An echo server for one client that sends `rounds` rounds of `len` bytes:
/// it echoes each round at once except its last byte, holds that back for
/// [`HOLD`] while watching what else arrives, then sends it.
fn holding_echo_server(len: usize, rounds: usize) -> (u16, JoinHandle<ServerLog>) {
    assert!(len > 0);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let patient = Some(Duration::from_secs(10));
        stream.set_read_timeout(patient).expect("timeout");
        let mut pending = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut log = ServerLog {
            holds: Vec::new(),
            gaps: Vec::new(),
            eof_at_end: false,
        };
        let mut last_byte_sent: Option<Instant> = None;
        for _ in 0..rounds {
            while pending.len() < len {
                let n = stream.read(&mut buf).expect("the round's bytes");
                assert!(n > 0, "EOF before a whole round");
                if pending.is_empty() {
                    if let Some(at) = last_byte_sent {
                        log.gaps.push(at.elapsed());
                    }
                }
                pending.extend_from_slice(&buf[..n]);
            }
            let round: Vec<u8> = pending.drain(..len).collect();
            stream.write_all(&round[..len - 1]).expect("echo");
            let mut hold = Hold {
                data: !pending.is_empty(),
                eof: false,
            };
            stream.set_read_timeout(Some(HOLD)).expect("timeout");
            match stream.read(&mut buf) {
                Ok(0) => hold.eof = true,
                Ok(n) => {
                    hold.data = true;
                    pending.extend_from_slice(&buf[..n]);
                }
                Err(_) => {}
            }
            log.holds.push(hold);
            stream.set_read_timeout(patient).expect("timeout");
            stream.write_all(&round[len - 1..]).expect("last byte");
            last_byte_sent = Some(Instant::now());
            if hold.eof {
                log.eof_at_end = true;
            }
        }
        while !log.eof_at_end {
            match stream.read(&mut buf) {
                Ok(0) => log.eof_at_end = true,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        log
    });
    (port, server)
}

fn echo_client(port: u16, extra: &[&str]) -> (std::process::Output, EchoResult) {
    let port = port.to_string();
    let mut args = vec!["127.0.0.1", port.as_str()];
    args.extend_from_slice(extra);
    run_json(env!("CARGO_BIN_EXE_echo-client"), &args)
}

const QUIET: Hold = Hold {
    data: false,
    eof: false,
};

#[test]
fn echo_client_sends_each_round_only_after_the_previous_echo_is_fully_back() {
    let (port, server) = holding_echo_server(10, 3);
    let (out, result) = echo_client(port, &["--message", "0123456789", "--repeat", "3"]);
    let log = server.join().expect("server");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        log.holds,
        vec![QUIET; 3],
        "nothing may arrive while an echo is incomplete"
    );
    assert_eq!(result.mode, EchoMode::Lockstep);
    assert_eq!((result.rounds_planned, result.rounds_sent), (3, 3));
    assert_eq!((result.bytes_sent, result.bytes_received), (30, 30));
    assert!(result.identical && result.error.is_none(), "{result:?}");
}

#[test]
fn echo_client_waits_the_interval_after_each_echo_not_after_each_send() {
    let (port, server) = holding_echo_server(4, 3);
    let (out, _) = echo_client(
        port,
        &["--message", "halo", "--repeat", "3", "--interval", "0.4"],
    );
    let log = server.join().expect("server");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(log.gaps.len(), 2, "{log:?}");
    for gap in &log.gaps {
        // Timed from the end of the echo: a timer started at the send would
        // already have run for the 300 ms the echo was held back.
        assert!(*gap >= Duration::from_millis(400), "{log:?}");
    }
}

#[test]
fn echo_client_does_not_half_close_before_the_last_echo_is_back() {
    let (port, server) = holding_echo_server(46, 1);
    let (out, result) = echo_client(port, &[]);
    let log = server.join().expect("server");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        log.holds,
        vec![QUIET],
        "no FIN while the echo is incomplete"
    );
    assert!(log.eof_at_end, "the client closes after the echo: {log:?}");
    assert!(!result.half_closed, "{result:?}");
    assert_eq!(
        result.pieces, 4,
        "45 bytes in 16-byte reads, then the byte held back: {result:?}"
    );
}

#[test]
fn echo_client_stream_sends_on_its_timer_and_half_closes_right_after_sending() {
    let (port, server) = holding_echo_server(4, 2);
    let (out, result) = echo_client(port, &["--message", "halo", "--repeat", "2", "--stream"]);
    let log = server.join().expect("server");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        log.holds[0].data,
        "round 2 is sent before round 1's echo: {log:?}"
    );
    assert!(
        log.holds[1].eof,
        "the FIN comes before the last echo: {log:?}"
    );
    assert_eq!(result.mode, EchoMode::Stream);
    assert!(result.half_closed && result.identical, "{result:?}");
}

#[test]
fn echo_client_lockstep_echoes_an_8_mib_file_twice_without_deadlock() {
    let (addr, _server) = echo_server(Mode::Thread);
    let data = random_bytes(8 * 1024 * 1024);
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(&data).expect("write file");
    let path = file.path().to_str().expect("utf-8 path").to_string();
    let started = Instant::now();
    let (out, result) = echo_client(
        addr.port(),
        &["--file", &path, "--repeat", "2", "--timeout", "20"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let total = 2 * data.len() as u64;
    assert_eq!(result.bytes_sent, total, "{result:?}");
    assert_eq!(result.bytes_received, total, "{result:?}");
    assert_eq!(result.rounds_sent, 2);
    assert!(result.pieces >= total / 16, "16-byte reads: {result:?}");
    assert!(result.identical, "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn echo_client_reports_extra_bytes_after_the_echo_as_not_identical() {
    // Echoes the message, then one byte nobody sent.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut data = [0u8; 4];
        stream.read_exact(&mut data).expect("message");
        let _ = stream.write_all(b"halo!");
        let _ = stream.read_to_end(&mut Vec::new());
    });
    let (out, result) = echo_client(port, &["--message", "halo"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!result.identical, "{result:?}");
    assert_eq!(result.bytes_received, 5, "{result:?}");
    let error = result.error.expect("an error");
    assert!(error.contains("longer than what was sent"), "{error}");
}
