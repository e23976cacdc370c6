//! Ladder diagrams of generated captures: one arrow per segment shown, from
//! the sender's line to the receiver's, labelled as the text summary says,
//! flagged segments marked with the reason; the SVG is well-formed XML and
//! renders to PNG.

use pcap_summary::conversation::{Conversation, Limits};
use pcap_summary::ladder::{self, LADDER_SEGMENTS};
use pcap_summary::{summarize, Options, Summary};
use progjar_testkit::{CaptureBuilder, Direction::*, TcpSession};

const NET: &str = "172.16.16";

fn summary_with_ladders(sessions: &[&TcpSession]) -> Summary {
    let mut capture = CaptureBuilder::new();
    for s in sessions {
        capture.add_session(s);
    }
    let options = Options {
        limits: Limits {
            ladder: LADDER_SEGMENTS,
            ..Limits::default()
        },
        ..Options::default()
    };
    summarize(capture.to_pcap_bytes().as_slice(), &options).expect("readable")
}

/// A TIME session with one request sent again.
fn time_session_with_a_resend(client: &str) -> TcpSession {
    let mut s = TcpSession::new(client, "172.16.16.101:45000");
    s.handshake(0.0);
    let time = s.send(ClientToServer, 0.010, b"TIME\r\n");
    s.retransmit(0.250, time);
    s.send(ServerToClient, 0.251, b"JAM 10:00:00\r\n");
    s.send(ClientToServer, 0.260, b"QUIT\r\n");
    s.close(ServerToClient, 0.261);
    s
}

/// The x of each host's vertical line, by the host's label.
fn host_lines(doc: &roxmltree::Document<'_>) -> Vec<(String, f64)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("class") == Some("host"))
        .map(|n| {
            let x: f64 = n.attribute("x").and_then(|x| x.parse().ok()).expect("x");
            (n.text().unwrap_or_default().to_string(), x)
        })
        .collect()
}

fn arrows<'a>(doc: &'a roxmltree::Document<'a>) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| {
            n.has_tag_name("g")
                && n.attribute("class")
                    .is_some_and(|c| c.split(' ').any(|w| w == "segment"))
        })
        .collect()
}

fn line_of<'a>(g: roxmltree::Node<'a, 'a>) -> (f64, f64) {
    let line = g
        .children()
        .find(|n| n.has_tag_name("line"))
        .expect("an arrow line");
    let x = |a: &str| {
        line.attribute(a)
            .and_then(|v| v.parse::<f64>().ok())
            .expect("coordinate")
    };
    (x("x1"), x("x2"))
}

fn text_of<'a>(g: roxmltree::Node<'a, 'a>, class: &str) -> Option<String> {
    g.children()
        .find(|n| n.has_tag_name("text") && n.attribute("class") == Some(class))
        .and_then(|n| n.text())
        .map(str::to_string)
}

