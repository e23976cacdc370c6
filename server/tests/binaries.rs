//! The server binaries as a student runs them: command line, logs, signals.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A server binary on an ephemeral port, with its log lines collected.
struct Running {
    child: Child,
    addr: SocketAddr,
    log: mpsc::Receiver<String>,
    /// Log lines up to and including "listening on".
    startup: Vec<String>,
}

fn start(binary: &str, args: &[&str]) -> Running {
    let mut child = Command::new(binary)
        .args(["--port", "0", "--bind", "127.0.0.1"])
        .args(args)
        .env("RUST_LOG", "info")
        .env("TZ", "UTC")
        .stderr(Stdio::piped())
        .spawn()
        .expect("server binary starts");
    let stderr = child.stderr.take().expect("stderr piped");
    let (tx, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut startup = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !startup
        .last()
        .is_some_and(|l: &String| l.contains("listening on"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        startup.push(log.recv_timeout(left).expect("server starts listening"));
    }
    let addr = startup
        .last()
        .expect("a listening line")
        .split_whitespace()
        .skip_while(|w| *w != "on")
        .nth(1)
        .expect("address after 'listening on'")
        .parse()
        .expect("a socket address");
    Running {
        child,
        addr,
        log,
        startup,
    }
}

/// Waits up to 10 s for a log line containing `needle`, and returns it.
fn wait_for(log: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match log.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => continue,
            Err(e) => panic!("no log line with {needle:?}: {e}"),
        }
    }
}

fn terminate(child: &Child) {
    let pid = i32::try_from(child.id()).expect("pid fits");
    // SAFETY: sending a signal to a child process we started has no memory effects.
    let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(rc, 0, "kill(SIGTERM)");
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("server did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn time_server_logs_peer_requests_replies_and_why_it_closed() {
    let mut server = start(env!("CARGO_BIN_EXE_time-server"), &["--show-bytes"]);
    assert!(
        server
            .startup
            .iter()
            .any(|l| l.contains("local time zone: TZ=UTC")),
        "{:?}",
        server.startup
    );
    let mut client = TcpStream::connect(server.addr).expect("connect");
    let local = client.local_addr().expect("local addr");
    client.write_all(b"TIME\r\nQUIT\r\n").expect("send");
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).expect("reply and close");
    assert!(wait_for(&server.log, "connected").contains(&local.to_string()));
    let request = wait_for(&server.log, "received");
    assert!(
        request.contains(r#""TIME\r\n" [84, 73, 77, 69, 13, 10]"#),
        "{request}"
    );
    assert!(wait_for(&server.log, "sent").contains(r#""JAM "#));
    assert!(wait_for(&server.log, "connection closed").contains("QUIT"));
    terminate(&server.child);
    assert!(wait_exit(&mut server.child, Duration::from_secs(5)).success());
}

#[test]
fn sigterm_stops_every_server_mode_quickly_with_exit_code_zero() {
    for (binary, mode) in [
        (env!("CARGO_BIN_EXE_time-server"), "async"),
        (env!("CARGO_BIN_EXE_time-server"), "thread"),
        (env!("CARGO_BIN_EXE_echo-server"), "iterative"),
    ] {
        let mut server = start(binary, &["--mode", mode, "--grace", "0.5"]);
        // An open, idle connection must not hold the server up past the grace period.
        let _idle = TcpStream::connect(server.addr).expect("connect");
        wait_for(&server.log, "connected");
        terminate(&server.child);
        let status = wait_exit(&mut server.child, Duration::from_secs(5));
        assert!(status.success(), "{binary} --mode {mode}: {status}");
    }
}

#[test]
fn a_repeated_option_takes_its_last_value() {
    // labctl runs `time-server --port 45000 --mode async` and appends what the
    // student adds: `labctl restart time --mode thread` must run thread mode.
    for (binary, args, mode) in [
        (
            env!("CARGO_BIN_EXE_time-server"),
            ["--mode", "async", "--mode", "thread"],
            "thread",
        ),
        (
            env!("CARGO_BIN_EXE_echo-server"),
            ["--mode", "iterative", "--mode", "async"],
            "async",
        ),
    ] {
        let mut server = start(binary, &args);
        let listening = server.startup.last().expect("a listening line");
        assert!(
            listening.contains(&format!("({mode} mode)")),
            "{binary} {args:?}: {listening}"
        );
        let mut client = TcpStream::connect(server.addr).expect("connect");
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        if binary.ends_with("time-server") {
            client.write_all(b"TIME\r\nQUIT\r\n").expect("send");
            let mut reply = String::new();
            client.read_to_string(&mut reply).expect("reply and close");
            assert!(reply.starts_with("JAM "), "{reply:?}");
        } else {
            client.write_all(b"hello").expect("send");
            let mut echo = [0u8; 5];
            client.read_exact(&mut echo).expect("echo");
            assert_eq!(&echo, b"hello");
        }
        drop(client);
        terminate(&server.child);
        let status = wait_exit(&mut server.child, Duration::from_secs(5));
        assert!(status.success(), "{binary} {args:?}: {status}");
    }
}

#[test]
fn a_taken_port_is_a_clear_error_with_exit_code_one() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_time-server"))
        .args(["--port", &port, "--bind", "127.0.0.1"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("already in use") && stderr.contains("--port"),
        "{stderr}"
    );
}

#[test]
fn help_explains_the_protocol_and_the_modes() {
    let output = Command::new(env!("CARGO_BIN_EXE_time-server"))
        .arg("--help")
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "TIME",
        "JAM hh:mm:ss",
        "QUIT",
        "--mode",
        "iterative",
        "telnet",
        "Exit codes",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn sigterm_right_after_the_listening_line_is_a_graceful_stop() {
    // labctl and the tests wait for "listening on", then may stop the
    // server at once: its signal handlers must be in place by then.
    for round in 0..20 {
        let mut server = start(env!("CARGO_BIN_EXE_time-server"), &["--mode", "thread"]);
        terminate(&server.child);
        let status = wait_exit(&mut server.child, Duration::from_secs(5));
        assert!(status.success(), "round {round}: {status}");
    }
}
