//! `experiment report` on run folders written here: a capture made with the
//! test kit, the plan the experiment really makes, the runner's records and
//! the clients' JSON results. Each test checks that every sentence comes from
//! those facts, in both languages, including runs that went wrong.

use std::path::Path;
use std::process::Command;

use progjar_client::results::{
    AddrInfo, CrlfExchange, CrlfOutcome, CrlfProbeResult, EchoMode, EchoResult, SocketInfoResult,
    TimeRun, TimeSessionResult,
};
use progjar_experiment::lang::{message_ids, Lang};
use progjar_experiment::plan::Settings;
use progjar_experiment::registry;
use progjar_testkit::{CaptureBuilder, Direction::*, TcpSession};
use serde::Serialize;

/// What became of one planned command, by its id.
struct Outcome {
    id: u32,
    exit: i32,
    log: &'static str,
    result: Option<serde_json::Value>,
}

fn outcome(id: u32, exit: i32, log: &'static str, result: Option<impl Serialize>) -> Outcome {
    Outcome {
        id,
        exit,
        log,
        result: result.map(|r| serde_json::to_value(r).expect("result as JSON")),
    }
}

/// The server side of a run: its command line, its log, whether it listened
/// (and, for ours, whether it was running at all).
struct ServerSide {
    cmdline: &'static str,
    log: &'static str,
    listening: bool,
    /// Written for our server only.
    ours_running: Option<bool>,
}

const OUR_TIME_SERVER: ServerSide = ServerSide {
    cmdline: "time-server --port 45000 --mode async",
    log: "listening on 0.0.0.0:45000\n",
    listening: true,
    ours_running: Some(true),
};

const OUR_FILE_ECHO_SERVER: ServerSide = ServerSide {
    cmdline: "echo-server --port 32444 --mode iterative",
    log: "",
    listening: true,
    ours_running: Some(true),
};

const OUR_ECHO_SERVER: ServerSide = ServerSide {
    cmdline: "echo-server --port 10000 --mode iterative",
    log: "listening on 0.0.0.0:10000\n",
    listening: true,
    ours_running: Some(true),
};

/// A run folder as `make scenario` leaves it.
fn folder(
    scenario: &str,
    env: &[(&str, &str)],
    capture: &CaptureBuilder,
    outcomes: &[Outcome],
    server: Option<&ServerSide>,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path();
    let s = registry::find(scenario).expect("a known scenario");
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let settings = Settings::from_lookup(s.params(), |name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    });
    let plan = s.plan(&settings).expect("a plan");
    std::fs::create_dir_all(path.join("logs")).expect("logs");
    std::fs::create_dir_all(path.join("results")).expect("results");
    std::fs::write(
        path.join("plan.json"),
        serde_json::to_string(&plan).expect("plan"),
    )
    .expect("plan.json");
    capture
        .write_pcap(path.join("capture.pcap"))
        .expect("capture");
    let mut runs = String::new();
    for o in outcomes {
        let planned = plan
            .commands()
            .find(|c| c.id == o.id)
            .expect("a planned id");
        std::fs::write(path.join(planned.log_file()), o.log).expect("log");
        if let Some(result) = &o.result {
            std::fs::write(path.join(planned.result_file()), result.to_string()).expect("result");
        }
        runs.push_str(&format!(
            "{{\"id\":{},\"exit\":{},\"started\":1700000000.0,\"ended\":1700000001.0}}\n",
            o.id, o.exit
        ));
    }
    std::fs::write(path.join("runs.jsonl"), runs).expect("runs");
    if let Some(server) = server {
        std::fs::write(path.join("logs/mesin-1-server.cmdline"), server.cmdline).expect("cmdline");
        std::fs::write(path.join("logs/mesin-1-server.log"), server.log).expect("server log");
        std::fs::write(
            path.join("server-status.json"),
            match server.ours_running {
                Some(running) => format!(
                    "{{\"listening\":{},\"ours_running\":{running}}}",
                    server.listening
                ),
                None => format!("{{\"listening\":{}}}", server.listening),
            },
        )
        .expect("status");
    }
    dir
}

/// Runs `experiment report` in `lang`; returns REPORT.md.
fn report(dir: &Path, lang: Lang) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_experiment"))
        .arg("report")
        .arg(dir)
        .args(["--lang", lang.tag()])
        .env_remove("REPORT_LANG")
        .output()
        .expect("experiment runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("REPORT.md")).expect("REPORT.md");
    for id in message_ids(Lang::En.source()) {
        assert!(
            !text.contains(&format!("[{id}]")),
            "message {id} missing in {lang:?}:\n{text}"
        );
    }
    assert!(
        !text.contains("{$"),
        "an argument was not filled in:\n{text}"
    );
    text
}

fn findings(dir: &Path) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(dir.join("findings.json")).expect("findings.json"),
    )
    .expect("findings.json is JSON")
}