#[test]
fn a_ladder_has_one_arrow_per_segment_from_sender_to_receiver_labelled_as_the_summary() {
    let session = time_session_with_a_resend("172.16.16.102:40000");
    let summary = summary_with_ladders(&[&session]);
    let c: &Conversation = &summary.conversations[0];
    let svg = ladder::svg(c, NET);
    let doc = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    let hosts = host_lines(&doc);
    assert_eq!(
        hosts
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>(),
        ["mesin-2 (172.16.16.102)", "mesin-1 (172.16.16.101)"],
        "client and server named as lab machines"
    );
    let (client_x, server_x) = (hosts[0].1, hosts[1].1);
    let log = c.ladder.as_deref().expect("a ladder log");
    let arrows = arrows(&doc);
    assert_eq!(
        arrows.len() as u64,
        c.packets.total(),
        "every segment is an arrow"
    );
    assert_eq!(arrows.len(), log.shown());
    let segments: Vec<_> = log.first.iter().chain(log.last.iter()).collect();
    for (g, segment) in arrows.iter().zip(&segments) {
        let (from, to) = line_of(*g);
        let expected = match segment.step.dir {
            pcap_summary::direction::Dir::ClientToServer => (client_x, server_x),
            pcap_summary::direction::Dir::ServerToClient => (server_x, client_x),
        };
        assert_eq!((from, to), expected, "{}", ladder::label(segment));
        let label = text_of(*g, "label").expect("a label");
        assert_eq!(label, ladder::label(segment));
        // The same fields as the text summary's line.
        assert!(label.starts_with(&segment.step.flags.to_string()));
        assert!(label.contains(&format!(
            "seq={} ack={}",
            segment.step.seq, segment.step.ack
        )));
    }
    // The request's label shows its payload; the resend stands out with why.
    let labels: Vec<String> = arrows.iter().filter_map(|g| text_of(*g, "label")).collect();
    assert!(
        labels
            .iter()
            .any(|l| l == "PSH,ACK seq=1 ack=1 len=6 \"TIME\\r\\n\""),
        "{labels:?}"
    );
    let flagged: Vec<_> = arrows
        .iter()
        .filter(|g| g.attribute("class") == Some("segment flagged"))
        .collect();
    assert_eq!(flagged.len(), 1);
    let why = text_of(*flagged[0], "reason").expect("a reason");
    assert!(
        why.starts_with("[retransmission of seq=1, 240.000 ms after the original"),
        "{why}"
    );
    // Dashed as well as red, so that it stands out without colour too; no
    // other arrow is dashed.
    let dashed = |g: &roxmltree::Node<'_, '_>| {
        g.children()
            .any(|n| n.has_tag_name("line") && n.attribute("stroke-dasharray").is_some())
    };
    assert!(dashed(flagged[0]));
    assert_eq!(arrows.iter().filter(|g| dashed(g)).count(), 1);
    // Handshake, data and teardown are named.
    let phases: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("phase"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(phases, ["handshake", "data", "teardown"]);
}

#[test]
fn a_long_conversation_keeps_its_first_and_last_segments_and_says_how_many_are_left_out() {
    let mut s = TcpSession::new("10.0.0.2:40000", "10.0.0.1:10000");
    s.handshake(0.0);
    for i in 0..200 {
        s.send(
            ClientToServer,
            0.01 + f64::from(i) * 0.001,
            b"0123456789abcdef",
        );
    }
    s.close(ClientToServer, 0.5);
    let summary = summary_with_ladders(&[&s]);
    let c = &summary.conversations[0];
    let log = c.ladder.as_deref().expect("log");
    assert_eq!(log.shown(), LADDER_SEGMENTS);
    assert_eq!(log.left_out + log.shown() as u64, c.packets.total());
    let svg = ladder::svg(c, NET);
    let doc = roxmltree::Document::parse(&svg).expect("XML");
    assert_eq!(arrows(&doc).len(), LADDER_SEGMENTS);
    let left_out: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("left-out"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(left_out.len(), 1);
    assert!(
        left_out[0].contains(&format!("{} segments left out", log.left_out)),
        "{left_out:?}"
    );
    // The last segment shown is the conversation's last one.
    assert_eq!(log.last.back().map(|s| s.step.time), Some(c.end));
}

#[test]
fn several_conversations_share_one_overview_a_colour_each() {
    let a = time_session_with_a_resend("172.16.16.102:40000");
    let b = time_session_with_a_resend("172.16.16.103:40001");
    let summary = summary_with_ladders(&[&a, &b]);
    let selected: Vec<&Conversation> = summary.conversations.iter().collect();
    let svg = ladder::overview(&selected, NET);
    let doc = roxmltree::Document::parse(&svg).expect("XML");
    let hosts: Vec<String> = host_lines(&doc).into_iter().map(|(n, _)| n).collect();
    assert_eq!(hosts[0], "mesin-1", "the server first (its address below)");
    assert_eq!(hosts.len(), 3);
    let arrows = arrows(&doc);
    let total: u64 = selected.iter().map(|c| c.packets.total()).sum();
    assert_eq!(arrows.len() as u64, total);
    let colour_of = |id: &str| -> std::collections::BTreeSet<String> {
        arrows
            .iter()
            .filter(|g| g.attribute("data-conversation") == Some(id))
            .filter_map(|g| g.children().find(|n| n.has_tag_name("line")))
            .filter_map(|l| l.attribute("stroke").map(str::to_string))
            .collect()
    };
    let (first, second) = (colour_of("0"), colour_of("1"));
    assert_eq!(
        (first.len(), second.len()),
        (1, 1),
        "one colour per conversation"
    );
    assert_ne!(first, second);
}

#[test]
fn a_ladder_renders_to_a_png_twice_its_size() {
    let session = time_session_with_a_resend("172.16.16.102:40000");
    let summary = summary_with_ladders(&[&session]);
    let svg = ladder::svg(&summary.conversations[0], NET);
    let png = match ladder::png(&svg) {
        Ok(png) => png,
        // Fonts come from the system; say so rather than fail elsewhere.
        Err(e) if e.contains("no fonts") => panic!("{e}"),
        Err(e) => panic!("rendering failed: {e}"),
    };
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    assert_eq!(width, 2 * 794, "A4 width at 192 dots per inch");
}
