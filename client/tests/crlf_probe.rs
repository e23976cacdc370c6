//! `time-client crlf` against the lab's time server and against servers that
//! answer badly: one that waits for CR LF, one that closes on the first line,
//! one that trickles bytes, one that sends an endless line.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::time::{Duration, Instant};

use progjar_client::results::{CrlfOutcome, CrlfProbeResult};
use progjar_server::Mode;
use support::{closed_port, run_json, text, time_server};

/// Runs `time-client crlf 127.0.0.1 PORT ARGS...` with a JSON result.
fn probe(port: u16, args: &[&str]) -> (Output, CrlfProbeResult) {
    let port = port.to_string();
    let mut all = vec!["crlf", "127.0.0.1", port.as_str()];
    all.extend_from_slice(args);
    run_json(env!("CARGO_BIN_EXE_time-client"), &all)
}

/// A server for one connection that runs `serve` on it, then closes.
fn one_connection(serve: impl FnOnce(TcpStream) + Send + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            serve(stream);
        }
    });
    port
}

fn kinds(result: &CrlfProbeResult) -> Vec<&'static str> {
    result
        .requests
        .iter()
        .map(|r| match r.outcome {
            CrlfOutcome::Reply { .. } => "reply",
            CrlfOutcome::Error { .. } => "error",
            CrlfOutcome::Nothing { .. } => "nothing",
            CrlfOutcome::Closed => "closed",
            CrlfOutcome::TooLong { .. } => "too_long",
            CrlfOutcome::Failed { .. } => "failed",
            CrlfOutcome::NotSent => "not_sent",
        })
        .collect()
}

#[test]
fn crlf_probe_passes_the_lab_time_server_with_error_error_jam_then_close() {
    let (addr, _server) = time_server(Mode::Async);
    let (out, result) = probe(addr.port(), &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert_eq!(kinds(&result), ["error", "error", "reply", "closed"]);
    let sent: Vec<&str> = result.requests.iter().map(|r| r.sent.as_str()).collect();
    assert_eq!(sent, [r"TIME\n", r"HELLO\r\n", r"TIME\r\n", r"QUIT\r\n"]);
    let CrlfOutcome::Reply { line } = &result.requests[2].outcome else {
        unreachable!("checked above")
    };
    assert!(
        line.starts_with("JAM ") && line.ends_with(r"\r\n"),
        "{line}"
    );
    assert!(result.passed && result.failures.is_empty() && result.error.is_none());
    assert!(result.connected && result.local.is_some());
    assert!(
        stdout.contains(r#"sent "TIME\n" -> got "ERROR lines must end with CR LF"#),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"sent "QUIT\r\n" -> the server closed the connection"#),
        "{stdout}"
    );
    assert!(stdout.contains("PASS"), "{stdout}");
}

/// Like a Python server that splits on b"\r\n": a bare-LF line is never
/// complete, so it gets no answer; TIME gets JAM, QUIT closes, the rest ERROR.
fn waits_for_crlf(mut stream: TcpStream) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            return;
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(at) = pending.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = pending.drain(..at + 2).collect();
            let reply: &[u8] = match &line[..at] {
                b"TIME" => b"JAM 10:11:12\r\n",
                b"QUIT" => return,
                _ => b"ERROR unknown command\r\n",
            };
            if stream.write_all(reply).is_err() {
                return;
            }
        }
    }
}

#[test]
fn crlf_probe_reports_nothing_within_the_timeout_from_a_server_waiting_for_crlf() {
    let port = one_connection(waits_for_crlf);
    let started = Instant::now();
    let (out, result) = probe(port, &["--timeout", "0.5"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    // The bare-LF line is answered only as part of the next one ("TIME\nHELLO").
    assert_eq!(kinds(&result), ["nothing", "error", "reply", "closed"]);
    assert_eq!(
        result.requests[0].outcome,
        CrlfOutcome::Nothing { waited_secs: 0.5 }
    );
    assert!(
        stdout.contains(r#"sent "TIME\n" -> nothing within 0.5 s"#),
        "{stdout}"
    );
    assert!(!result.passed);
    assert_eq!(result.failures.len(), 1, "{:?}", result.failures);
    assert!(
        result.failures[0].contains("nothing within 0.5 s"),
        "{:?}",
        result.failures
    );
    assert!(
        stdout.contains("FAIL: the bare-LF line"),
        "the reason is printed: {stdout}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn crlf_probe_sends_nothing_more_after_a_server_closes_on_the_first_line() {
    let port = one_connection(|mut stream| {
        let mut byte = [0u8; 1];
        while let Ok(1) = stream.read(&mut byte) {
            if byte[0] == b'\n' {
                return;
            }
        }
    });
    let (out, result) = probe(port, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(
        kinds(&result),
        ["closed", "not_sent", "not_sent", "not_sent"]
    );
    assert!(
        stdout.contains(r#"sent "TIME\n" -> the server closed the connection"#),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"not sent "HELLO\r\n" (the connection had ended)"#),
        "{stdout}"
    );
    assert_eq!(result.failures.len(), 3, "{:?}", result.failures);
}

#[test]
fn crlf_probe_deadline_is_not_postponed_by_bytes_trickling_in() {
    // One byte every 50 ms, never a line feed.
    let port = one_connection(|mut stream| {
        for _ in 0..200 {
            if stream.write_all(b"J").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let started = Instant::now();
    let (out, result) = probe(port, &["--timeout", "0.4"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(kinds(&result)[..3], ["nothing", "nothing", "nothing"]);
    for exchange in &result.requests[..3] {
        assert!(
            exchange.elapsed_secs < 0.6,
            "a 0.4 s deadline, not a timeout renewed by each byte: {exchange:?}"
        );
    }
    let partial = result.requests[0]
        .partial
        .as_deref()
        .expect("partial bytes");
    assert!(
        !partial.is_empty() && partial.chars().all(|c| c == 'J'),
        "{partial}"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn crlf_probe_reports_a_line_over_1_kib_without_keeping_it() {
    let port = one_connection(|mut stream| {
        let mut line = [0u8; 16];
        let _ = stream.read(&mut line);
        let _ = stream.write_all(&[b'x'; 4096]);
        std::thread::sleep(Duration::from_secs(3));
    });
    let (out, result) = probe(port, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        kinds(&result),
        ["too_long", "not_sent", "not_sent", "not_sent"]
    );
    assert_eq!(
        result.requests[0].outcome,
        CrlfOutcome::TooLong { limit: 1024 }
    );
    assert_eq!(result.requests[0].partial, None, "not kept");
    let error = result.error.as_deref().expect("an error");
    assert!(error.contains("longer than 1024 bytes"), "{error}");
    assert!(
        text(&out.stdout).contains("got a line longer than 1024 bytes (not kept)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn crlf_probe_writes_its_json_when_the_connection_is_refused() {
    let (out, result) = probe(closed_port(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!result.connected && result.local.is_none());
    assert_eq!(kinds(&result), ["not_sent"; 4]);
    let error = result.error.as_deref().expect("an error");
    assert!(error.contains("refused"), "{error}");
    assert_eq!(result.failures, vec![format!("could not connect: {error}")]);
    assert!(
        text(&out.stdout).contains("FAIL: could not connect"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn crlf_probe_bad_command_line_exits_2() {
    let out = support::run(
        env!("CARGO_BIN_EXE_time-client"),
        &["crlf", "127.0.0.1", "45000", "--timeout", "soon"],
        "warn",
    );
    assert_eq!(out.status.code(), Some(2));
}
