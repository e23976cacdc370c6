//! The text and SVG timelines, on captures written with the test kit.

use pcap_summary::conversation::Conversation;
use pcap_summary::{summarize, timeline, Options, Summary};
use progjar_testkit::{CaptureBuilder, Direction::*, TcpSession};

fn summary_of(capture: &CaptureBuilder) -> Summary {
    summarize(capture.to_pcap_bytes().as_slice(), &Options::default()).expect("readable")
}

fn all(summary: &Summary) -> Vec<&Conversation> {
    summary.conversations.iter().collect()
}

/// Two echo clients of an iterative server: the first is served from 0 s to
/// 2 s; the second connects at 0.1 s, sends at 0.11 s and gets its first
/// echo byte only at 2.01 s, after the first one's FIN.
fn iterative_capture() -> CaptureBuilder {
    let mut first = TcpSession::new("172.16.16.102:40000", "172.16.16.101:10000");
    first.handshake(0.0);
    for round in 0..3 {
        let t = 0.01 + f64::from(round) * 0.9;
        first.send(ClientToServer, t, b"hello server");
        first.send(ServerToClient, t + 0.001, b"hello server");
    }
    first.close(ClientToServer, 2.0);
    let mut second = TcpSession::new("172.16.16.103:40000", "172.16.16.101:10000");
    second.handshake(0.1);
    second.send(ClientToServer, 0.11, b"hello server");
    second.send(ServerToClient, 2.01, b"hello server");
    second.close(ClientToServer, 2.05);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&first).add_session(&second);
    capture
}

#[test]
fn the_waiting_client_of_an_iterative_server_is_drawn_in_its_own_character() {
    let summary = summary_of(&iterative_capture());
    let second = &summary.conversations[1];
    let (from, to) = second
        .waiting_for_server()
        .expect("the second client waited");
    assert!(
        (from - 0.11).abs() < 1e-6 && (to - 2.01).abs() < 1e-6,
        "{from} {to}"
    );
    let text = timeline::text(&all(&summary), summary.duration);
    assert!(
        text.contains("'~' open, waiting for the server's first byte"),
        "legend line: {text}"
    );
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(">:10000")).collect();
    assert_eq!(rows.len(), 2, "{text}");
    let waiting = |row: &str| row.chars().filter(|&c| c == '~').count();
    // 1.9 s of a 2.05 s capture in 60 columns: about 55 of them.
    assert!(waiting(rows[1]) >= 50, "{}", rows[1]);
    assert_eq!(waiting(rows[0]), 0, "served at once: {}", rows[0]);
}

