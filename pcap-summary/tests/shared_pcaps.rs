//! Our summary against tshark's numbers for real public captures.
//!
//! `../shared/pcaps/expected/NAME.streams.tsv` holds what tshark 4.0 reports
//! per TCP stream; every column we also report must agree.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn shared_pcaps() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcaps");
    assert!(
        dir.join("expected").is_dir(),
        "the shared captures are missing at {} (they sit beside the project root)",
        dir.display()
    );
    dir
}

fn run(file: &Path) -> (Option<i32>, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pcap-summary"))
        .arg("--json")
        .arg(file)
        .output()
        .expect("pcap-summary runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_shared_capture_matches_tsharks_streams() {
    let dir = shared_pcaps();
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.join("expected")).expect("expected/") {
        let expected_path = entry.expect("entry").path();
        let name = expected_path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".streams.tsv"))
            .expect("NAME.streams.tsv")
            .to_string();
        let expected = std::fs::read_to_string(&expected_path).expect("readable tsv");
        let rows: Vec<Vec<&str>> = expected
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split('\t').collect())
            .collect();
        let (code, json, stderr) = run(&dir.join(&name));
        if name == "lp_shb-option-too-long.pcapng" {
            assert_eq!(
                code,
                Some(2),
                "{name}: a damaged header is refused: {stderr}"
            );
            assert_eq!(
                stderr.trim().lines().count(),
                1,
                "{name}: one clear line: {stderr}"
            );
            assert!(rows.is_empty());
            checked += 1;
            continue;
        }
        let expected_code = if name == "kqd_ssh_cut_short.pcap" {
            3
        } else {
            0
        };
        assert_eq!(code, Some(expected_code), "{name}: {stderr}");
        let convs = json["conversations"].as_array().expect("conversations");
        assert_eq!(convs.len(), rows.len(), "{name}: number of conversations");
        for (conv, row) in convs.iter().zip(&rows) {
            let id = row[0];
            assert_eq!(conv["id"].to_string(), id, "{name}");
            assert_eq!(conv["client"], row[1], "{name} #{id} client");
            assert_eq!(conv["server"], row[2], "{name} #{id} server");
            let close = |a: &Value, b: &str| {
                (a.as_f64().expect("number") - b.parse::<f64>().expect("float")).abs() < 1e-6
            };
            assert!(
                close(&conv["start"], row[3]),
                "{name} #{id} start {} vs {}",
                conv["start"],
                row[3]
            );
            assert!(
                close(&conv["end"], row[4]),
                "{name} #{id} end {} vs {}",
                conv["end"],
                row[4]
            );
            let packets = conv["packets"]["client_to_server"].as_u64().expect("n")
                + conv["packets"]["server_to_client"].as_u64().expect("n");
            assert_eq!(packets.to_string(), row[5], "{name} #{id} packets");
            assert_eq!(
                conv["payload_bytes"]["client_to_server"].to_string(),
                row[6],
                "{name} #{id} bytes c2s"
            );
            assert_eq!(
                conv["payload_bytes"]["server_to_client"].to_string(),
                row[7],
                "{name} #{id} bytes s2c"
            );
            for dir in ["client_to_server", "server_to_client"] {
                let wire = conv["payload_bytes"][dir].as_u64().expect("n");
                let stream = conv["stream_bytes"][dir].as_u64().expect("n");
                let resent = conv["retransmitted_bytes"][dir].as_u64().expect("n");
                assert!(
                    stream <= wire,
                    "{name} #{id} {dir}: stream {stream} > wire {wire}"
                );
                assert_eq!(wire - stream, resent, "{name} #{id} {dir}: resent bytes");
            }
            for (field, col) in [("syn", 8), ("syn_ack", 9), ("fin", 10), ("rst", 11)] {
                assert_eq!(
                    conv["flags"][field].to_string(),
                    row[col],
                    "{name} #{id} {field}"
                );
            }
            // tcp.completeness: 1 SYN, 2 SYN-ACK, 4 ACK, 16 FIN, 32 RST.
            let completeness: u32 = row[12].parse().expect("bitmask");
            let handshake = if completeness & 7 == 7 {
                "complete"
            } else if completeness & 3 == 0 {
                "none"
            } else {
                "partial"
            };
            assert_eq!(conv["handshake"], handshake, "{name} #{id} handshake");
            let closed = if completeness & 32 != 0 {
                "rst"
            } else if completeness & 16 != 0 {
                "fin"
            } else {
                "open"
            };
            assert_eq!(conv["close"], closed, "{name} #{id} close");
        }
        if expected_code == 3 {
            let errors = json["errors"].as_array().expect("errors");
            assert_eq!(errors.len(), 1, "{name}");
            assert!(
                errors[0].as_str().expect("text").contains("cut at byte"),
                "{name}"
            );
            assert!(stderr.contains("cut at byte"), "{name}: {stderr}");
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} captures checked");
}