/// What the runner writes when mesin-2's link lost `percent`% (iptables fallback).
fn record_lossy_link(dir: &Path, percent: u32) {
    std::fs::write(
        dir.join("impairment.json"),
        format!(r#"{{"machine":"mesin-2","method":"iptables","loss_percent":{percent},"delay_ms":null,"jitter_ms":null,"rate":null}}"#),
    )
    .expect("impairment");
}

/// A run folder of one echo-client (command 1) against our file echo server.
fn file_echo_run(
    scenario: &str,
    capture: &CaptureBuilder,
    result: EchoResult,
) -> tempfile::TempDir {
    folder(
        scenario,
        &[],
        capture,
        &[outcome(1, 0, "", Some(result))],
        Some(&OUR_FILE_ECHO_SERVER),
    )
}

/// A capture of one session.
fn capture_of(session: &TcpSession) -> CaptureBuilder {
    let mut capture = CaptureBuilder::new();
    capture.add_session(session);
    capture
}

/// A run folder of one client (command 1) against our time server.
fn time_server_run(
    scenario: &str,
    env: &[(&str, &str)],
    capture: &CaptureBuilder,
    client: Outcome,
) -> tempfile::TempDir {
    folder(scenario, env, capture, &[client], Some(&OUR_TIME_SERVER))
}

fn echo_result(bytes: u64, pieces: u64, identical: bool, error: Option<&str>) -> EchoResult {
    EchoResult {
        server: "172.16.16.101:10000".into(),
        local: Some("172.16.16.102:40000".into()),
        mode: EchoMode::Lockstep,
        rounds_planned: 1,
        rounds_sent: 1,
        bytes_sent: bytes,
        bytes_received: if identical { bytes } else { bytes / 2 },
        pieces,
        chunk: 16,
        payload_bytes: bytes,
        identical,
        half_closed: false,
        error: error.map(str::to_string),
    }
}

/// An echo of `message` from mesin-`octet` at `t0`; the echo comes at `t_echo`.
fn echo_session(octet: u8, port: u16, t0: f64, t_echo: f64, t_fin: f64) -> TcpSession {
    let mut s = TcpSession::new(&format!("172.16.16.{octet}:{port}"), "172.16.16.101:10000");
    s.handshake(t0);
    s.send(ClientToServer, t0 + 0.001, b"halo");
    s.send(ServerToClient, t_echo, b"halo");
    s.close(ClientToServer, t_fin);
    s
}

/// A t1-iterative run folder: mesin-2's and mesin-3's echo sessions as
/// `(connect, echo, close)` times, both clients satisfied with their echo.
fn iterative_run(mesin_2: (f64, f64, f64), mesin_3: (f64, f64, f64)) -> tempfile::TempDir {
    let mut capture = CaptureBuilder::new();
    capture.add_session(&echo_session(102, 40000, mesin_2.0, mesin_2.1, mesin_2.2));
    capture.add_session(&echo_session(103, 40001, mesin_3.0, mesin_3.1, mesin_3.2));
    let ok = Some(echo_result(4, 1, true, None));
    folder(
        "t1-iterative",
        &[("T1_INTERVAL", "1")],
        &capture,
        &[
            outcome(1, 0, "log\n", ok.clone()),
            outcome(2, 0, "log\n", ok),
        ],
        Some(&OUR_ECHO_SERVER),
    )
}

#[test]
fn the_iterative_wait_is_computed_from_the_capture() {
    // mesin-2 is served at once; mesin-3 connects meanwhile but waits until
    // mesin-2's connection is over.
    let dir = iterative_run((0.0, 0.002, 0.003), (0.0021, 6.0, 6.001));
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains("mesin-3 connected at 0.002 s but got its first echo byte only at 6.000 s"),
        "{text}"
    );
    assert!(
        text.contains("until mesin-2's connection ended (at 0.003 s)"),
        "{text}"
    );
    assert!(
        text.contains("The server serves one client at a time."),
        "{text}"
    );
    assert!(
        text.contains(
            "| mesin-2 | `echo-client 172.16.16.101 10000 --repeat 3 --interval 1` | 0 |"
        ),
        "{text}"
    );
    assert!(
        text.contains("| mesin-1 | `echo-server --port 10000 --mode iterative` (our server)"),
        "{text}"
    );
    assert!(
        text.contains("**Three-way handshake.**") && text.contains("[SYN,ACK] seq=0, ack=1"),
        "{text}"
    );
    assert!(
        text.contains("This run showed what the experiment is about."),
        "{text}"
    );
    assert_eq!(findings(dir.path())["facts"]["second_waited"], true);
    for file in [
        "summary.txt",
        "summary.json",
        "timeline.svg",
        "findings.json",
    ] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    let indonesian = report(dir.path(), Lang::Id);
    assert!(
        indonesian.contains("## Temuan")
            && indonesian.contains("Server melayani satu klien pada satu waktu"),
        "{indonesian}"
    );
}

#[test]
fn overlapping_service_is_reported_as_such_not_as_waiting() {
    let dir = iterative_run((0.0, 0.1, 0.5), (0.1, 0.2, 0.3));
    let text = report(dir.path(), Lang::En);
    assert!(text.contains("the server served both at once"), "{text}");
    assert!(!text.contains("one client at a time"), "{text}");
    assert!(
        text.contains("did not show what the experiment is about"),
        "{text}"
    );
}

/// The file echo with one lost segment each way: the capture holds the
/// bytes that went twice, the client read each byte once.
#[test]
fn a_lossy_file_echo_states_stream_bytes_and_names_the_retransmissions() {
    let file: Vec<u8> = (0..35149u32)
        .map(|i| b"GNU GPL received \"x\" "[i as usize % 21])
        .collect();
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:32444");
    s.handshake(0.0);
    let mut t = 0.01;
    let mut first = None;
    for piece in file.chunks(1448) {
        let sent = s.send(ClientToServer, t, piece);
        first.get_or_insert(sent);
        s.send(ServerToClient, t + 0.0005, piece);
        t += 0.001;
    }
    // The first segment is sent again 200 ms later: 1448 bytes twice on the wire.
    s.retransmit(t + 0.2, first.expect("a segment"));
    s.close(ClientToServer, t + 0.3);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&s);
    // The log says "received \"" many times: the report must not count that.
    let log = "received \"GNU\"\nreceived \"GPL\"\nreceived \"x\"\n";
    let dir = folder(
        "t1-file",
        &[],
        &capture,
        &[outcome(
            1,
            0,
            log,
            Some(echo_result(35149, 2197, true, None)),
        )],
        Some(&OUR_FILE_ECHO_SERVER),
    );
    record_lossy_link(dir.path(), 5);
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains("During this run mesin-2's link dropped 5% of the packets it sent and received, at random"),
        "{text}"
    );
    assert!(
        text.contains(
            "mesin-2 sent 35149 bytes to port 32444 and got the same 35149 back (stream bytes)."
        ),
        "{text}"
    );
    assert!(text.contains("On the wire that was 36597 payload bytes out and 35149 back, because 1 segment was sent again."), "{text}");
    assert!(
        text.contains("read the echo in 2197 pieces of at most 16 bytes"),
        "{text}"
    );
    assert!(
        text.contains("1448 payload bytes crossed the wire more than once"),
        "{text}"
    );
    let facts = findings(dir.path());
    assert_eq!(facts["facts"]["conversations"][0]["stream_sent"], 35149);
    assert_eq!(facts["facts"]["conversations"][0]["wire_sent"], 36597);
    report(dir.path(), Lang::Id);
}

