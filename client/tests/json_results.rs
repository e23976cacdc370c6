//! `--json FILE` / `PROGJAR_JSON`: every client run leaves one JSON document
//! describing what it did and saw, when it succeeded and when it failed.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;

use progjar_client::results::{EchoMode, EchoResult, SocketInfoResult, TimeRun, TimeSessionResult};
use progjar_server::Mode;
use support::{closed_port, command, echo_server, run_json, text, time_server};

const ECHO: &str = env!("CARGO_BIN_EXE_echo-client");
const TIME: &str = env!("CARGO_BIN_EXE_time-client");
const SOCKET_INFO: &str = env!("CARGO_BIN_EXE_socket-info");

#[test]
fn echo_json_describes_a_successful_run() {
    let (addr, _server) = echo_server(Mode::Iterative);
    let (out, result): (_, EchoResult) = run_json(ECHO, &["127.0.0.1", &addr.port().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let local = result.local.clone().expect("connected");
    assert!(local.starts_with("127.0.0.1:"), "{local}");
    assert_eq!(
        result,
        EchoResult {
            server: format!("127.0.0.1:{}", addr.port()),
            local: Some(local),
            mode: EchoMode::Lockstep,
            rounds_planned: 1,
            rounds_sent: 1,
            bytes_sent: 46,
            bytes_received: 46,
            pieces: 3,
            chunk: 16,
            payload_bytes: 46,
            identical: true,
            half_closed: false,
            error: None,
        }
    );
}

#[test]
fn echo_json_is_written_when_the_connection_is_refused() {
    let port = closed_port();
    let (out, result): (_, EchoResult) = run_json(ECHO, &["127.0.0.1", &port.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(result.local, None);
    assert_eq!((result.rounds_sent, result.bytes_sent), (0, 0));
    assert!(!result.identical);
    let error = result.error.expect("an error");
    assert!(error.contains("refused"), "{error}");
    assert!(
        text(&out.stderr).contains(&error),
        "the same words as on stderr"
    );
}

#[test]
fn echo_json_records_where_a_wrong_echo_differs() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut data = [0u8; 4];
        stream.read_exact(&mut data).expect("message");
        let _ = stream.write_all(b"hxlo");
        let _ = stream.read_to_end(&mut Vec::new());
    });
    let (out, result): (_, EchoResult) =
        run_json(ECHO, &["127.0.0.1", &port.to_string(), "--message", "halo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!result.identical);
    assert_eq!(result.bytes_received, 4);
    let error = result.error.expect("an error");
    assert!(error.contains("differs at byte 1"), "{error}");
}

#[test]
fn echo_json_is_written_when_the_file_cannot_be_read() {
    let (out, result): (_, EchoResult) = run_json(
        ECHO,
        &["127.0.0.1", "1", "--file", "/nonexistent/progjar-file"],
    );
    assert_eq!(out.status.code(), Some(1));
    let error = result.error.expect("an error");
    assert!(
        error.contains("cannot read /nonexistent/progjar-file"),
        "{error}"
    );
}

#[test]
fn json_flag_wins_over_the_environment_and_an_unwritable_file_keeps_the_exit_code() {
    let (addr, _server) = echo_server(Mode::Iterative);
    let dir = tempfile::tempdir().expect("temp dir");
    let from_flag = dir.path().join("flag.json");
    let from_env = dir.path().join("env.json");
    let port = addr.port().to_string();
    let flag = from_flag.to_str().expect("utf-8");
    let out = command(ECHO, &["127.0.0.1", &port, "--json", flag], "warn")
        .env("PROGJAR_JSON", &from_env)
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(from_flag.exists() && !from_env.exists());

    let out = command(ECHO, &["127.0.0.1", &port], "warn")
        .env(
            "PROGJAR_JSON",
            dir.path().join("missing-dir").join("r.json"),
        )
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "the echo was fine: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("cannot write the JSON result to"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn subcommands_still_run_when_the_lab_sets_progjar_json() {
    let (addr, _server) = echo_server(Mode::Async);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = command(
        ECHO,
        &["check", "127.0.0.1", &addr.port().to_string()],
        "warn",
    )
    .env("PROGJAR_JSON", dir.path().join("r.json"))
    .output()
    .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn time_json_lists_every_session_with_its_replies() {
    let (addr, _server) = time_server(Mode::Async);
    let (out, run): (_, TimeRun) = run_json(
        TIME,
        &[
            "127.0.0.1",
            &addr.port().to_string(),
            "--clients",
            "2",
            "--count",
            "2",
            "--rounds",
            "2",
            "--interval",
            "0.05",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(run.server, format!("127.0.0.1:{}", addr.port()));
    assert!(!run.interrupted);
    let order: Vec<(u32, u64)> = run.sessions.iter().map(|s| (s.client, s.round)).collect();
    assert_eq!(order, vec![(1, 0), (1, 1), (2, 0), (2, 1)]);
    for session in &run.sessions {
        assert_eq!(session.requests_sent, 2, "{session:?}");
        assert_eq!(session.replies.len(), 2, "{session:?}");
        for reply in &session.replies {
            assert!(
                reply.starts_with("JAM ") && reply.len() == 12,
                "without CR LF: {reply:?}"
            );
        }
        assert!(
            session.quit_sent && session.closed_by_server && session.error.is_none(),
            "{session:?}"
        );
        assert!(session.local.is_some(), "{session:?}");
    }
}

#[test]
fn time_json_keeps_the_wrong_reply_and_the_error() {
    let (addr, _server) = echo_server(Mode::Iterative);
    let (out, run): (_, TimeRun) = run_json(TIME, &["127.0.0.1", &addr.port().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let [session] = run.sessions.as_slice() else {
        panic!("one session: {run:?}")
    };
    assert_eq!(
        session,
        &TimeSessionResult {
            client: 1,
            round: 0,
            local: session.local.clone(),
            requests_sent: 1,
            replies: vec!["TIME".into()],
            quit_sent: false,
            closed_by_server: false,
            error: Some(r#"reply to TIME #1: expected "JAM hh:mm:ss\r\n", got "TIME\r\n""#.into()),
        }
    );
}

#[test]
fn time_json_records_a_server_that_closes_before_answering() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut line = [0u8; 6];
        let _ = stream.read_exact(&mut line);
    });
    let (out, run): (_, TimeRun) = run_json(TIME, &["127.0.0.1", &port.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let session = &run.sessions[0];
    assert!(
        session.closed_by_server && !session.quit_sent,
        "{session:?}"
    );
    assert!(session.replies.is_empty(), "{session:?}");
    let error = session.error.as_deref().expect("an error");
    assert!(
        error.contains("closed the connection before answering"),
        "{error}"
    );
}

#[test]
fn time_json_is_written_when_the_connection_is_refused() {
    let (out, run): (_, TimeRun) = run_json(TIME, &["127.0.0.1", &closed_port().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let [session] = run.sessions.as_slice() else {
        panic!("one session: {run:?}")
    };
    assert_eq!(session.local, None);
    assert_eq!(session.requests_sent, 0);
    assert!(
        session
            .error
            .as_deref()
            .is_some_and(|e| e.contains("refused")),
        "{session:?}"
    );
}

#[test]
fn socket_info_json_has_the_timeouts_the_answers_and_the_nameservers() {
    let (out, result): (_, SocketInfoResult) = run_json(SOCKET_INFO, &["localhost", "45000"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        (result.host.as_str(), result.port.as_str()),
        ("localhost", "45000")
    );
    assert_eq!(result.default_timeout_secs, None, "a fresh socket blocks");
    assert_eq!(result.timeout_requested_secs, 10.0);
    assert_eq!(result.timeout_after_set_secs, Some(10.0));
    assert!(
        result.entries.iter().any(|e| e.socket_type == "SOCK_STREAM"
            && e.protocol == "IPPROTO_TCP"
            && (e.address == "127.0.0.1:45000" || e.address == "[::1]:45000")),
        "{result:?}"
    );
    let printed = text(&out.stdout);
    for entry in &result.entries {
        assert!(printed.contains(&entry.address), "{printed}");
    }
    let expected = std::fs::read_to_string("/etc/resolv.conf")
        .map(|text| progjar_client::socket_info::nameservers(&text))
        .unwrap_or_default();
    assert_eq!(result.resolvers, expected);
    assert_eq!(result.error, None);
}

#[test]
fn socket_info_json_is_written_when_the_name_does_not_resolve() {
    let (out, result): (_, SocketInfoResult) =
        run_json(SOCKET_INFO, &["no-such-host.invalid", "80"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(result.entries.is_empty());
    assert_eq!(result.timeout_after_set_secs, Some(10.0));
    let error = result.error.expect("an error");
    assert!(
        error.contains("cannot resolve no-such-host.invalid"),
        "{error}"
    );
}

#[test]
fn time_json_after_ctrl_c_says_interrupted_and_keeps_the_sessions_done() {
    let (addr, _server) = time_server(Mode::Async);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("time.json");
    let port = addr.port().to_string();
    let child = command(
        TIME,
        &["127.0.0.1", &port, "--forever", "--interval", "0.1"],
        "warn",
    )
    .env("PROGJAR_JSON", &path)
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("starts");
    std::thread::sleep(std::time::Duration::from_millis(800));
    let signal = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signal.success());
    let out = child.wait_with_output().expect("ends");
    let run: TimeRun = support::read_json(&path, &out);
    assert!(run.interrupted, "{run:?}");
    assert!(run.sessions.len() >= 2, "{run:?}");
    let rounds: Vec<u64> = run.sessions.iter().map(|s| s.round).collect();
    let expected: Vec<u64> = (0..rounds.len() as u64).collect();
    assert_eq!(rounds, expected, "sessions in order, none lost");
    assert!(run.sessions.iter().all(|s| s.error.is_none()), "{run:?}");
}
