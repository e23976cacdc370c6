//! The client binaries against real servers on 127.0.0.1.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};

use progjar_protocol::echo::COURSE_MESSAGE;
use progjar_server::Mode;
use support::{closed_port, echo_server, random_bytes, run, text, time_server};

#[test]
fn echo_client_reads_the_course_message_in_16_byte_pieces() {
    let (addr, _server) = echo_server(Mode::Iterative);
    let out = run(
        env!("CARGO_BIN_EXE_echo-client"),
        &["127.0.0.1", &addr.port().to_string()],
        "info",
    );
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    for piece in [
        r#"received "INI ADALAH DATA ""#,
        r#"received "YANG DIKIRIM ABC""#,
        r#"received "DEFGHIJKLMNOPQ""#,
    ] {
        assert!(log.contains(piece), "missing {piece}:\n{log}");
    }
    assert!(log.contains("echo complete: 46 bytes"), "{log}");
}

#[test]
fn echo_client_echoes_a_64_mib_file_intact_without_deadlock() {
    let (addr, _server) = echo_server(Mode::Thread);
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    // Bytes that are not a repeating pattern of the chunk size, so a
    // reordered or dropped piece would be caught.
    let data = random_bytes(64 * 1024 * 1024);
    file.write_all(&data).expect("write file");
    let path = file.path().to_str().expect("utf-8 path").to_string();
    let out = run(
        env!("CARGO_BIN_EXE_echo-client"),
        &[
            "127.0.0.1",
            &addr.port().to_string(),
            "--file",
            &path,
            "--chunk",
            "4096",
        ],
        "info",
    );
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains(&format!("echo complete: {} bytes", data.len())),
        "{log}"
    );
}

#[test]
fn echo_client_repeat_sends_on_one_connection_and_checks_all_of_it() {
    let (addr, _server) = echo_server(Mode::Iterative);
    let out = run(
        env!("CARGO_BIN_EXE_echo-client"),
        &[
            "127.0.0.1",
            &addr.port().to_string(),
            "--message",
            "halo",
            "--repeat",
            "3",
            "--interval",
            "0.1",
        ],
        "info",
    );
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert_eq!(log.matches(r#"sending "halo""#).count(), 3, "{log}");
    assert_eq!(log.matches("connected to").count(), 1, "{log}");
    assert!(log.contains("echo complete: 12 bytes"), "{log}");
}

#[test]
fn echo_client_says_where_a_wrong_echo_first_differs() {
    // A broken echo server: it changes the 21st byte.
    let port = corrupting_echo_server();
    let out = run(
        env!("CARGO_BIN_EXE_echo-client"),
        &["127.0.0.1", &port.to_string()],
        "warn",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("differs at byte 20"), "{err}");
}

/// A broken echo server for one client: reads the course's message, echoes
/// it with the 21st byte changed, then waits for the client to close.
fn corrupting_echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut data = vec![0u8; COURSE_MESSAGE.len()];
        stream.read_exact(&mut data).expect("read the message");
        data[20] ^= 0x20;
        let _ = stream.write_all(&data);
        let _ = stream.read_to_end(&mut Vec::new());
    });
    port
}