#[test]
fn a_crashed_client_is_reported_with_its_exit_code_and_last_lines() {
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:10000");
    s.handshake(0.0);
    s.send(ClientToServer, 0.01, b"INI ADALAH DATA");
    s.rst(ClientToServer, 0.02);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&s);
    let log = "connected\nthread 'main' panicked at src/main.rs:3:5:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
    let dir = folder(
        "t1-echo",
        &[],
        &capture,
        &[outcome(1, 101, log, None::<EchoResult>)],
        Some(&OUR_ECHO_SERVER),
    );
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains("`echo-client 172.16.16.101 10000` on mesin-2 exited with code 101."),
        "{text}"
    );
    assert!(
        text.contains("The last lines of `echo-client 172.16.16.101 10000` on mesin-2:"),
        "{text}"
    );
    assert!(text.contains("ended without writing its result"), "{text}");
    assert!(text.contains("ended with RST from mesin-2"), "{text}");
    assert!(
        text.contains("did not show what the experiment is about"),
        "{text}"
    );
    // The traceback is shown as output, never inside a sentence.
    let findings_section = text
        .split("## Findings")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .unwrap_or("");
    assert!(!findings_section.contains("panicked"), "{findings_section}");
    assert_eq!(findings(dir.path())["as_expected"], false);
    report(dir.path(), Lang::Id);
}

fn crlf_result(outcomes: Vec<(&str, CrlfOutcome)>) -> CrlfProbeResult {
    CrlfProbeResult {
        server: "172.16.16.101:45000".into(),
        local: Some("172.16.16.102:40000".into()),
        connected: true,
        passed: false,
        failures: Vec::new(),
        requests: outcomes
            .into_iter()
            .map(|(sent, outcome)| CrlfExchange {
                sent: sent.into(),
                outcome,
                elapsed_secs: 0.0,
                partial: None,
            })
            .collect(),
        error: None,
    }
}

/// A student's server that waits for CR LF: it never answers the bare LF
/// line; its one JAM comes after the client's FIN and is answered with RST.
#[test]
fn a_server_that_never_answers_a_bare_lf_is_not_said_to_send_error() {
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:45000");
    s.handshake(0.0);
    s.send(ClientToServer, 0.01, b"TIME\n");
    s.send(ClientToServer, 2.01, b"HELLO\r\n");
    s.send(ClientToServer, 4.01, b"TIME\r\n");
    s.fin(ClientToServer, 6.01);
    s.send(ServerToClient, 6.02, b"JAM 10:00:00\r\n");
    s.rst(ClientToServer, 6.03);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&s);
    let probe = crlf_result(vec![
        ("TIME\\n", CrlfOutcome::Nothing { waited_secs: 2.0 }),
        ("HELLO\\r\\n", CrlfOutcome::Nothing { waited_secs: 2.0 }),
        ("TIME\\r\\n", CrlfOutcome::Nothing { waited_secs: 2.0 }),
        ("QUIT\\r\\n", CrlfOutcome::Nothing { waited_secs: 2.0 }),
    ]);
    let dir = folder(
        "t2-crlf",
        &[("SERVER", "python3 /work/server_waktu.py")],
        &capture,
        &[outcome(
            1,
            1,
            "sent \"TIME\\n\" -> nothing within 2.0 s\n",
            Some(probe),
        )],
        Some(&ServerSide {
            cmdline: "python3 /work/server_waktu.py",
            log: "",
            listening: true,
            ours_running: None,
        }),
    );
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains(
            "A student's server stood in for ours on mesin-1: `python3 /work/server_waktu.py`."
        ),
        "{text}"
    );
    assert!(
        text.contains("`TIME\\n` got nothing within 2.0 s."),
        "{text}"
    );
    assert!(
        text.contains("The server answered none of the requests, so this run does not show how it handles CR LF."),
        "{text}"
    );
    assert!(!text.contains("got ERROR"), "{text}");
    assert!(!text.contains("Only the line that ends in CR LF"), "{text}");
    assert!(text.contains("ended with RST from mesin-2"), "{text}");
    assert!(text.contains("exited with code 1"), "{text}");
    report(dir.path(), Lang::Id);
}

#[test]
fn our_time_server_answers_crlf_as_the_assignment_asks() {
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:45000");
    s.handshake(0.0);
    let error = b"ERROR lines must end in CR LF\r\n";
    s.send(ClientToServer, 0.01, b"TIME\n");
    s.send(ServerToClient, 0.011, error);
    s.send(ClientToServer, 0.02, b"HELLO\r\n");
    s.send(ServerToClient, 0.021, b"ERROR unknown command\r\n");
    s.send(ClientToServer, 0.03, b"TIME\r\n");
    s.send(ServerToClient, 0.031, b"JAM 10:00:00\r\n");
    s.send(ClientToServer, 0.04, b"QUIT\r\n");
    s.close(ServerToClient, 0.041);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&s);
    let probe = crlf_result(vec![
        (
            "TIME\\n",
            CrlfOutcome::Error {
                line: "ERROR lines must end in CR LF\\r\\n".into(),
            },
        ),
        (
            "HELLO\\r\\n",
            CrlfOutcome::Error {
                line: "ERROR unknown command\\r\\n".into(),
            },
        ),
        (
            "TIME\\r\\n",
            CrlfOutcome::Reply {
                line: "JAM 10:00:00\\r\\n".into(),
            },
        ),
        ("QUIT\\r\\n", CrlfOutcome::Closed),
    ]);
    let dir = time_server_run("t2-crlf", &[], &capture, outcome(1, 0, "", Some(probe)));
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains("`TIME\\n` got ERROR: `ERROR lines must end in CR LF\\r\\n`."),
        "{text}"
    );
    assert!(
        text.contains("`TIME\\r\\n` got a reply: `JAM 10:00:00\\r\\n`."),
        "{text}"
    );
    assert!(
        text.contains("Only the line that ends in CR LF and begins with TIME got JAM"),
        "{text}"
    );
    assert!(
        text.contains("This run showed what the experiment is about."),
        "{text}"
    );
    report(dir.path(), Lang::Id);
}

