//! The captures the kit writes read in pcap-summary as the story they tell.

use pcap_summary::direction::PerDir;
use progjar_testkit::{CaptureBuilder, Direction::*, Link, TcpSession};

fn summary(capture: &CaptureBuilder) -> pcap_summary::Summary {
    pcap_summary::summarize(capture.to_pcap_bytes().as_slice(), &Default::default())
        .expect("a readable capture")
}

#[test]
fn a_session_reads_as_complete_handshake_payload_each_way_and_fin_close() {
    let mut session = TcpSession::new("172.16.16.102:40000", "172.16.16.101:10000");
    session.handshake(0.0);
    session.send(ClientToServer, 0.010, &[b'x'; 100]);
    session.send(ServerToClient, 0.011, &[b'x'; 32]);
    session.send(ServerToClient, 0.012, &[b'x'; 32]);
    session.ack(ClientToServer, 0.013);
    session.send(ServerToClient, 0.014, &[b'x'; 36]);
    session.close(ClientToServer, 0.020);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&session);
    let summary = summary(&capture);
    assert_eq!(summary.packets, 11);
    assert_eq!(summary.conversations.len(), 1);
    let c = &summary.conversations[0];
    assert_eq!(c.client.to_string(), "172.16.16.102:40000");
    assert_eq!(c.server.to_string(), "172.16.16.101:10000");
    assert_eq!(c.handshake.status(), "complete");
    let syn_ack = c.handshake.syn_ack.as_ref().expect("SYN,ACK");
    assert_eq!((syn_ack.seq, syn_ack.ack), (0, 1));
    assert_eq!(c.payload_bytes, PerDir::new(100, 100));
    assert_eq!(c.close_kind(), "fin");
    assert_eq!(
        c.teardown.steps.len(),
        3,
        "FIN, FIN, last ACK: {:?}",
        c.teardown.steps
    );
    assert_eq!((c.retransmissions(), c.out_of_order()), (0, 0));
    // Relative sequence numbers as Wireshark shows them.
    let last = c.segments.last().expect("data");
    assert_eq!((last.step.seq, last.step.ack), (65, 101));
    assert!((c.start - 0.0).abs() < 1e-9 && (c.end - 0.0202).abs() < 1e-9);
}

#[test]
fn retransmissions_holes_and_resets_are_seen_as_such() {
    let mut session = TcpSession::new("10.0.0.2:40000", "10.0.0.1:10000");
    session.handshake(0.0);
    let first = session.send(ClientToServer, 0.1, b"aaaa");
    let missed = session.send_uncaptured(ClientToServer, b"bbbb");
    session.send(ClientToServer, 0.2, b"cccc");
    session.retransmit(0.3, first);
    session.retransmit(0.4, missed);
    session.rst(ServerToClient, 0.5);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&session);
    let c = &summary(&capture).conversations[0];
    // tshark's rules: both late segments come long (over 3 ms) after the
    // highest one, so both count as retransmissions, even the one that
    // fills the hole; "cccc" came after a gap.
    assert_eq!(c.retransmissions(), 2);
    assert_eq!(c.out_of_order(), 0);
    assert_eq!(c.analysis.lost_segment, 1, "the gap before cccc");
    assert_eq!(
        c.payload_bytes[pcap_summary::direction::Dir::ClientToServer],
        16,
        "bytes on the wire"
    );
    assert_eq!(c.close_kind(), "rst");
}

#[test]
fn sessions_interleave_in_time_order_and_other_links_read_the_same() {
    let mut first = TcpSession::new("10.0.0.2:40000", "10.0.0.1:45000");
    let mut second = TcpSession::new("10.0.0.3:40000", "10.0.0.1:45000");
    first.handshake(0.0);
    second.handshake(0.5);
    first.send(ClientToServer, 1.0, b"TIME\r\n");
    second.send(ClientToServer, 0.6, b"TIME\r\n");
    first.close(ClientToServer, 2.0);
    second.close(ClientToServer, 1.5);
    for link in [Link::Ethernet, Link::RawIp, Link::LinuxSll, Link::LinuxSll2] {
        let mut capture = CaptureBuilder::with_link(link);
        capture.add_session(&first).add_session(&second);
        let summary = summary(&capture);
        assert_eq!(summary.tcp_packets, 14, "{link:?}");
        assert_eq!(summary.max_concurrent, 2, "{link:?}");
        let starts: Vec<f64> = summary.conversations.iter().map(|c| c.start).collect();
        assert_eq!(starts, [0.0, 0.5], "{link:?}");
    }
}

#[test]
fn ipv6_sessions_and_files_on_disk() {
    let mut session = TcpSession::new("[fd00::2]:40000", "[fd00::1]:45000");
    session.handshake(0.0);
    session.send(ClientToServer, 0.1, b"TIME\r\n");
    let mut capture = CaptureBuilder::new();
    capture.add_session(&session);
    let path = std::env::temp_dir().join(format!("testkit-{}.pcap", std::process::id()));
    capture.write_pcap(&path).expect("written");
    let bytes = std::fs::read(&path).expect("read back");
    let _ = std::fs::remove_file(&path);
    assert_eq!(bytes, capture.to_pcap_bytes());
    let c = &summary(&capture).conversations[0];
    assert_eq!(c.client.to_string(), "[fd00::2]:40000");
    assert_eq!(c.handshake.status(), "complete");
}

#[test]
fn frames_kept_in_insertion_order_step_back_in_time() {
    let mut session = TcpSession::new("10.0.0.2:40000", "10.0.0.1:45000");
    session.handshake(1.0);
    session.send(ClientToServer, 0.5, b"late packet, early timestamp");
    let mut capture = CaptureBuilder::new().keep_insertion_order();
    capture.add_session(&session);
    let bytes = capture.to_pcap_bytes();
    // Each record starts with its time: seconds, then microseconds.
    let time_at = |offset: usize| {
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        (word(offset), word(offset + 4))
    };
    let last_record = bytes.len() - 16 - (14 + 40 + 28);
    let (first, last) = (time_at(24), time_at(last_record));
    assert_eq!(first.0 - last.0, 1, "a second apart: {first:?} {last:?}");
    assert_eq!((first.1, last.1), (0, 500_000));
    let summary = summary(&capture);
    assert_eq!(summary.tcp_packets, 4);
}