#[test]
fn the_svg_has_a_legend_a_time_axis_in_seconds_and_the_waiting_bar() {
    let summary = summary_of(&iterative_capture());
    let svg = timeline::svg(&all(&summary), summary.duration);
    for entry in [
        "open (earliest to latest packet)",
        "open, waiting for the server&#39;s first byte",
        "data segment, client -&gt; server",
        "data segment, server -&gt; client",
    ] {
        // The apostrophe needs no escaping in text: accept it either way.
        let plain = entry.replace("&#39;", "'");
        assert!(
            svg.contains(&format!(">{plain}</text>")),
            "legend entry {plain:?} in:\n{svg}"
        );
    }
    // Duration 2.0502 s: round ticks 0.2 s apart, labelled in seconds.
    for tick in [">0 s<", ">0.2 s<", ">1.0 s<", ">2.0 s<"] {
        assert!(svg.contains(tick), "tick {tick} in:\n{svg}");
    }
    assert!(!svg.contains(">2.2 s<"), "no tick past the end");
    assert_eq!(svg.matches(r#"<g class="tick">"#).count(), 11);
    assert!(svg.contains("time since the capture's first packet (s)"));
    // One waiting bar per row: the first client's lasts 1 ms (a sliver
    // under its data marks), the second client's from 0.11 s to 2.01 s (the
    // plot is 640 px wide from x = 260; rows 22 px apart from y = 80).
    let bars: Vec<&str> = svg
        .lines()
        .filter(|l| l.contains(r#"class="waiting""#))
        .collect();
    assert_eq!(bars.len(), 2, "{svg}");
    let attr = |bar: &str, name: &str| -> f64 {
        let after = bar.split(&format!(" {name}=\"")).nth(1).expect("attribute");
        after[..after.find('"').expect("closing quote")]
            .parse()
            .expect("a number")
    };
    let px = |t: f64| 260.0 + t / summary.duration * 640.0;
    assert_eq!(attr(bars[0], "y"), 80.0);
    assert!(attr(bars[0], "width") <= 1.0, "{}", bars[0]);
    assert_eq!(attr(bars[1], "y"), 102.0);
    assert!((attr(bars[1], "x") - px(0.11)).abs() < 0.01, "{}", bars[1]);
    assert!(
        (attr(bars[1], "width") - (px(2.01) - px(0.11))).abs() < 0.02,
        "{}",
        bars[1]
    );
    assert!(bars[1].contains("<title>open, waiting for the server's first byte</title>"));
    assert!(svg.trim_end().ends_with("</svg>"));
}

#[test]
fn a_short_capture_gives_its_column_in_a_unit_with_a_non_zero_figure() {
    let mut session = TcpSession::new("10.0.0.2:40000", "10.0.0.1:45000");
    session.handshake(0.0);
    session.send(ClientToServer, 0.0010, b"TIME\r\n");
    session.send(ServerToClient, 0.0012, b"JAM 10:00:00\r\n");
    session.close(ClientToServer, 0.0024);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&session);
    let summary = summary_of(&capture);
    assert!((summary.duration - 0.0026).abs() < 1e-9);
    let text = timeline::text(&all(&summary), summary.duration);
    let header = text.lines().next().expect("a header");
    // 2.6 ms over 59 column steps: 44.068 µs each.
    assert_eq!(
        header, "timeline: 0 to 2.600 ms, one column = 44.068 µs",
        "{text}"
    );
    assert!(!text.contains("0.000 s"), "{text}");
    let svg = timeline::svg(&all(&summary), summary.duration);
    assert!(svg.contains("(0 to 2.600 ms)"), "{svg}");
    assert!(
        svg.contains(">0.0005 s<") && svg.contains(">0.0025 s<"),
        "{svg}"
    );
}

#[test]
fn a_capture_of_one_instant_draws_without_dividing_by_zero() {
    let mut session = TcpSession::new("10.0.0.2:40000", "10.0.0.1:45000");
    session.syn(0.0);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&session);
    let summary = summary_of(&capture);
    let text = timeline::text(&all(&summary), summary.duration);
    assert!(
        text.starts_with("timeline: every packet at the same instant"),
        "{text}"
    );
    let svg = timeline::svg(&all(&summary), summary.duration);
    assert_eq!(svg.matches(r#"<g class="tick">"#).count(), 1, "{svg}");
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
}

#[test]
fn packets_out_of_time_order_span_the_earliest_to_the_latest_time() {
    // The first frame of the file sets time 0; the second conversation's
    // frames then step back in time: its last frames carry its earliest times.
    let mut other = TcpSession::new("10.0.0.3:40000", "10.0.0.1:45000");
    other.syn(0.0);
    let mut session = TcpSession::new("10.0.0.2:40000", "10.0.0.1:45000");
    session.handshake(1.0);
    session.send(ClientToServer, 1.5, b"TIME\r\n");
    session.send(ServerToClient, 0.8, b"JAM 10:00:00\r\n");
    session.send(ClientToServer, 0.5, b"QUIT\r\n");
    let mut capture = CaptureBuilder::new().keep_insertion_order();
    capture.add_session(&other).add_session(&session);
    let summary = summary_of(&capture);
    let c = &summary.conversations[1];
    assert!((c.start - 0.5).abs() < 1e-9, "start {}", c.start);
    assert!((c.end - 1.5).abs() < 1e-9, "end {}", c.end);
    assert!(c.start <= c.end);
    assert_eq!(
        c.first_data,
        pcap_summary::direction::PerDir::new(Some(0.5), Some(0.8)),
        "the earliest data times"
    );
    assert_eq!(
        summary.max_concurrent, 1,
        "the SYN alone at 0 s ended at once"
    );
    // Neither drawing may panic, and the row is open from 0.5 s to 1.5 s.
    let text = timeline::text(&all(&summary), summary.duration);
    let row = text
        .lines()
        .find(|l| l.contains("10.0.0.2:40000"))
        .expect("a row");
    let cells = &row[row.find('|').expect("a bar") + 1..];
    let first_open = cells.find(['=', '#', '~']).expect("open cells");
    assert_eq!(first_open, 20, "0.5 s of 1.5 s in 60 columns: {row}");
    let svg = timeline::svg(&all(&summary), summary.duration);
    assert!(svg.contains(r#"<rect class="open" x="473.33""#), "{svg}");
}

#[test]
fn the_servers_first_byte_is_timed_from_the_handshake_and_from_the_clients_request() {
    // The client waits 2 ms before it asks; the server answers 0.5 ms later.
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:45000");
    s.handshake(0.0);
    let asked = 0.002 + 2.0 * TcpSession::STEP;
    s.send(ClientToServer, asked, b"TIME\r\n");
    s.send(ServerToClient, asked + 0.0005, b"JAM 10:00:00\r\n");
    s.close(ClientToServer, 0.01);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&s);
    let summary = summary_of(&capture);
    let c = &summary.conversations[0];
    let reply = c.first_reply_delay().expect("the client spoke first");
    assert!((reply - 0.0005).abs() < 1e-9, "{reply}");
    let full = pcap_summary::text::full(c);
    assert!(
        full.contains(
            "first server byte: 2.500 ms after the handshake, 0.500 ms after the client's first byte"
        ),
        "{full}"
    );
}