#[test]
fn a_time_session_counts_requests_split_over_segments_once() {
    let (capture, run) = time_session_with_a_split_request();
    let dir = time_server_run("t2-time", &[], &capture, outcome(1, 0, "", Some(run)));
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains("mesin-2 sent TIME 2 times and got 2 JAM replies (`JAM 10:00:00\\r\\n`, `JAM 10:00:01\\r\\n`), then QUIT; the server sent the first FIN."),
        "{text}"
    );
    assert!(
        text.contains("time-client on mesin-2 ran 1 session and checked 2 replies"),
        "{text}"
    );
    let id = report(dir.path(), Lang::Id);
    assert!(
        id.contains("mesin-2 mengirim TIME 2 kali dan menerima 2 balasan JAM"),
        "{id}"
    );
}

#[test]
fn a_run_with_our_server_stopped_calls_no_program_ours() {
    // `labctl stop time`, then a program started by hand on port 45000,
    // and no SERVER=...: the runner found no server of ours running.
    let stopped = ServerSide {
        cmdline: "",
        log: "",
        listening: true,
        ours_running: Some(false),
    };
    let (capture, run) = time_session_with_a_split_request();
    let dir = folder(
        "t2-time",
        &[],
        &capture,
        &[outcome(1, 0, "", Some(run))],
        Some(&stopped),
    );
    let text = report(dir.path(), Lang::En);
    assert!(!text.contains("(our server)"), "{text}");
    assert!(
        text.contains("| mesin-1 | `?` (not ours: ours was not running) | - | - |"),
        "{text}"
    );
    assert!(
        text.contains("Our server was not running on mesin-1 (stopped with `labctl stop`?), yet a program listened on port 45000: this report shows that program, not ours."),
        "{text}"
    );
    assert_eq!(findings(dir.path())["common"]["server"]["who"], "unknown");
    // Our stopped server's log is not the log of the program that answered.
    assert!(!text.contains("mesin-1 — the server's log"), "{text}");
    let id = report(dir.path(), Lang::Id);
    assert!(id.contains("Server kami tidak berjalan di mesin-1"), "{id}");
    assert!(!id.contains("(server kami)"), "{id}");
}

/// One TIME session whose first request came in two segments.
fn time_session_with_a_split_request() -> (CaptureBuilder, TimeRun) {
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:45000");
    s.handshake(0.0);
    s.send(ClientToServer, 0.01, b"TI");
    s.send(ClientToServer, 0.02, b"ME\r\n");
    s.send(ServerToClient, 0.021, b"JAM 10:00:00\r\n");
    s.send(ClientToServer, 1.02, b"TIME\r\n");
    s.send(ServerToClient, 1.021, b"JAM 10:00:01\r\n");
    s.send(ClientToServer, 1.03, b"QUIT\r\n");
    s.close(ServerToClient, 1.031);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&s);
    let run = TimeRun {
        server: "172.16.16.101:45000".into(),
        interrupted: false,
        sessions: vec![TimeSessionResult {
            client: 1,
            round: 1,
            local: None,
            requests_sent: 2,
            replies: vec!["JAM 10:00:00".into(), "JAM 10:00:01".into()],
            quit_sent: true,
            closed_by_server: true,
            error: None,
        }],
    };
    (capture, run)
}

#[test]
fn socket_info_explains_an_empty_capture_from_the_resolvers_it_reported() {
    let capture = CaptureBuilder::new();
    let result = SocketInfoResult {
        host: "mesin-1".into(),
        port: "45000".into(),
        entries: vec![AddrInfo {
            family: "AF_INET".into(),
            socket_type: "SOCK_STREAM".into(),
            protocol: "IPPROTO_TCP".into(),
            address: "172.16.16.101:45000".into(),
        }],
        default_timeout_secs: None,
        timeout_requested_secs: 10.0,
        timeout_after_set_secs: Some(10.0),
        resolvers: vec!["127.0.0.11".into()],
        error: None,
    };
    let dir = folder(
        "t1-socket-info",
        &[],
        &capture,
        &[
            outcome(1, 0, "", Some(result.clone())),
            outcome(2, 0, "", Some(result)),
        ],
        None,
    );
    let text = report(dir.path(), Lang::En);
    assert!(text.contains("On mesin-2, `socket-info mesin-1 45000` got 1 getaddrinfo entry: 172.16.16.101:45000 as SOCK_STREAM."), "{text}");
    assert!(
        text.contains(
            "On mesin-2 a new socket had no timeout (None: it blocks); after settimeout(10) it had 10 s."
        ),
        "{text}"
    );
    assert!(
        text.contains("or by the resolver at 127.0.0.11 from /etc/resolv.conf"),
        "{text}"
    );
    report(dir.path(), Lang::Id);
}

#[test]
fn a_folder_without_a_capture_is_a_clear_error() {
    let dir = folder("t2-time", &[], &CaptureBuilder::new(), &[], None);
    std::fs::remove_file(dir.path().join("capture.pcap")).expect("removed");
    let out = Command::new(env!("CARGO_BIN_EXE_experiment"))
        .arg("report")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("capture.pcap"));
}

#[test]
fn plans_print_one_line_per_command_and_refuse_bad_settings() {
    let out = Command::new(env!("CARGO_BIN_EXE_experiment"))
        .args(["plan", "t2-concurrent"])
        .env("T2_CLIENTS", "2")
        .env("LAB_NET", "10.77.0")
        .env_remove("SERVER")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let runs: Vec<&str> = text.lines().filter(|l| l.starts_with("run\t")).collect();
    assert_eq!(runs.len(), 2, "{text}");
    assert!(
        runs[1].ends_with(
            "\ttime-client 10.77.0.101 45000 --clients 2 --stagger 1 --count 3 --interval 1"
        ),
        "{text}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_experiment"))
        .args(["plan", "t2-concurrent"])
        .env("T2_CLIENTS", "many")
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("T2_CLIENTS=many"));
}

