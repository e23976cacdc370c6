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
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python");
        let mut child = Command::new("python3")
            .arg(dir.join(script))
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
