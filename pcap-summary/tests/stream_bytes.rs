//! Stream bytes (each byte of a side's stream once) against payload bytes
//! on the wire (retransmissions included), on captures written with the
//! test kit.

use pcap_summary::conversation::Conversation;
use pcap_summary::direction::{Dir, PerDir};
use pcap_summary::{summarize, Options, Summary};
use progjar_testkit::{CaptureBuilder, Direction::*, TcpSession};
use proptest::prelude::*;

const C2S: Dir = Dir::ClientToServer;
const S2C: Dir = Dir::ServerToClient;

fn summary_of(session: &TcpSession) -> Summary {
    let mut capture = CaptureBuilder::new();
    capture.add_session(session);
    summarize(capture.to_pcap_bytes().as_slice(), &Options::default()).expect("readable")
}

fn only(summary: &Summary) -> &Conversation {
    assert_eq!(summary.conversations.len(), 1);
    &summary.conversations[0]
}

fn echo_session() -> TcpSession {
    let mut s = TcpSession::new("172.16.16.102:40000", "172.16.16.101:10000");
    s.handshake(0.0);
    s
}

#[test]
fn a_retransmitted_segment_counts_on_the_wire_but_once_in_the_stream() {
    let mut s = echo_session();
    s.send(ClientToServer, 0.01, &[b'a'; 100]);
    let second = s.send(ClientToServer, 0.02, &[b'b'; 100]);
    s.send(ClientToServer, 0.03, &[b'c'; 100]);
    s.retransmit(0.25, second);
    s.send(ServerToClient, 0.30, &[b'x'; 300]);
    s.close(ClientToServer, 0.4);
    let summary = summary_of(&s);
    let c = only(&summary);
    assert_eq!(c.payload_bytes, PerDir::new(400, 300));
    assert_eq!(c.stream_bytes, PerDir::new(300, 300));
    assert_eq!(c.retransmitted_bytes(), PerDir::new(100, 0));
    assert_eq!((c.retransmissions(), c.out_of_order()), (1, 0));
    let json = summary.to_json();
    let conv = &json["conversations"][0];
    assert_eq!(conv["payload_bytes"]["client_to_server"], 400);
    assert_eq!(conv["stream_bytes"]["client_to_server"], 300);
    assert_eq!(conv["stream_bytes"]["server_to_client"], 300);
    assert_eq!(conv["retransmitted_bytes"]["client_to_server"], 100);
    assert_eq!(conv["retransmitted_bytes"]["server_to_client"], 0);
}

/// The lab report's case: the echo came back with 32 bytes sent twice, so
/// the wire said 35181 bytes back for 35149 sent.
#[test]
fn an_echo_with_one_resent_piece_echoes_exactly_the_bytes_sent() {
    let mut s = echo_session();
    let message = vec![b'm'; 35149];
    s.send(ClientToServer, 0.01, &message[..20000]);
    s.send(ClientToServer, 0.02, &message[20000..]);
    let mut t = 0.03;
    let mut resend = None;
    for piece in message.chunks(32) {
        let sent = s.send(ServerToClient, t, piece);
        if sent.stream_offset == 3200 {
            resend = Some(sent);
        }
        t += 0.0001;
    }
    s.retransmit(t, resend.expect("a piece at offset 3200"));
    s.close(ClientToServer, t + 0.01);
    let c = &only(&summary_of(&s)).clone();
    assert_eq!(c.payload_bytes, PerDir::new(35149, 35181));
    assert_eq!(c.stream_bytes, PerDir::new(35149, 35149));
    assert_eq!(c.retransmitted_bytes(), PerDir::new(0, 32));
}

#[test]
fn a_retransmission_reaching_past_what_was_seen_counts_only_its_new_part() {
    // 0..100 captured, 100..200 missed by the capture, then 50..200 resent:
    // 50 bytes seen before, 100 new.
    let mut s = echo_session();
    s.send(ClientToServer, 0.01, &[b'a'; 100]);
    s.send_uncaptured(ClientToServer, &[b'b'; 100]);
    s.retransmit_bytes(ClientToServer, 0.2, 50..200);
    let summary = summary_of(&s);
    let c = only(&summary);
    assert_eq!(c.payload_bytes[C2S], 250);
    assert_eq!(c.stream_bytes[C2S], 200);
    assert_eq!(c.retransmitted_bytes()[C2S], 50);
    assert_eq!(c.retransmissions(), 1);
}

#[test]
fn a_retransmission_over_a_hole_counts_the_hole_and_not_the_rest() {
    // 0..100 and 200..300 captured, 100..200 missed, then 50..250 resent:
    // only the 100 bytes of the hole are new.
    let mut s = echo_session();
    s.send(ClientToServer, 0.01, &[b'a'; 100]);
    s.send_uncaptured(ClientToServer, &[b'b'; 100]);
    s.send(ClientToServer, 0.02, &[b'c'; 100]);
    s.retransmit_bytes(ClientToServer, 0.2, 50..250);
    // The hole is filled now: resending its middle adds nothing.
    s.retransmit_bytes(ClientToServer, 0.3, 120..180);
    let c = only(&summary_of(&s)).clone();
    assert_eq!(c.payload_bytes[C2S], 100 + 100 + 200 + 60);
    assert_eq!(c.stream_bytes[C2S], 300);
    assert_eq!(c.retransmitted_bytes()[C2S], 160);
}