fn time_session(octet: u8, port: u16, t0: f64, replies_at: &[f64], t_end: f64) -> TcpSession {
    let mut s = TcpSession::new(&format!("172.16.16.{octet}:{port}"), "172.16.16.101:45000");
    s.handshake(t0);
    // Each request as soon as the reply before it came (the first one right
    // after the handshake), each reply when `replies_at` says.
    let mut request_at = t0 + 0.001;
    for t in replies_at {
        s.send(ClientToServer, request_at, b"TIME\r\n");
        s.send(ServerToClient, *t, b"JAM 10:00:00\r\n");
        request_at = t + 0.0001;
    }
    s.send(ClientToServer, t_end - 0.001, b"QUIT\r\n");
    s.close(ServerToClient, t_end);
    s
}

fn good_time_run(requests: u32) -> TimeRun {
    TimeRun {
        server: "172.16.16.101:45000".into(),
        interrupted: false,
        sessions: vec![TimeSessionResult {
            client: 1,
            round: 1,
            local: None,
            requests_sent: requests,
            replies: vec!["JAM 10:00:00".into(); requests as usize],
            quit_sent: true,
            closed_by_server: true,
            error: None,
        }],
    }
}

/// An iterative time server: both clients connect at once, mesin-3 is
/// answered only when mesin-2's connection has ended. Open together is not
/// served together.
#[test]
fn an_iterative_time_server_is_not_called_concurrent() {
    let mut capture = CaptureBuilder::new();
    capture.add_session(&time_session(102, 40000, 0.0, &[0.01], 1.0));
    capture.add_session(&time_session(103, 40001, 0.001, &[1.01], 2.0));
    let dir = folder(
        "t2-concurrent",
        &[("T2_CLIENTS", "1")],
        &capture,
        &[
            outcome(1, 0, "", Some(good_time_run(1))),
            outcome(2, 0, "", Some(good_time_run(1))),
        ],
        Some(&OUR_TIME_SERVER),
    );
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains("were answered one at a time: up to 2 were open at once"),
        "{text}"
    );
    assert!(!text.contains("concurrently"), "{text}");
    assert_eq!(findings(dir.path())["as_expected"], false);
    report(dir.path(), Lang::Id);
}

#[test]
fn a_concurrent_time_server_is_called_concurrent() {
    let dir = concurrent_report(Lang::En);
    let text = std::fs::read_to_string(dir.path().join("REPORT.md")).expect("REPORT.md");
    assert!(text.contains("Up to 2 of the 2 connections to port 45000 (from mesin-2, mesin-3) were being answered at the same time"), "{text}");
    assert_eq!(findings(dir.path())["as_expected"], true);
}

#[test]
fn clients_that_did_not_overlap_cannot_show_an_iterative_wait() {
    let dir = iterative_run((0.0, 0.002, 0.003), (0.5, 0.6, 0.7));
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains("the two connections did not overlap"),
        "{text}"
    );
    assert!(
        !text.contains("The server serves one client at a time."),
        "{text}"
    );
    assert_eq!(findings(dir.path())["as_expected"], false);
    report(dir.path(), Lang::Id);
}

#[test]
fn a_long_time_session_is_counted_whole_or_said_to_be_partial() {
    for (requests, whole) in [(30u32, true), (150, false)] {
        let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:45000");
        s.handshake(0.0);
        for i in 0..requests {
            let t = 0.01 + f64::from(i) * 0.01;
            s.send(ClientToServer, t, b"TIME\r\n");
            s.send(ServerToClient, t + 0.001, b"JAM 10:00:00\r\n");
        }
        s.send(ClientToServer, 5.0, b"QUIT\r\n");
        s.close(ServerToClient, 5.001);
        let mut capture = CaptureBuilder::new();
        capture.add_session(&s);
        let dir = time_server_run(
            "t2-time",
            &[("T2_COUNT", &requests.to_string())],
            &capture,
            outcome(1, 0, "", Some(good_time_run(requests))),
        );
        let text = report(dir.path(), Lang::En);
        if whole {
            assert!(
                text.contains("mesin-2 sent TIME 30 times and got 30 JAM replies"),
                "{text}"
            );
            assert!(text.contains("then QUIT"), "{text}");
        } else {
            assert!(
                text.contains(
                    "In the first data segments the summary kept, mesin-2 sent TIME 100 times"
                ),
                "{text}"
            );
        }
        assert!(
            text.contains(&format!("checked {requests} replies")),
            "{text}"
        );
        assert_eq!(findings(dir.path())["as_expected"], true, "{text}");
    }
}

#[test]
fn a_request_captured_out_of_order_is_still_one_request() {
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:45000");
    s.handshake(0.0);
    let first = s.send_uncaptured(ClientToServer, b"TI");
    s.send(ClientToServer, 0.02, b"ME\r\n");
    // Within the handshake's round trip of the later segment: out of order
    // (tshark's rule); later than that it would count as sent again.
    s.retransmit(0.0201, first);
    s.send(ServerToClient, 0.031, b"JAM 10:00:00\r\n");
    s.send(ClientToServer, 0.04, b"QUIT\r\n");
    s.close(ServerToClient, 0.041);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&s);
    let dir = time_server_run(
        "t2-time",
        &[("T2_COUNT", "1")],
        &capture,
        outcome(1, 0, "", Some(good_time_run(1))),
    );
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains(
            "mesin-2 sent TIME 1 time and got 1 JAM reply (`JAM 10:00:00\\r\\n`), then QUIT"
        ),
        "{text}"
    );
    assert!(
        text.contains("1 segment was captured out of order"),
        "{text}"
    );
    assert!(!text.contains("sent again"), "{text}");
}

#[test]
fn a_refused_connection_is_not_reported_as_an_echo() {
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:10000");
    s.syn(0.0);
    s.rst(ServerToClient, 0.001);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&s);
    let refused = echo_result(46, 0, false, Some("connection refused"));
    let dir = folder(
        "t1-echo",
        &[],
        &capture,
        &[outcome(1, 1, "refused\n", Some(refused))],
        Some(&OUR_ECHO_SERVER),
    );
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains(
            "mesin-2's connection #0 was refused: its SYN was answered with RST from mesin-1"
        ),
        "{text}"
    );
    assert!(!text.contains("sent 0 bytes"), "{text}");
    assert!(!text.contains("was aborted, not closed with FIN"), "{text}");
    report(dir.path(), Lang::Id);
}