#[test]
fn the_cut_short_capture_reports_the_byte_offset_of_the_cut() {
    let (code, json, _) = run(&shared_pcaps().join("kqd_ssh_cut_short.pcap"));
    assert_eq!(code, Some(3));
    assert_eq!(json["packets"], 43);
    let error = json["errors"][0].as_str().expect("an error");
    let offset: u64 = error
        .split("cut at byte ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .expect("an offset");
    let size = std::fs::metadata(shared_pcaps().join("kqd_ssh_cut_short.pcap"))
        .expect("file")
        .len();
    assert!(offset > 24 && offset < size, "offset {offset} of {size}");
}

#[test]
fn retransmissions_in_the_ssh_capture_are_found() {
    let (_, json, _) = run(&shared_pcaps().join("td_ssh.pcap"));
    let conv = &json["conversations"][0];
    assert!(
        conv["retransmissions"].as_u64().expect("count") >= 1,
        "{conv}"
    );
    // The client's one retransmitted segment carried 96 bytes sent before:
    // counted on the wire, not in the stream.
    assert_eq!(
        conv["retransmitted_bytes"]["client_to_server"], 96,
        "{conv}"
    );
    assert_eq!(conv["stream_bytes"]["client_to_server"], 5281, "{conv}");
    assert_eq!(conv["payload_bytes"]["client_to_server"], 5377, "{conv}");
}

#[test]
fn a_file_that_is_not_a_capture_is_refused_with_exit_code_2() {
    let (code, _, stderr) =
        run(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/shared_pcaps.rs"));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("not a capture file"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn text_output_tells_handshake_data_teardown_and_draws_the_timeline_and_svg() {
    let dir = tempfile::tempdir().expect("temp dir");
    let svg = dir.path().join("timeline.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_pcap-summary"))
        .arg(shared_pcaps().join("simple_http.pcap"))
        .arg("--svg")
        .arg(&svg)
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "24 packets: 24 TCP, 0 other",
        "2 TCP conversation(s), at most 1 open at once",
        "#0 127.0.0.1:32784 -> 127.0.0.1:56789",
        "handshake: complete",
        "SYN,ACK  seq=0 ack=1",
        "PSH,ACK",
        "\"GET /",
        "teardown: the",
        "timeline:",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let picture = std::fs::read_to_string(&svg).expect("svg written");
    assert!(picture.starts_with("<svg") && picture.trim_end().ends_with("</svg>"));
    assert!(picture.contains("#0 127.0.0.1:32784") && picture.contains("#1 127.0.0.1:32796"));
}

#[test]
fn filters_keep_only_the_asked_for_conversations() {
    let out = Command::new(env!("CARGO_BIN_EXE_pcap-summary"))
        .args(["--json", "--conversation", "1"])
        .arg(shared_pcaps().join("simple_http.pcap"))
        .output()
        .expect("runs");
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    let convs = json["conversations"].as_array().expect("list");
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0]["id"], 1);
    let out = Command::new(env!("CARGO_BIN_EXE_pcap-summary"))
        .args(["--json", "--port", "9"])
        .arg(shared_pcaps().join("simple_http.pcap"))
        .output()
        .expect("runs");
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["conversations"].as_array().expect("list").len(), 0);
    assert_eq!(
        json["packets"], 24,
        "totals still describe the whole capture"
    );
}
