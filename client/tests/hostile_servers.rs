//! The clients against hostile servers written here, on 127.0.0.1: one that
//! sends bytes without a line end forever, one that sends valid
//! `JAM 00:00:00\r\n` lines forever, one that says nothing, one that drips
//! a byte every 100 ms (or echoes that slowly), one whose reply is 1 MiB.
//! Each program must end within the bound its help states, with a message
//! that says what happened; `check` must also stay small in memory.
//!
//! Each run is killed at twice its bound, so a client that would never end
//! fails the test instead of hanging it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a hostile server does on every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attack {
    /// `x` forever, never a line end.
    EndlessBytes,
    /// `JAM 00:00:00\r\n` forever, asked or not.
    EndlessLines,
    /// Reads everything, sends nothing.
    Silent,
    /// One `x` every 100 ms, never a line end.
    Drip,
    /// Echoes what it reads, one byte every 100 ms.
    SlowEcho,
    /// Answers each read with `JAM ` + 1 MiB of `0` + CR LF.
    HugeReply,
    /// Echoes each read with 1 MiB of `0` after it, in one write.
    HugeEcho,
}

const MIB: usize = 1 << 20;

/// Starts a server on an ephemeral port of 127.0.0.1 that treats every
/// connection with `attack`; it lives as long as the test process.
fn hostile(attack: Attack) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || serve(stream, attack));
        }
    });
    port
}