#[test]
fn a_probe_that_never_connected_gives_no_verdict_on_the_server() {
    let probe = CrlfProbeResult {
        connected: false,
        error: Some("connection to 172.16.16.101:45000 refused".into()),
        ..crlf_result(vec![
            ("TIME\\n", CrlfOutcome::NotSent),
            ("HELLO\\r\\n", CrlfOutcome::NotSent),
            ("TIME\\r\\n", CrlfOutcome::NotSent),
            ("QUIT\\r\\n", CrlfOutcome::NotSent),
        ])
    };
    let dir = time_server_run(
        "t2-crlf",
        &[],
        &CaptureBuilder::new(),
        outcome(1, 1, "", Some(probe)),
    );
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains("time-client crlf reported: connection to 172.16.16.101:45000 refused"),
        "{text}"
    );
    assert!(
        !text.contains("does not answer as the assignment asks"),
        "{text}"
    );
    assert!(
        text.contains("The server answered none of the requests"),
        "{text}"
    );
}

#[test]
fn a_client_that_ran_no_session_or_wrote_a_wrong_result_is_not_a_success() {
    let mut capture = CaptureBuilder::new();
    capture.add_session(&time_session(102, 40000, 0.0, &[0.01, 0.02], 1.0));
    let empty = TimeRun {
        server: "172.16.16.101:45000".into(),
        interrupted: true,
        sessions: Vec::new(),
    };
    let dir = time_server_run("t2-time", &[], &capture, outcome(1, 0, "", Some(empty)));
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains("time-client on mesin-2 ran no session"),
        "{text}"
    );
    assert_eq!(findings(dir.path())["as_expected"], false);
    // An echo result where a time result belongs is a problem, said so.
    let dir = time_server_run(
        "t2-time",
        &[],
        &capture,
        outcome(1, 0, "", Some(echo_result(4, 1, true, None))),
    );
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains("results/1.json is not what `time-client` writes"),
        "{text}"
    );
    assert_eq!(findings(dir.path())["as_expected"], false);
}

#[test]
fn the_last_lines_of_a_huge_log_are_its_real_last_lines() {
    let mut capture = CaptureBuilder::new();
    capture.add_session(&echo_session(102, 40000, 0.0, 0.002, 0.003));
    let dir = folder(
        "t1-echo",
        &[],
        &capture,
        &[outcome(
            1,
            1,
            "",
            Some(echo_result(4, 1, false, Some("differs"))),
        )],
        Some(&OUR_ECHO_SERVER),
    );
    let mut log = "received \"0123456789abcdef\"\n".repeat(250_000); // about 7 MB
    log.push_str("echo-client: the echo differs at byte 4000000\n");
    std::fs::write(dir.path().join("logs/1-mesin-2-echo-client.log"), log).expect("log");
    let text = report(dir.path(), Lang::En);
    let last = text.split("The last lines of").nth(1).unwrap_or("");
    assert!(last.contains("the echo differs at byte 4000000"), "{text}");
}

/// Two clients at once against our time server, reported: the folder has
/// the ladder of the walked conversation and the overview, REPORT.md shows
/// both, and report.html holds everything inline.
fn concurrent_report(lang: Lang) -> tempfile::TempDir {
    let mut capture = CaptureBuilder::new();
    capture.add_session(&time_session(102, 40000, 0.0, &[0.01, 0.5], 1.0));
    capture.add_session(&time_session(103, 40001, 0.001, &[0.02, 0.6], 1.1));
    let dir = folder(
        "t2-concurrent",
        &[("T2_CLIENTS", "1")],
        &capture,
        &[
            outcome(1, 0, "", Some(good_time_run(2))),
            outcome(2, 0, "", Some(good_time_run(2))),
        ],
        Some(&OUR_TIME_SERVER),
    );
    report(dir.path(), lang);
    dir
}

#[test]
fn a_report_has_its_ladder_pictures_and_one_self_contained_page() {
    let dir = concurrent_report(Lang::En);
    let path = dir.path();
    for file in [
        "ladder.svg",
        "ladder.png",
        "overview.svg",
        "overview.png",
        "report.html",
    ] {
        assert!(path.join(file).is_file(), "{file} written");
    }
    let text = std::fs::read_to_string(path.join("REPORT.md")).expect("REPORT.md");
    assert!(text.contains("![ladder](ladder.svg)"), "{text}");
    assert!(text.contains("![overview](overview.svg)"), "{text}");
    let html = std::fs::read_to_string(path.join("report.html")).expect("report.html");
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    for part in [
        "<figure class=\"ladder\"><svg",
        "<figure class=\"overview\"><svg",
        "<figure class=\"timeline\"><svg",
        "id=\"conversation-0\"",
        "id=\"conversation-1\"",
        // The followed stream of each conversation.
        "TIME\\r\\n",
        "JAM 10:00:00\\r\\n",
    ] {
        assert!(html.contains(part), "report.html has {part}");
    }
    // Nothing to fetch: no script, no style sheet, no image or link elsewhere
    // (the only URL is the SVG namespace, a name, not a download).
    for fetching in [
        "<script",
        "<link",
        "src=",
        "href=\"http",
        "url(http",
        "@import",
    ] {
        assert!(!html.contains(fetching), "report.html has {fetching}");
    }
    let urls: Vec<&str> = ["http://", "https://"]
        .iter()
        .flat_map(|scheme| html.match_indices(scheme))
        .map(|(i, _)| &html[i..(i + 26).min(html.len())])
        .collect();
    assert!(
        urls.iter()
            .all(|u| u.starts_with("http://www.w3.org/2000/svg")),
        "{urls:?}"
    );
    let indonesian = concurrent_report(Lang::Id);
    let html = std::fs::read_to_string(indonesian.path().join("report.html")).expect("report.html");
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"id\">"));
    assert!(html.contains("Semua percakapan"), "headings in Indonesian");
}

/// Whether a test that needs `what` may be skipped here: not under CI.
fn may_skip(what: &str) -> bool {
    if std::env::var_os("CI").is_some_and(|v| v == "true") {
        panic!("under CI=true this test must run, but {what} (run `make setup`)");
    }
    eprintln!("skipped: {what}");
    true
}

