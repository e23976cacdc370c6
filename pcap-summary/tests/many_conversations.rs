//! Past `--max-conversations`, conversations are counted, not kept, and
//! the text and the JSON say so; past twenty times as many, packets are
//! counted without being told apart. Memory stays bounded either way.

use std::process::Command;

use pcap_summary::conversation::Limits;
use pcap_summary::{summarize, text, Options, Summary};
use progjar_testkit::{CaptureBuilder, Direction::*, TcpSession};
use serde_json::Value;

fn summary_with(capture: &CaptureBuilder, conversations: usize) -> Summary {
    let options = Options {
        limits: Limits {
            conversations,
            ..Limits::default()
        },
        ..Options::default()
    };
    summarize(capture.to_pcap_bytes().as_slice(), &options).expect("readable")
}

/// Runs the program on `capture` with `args`: exit code, stdout, stderr.
fn run(capture: &CaptureBuilder, args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("capture.pcap");
    capture.write_pcap(&path).expect("written");
    let out = Command::new(env!("CARGO_BIN_EXE_pcap-summary"))
        .args(args)
        .arg(&path)
        .output()
        .expect("pcap-summary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn past_max_conversations_the_rest_are_counted_and_the_text_and_json_say_so() {
    // Two whole TIME sessions first, then 30 SYNs never answered.
    let mut capture = CaptureBuilder::syn_flood(30);
    for (i, client) in ["10.0.0.2:40000", "10.0.0.3:40000"].into_iter().enumerate() {
        let mut session = TcpSession::new(client, "10.1.0.1:45000");
        let t0 = -1.0 + i as f64 * 0.01;
        session.handshake(t0);
        session.send(ClientToServer, t0 + 0.01, b"TIME\r\n");
        session.send(ServerToClient, t0 + 0.02, b"JAM 10:00:00\r\n");
        session.close(ServerToClient, t0 + 0.03);
        capture.add_session(&session);
    }
    let summary = summary_with(&capture, 12);
    assert_eq!(summary.conversations.len(), 12, "the first 12 kept");
    assert_eq!(summary.conversations[0].segments.len(), 2, "kept in full");
    assert_eq!(
        summary.conversations[11].client.to_string(),
        "10.2.0.9:40000"
    );
    let counted = summary.counted_only;
    assert_eq!(counted.conversations, 20);
    assert_eq!(
        (counted.packets, counted.syn, counted.payload_bytes),
        (20, 20, 0)
    );
    assert_eq!((counted.syn_ack, counted.fin, counted.rst), (0, 0, 0));
    assert_eq!(counted.packets_not_told_apart, 0);
    assert_eq!(summary.conversation_count(), 32);

    let (code, out, err) = run(&capture, &["--max-conversations", "12"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("; 32 TCP conversation(s), at most 2 open at once;"),
        "{out}"
    );
    assert!(
        out.contains(
            "  only the first 12 conversations are kept in full (--max-conversations 12); 20 more are counted only: together 20 packets, 0 payload bytes, 20 SYN, 0 SYN,ACK, 0 FIN, 0 RST"
        ),
        "{out}"
    );
    let rows = out
        .lines()
        .filter(|l| l.contains(">:45000") && l.ends_with('|'));
    assert_eq!(rows.count(), 12, "one timeline row per kept one: {out}");

    let (code, out, err) = run(&capture, &["--max-conversations", "12", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let json: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["conversations"].as_array().map(Vec::len), Some(12));
    let counted = &json["counted_only"];
    assert_eq!(counted["max_conversations"], 12);
    assert_eq!(counted["conversations"], 20);
    assert_eq!(counted["packets"], 20);
    assert_eq!(counted["payload_bytes"], 0);
    assert_eq!(counted["flags"]["syn"], 20);
    assert_eq!(counted["packets_not_told_apart"], 0);

    // Under the limit nothing is said, and the JSON counts zero.
    let (_, out, _) = run(&capture, &[]);
    assert!(!out.contains("counted only"), "{out}");
    let (_, out, _) = run(&capture, &["--json"]);
    let json: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["counted_only"]["conversations"], 0);
    assert_eq!(json["counted_only"]["max_conversations"], 100_000);
    assert_eq!(json["conversations"].as_array().map(Vec::len), Some(32));
}

#[test]
fn past_twenty_times_the_limit_packets_are_counted_but_not_told_apart() {
    let summary = summary_with(&CaptureBuilder::syn_flood(30), 1);
    assert_eq!(summary.conversations.len(), 1);
    let counted = summary.counted_only;
    assert_eq!(counted.conversations, 20, "twenty times the limit");
    assert_eq!(counted.packets_not_told_apart, 9);
    assert_eq!((counted.packets, counted.syn), (29, 29), "all counted");
    let all: Vec<_> = summary.conversations.iter().collect();
    let report = text::render(&summary, "flood", &all, false);
    assert!(
        report.contains("; at least 21 TCP conversation(s),"),
        "{report}"
    );
    assert!(
        report.contains("20 more are counted only, then 9 packets that could not be told apart into conversations"),
        "{report}"
    );
}

#[test]
fn a_syn_after_fin_on_a_counted_connection_counts_a_new_conversation() {
    let mut capture = CaptureBuilder::new();
    for (t0, isn) in [(0.0, 1000), (1.0, 9000)] {
        let mut session = TcpSession::new("10.0.0.2:40000", "10.1.0.1:45000")
            .with_initial_sequence_numbers(isn, 5000);
        session.handshake(t0);
        session.close(ClientToServer, t0 + 0.5);
        capture.add_session(&session);
    }
    let mut first = TcpSession::new("10.0.0.9:40000", "10.1.0.1:45000");
    first.syn(-1.0);
    capture.add_session(&first);
    let summary = summary_with(&capture, 1);
    assert_eq!(summary.conversations.len(), 1);
    let counted = summary.counted_only;
    assert_eq!(counted.conversations, 2, "port reuse, as tshark counts it");
    assert_eq!((counted.packets, counted.syn, counted.fin), (12, 2, 4));
    // The two do not overlap; the kept SYN at -1 s neither.
    assert_eq!(summary.max_concurrent, 1);
}

#[test]
fn at_most_open_at_once_counts_the_counted_conversations_too() {
    // Five conversations open from 0 to 1 s together; only one kept.
    let mut capture = CaptureBuilder::new();
    for i in 0..5u16 {
        let mut session = TcpSession::new(&format!("10.0.0.{}:40000", i + 2), "10.1.0.1:45000");
        session.syn(f64::from(i) * 0.01);
        session.syn_ack(1.0 + f64::from(i) * 0.01);
        capture.add_session(&session);
    }
    let summary = summary_with(&capture, 1);
    assert_eq!(summary.counted_only.conversations, 4);
    assert_eq!(summary.max_concurrent, 5);
}

#[test]
fn max_conversations_must_be_at_least_one() {
    let (code, _, err) = run(&CaptureBuilder::syn_flood(2), &["--max-conversations", "0"]);
    assert_eq!(code, Some(2), "{err}");
}