#[test]
fn a_late_segment_filling_a_hole_counts_once_and_is_out_of_order() {
    let mut s = echo_session();
    s.send(ClientToServer, 0.01, &[b'a'; 100]);
    let late = s.send_uncaptured(ClientToServer, &[b'b'; 100]);
    s.send(ClientToServer, 0.02, &[b'c'; 100]);
    // Soon after the highest segment (within the handshake's round trip):
    // out of order, as tshark calls it; later it would be a retransmission.
    // Either way its bytes are new.
    s.retransmit(0.0201, late);
    let c = only(&summary_of(&s)).clone();
    assert_eq!(c.payload_bytes[C2S], 300);
    assert_eq!(c.stream_bytes[C2S], 300);
    assert_eq!(c.retransmitted_bytes()[C2S], 0);
    assert_eq!((c.retransmissions(), c.out_of_order()), (0, 1));
}

#[test]
fn bytes_never_captured_do_not_count() {
    let mut s = echo_session();
    s.send(ClientToServer, 0.01, &[b'a'; 100]);
    s.send_uncaptured(ClientToServer, &[b'b'; 100]);
    s.send(ClientToServer, 0.02, &[b'c'; 100]);
    s.close(ClientToServer, 0.1);
    let c = only(&summary_of(&s)).clone();
    assert_eq!(s.bytes_sent(ClientToServer), 300);
    assert_eq!(c.payload_bytes[C2S], 200);
    assert_eq!(c.stream_bytes[C2S], 200);
    assert_eq!((c.retransmissions(), c.out_of_order()), (0, 0));
    assert_eq!(c.stream_bytes[S2C], 0);
}

#[test]
fn stream_bytes_are_counted_across_the_sequence_number_wrap() {
    let mut s = TcpSession::new("10.0.0.2:40000", "10.0.0.1:10000")
        .with_initial_sequence_numbers(u32::MAX - 150, 5);
    s.handshake(0.0);
    s.send(ClientToServer, 0.01, &[b'a'; 100]);
    s.send_uncaptured(ClientToServer, &[b'b'; 100]); // spans the wrap
    s.send(ClientToServer, 0.02, &[b'c'; 100]);
    s.retransmit_bytes(ClientToServer, 0.03, 80..260);
    let c = only(&summary_of(&s)).clone();
    assert_eq!(c.stream_bytes[C2S], 300);
    assert_eq!(c.payload_bytes[C2S], 380);
}

#[test]
fn the_text_report_gives_stream_bytes_when_they_differ_from_the_wire() {
    let mut s = echo_session();
    let first = s.send(ClientToServer, 0.01, b"hello");
    s.retransmit(0.2, first);
    let summary = summary_of(&s);
    let all: Vec<&Conversation> = summary.conversations.iter().collect();
    let text = pcap_summary::text::render(&summary, "x", &all, true);
    assert!(
        text.contains(
            "stream bytes (each byte once) c->s 5, s->c 0; resent on the wire c->s 5, s->c 0"
        ),
        "{text}"
    );
    assert!(
        pcap_summary::text::compact(all[0]).contains("bytes 10/0 (stream 5/0)"),
        "{}",
        pcap_summary::text::compact(all[0])
    );
}

/// What a test does to the client's stream.
#[derive(Debug, Clone)]
enum Step {
    Send(usize),
    SendUncaptured(usize),
    /// Resend a range chosen by two fractions of the bytes sent so far.
    Resend(f64, f64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1usize..60).prop_map(Step::Send),
        (1usize..60).prop_map(Step::SendUncaptured),
        (0.0..1.0f64, 0.0..1.0f64).prop_map(|(a, b)| Step::Resend(a, b)),
    ]
}

/// Plays `steps` on a session; returns it and which stream bytes the
/// capture holds at least once.
fn play(steps: &[Step]) -> (TcpSession, Vec<bool>) {
    let mut s = echo_session();
    let mut seen = Vec::new();
    let mut t = 0.01;
    for step in steps {
        t += 0.001;
        match *step {
            Step::Send(n) => {
                s.send(ClientToServer, t, &vec![b'd'; n]);
                seen.extend(std::iter::repeat_n(true, n));
            }
            Step::SendUncaptured(n) => {
                s.send_uncaptured(ClientToServer, &vec![b'u'; n]);
                seen.extend(std::iter::repeat_n(false, n));
            }
            Step::Resend(a, b) => {
                let sent = s.bytes_sent(ClientToServer);
                if sent == 0 {
                    continue;
                }
                let x = ((a * sent as f64) as u64).min(sent - 1);
                let y = ((b * sent as f64) as u64).min(sent - 1);
                let range = x.min(y)..x.max(y) + 1;
                for byte in &mut seen[range.start as usize..range.end as usize] {
                    *byte = true;
                }
                s.retransmit_bytes(ClientToServer, t, range);
            }
        }
    }
    (s, seen)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// With few holes at once (all remembered), stream bytes are exactly
    /// the bytes the capture holds, and wire = stream + retransmitted.
    #[test]
    fn stream_bytes_are_the_distinct_bytes_captured(steps in prop::collection::vec(step(), 1..14)) {
        let (session, seen) = play(&steps);
        let summary = summary_of(&session);
        let c = only(&summary);
        let distinct = seen.iter().filter(|&&b| b).count() as u64;
        prop_assert_eq!(c.stream_bytes[C2S], distinct);
        prop_assert_eq!(c.payload_bytes[C2S], c.stream_bytes[C2S] + c.retransmitted_bytes()[C2S]);
    }

    /// With more holes than are remembered, no byte is counted twice.
    #[test]
    fn stream_bytes_never_exceed_the_distinct_bytes_captured(steps in prop::collection::vec(step(), 1..80)) {
        let (session, seen) = play(&steps);
        let summary = summary_of(&session);
        let c = only(&summary);
        let distinct = seen.iter().filter(|&&b| b).count() as u64;
        prop_assert!(c.stream_bytes[C2S] <= distinct, "{} > {}", c.stream_bytes[C2S], distinct);
    }
}