/// report.html in a real browser (headless Chromium, from Debian's
/// packages): the DOM has the ladder, the overview and the timeline, the
/// page fetched nothing but itself, logged no console error; a screenshot
/// is taken (kept in `REPORT_SCREENSHOT_DIR` when that is set).
#[test]
fn report_html_opens_offline_in_a_browser() {
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        if may_skip("headless Chromium is not installed") {
            return;
        }
        unreachable!()
    };
    let dir = concurrent_report(Lang::En);
    let page = dir.path().join("report.html");
    let url = format!("file://{}", page.display());
    let profile = tempfile::tempdir().expect("profile dir");
    let net_log = profile.path().join("net-log.json");
    let shot = profile.path().join("report.png");
    let common = |extra: &[String]| {
        let out = Command::new(chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
            // The browser's own traffic (updates, accounts, spelling
            // dictionaries) is switched off, and whatever is left can only
            // reach a closed port on loopback: no name resolves, and every
            // request goes through a "proxy" at 127.0.0.1:9.
            .args([
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-extensions",
                "--no-pings",
                "--disable-domain-reliability",
                "--disable-client-side-phishing-detection",
                "--disable-features=Translate,OptimizationHints,MediaRouter,SpellcheckService,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--proxy-server=127.0.0.1:9",
            ])
            .arg(format!("--user-data-dir={}", profile.path().join("user").display()))
            .args(["--enable-logging=stderr", "--v=0"])
            .args(extra)
            .arg(&url)
            .output()
            .expect("chromium runs");
        assert!(
            out.status.success(),
            "chromium failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let dom = common(&["--dump-dom".to_string()]);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    for part in [
        "class=\"ladder\"><svg",
        "class=\"overview\"><svg",
        "class=\"timeline\"><svg",
    ] {
        assert!(dom_text.contains(part), "the browser's DOM has {part}");
    }
    let arrows = dom_text.matches("class=\"segment").count();
    assert!(arrows > 0, "arrows drawn");
    let shown = common(&[
        format!("--screenshot={}", shot.display()),
        "--window-size=1240,1754".to_string(),
        format!("--log-net-log={}", net_log.display()),
    ]);
    let stderr = format!(
        "{}{}",
        String::from_utf8_lossy(&dom.stderr),
        String::from_utf8_lossy(&shown.stderr)
    );
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    let fetched = fetched_by_the_page(&net_log);
    assert!(
        fetched.iter().all(|u| u.starts_with("file://")),
        "the page fetched from elsewhere: {fetched:?}"
    );
    let png = std::fs::read(&shot).expect("screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    if let Some(keep) = std::env::var_os("REPORT_SCREENSHOT_DIR") {
        let _ = std::fs::copy(&shot, Path::new(&keep).join("report-html.png"));
        let _ = std::fs::copy(&page, Path::new(&keep).join("report.html"));
    }
}

/// The URLs a page asked for, from Chromium's net log: requests whose
/// initiator is an origin (a `file://` page's is "null"). The browser's own
/// background requests have "not an origin" and are not the page's doing.
fn fetched_by_the_page(net_log: &Path) -> Vec<String> {
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(net_log).expect("net log")).expect("JSON");
    log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let params = &e["params"];
            let initiator = params["initiator"].as_str()?;
            (initiator != "not an origin").then(|| params["url"].as_str().map(str::to_string))?
        })
        .collect()
}

/// The file echo over a lossy link, as the capture shows it: mesin-2's
/// second segment is lost after the capture point, the server asks for it
/// with three duplicate ACKs, and mesin-2 sends it again at once.
fn lossy_file_echo() -> CaptureBuilder {
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:32444");
    s.handshake(0.0);
    s.send(ClientToServer, 0.010, &[b'a'; 1000]);
    let lost = s.send(ClientToServer, 0.0101, &[b'b'; 1000]);
    s.send(ClientToServer, 0.0102, &[b'c'; 1000]);
    s.send(ClientToServer, 0.0103, &[b'd'; 1000]);
    for i in 0..3 {
        s.ack_up_to(ServerToClient, 0.011 + f64::from(i) * 0.0001, 1000);
    }
    s.retransmit(0.0115, lost);
    s.ack(ServerToClient, 0.012);
    s.send(ServerToClient, 0.020, &[b'x'; 4000]);
    s.close(ClientToServer, 0.030);
    capture_of(&s)
}

#[test]
fn a_lossy_transfer_is_explained_by_its_duplicate_acks_and_fast_retransmission() {
    let dir = file_echo_run(
        "t3-loss",
        &lossy_file_echo(),
        echo_result(4000, 250, true, None),
    );
    record_lossy_link(dir.path(), 5);
    let text = report(dir.path(), Lang::En);
    for sentence in [
        "TCP sent 1 segment again: 1 as fast retransmission (at once, because duplicate ACKs said the bytes were missing), 0 later than that",
        "The receiver sent 2 duplicate ACKs",
        "(fast: after the duplicate ACKs)",
        "And still the file arrived intact",
    ] {
        assert!(text.contains(sentence), "{sentence}\n{text}");
    }
    assert_eq!(findings(dir.path())["as_expected"], true, "{text}");
    let facts = &findings(dir.path())["facts"]["tcp"]["counts"];
    assert_eq!(facts["fast_retransmission"], 1);
    assert_eq!(
        facts["duplicate_ack"], 2,
        "the first of the three repeats nothing"
    );
    report(dir.path(), Lang::Id);
}

/// t3-loss's report of a file echo in which mesin-2's first segment is
/// sent again, with no duplicate ACK, `after` seconds later; in English and
/// in Indonesian.
fn t3_loss_resending_after(after: f64) -> (String, String) {
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:32444");
    s.handshake(0.0);
    let first = s.send(ClientToServer, 0.010, &[b'a'; 1000]);
    s.send(ClientToServer, 0.0101, &[b'b'; 1000]);
    s.retransmit(0.010 + after, first);
    s.ack(ServerToClient, 0.011 + after);
    s.send(ServerToClient, 0.020 + after, &[b'x'; 2000]);
    s.close(ClientToServer, 0.030 + after);
    let dir = file_echo_run(
        "t3-loss",
        &capture_of(&s),
        echo_result(2000, 125, true, None),
    );
    record_lossy_link(dir.path(), 5);
    (report(dir.path(), Lang::En), report(dir.path(), Lang::Id))
}