/// One connection; returns when the client has gone (a write fails or EOF).
fn serve(mut stream: TcpStream, attack: Attack) {
    let mut buf = vec![0u8; 64 * 1024];
    match attack {
        Attack::EndlessBytes => {
            let bytes = vec![b'x'; 64 * 1024];
            while stream.write_all(&bytes).is_ok() {}
        }
        Attack::EndlessLines => {
            let lines = b"JAM 00:00:00\r\n".repeat(4096);
            while stream.write_all(&lines).is_ok() {}
        }
        Attack::Silent => {
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            // Even after the client's EOF: no reply, no close.
            std::thread::sleep(Duration::from_secs(300));
        }
        Attack::Drip => loop {
            if stream.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        },
        Attack::SlowEcho => {
            while let Ok(n @ 1..) = stream.read(&mut buf) {
                for &byte in &buf[..n] {
                    if stream.write_all(&[byte]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        Attack::HugeReply => {
            let mut huge = b"JAM ".to_vec();
            huge.resize(4 + MIB, b'0');
            huge.extend_from_slice(b"\r\n");
            while let Ok(1..) = stream.read(&mut buf) {
                if stream.write_all(&huge).is_err() {
                    return;
                }
            }
        }
        Attack::HugeEcho => {
            while let Ok(n @ 1..) = stream.read(&mut buf) {
                let mut echo = buf[..n].to_vec();
                echo.resize(n + MIB, b'0');
                if stream.write_all(&echo).is_err() {
                    return;
                }
            }
        }
    }
}

/// How a run of a client ended.
#[derive(Debug)]
struct Ended {
    /// Exit code; `None` if it was killed at the limit (or by a signal).
    code: Option<i32>,
    /// From the start to the exit (or the kill).
    elapsed: Duration,
    /// Peak resident memory (VmHWM) as last read while it ran, KiB.
    peak_kib: u64,
    stdout: String,
    stderr: String,
}

impl Ended {
    /// Both outputs, for failure messages.
    fn all(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }

    /// Fails unless the run ended by itself within `bound`.
    fn assert_within(&self, what: &str, bound: Duration) {
        assert!(
            self.code.is_some() && self.elapsed < bound,
            "{what}: ended {:?} after {:.1} s, must end by itself within {bound:?}\n{}",
            self.code,
            self.elapsed.as_secs_f64(),
            self.all()
        );
    }
}

/// Runs `binary ARGS...`, killing it after `limit`; reads its peak memory
/// (VmHWM, which only grows) every 20 ms while it runs.
fn run_limited(binary: &str, args: &[&str], limit: Duration) -> Ended {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("PROGJAR_JSON")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the client binary starts");
    let collect = |mut pipe: Box<dyn Read + Send>| -> JoinHandle<String> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = collect(Box::new(child.stdout.take().expect("stdout")));
    let stderr = collect(Box::new(child.stderr.take().expect("stderr")));
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let mut killed = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|status| vm_hwm_kib(&status))
        {
            peak_kib = peak_kib.max(kib);
        }
        if !killed && started.elapsed() >= limit {
            let _ = child.kill();
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ended {
        code: if killed { None } else { status.code() },
        elapsed: started.elapsed(),
        peak_kib,
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

/// `VmHWM:    8416 kB` in /proc/PID/status, in KiB.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs one client per attack at once (each against its own server), to
/// its end or `limit`; `args` makes the arguments from the port.
fn against_each(
    binary: &'static str,
    attacks: &[Attack],
    limit: Duration,
    args: fn(u16) -> Vec<String>,
) -> Vec<(Attack, Ended)> {
    let runs: Vec<_> = attacks
        .iter()
        .map(|&attack| {
            let port = hostile(attack);
            let args = args(port);
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                (attack, run_limited(binary, &args, limit))
            })
        })
        .collect();
    runs.into_iter()
        .map(|run| run.join().expect("a run"))
        .collect()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// time-client's --help: a session ends within --connect-timeout + --timeout
/// (for its one TIME) + --timeout (for the close): 6 s here.
const TIME_CLIENT_BOUND: Duration = Duration::from_secs(6);

#[test]
fn time_client_ends_by_its_deadlines_whatever_the_server_sends() {
    let ended = against_each(
        env!("CARGO_BIN_EXE_time-client"),
        &[
            Attack::EndlessBytes,
            Attack::EndlessLines,
            Attack::Silent,
            Attack::Drip,
            Attack::HugeReply,
        ],
        2 * TIME_CLIENT_BOUND,
        |port| {
            strings(&[
                "127.0.0.1",
                &port.to_string(),
                "--timeout",
                "2",
                "--connect-timeout",
                "2",
            ])
        },
    );
    for (attack, run) in ended {
        let what = format!("time-client against {attack:?}");
        run.assert_within(&what, 2 * TIME_CLIENT_BOUND);
        assert_eq!(run.code, Some(1), "{what}: a failed session\n{}", run.all());
        let expected: &[&str] = match attack {
            Attack::EndlessBytes | Attack::HugeReply => {
                &["reply to TIME #1: the server sent more than 1024 bytes without a line end"]
            }
            Attack::EndlessLines => &[
                r#"after QUIT the server sent "JAM 00:00:00\r\nJAM 00:00:00\r\n"#,
                "bytes) instead of closing the connection",
            ],
            Attack::Silent => &["no reply to TIME #1 within 2.0 s: the server sent nothing"],
            Attack::Drip => &[
                "no complete reply to TIME #1 within 2.0 s: the server sent ",
                " bytes without a line end",
            ],
            _ => unreachable!("not run"),
        };
        for text in expected {
            assert!(run.stderr.contains(text), "{what}: {text:?}\n{}", run.all());
        }
        // Whatever came, the message shows a little of it, not all of it.
        assert!(
            run.stderr.len() < 1000,
            "{what}: a short message\n{}",
            run.all()
        );
    }
}

/// time-client load's --help: a timed run ends within --duration + 2 x --timeout.
const LOAD_BOUND: Duration = Duration::from_secs(4);

#[test]
fn load_ends_by_its_deadlines_whatever_the_server_sends_or_if_none_listens() {
    let ended = against_each(
        env!("CARGO_BIN_EXE_time-client"),
        &[
            Attack::EndlessBytes,
            Attack::EndlessLines,
            Attack::Silent,
            Attack::Drip,
            Attack::HugeReply,
        ],
        2 * LOAD_BOUND,
        |port| {
            strings(&[
                "load",
                "127.0.0.1",
                &port.to_string(),
                "--connections",
                "2",
                "--duration",
                "2",
                "--timeout",
                "1",
                "--json",
            ])
        },
    );
    for (attack, run) in ended {
        let what = format!("load against {attack:?}");
        run.assert_within(&what, 2 * LOAD_BOUND);
        assert_eq!(run.code, Some(1), "{what}\n{}", run.all());
        let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON report");
        let key = match attack {
            Attack::EndlessBytes | Attack::HugeReply => "reply line too long",
            Attack::EndlessLines => "line nobody asked for",
            Attack::Silent | Attack::Drip => "reply timeout",
            _ => unreachable!("not run"),
        };
        assert!(
            report["errors"][key].as_u64().is_some_and(|n| n > 0),
            "{what}: errors by kind has {key:?}: {report}"
        );
        if attack != Attack::EndlessLines {
            assert_eq!(report["requests"], 0, "{what}: {report}");
        }
    }

    // With --total and nothing listening: each connection refused uses up
    // its requests, so the run ends (it used to retry forever).
    let port = closed_port();
    let run = run_limited(
        env!("CARGO_BIN_EXE_time-client"),
        &[
            "load",
            "127.0.0.1",
            &port.to_string(),
            "--total",
            "1",
            "--json",
        ],
        Duration::from_secs(20),
    );
    run.assert_within(
        "load --total 1 with nothing listening",
        Duration::from_secs(10),
    );
    assert_eq!(run.code, Some(1), "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON report");
    assert_eq!(report["requests"], 0, "{report}");
    assert_eq!(report["errors"]["connect refused"], 1, "{report}");
    assert_eq!(
        report["errors"].as_object().map(|e| e.len()),
        Some(1),
        "{report}"
    );

    // And with --total against a server that drips: each request's reply
    // has its deadline, so the run ends after a few timeouts.
    let port = hostile(Attack::Drip);
    let run = run_limited(
        env!("CARGO_BIN_EXE_time-client"),
        &[
            "load",
            "127.0.0.1",
            &port.to_string(),
            "--connections",
            "2",
            "--total",
            "4",
            "--timeout",
            "1",
            "--json",
        ],
        Duration::from_secs(20),
    );
    // Two rounds of two connections: a connect, a reply and a close each, 1 s apiece.
    run.assert_within("load --total 4 against a drip", Duration::from_secs(12));
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON report");
    assert_eq!(report["errors"]["reply timeout"], 4, "{report}");
}

/// A port on 127.0.0.1 where nothing listens (it was just free).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// echo-client's --help: the echo must be back --timeout after the send,
/// after a connect of at most --connect-timeout: 4 s here.
const ECHO_CLIENT_BOUND: Duration = Duration::from_secs(4);

#[test]
fn echo_client_ends_by_its_deadline_whatever_the_server_sends() {
    let ended = against_each(
        env!("CARGO_BIN_EXE_echo-client"),
        &[
            Attack::EndlessBytes,
            Attack::EndlessLines,
            Attack::Silent,
            Attack::SlowEcho,
            Attack::HugeEcho,
        ],
        2 * ECHO_CLIENT_BOUND,
        |port| {
            strings(&[
                "127.0.0.1",
                &port.to_string(),
                "--message",
                &"m".repeat(1000),
                "--timeout",
                "2",
                "--connect-timeout",
                "2",
            ])
        },
    );
    for (attack, run) in ended {
        let what = format!("echo-client against {attack:?}");
        run.assert_within(&what, 2 * ECHO_CLIENT_BOUND);
        assert_eq!(run.code, Some(1), "{what}\n{}", run.all());
        let expected: &[&str] = match attack {
            Attack::EndlessBytes => &["echo differs at byte 0"],
            Attack::EndlessLines => &["echo differs at byte 0"],
            Attack::Silent => {
                &["0 of 1000 bytes of the echo came back within 2.0 s of the send, the deadline"]
            }
            Attack::SlowEcho => {
                &[" of 1000 bytes of the echo came back within 2.0 s of the send, the deadline"]
            }
            Attack::HugeEcho => &["echo is longer than what was sent: 1000 bytes sent"],
            _ => unreachable!("not run"),
        };
        for text in expected {
            assert!(run.stderr.contains(text), "{what}: {text:?}\n{}", run.all());
        }
    }
}

/// echo-client check's --help.
const ECHO_CHECK_BOUND: Duration = Duration::from_secs(40);

#[test]
fn echo_check_ends_within_its_bound_whatever_the_server_sends() {
    let ended = against_each(
        env!("CARGO_BIN_EXE_echo-client"),
        &[
            Attack::EndlessBytes,
            Attack::EndlessLines,
            Attack::Silent,
            Attack::SlowEcho,
            Attack::HugeEcho,
        ],
        2 * ECHO_CHECK_BOUND,
        |port| strings(&["check", "127.0.0.1", &port.to_string()]),
    );
    for (attack, run) in ended {
        let what = format!("echo-client check against {attack:?}");
        run.assert_within(&what, 2 * ECHO_CHECK_BOUND);
        let expected: &[&str] = match attack {
            Attack::EndlessBytes => &[
                "FAIL  byte-exact echo       echo differs at byte 0",
                r#"FAIL  concurrency model    the first client sent "a" and got "x" instead of its echo"#,
            ],
            Attack::EndlessLines => &[
                "FAIL  byte-exact echo       echo differs at byte 0",
                r#"FAIL  concurrency model    the first client sent "a" and got "J" instead of its echo"#,
            ],
            Attack::Silent => &[
                "FAIL  byte-exact echo       only 0 of 1048576 bytes came back within 10 s of connecting",
                r#"FAIL  concurrency model    the first client sent "a" and got nothing back within 5 s"#,
            ],
            Attack::SlowEcho => &[
                "bytes came back within 10 s of connecting (correct so far)",
                "INFO  concurrency model    concurrent",
            ],
            // Its first write holds one byte, then 1 MiB of "0".
            Attack::HugeEcho => &["FAIL  byte-exact echo       echo differs at byte "],
            _ => unreachable!("not run"),
        };
        for text in expected {
            assert!(run.stdout.contains(text), "{what}: {text:?}\n{}", run.all());
        }
        let failed = run.stdout.lines().filter(|l| l.starts_with("FAIL")).count();
        assert_eq!(
            run.code,
            Some(failed as i32),
            "{what}: exit code = FAILs\n{}",
            run.all()
        );
    }
}

/// time-client check's --help.
const TIME_CHECK_BOUND: Duration = Duration::from_secs(70);

/// The ten checks' summary line, e.g. "3 of 10 checks passed".
fn summary(stdout: &str) -> Option<&str> {
    stdout.lines().find(|l| l.ends_with("of 10 checks passed"))
}

/// The PASS/FAIL line of check `name`.
fn check_line<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(name)))
        .unwrap_or_else(|| panic!("no line for {name}:\n{stdout}"))
}

/// Peak memory allowed to `check`: the runtime and the binary take about
/// 8 MiB; what the server sends must not add up.
const TIME_CHECK_MEMORY_KIB: u64 = 32 * 1024;

#[test]
fn time_check_ends_within_its_bound_in_little_memory_whatever_the_server_sends() {
    let ended = against_each(
        env!("CARGO_BIN_EXE_time-client"),
        &[
            Attack::EndlessBytes,
            Attack::EndlessLines,
            Attack::Silent,
            Attack::Drip,
            Attack::HugeReply,
        ],
        2 * TIME_CHECK_BOUND,
        |port| strings(&["check", "127.0.0.1", &port.to_string()]),
    );
    for (attack, run) in ended {
        let what = format!("time-client check against {attack:?}");
        eprintln!(
            "{what}: {:.1} s, peak RSS (VmHWM) {} KiB",
            run.elapsed.as_secs_f64(),
            run.peak_kib
        );
        run.assert_within(&what, 2 * TIME_CHECK_BOUND);
        assert!(summary(&run.stdout).is_some(), "{what}\n{}", run.all());
        assert!(
            run.peak_kib > 0 && run.peak_kib < TIME_CHECK_MEMORY_KIB,
            "{what}: peak RSS {} KiB\n{}",
            run.peak_kib,
            run.all()
        );
        let reply_format = check_line(&run.stdout, "reply format");
        let quit = check_line(&run.stdout, "QUIT closes");
        let expected: &[(&str, &str)] = match attack {
            Attack::EndlessBytes => &[
                (
                    reply_format,
                    r#"FAIL  reply format           sent "TIME\r\n", and the server sent "#,
                ),
                (reply_format, r#" MiB) without a line end, beginning "xxxx"#),
                (reply_format, "; the client stopped reading there"),
            ],
            Attack::EndlessLines => &[
                // Every line is a JAM line, but unasked, and no close.
                (
                    quit,
                    r#"FAIL  QUIT closes            sent "QUIT\r\n", got "JAM 00:00:00\r\n""#,
                ),
                (quit, "more and no close within 1 s"),
            ],
            Attack::HugeReply => &[(
                reply_format,
                r#"FAIL  reply format           sent "TIME\r\n", and the server sent a line of 1048582 bytes (1.0 MiB) with its line end (at most 1024 allowed), beginning "JAM 0000"#,
            )],
            Attack::Silent => &[(
                reply_format,
                r#"FAIL  reply format           sent "TIME\r\n", and no complete reply line came within 2s"#,
            )],
            Attack::Drip => &[(
                reply_format,
                r#"FAIL  reply format           sent "TIME\r\n", and no complete reply line came within 2s (partial: "xxx"#,
            )],
            _ => unreachable!("not run"),
        };
        for (line, text) in expected {
            assert!(line.contains(text), "{what}: {text:?}\n{}", run.all());
        }
        if attack == Attack::Silent {
            assert!(!reply_format.contains("partial"), "{what}\n{}", run.all());
        }
        let failed = run.stdout.lines().filter(|l| l.starts_with("FAIL")).count();
        assert_eq!(
            run.code,
            Some(failed as i32),
            "{what}: exit code = FAILs\n{}",
            run.all()
        );
    }
}