#[test]
fn time_client_runs_concurrent_sessions_and_checks_every_reply() {
    let (addr, _server) = time_server(Mode::Async);
    let out = run(
        env!("CARGO_BIN_EXE_time-client"),
        &[
            "127.0.0.1",
            &addr.port().to_string(),
            "--clients",
            "5",
            "--count",
            "3",
            "--interval",
            "0.05",
        ],
        "info",
    );
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert_eq!(log.matches(r#"received "JAM "#).count(), 15, "{log}");
    assert_eq!(log.matches(r#"sent "QUIT\r\n""#).count(), 5, "{log}");
    assert_eq!(
        log.matches("server closed the connection").count(),
        5,
        "{log}"
    );
    assert!(log.contains("5 session(s), all replies correct"), "{log}");
}

#[test]
fn time_client_rounds_open_a_new_connection_each_time() {
    let (addr, _server) = time_server(Mode::Iterative);
    let out = run(
        env!("CARGO_BIN_EXE_time-client"),
        &[
            "127.0.0.1",
            &addr.port().to_string(),
            "--rounds",
            "3",
            "--interval",
            "0.05",
        ],
        "info",
    );
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert_eq!(log.matches("connected to").count(), 3, "{log}");
}

#[test]
fn time_client_fails_clearly_on_a_server_that_does_not_speak_the_protocol() {
    let (addr, _server) = echo_server(Mode::Iterative);
    let out = run(
        env!("CARGO_BIN_EXE_time-client"),
        &["127.0.0.1", &addr.port().to_string()],
        "info",
    );
    assert_eq!(out.status.code(), Some(1));
    let log = text(&out.stderr);
    assert!(
        log.contains(r#"expected "JAM hh:mm:ss\r\n", got "TIME\r\n""#),
        "{log}"
    );
}

#[test]
fn time_client_explains_a_refused_connection() {
    let port = closed_port();
    let out = run(
        env!("CARGO_BIN_EXE_time-client"),
        &["127.0.0.1", &port.to_string()],
        "info",
    );
    assert_eq!(out.status.code(), Some(1));
    let log = text(&out.stderr);
    assert!(
        log.contains("refused") && log.contains("Is the server running?"),
        "{log}"
    );
}

#[test]
fn socket_info_prints_timeouts_and_the_addresses_of_localhost() {
    let out = run(
        env!("CARGO_BIN_EXE_socket-info"),
        &["localhost", "45000"],
        "info",
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("timeout of a new socket: None"), "{stdout}");
    assert!(stdout.contains("after settimeout(10): 10 s"), "{stdout}");
    assert!(
        stdout.contains("SOCK_STREAM") && stdout.contains(":45000"),
        "{stdout}"
    );
    assert!(
        stdout.contains("127.0.0.1:45000") || stdout.contains("[::1]:45000"),
        "{stdout}"
    );
}

#[test]
fn echo_check_tells_iterative_from_concurrent_servers() {
    for (mode, model) in [(Mode::Iterative, "iterative"), (Mode::Async, "concurrent")] {
        let (addr, _server) = echo_server(mode);
        let out = run(
            env!("CARGO_BIN_EXE_echo-client"),
            &["check", "127.0.0.1", &addr.port().to_string()],
            "warn",
        );
        let text = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{text}");
        assert!(text.contains("PASS  byte-exact echo"), "{text}");
        assert!(
            text.contains(&format!("INFO  concurrency model    {model}:")),
            "{text}"
        );
    }
}

#[test]
fn echo_check_fails_a_server_that_loses_bytes() {
    // Echoes only the first 1000 bytes of each read: the sort of bug recv(1024) without a loop makes.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(3) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || stream.write_all(&buf[..n.min(1000)]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let out = run(
        env!("CARGO_BIN_EXE_echo-client"),
        &["check", "127.0.0.1", &port.to_string()],
        "warn",
    );
    let text = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAIL  byte-exact echo") && text.contains("hint:"),
        "{text}"
    );
}

/// Runs `time-client load 127.0.0.1 PORT ARGS... --json`; returns its exit code and report.
fn run_load(port: u16, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let port = port.to_string();
    let mut all = vec!["load", "127.0.0.1", port.as_str()];
    all.extend_from_slice(args);
    all.push("--json");
    let out = run(env!("CARGO_BIN_EXE_time-client"), &all, "warn");
    let report = serde_json::from_slice(&out.stdout).expect("json report");
    (out.status.code(), report)
}

#[test]
fn load_counts_every_verified_reply_and_reports_latency() {
    let (addr, _server) = time_server(Mode::Async);
    for (requests, pipeline) in [("1", "1"), ("50", "8")] {
        let (code, report) = run_load(
            addr.port(),
            &[
                "--connections",
                "4",
                "--requests",
                requests,
                "--pipeline",
                pipeline,
                "--total",
                "400",
            ],
        );
        assert_eq!(code, Some(0), "{report}");
        assert_eq!(report["requests"], 400, "{report}");
        assert!(
            report["errors"].as_object().expect("map").is_empty(),
            "{report}"
        );
        assert!(
            report["latency_ms"]["p99"].as_f64().expect("p99") > 0.0,
            "{report}"
        );
        if requests == "1" {
            assert_eq!(
                report["connections"], 400,
                "one connection per request: {report}"
            );
        }
    }
}

#[test]
fn load_counts_wrong_replies_as_errors_not_samples() {
    let (addr, _server) = echo_server(Mode::Async);
    let (code, report) = run_load(addr.port(), &["--connections", "2", "--total", "20"]);
    assert_eq!(code, Some(1));
    assert_eq!(report["requests"], 0, "{report}");
    assert!(
        report["errors"]["wrong reply"].as_u64().expect("counted") > 0,
        "{report}"
    );
}

#[test]
fn load_says_so_when_a_run_ends_with_nothing_done() {
    use std::time::{Duration, Instant};
    // A listener with a backlog of 0 and its queue filled: the load's SYN is
    // dropped and retried a second later, after its half-second run is over.
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let bind: SocketAddr = "127.0.0.1:0".parse().expect("address");
    socket.bind(&bind.into()).expect("bind");
    socket.listen(0).expect("listen");
    let listener: TcpListener = socket.into();
    let addr = listener.local_addr().expect("address");
    let fillers: Vec<std::net::TcpStream> = (0..2)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()
        })
        .collect();
    // After the run's end, make room: accept everything and close it at once.
    let drainer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1200));
        listener.set_nonblocking(true).expect("nonblocking");
        let until = Instant::now() + Duration::from_secs(8);
        let mut accepted = 0;
        while Instant::now() < until && accepted < fillers.len() + 1 {
            match listener.accept() {
                Ok(_) => accepted += 1,
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    let (code, report) = run_load(
        addr.port(),
        &["--connections", "1", "--duration", "0.5", "--timeout", "10"],
    );
    drainer.join().expect("drainer");
    assert_eq!(report["requests"], 0, "{report}");
    assert_eq!(
        report["errors"]["nothing done before the end"], 1,
        "a run with nothing done must not look clean: {report}"
    );
    assert_eq!(code, Some(1), "{report}");
}