#[test]
fn a_plain_retransmission_is_put_down_to_the_timer_only_when_it_waited_long_enough() {
    let (soon, soon_id) = t3_loss_resending_after(0.005);
    assert!(
        soon.contains("5.000 ms after the original (a plain retransmission, yet sooner than Linux's retransmission timer ever fires, 200 ms at the least, so not the timer's"),
        "{soon}"
    );
    assert!(!soon.contains("the retransmission timer ran out"), "{soon}");
    assert!(soon_id.contains("jadi bukan karena timer"), "{soon_id}");
    let (late, late_id) = t3_loss_resending_after(0.250);
    assert!(
        late.contains("250.000 ms after the original (a plain retransmission, 200 ms or more after the original: most likely no ACK had come for it and the retransmission timer ran out)"),
        "{late}"
    );
    assert!(!late.contains("so not the timer's"), "{late}");
    assert!(late_id.contains("timer retransmisi habis"), "{late_id}");
    assert!(!late_id.contains("bukan karena timer"), "{late_id}");
}

#[test]
fn a_lossless_run_of_t3_loss_says_nothing_was_resent() {
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:32444");
    s.handshake(0.0);
    s.send(ClientToServer, 0.010, &[b'a'; 1000]);
    s.send(ServerToClient, 0.011, &[b'a'; 1000]);
    s.close(ClientToServer, 0.02);
    let dir = file_echo_run(
        "t3-loss",
        &capture_of(&s),
        echo_result(1000, 63, true, None),
    );
    let text = report(dir.path(), Lang::En);
    assert!(
        text.contains("TCP sent nothing again: no data segment of this transfer was lost"),
        "{text}"
    );
    assert!(text.contains("No lossy link was recorded"), "{text}");
    // Nothing was lost and the link was not made lossy: no advice to lose more,
    // no "still intact" for losses that did not happen.
    assert!(!text.contains("raise T3_LOSS"), "{text}");
    assert!(!text.contains("still the file arrived intact"), "{text}");
    assert_eq!(findings(dir.path())["as_expected"], false);
}

#[test]
fn a_slow_reader_shows_a_zero_window_and_the_update_that_reopens_it() {
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:32444");
    s.handshake(0.0);
    s.send(ClientToServer, 0.010, &[b'a'; 3000]);
    s.send(ServerToClient, 0.011, &[b'a'; 1500]);
    // The reader's buffer is full: it acknowledges with a zero window...
    s.set_window(ClientToServer, 0);
    s.ack(ClientToServer, 0.012);
    // ... and reopens it once the program has read.
    s.set_window(ClientToServer, 8192);
    s.ack(ClientToServer, 0.300);
    s.send(ServerToClient, 0.301, &[b'a'; 1500]);
    s.close(ClientToServer, 0.4);
    let dir = file_echo_run(
        "t3-flow",
        &capture_of(&s),
        echo_result(3000, 188, true, None),
    );
    let text = report(dir.path(), Lang::En);
    for sentence in [
        "read the echo slowly: 16 bytes at a time, pausing 0.002 s after each, into a receive buffer of 4096 bytes",
        "mesin-2 announced a zero window 1 time",
        "mesin-2 sent 1 window update",
        "This is flow control",
    ] {
        assert!(text.contains(sentence), "{sentence}\n{text}");
    }
    assert_eq!(findings(dir.path())["as_expected"], true, "{text}");
    report(dir.path(), Lang::Id);
}

#[test]
fn an_index_page_links_every_run_with_its_verdict() {
    let runs = tempfile::tempdir().expect("captures");
    let good = concurrent_report(Lang::En);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&time_session(102, 40000, 0.0, &[0.01], 1.0));
    capture.add_session(&time_session(103, 40001, 0.001, &[1.01], 2.0));
    let iterative = folder(
        "t2-concurrent",
        &[("T2_CLIENTS", "1")],
        &capture,
        &[
            outcome(1, 0, "", Some(good_time_run(1))),
            outcome(2, 0, "", Some(good_time_run(1))),
        ],
        Some(&OUR_TIME_SERVER),
    );
    report(iterative.path(), Lang::En);
    for (from, name) in [
        (good.path(), "20261204T010000Z-t2-concurrent"),
        (iterative.path(), "20261204T020000Z-t2-concurrent"),
    ] {
        std::fs::rename(from, runs.path().join(name)).expect("move the run");
    }
    std::fs::create_dir(runs.path().join("not-a-run")).expect("a folder without findings");
    let out = Command::new(env!("CARGO_BIN_EXE_experiment"))
        .arg("index")
        .arg(runs.path())
        .env_remove("REPORT_LANG")
        .output()
        .expect("experiment runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(runs.path().join("index.html")).expect("index.html");
    let newest = html
        .find("20261204T020000Z-t2-concurrent/report.html")
        .expect("the newer run linked");
    let older = html
        .find("20261204T010000Z-t2-concurrent/report.html")
        .expect("the older run linked");
    assert!(newest < older, "newest first");
    assert!(
        html.contains("This run did not show what the experiment is about"),
        "the iterative run's verdict"
    );
    assert!(
        html.contains("This run showed what the experiment is about."),
        "the concurrent run's verdict"
    );
    assert!(html.contains("2 runs, newest first"), "{html}");
    assert!(!html.contains("not-a-run"));
}

#[test]
fn a_reader_that_kept_up_is_not_said_to_show_flow_control() {
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:32444");
    s.handshake(0.0);
    s.send(ClientToServer, 0.010, &[b'a'; 1000]);
    s.send(ServerToClient, 0.011, &[b'a'; 1000]);
    s.close(ClientToServer, 0.02);
    let dir = file_echo_run(
        "t3-flow",
        &capture_of(&s),
        echo_result(1000, 63, true, None),
    );
    let text = report(dir.path(), Lang::En);
    assert!(text.contains("The capture shows no zero window"), "{text}");
    assert!(!text.contains("This is flow control"), "{text}");
    assert_eq!(findings(dir.path())["as_expected"], false);
}
