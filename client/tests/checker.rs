//! `time-client check` gives the right verdicts on servers written the way
//! students write them (Python, in tests/python/).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A Python server from tests/python, killed when dropped.
struct PythonServer {
    child: Child,
    port: u16,
}

impl PythonServer {
    fn start(script: &str) -> PythonServer {
        PythonServer::start_with(script, &[])
    }

    /// Starts `script` with command-line arguments.
    fn start_with(script: &str, args: &[&str]) -> PythonServer {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python");
        let mut child = Command::new("python3")
            .arg(dir.join(script))
            .args(args)
            .current_dir(&dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is needed for the checker tests");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the port");
        let port = line.trim().parse().expect("a port number");
        PythonServer { child, port }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the checker; returns its exit code and each check's verdict by name.
fn check(server: &PythonServer) -> (i32, BTreeMap<String, bool>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_time-client"))
        .args(["check", "127.0.0.1", &server.port.to_string()])
        .output()
        .expect("time-client runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let verdicts = text
        .lines()
        .filter_map(|line| {
            let (verdict, rest) = line.split_once("  ")?;
            let passed = match verdict {
                "PASS" => true,
                "FAIL" => false,
                _ => return None,
            };
            let name = rest.get(..22)?.trim().to_string();
            Some((name, passed))
        })
        .collect();
    (out.status.code().unwrap_or(-1), verdicts, text)
}

fn assert_only_failures(script: &str, expected_failures: &[&str]) {
    let server = PythonServer::start(script);
    let (code, verdicts, text) = check(&server);
    assert_eq!(verdicts.len(), 10, "{script}: ten checks:\n{text}");
    let failed: Vec<&str> = verdicts
        .iter()
        .filter(|(_, passed)| !**passed)
        .map(|(name, _)| name.as_str())
        .collect();
    let mut expected: Vec<&str> = expected_failures.to_vec();
    expected.sort_unstable();
    assert_eq!(failed, expected, "{script}:\n{text}");
    assert_eq!(
        code,
        expected.len() as i32,
        "{script}: exit code = failed checks"
    );
    for line in text.lines().filter(|l| l.starts_with("FAIL")) {
        assert!(
            line.contains("sent") || line.contains("client"),
            "{script}: a FAIL says what was sent: {line}"
        );
    }
    assert_eq!(
        text.matches("hint:").count(),
        expected.len(),
        "{script}: one hint per FAIL:\n{text}"
    );
}

#[test]
fn a_correct_threaded_python_server_passes_every_check() {
    assert_only_failures("correct_threaded.py", &[]);
}

#[test]
fn a_server_that_treats_each_recv_as_a_request_fails_the_framing_checks() {
    assert_only_failures(
        "recv_is_request.py",
        &["bare LF refused", "split request", "two in one segment"],
    );
}

#[test]
fn a_server_that_wants_exactly_time_crlf_fails_split_and_pipelined_requests() {
    assert_only_failures("exact_only.py", &["split request", "two in one segment"]);
}

#[test]
fn an_iterative_server_fails_only_the_concurrency_check_with_an_explanation() {
    assert_only_failures("correct_iterative.py", &["concurrency"]);
    let server = PythonServer::start("correct_iterative.py");
    let (_, _, text) = check(&server);
    assert!(text.contains("one client at a time (iterative)"), "{text}");
}

#[test]
fn a_server_that_puts_the_date_in_the_reply_fails_only_the_reply_format() {
    // Like the course's server_thread_time.py: "JAM dd-mm-YYYY hh:mm:ss\r\n",
    // threaded, listen(1). Every other check judges its own property.
    assert_only_failures("dated_reply.py", &["reply format"]);
    let server = PythonServer::start("dated_reply.py");
    let (code, _, text) = check(&server);
    assert_eq!(code, 1, "{text}");
    let hint = text
        .lines()
        .skip_while(|l| !l.starts_with("FAIL  reply format"))
        .find_map(|l| l.trim_start().strip_prefix("hint: "))
        .unwrap_or_else(|| panic!("reply format has a hint:\n{text}"));
    assert!(
        hint.contains("JAM hh:mm:ss") && hint.contains("no date"),
        "the hint is about the format: {hint}"
    );
    for wrong in ["iterative", "thread", "do not close", "datetime.now()"] {
        assert!(!text.contains(wrong), "no blame for {wrong:?}:\n{text}");
    }
}

#[test]
fn a_threaded_listen_1_server_passes_concurrency_even_with_a_slow_accept_loop() {
    // The course's servers call listen(1): a burst of connects overruns it and
    // waits for SYN retransmission (1 s, 3 s); with a 250 ms pause per
    // accept(), ten clients need 2.5 s of accept loop alone. Both are
    // concurrent servers and must pass, every run.
    for pause in ["0", "0.25"] {
        let server = PythonServer::start_with("threaded_listen1.py", &[pause]);
        let (code, verdicts, text) = check(&server);
        assert_eq!(
            verdicts.get("concurrency"),
            Some(&true),
            "accept pause {pause} s:\n{text}"
        );
        assert_eq!(code, 0, "accept pause {pause} s:\n{text}");
        assert!(!text.contains("hint:"), "no hint on a PASS:\n{text}");
    }
}
