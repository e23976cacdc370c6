//! Following each TCP conversation through its life.
//!
//! A conversation is a 4-tuple *and* a lifetime, as Wireshark's `tcp.stream`
//! counts them: ports get reused, so a SYN on a known 4-tuple with another
//! initial sequence number starts a new conversation (a SYN with the same
//! one is the same SYN sent again). The client is the side that sent the
//! SYN, or, when no SYN was captured, the sender of the first packet.
//!
//! Sequence numbers are shown relative to each side's initial one, as
//! Wireshark does, so the handshake always reads seq=0, ack=1 (and a side
//! whose SYN was not captured starts at 1).
//!
//! A [`Conversation`] is composed of one part per thing a lab report
//! explains, each in its own module: [`handshake`], [`sequence`] (the expert
//! analysis: retransmissions, duplicate ACKs, lost segments), [`window`]
//! (flow control), [`teardown`], and [`stream_bytes`] (each byte once). The
//! [`tracker`] finds the conversation of every segment.

pub mod handshake;
pub mod sequence;
pub mod stream_bytes;
pub mod teardown;
pub mod tracker;
pub mod window;

use std::net::SocketAddr;

use progjar_protocol::escape::escape_bytes;

pub use crate::direction::{Dir, PerDir};
use crate::expert::{Expert, ExpertCounts};
use crate::segment::{Flags, TcpSegment};
use crate::seq::SeqNumber;
use handshake::FirstRoundTrip;
pub use handshake::Handshake;
use sequence::Flows;
use stream_bytes::StreamBytes;
pub use teardown::Teardown;
pub use tracker::{max_concurrent, CountedOnly, Tracker, COUNTED_PER_KEPT};

/// How much detail the tracker keeps, per conversation and in all.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Segments kept in detail per conversation (data segments and those
    /// the analysis flagged); the rest are counted.
    pub segments: usize,
    /// Payload bytes kept per segment.
    pub payload_bytes: usize,
    /// Conversations kept in full, the first ones of the capture. Past
    /// them, up to [`COUNTED_PER_KEPT`] times as many more are told apart
    /// and counted only ([`CountedOnly`]); past those, packets are counted
    /// without being told apart into conversations.
    pub conversations: usize,
    /// Every segment (pure ACKs too) kept for a ladder diagram, per
    /// conversation: the first half and the last half of this many; 0 for
    /// none (the default: only pictures need them).
    pub ladder: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // 20 segments show a whole TIME session or the start of a transfer,
        // and keep 13,000 conversations well under 64 MB. 100,000
        // conversations in full are about 70 MB with no data, at most about
        // 380 MB with 20 stored segments of 64 bytes each.
        Limits {
            segments: 20,
            payload_bytes: 64,
            conversations: 100_000,
            ladder: 0,
        }
    }
}

/// A segment as the handshake and teardown show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Seconds from the capture's first packet.
    pub time: f64,
    /// Who sent it.
    pub dir: Dir,
    /// Its flags.
    pub flags: Flags,
    /// Relative sequence number.
    pub seq: u32,
    /// Relative acknowledgment number (0 without ACK).
    pub ack: u32,
}

/// A segment kept in detail: one that carried data, or that the analysis
/// flagged.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The segment itself.
    pub step: Step,
    /// Payload length on the wire.
    pub len: u32,
    /// The window it announced, in bytes (scaled when the handshake said so).
    pub window: u32,
    /// The first bytes of the payload (see [`Limits::payload_bytes`]).
    pub payload: Box<[u8]>,
    /// What the expert analysis says of it.
    pub expert: Expert,
    /// For a retransmission: seconds since the original was sent.
    pub resent_after: Option<f64>,
    /// For a duplicate ACK: its number in the row (1, 2, ...).
    pub duplicate_ack: u32,
}

impl Segment {
    /// `segment` as kept: its step, the window it announced in bytes, what
    /// the analysis said, and the first [`Limits::payload_bytes`] of its payload.
    fn new(
        step: &Step,
        segment: &TcpSegment<'_>,
        window: u32,
        verdict: sequence::Verdict,
        limits: &Limits,
    ) -> Segment {
        let keep = segment.payload.len().min(limits.payload_bytes);
        Segment {
            step: step.clone(),
            len: segment.len,
            window,
            payload: segment.payload[..keep].into(),
            expert: verdict.flags,
            resent_after: verdict.after,
            duplicate_ack: verdict.duplicate_ack,
        }
    }

    /// The stored payload, escaped like `TIME\r\n`.
    pub fn payload_text(&self) -> String {
        escape_bytes(&self.payload)
    }

    /// The expert flags in words: "retransmission of seq=1449, 201.000 ms
    /// after the original", "duplicate ACK #2 of ack=1".
    pub fn expert_words(&self) -> Vec<String> {
        self.expert
            .kinds()
            .map(|kind| match kind.bit {
                Expert::RETRANSMISSION => match self.resent_after {
                    Some(after) => format!(
                        "retransmission of seq={}, {} after the original",
                        self.step.seq,
                        crate::timeline::readable_duration(after)
                    ),
                    None => format!("retransmission of seq={}", self.step.seq),
                },
                Expert::FAST_RETRANSMISSION | Expert::SPURIOUS_RETRANSMISSION => {
                    format!("{} of seq={}", kind.words, self.step.seq)
                }
                Expert::DUPLICATE_ACK => {
                    format!(
                        "duplicate ACK #{} of ack={}",
                        self.duplicate_ack, self.step.ack
                    )
                }
                _ => kind.words.to_string(),
            })
            .collect()
    }
}

/// One TCP conversation.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// 0-based, in order of first packet (Wireshark's `tcp.stream`).
    pub id: usize,
    /// The SYN sender (or the first packet's sender).
    pub client: SocketAddr,
    /// The other side.
    pub server: SocketAddr,
    /// Seconds from the capture's first packet to this conversation's
    /// earliest packet: the earliest time, not the first packet's, since a
    /// capture's timestamps can step back (several interfaces or queues).
    pub start: f64,
    /// ... and to its latest packet; never before `start`.
    pub end: f64,
    /// Packets each way.
    pub packets: PerDir<u64>,
    /// Payload bytes on the wire each way: every segment's length,
    /// retransmissions included (Wireshark's `tcp.len` summed).
    pub payload_bytes: PerDir<u64>,
    /// Bytes of each side's byte stream seen in the capture, each byte
    /// counted once: a retransmission counts only the bytes it carries that
    /// no earlier segment did (a part past what was seen, or a hole it
    /// fills), and bytes never captured do not count. What the application
    /// sent, as far as the capture can tell; at most [`Conversation::payload_bytes`].
    pub stream_bytes: PerDir<u64>,
    /// SYN (without ACK) segments.
    pub syn: u64,
    /// SYN,ACK segments.
    pub syn_ack: u64,
    /// Segments with FIN.
    pub fin: u64,
    /// Segments with RST.
    pub rst: u64,
    /// The opening handshake.
    pub handshake: Handshake,
    /// Segments kept in detail, up to the limit: data, and flagged ones.
    pub segments: Vec<Segment>,
    /// Such segments beyond the limit, counted only.
    pub segments_not_shown: u64,
    /// FIN and RST segments and the ACKs that answer them.
    pub teardown: Teardown,
    /// Segments carrying each expert flag (tshark's counts).
    pub analysis: ExpertCounts,
    /// Time of the first (earliest) data byte each way.
    pub first_data: PerDir<Option<f64>>,
    /// Every segment, first and last ones, when [`Limits::ladder`] asks.
    pub ladder: Option<Box<crate::ladder::LadderLog>>,
    /// What each side announced in its SYN, if one was seen.
    pub syn_options: PerDir<Option<crate::segment::SynOptions>>,
    /// Each side's relative zero: its ISN, or one before the first number
    /// seen when its SYN was not captured (as Wireshark takes it).
    base_seq: PerDir<Option<SeqNumber>>,
    flows: Flows,
    bytes: PerDir<StreamBytes>,
    first_rtt: FirstRoundTrip,
}

impl Conversation {
    fn new(id: usize, time: f64, segment: &TcpSegment<'_>) -> Self {
        // A SYN,ACK seen first means its receiver opened the conversation.
        let (client, server) = if segment.flags.is_syn_ack() {
            (segment.dst, segment.src)
        } else {
            (segment.src, segment.dst)
        };
        Conversation {
            id,
            client,
            server,
            start: time,
            end: time,
            packets: PerDir::default(),
            payload_bytes: PerDir::default(),
            stream_bytes: PerDir::default(),
            syn: 0,
            syn_ack: 0,
            fin: 0,
            rst: 0,
            handshake: Handshake::default(),
            // No room for segments until one comes: most conversations of a
            // scan or a SYN flood never carry any.
            segments: Vec::new(),
            segments_not_shown: 0,
            teardown: Teardown::default(),
            analysis: ExpertCounts::default(),
            first_data: PerDir::default(),
            ladder: None,
            syn_options: PerDir::default(),
            base_seq: PerDir::default(),
            flows: Flows::default(),
            bytes: PerDir::default(),
            first_rtt: FirstRoundTrip::default(),
        }
    }

    /// Whether a FIN or RST has been seen.
    pub fn has_ended(&self) -> bool {
        self.fin > 0 || self.rst > 0
    }

    /// `fin`, `rst` or `open`.
    pub fn close_kind(&self) -> &'static str {
        if self.rst > 0 {
            "rst"
        } else if self.fin > 0 {
            "fin"
        } else {
            "open"
        }
    }

    /// Segments tshark marks as retransmissions (plain, fast or spurious).
    pub fn retransmissions(&self) -> u64 {
        u64::from(self.analysis.retransmission)
    }

    /// Segments tshark marks as out of order.
    pub fn out_of_order(&self) -> u64 {
        u64::from(self.analysis.out_of_order)
    }

    /// Payload bytes on the wire that carried stream bytes already seen:
    /// [`Conversation::payload_bytes`] minus [`Conversation::stream_bytes`].
    pub fn retransmitted_bytes(&self) -> PerDir<u64> {
        PerDir::from_fn(|dir| self.payload_bytes[dir].saturating_sub(self.stream_bytes[dir]))
    }

    /// Time from the end of the handshake to the server's first data byte:
    /// long when an iterative server made this client wait.
    pub fn first_server_byte_delay(&self) -> Option<f64> {
        let first = self.first_data[Dir::ServerToClient]?;
        let opened = self
            .handshake
            .ack
            .as_ref()
            .or(self.handshake.syn_ack.as_ref())
            .map_or(self.start, |step| step.time);
        Some(first - opened)
    }

    /// Time from the client's first data byte to the server's first, when
    /// the client spoke first: how long the server took to answer, without
    /// the time the client took to ask (which the delay after the
    /// handshake includes).
    pub fn first_reply_delay(&self) -> Option<f64> {
        let client = self.first_data[Dir::ClientToServer]?;
        let server = self.first_data[Dir::ServerToClient]?;
        (client <= server).then_some(server - client)
    }

    /// When the client had sent data but the server none yet: from the
    /// client's first data byte to the server's first (or, if the server
    /// never sent any, to the conversation's end). This is how a client
    /// waiting in an iterative server's backlog shows: connected, request
    /// sent, no answer. None when the client sent nothing, or the server
    /// spoke first.
    pub fn waiting_for_server(&self) -> Option<(f64, f64)> {
        let client = self.first_data[Dir::ClientToServer]?;
        // Data in the SYN (TCP Fast Open) waits from the handshake's end.
        let from = match &self.handshake.ack {
            Some(ack) => client.max(ack.time),
            None => client,
        };
        let until = self.first_data[Dir::ServerToClient].unwrap_or(self.end);
        (from < until).then_some((from, until))
    }

    /// The direction `segment` goes in this conversation.
    pub fn dir_of(&self, segment: &TcpSegment<'_>) -> Dir {
        if segment.src == self.client {
            Dir::ClientToServer
        } else {
            Dir::ServerToClient
        }
    }

    /// Whether `segment` is a SYN that starts a new conversation on this
    /// one's 4-tuple: its sender's initial sequence number is another one.
    pub(crate) fn is_reopened_by(&self, segment: &TcpSegment<'_>) -> bool {
        segment.flags.is_syn()
            && self.base_seq[self.dir_of(segment)].is_some_and(|base| base != segment.seq)
    }

    /// Adds `segment` and returns the way it went.
    fn observe(&mut self, time: f64, segment: &TcpSegment<'_>, limits: &Limits) -> Dir {
        let dir = self.dir_of(segment);
        let flags = segment.flags;
        // Times can step back: the conversation spans the earliest to the latest.
        self.start = self.start.min(time);
        self.end = self.end.max(time);
        self.packets[dir] += 1;
        self.payload_bytes[dir] += u64::from(segment.len);
        self.count_flags(flags);
        if flags.is_syn() && self.base_seq[dir] == Some(segment.seq) {
            self.flows[dir].syn_again();
        }
        self.set_bases(dir, segment);

        let (this, reverse) = self.flows.this_and_reverse(dir);
        let verdict = sequence::analyze((this, reverse), segment, time, self.first_rtt.rtt);
        let window = this.window.bytes(segment);
        window::after_segment(&mut this.window, &mut reverse.window, segment);
        self.first_rtt.observe(time, flags);
        self.analysis.add(verdict.flags);
        if flags.has(Flags::SYN) {
            self.syn_options[dir] = Some(segment.syn_options);
        }
        self.stream_bytes[dir] += self.bytes[dir].observe(segment);

        let step = self.step(time, dir, segment);
        self.handshake.follow(&step);
        if segment.len > 0 {
            let first = self.first_data[dir].get_or_insert(time);
            *first = first.min(time);
        }
        if segment.len > 0 || verdict.flags.any() {
            self.keep(limits, segment, &step, window, verdict);
        }
        if limits.ladder > 0 {
            self.ladder
                .get_or_insert_with(|| Box::new(crate::ladder::LadderLog::new(limits.ladder)))
                .push(Segment::new(&step, segment, window, verdict, limits));
        }
        self.teardown.follow(&step, segment);
        dir
    }

    /// Each side's relative zero, as Wireshark sets it: a SYN's sequence
    /// number; else one before the first number seen; and for the other
    /// side, one before the first ACK number, until its own segment says.
    fn set_bases(&mut self, dir: Dir, segment: &TcpSegment<'_>) {
        if self.base_seq[dir].is_none() {
            let base = if segment.flags.has(Flags::SYN) {
                segment.seq
            } else {
                segment.seq - 1
            };
            self.base_seq[dir] = Some(base);
        }
        if segment.flags.has(Flags::ACK) && self.base_seq[dir.reverse()].is_none() {
            self.base_seq[dir.reverse()] = Some(segment.ack - 1);
        }
        // A SYN,ACK with another ISN than first thought: it is the base.
        if segment.flags.is_syn_ack() {
            self.base_seq[dir] = Some(segment.seq);
        }
    }

    fn step(&self, time: f64, dir: Dir, segment: &TcpSegment<'_>) -> Step {
        let relative =
            |seq: SeqNumber, base: Option<SeqNumber>| base.map_or(0, |base| seq.relative_to(base));
        Step {
            time,
            dir,
            flags: segment.flags,
            seq: relative(segment.seq, self.base_seq[dir]),
            ack: if segment.flags.has(Flags::ACK) {
                relative(segment.ack, self.base_seq[dir.reverse()])
            } else {
                0
            },
        }
    }

    fn keep(
        &mut self,
        limits: &Limits,
        segment: &TcpSegment<'_>,
        step: &Step,
        window: u32,
        verdict: sequence::Verdict,
    ) {
        if self.segments.len() >= limits.segments {
            self.segments_not_shown += 1;
            return;
        }
        if self.segments.len() == self.segments.capacity() {
            // Grow by doubling, but never past the limit.
            let more = self.segments.len().max(4);
            self.segments
                .reserve_exact(more.min(limits.segments - self.segments.len()));
        }
        self.segments
            .push(Segment::new(step, segment, window, verdict, limits));
    }

    fn count_flags(&mut self, flags: Flags) {
        self.syn += u64::from(flags.is_syn());
        self.syn_ack += u64::from(flags.is_syn_ack());
        self.fin += u64::from(flags.has(Flags::FIN));
        self.rst += u64::from(flags.has(Flags::RST));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expert::Expert;

    fn seg(
        src: &str,
        dst: &str,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &'static [u8],
    ) -> TcpSegment<'static> {
        TcpSegment {
            src: src.parse().expect("addr"),
            dst: dst.parse().expect("addr"),
            seq: SeqNumber(seq),
            ack: SeqNumber(ack),
            flags: Flags(flags),
            len: payload.len() as u32,
            payload,
            window: 64_000,
            syn_options: crate::segment::SynOptions::default(),
        }
    }

    const C: &str = "10.0.0.2:40000";
    const S: &str = "10.0.0.1:45000";
    const SYN: u8 = Flags::SYN;
    const SA: u8 = Flags::SYN | Flags::ACK;
    const A: u8 = Flags::ACK;
    const PA: u8 = Flags::PSH | Flags::ACK;
    const FA: u8 = Flags::FIN | Flags::ACK;

    /// A whole TIME/QUIT session: handshake, two requests, teardown.
    fn time_session(tracker: &mut Tracker, t0: f64, cisn: u32, sisn: u32) {
        let steps = [
            (0.000, seg(C, S, cisn, 0, SYN, b"")),
            (0.001, seg(S, C, sisn, cisn + 1, SA, b"")),
            (0.002, seg(C, S, cisn + 1, sisn + 1, A, b"")),
            (0.010, seg(C, S, cisn + 1, sisn + 1, PA, b"TIME\r\n")),
            (
                0.011,
                seg(S, C, sisn + 1, cisn + 7, PA, b"JAM 10:00:00\r\n"),
            ),
            (0.020, seg(C, S, cisn + 7, sisn + 15, PA, b"QUIT\r\n")),
            (0.021, seg(S, C, sisn + 15, cisn + 13, FA, b"")),
            (0.022, seg(C, S, cisn + 13, sisn + 16, FA, b"")),
            (0.023, seg(S, C, sisn + 16, cisn + 14, A, b"")),
        ];
        for (t, s) in steps {
            tracker.observe(t0 + t, &s);
        }
    }

    #[test]
    fn a_time_session_reads_as_handshake_data_and_teardown() {
        let mut tracker = Tracker::new(Limits::default());
        time_session(&mut tracker, 0.0, 1000, 5000);
        let convs = tracker.into_conversations();
        assert_eq!(convs.len(), 1);
        let c = &convs[0];
        assert_eq!(c.client.to_string(), C);
        assert_eq!(c.handshake.status(), "complete");
        let syn_ack = c.handshake.syn_ack.as_ref().expect("syn-ack");
        assert_eq!((syn_ack.seq, syn_ack.ack), (0, 1));
        assert!((c.handshake.rtt().expect("rtt") - 0.002).abs() < 1e-9);
        assert_eq!(c.segments.len(), 3);
        assert_eq!(c.segments[0].payload_text(), "TIME\\r\\n");
        assert_eq!((c.segments[0].step.seq, c.segments[0].step.ack), (1, 1));
        assert_eq!((c.segments[1].step.seq, c.segments[1].step.ack), (1, 7));
        assert_eq!(c.payload_bytes, PerDir::new(12, 14));
        assert_eq!((c.syn, c.syn_ack, c.fin, c.rst), (1, 1, 2, 0));
        assert_eq!(c.close_kind(), "fin");
        // Server FIN first, client FIN, then the server's last ACK.
        let order: Vec<(Dir, String)> = c
            .teardown
            .steps
            .iter()
            .map(|s| (s.dir, s.flags.to_string()))
            .collect();
        assert_eq!(
            order,
            vec![
                (Dir::ServerToClient, "FIN,ACK".into()),
                (Dir::ClientToServer, "FIN,ACK".into()),
                (Dir::ServerToClient, "ACK".into())
            ]
        );
        assert!((c.first_server_byte_delay().expect("server sent data") - 0.009).abs() < 1e-9);
        assert!(c.analysis.is_clean(), "{:?}", c.analysis);
    }

    #[test]
    fn a_syn_reusing_a_closed_four_tuple_starts_a_new_conversation() {
        let mut tracker = Tracker::new(Limits::default());
        time_session(&mut tracker, 0.0, 1000, 5000);
        time_session(&mut tracker, 1.0, 9000, 7000);
        let convs = tracker.into_conversations();
        assert_eq!(convs.len(), 2);
        assert_eq!(convs[1].id, 1);
        assert_eq!(convs[1].start, 1.0);
        assert_eq!(convs[1].segments[0].step.seq, 1);
    }

    #[test]
    fn a_syn_sent_again_with_the_same_isn_stays_in_its_conversation() {
        let mut tracker = Tracker::new(Limits::default());
        tracker.observe(0.0, &seg(C, S, 1000, 0, SYN, b""));
        tracker.observe(1.0, &seg(C, S, 1000, 0, SYN, b""));
        let convs = tracker.into_conversations();
        assert_eq!(convs.len(), 1);
        assert_eq!(
            convs[0].analysis.retransmission, 1,
            "tshark: a retransmitted SYN"
        );
    }

    #[test]
    fn a_resent_segment_is_a_retransmission_and_a_quick_late_one_is_out_of_order() {
        let mut tracker = Tracker::new(Limits::default());
        tracker.observe(0.0, &seg(C, S, 100, 0, PA, b"aaaa"));
        tracker.observe(0.1, &seg(C, S, 100, 0, PA, b"aaaa"));
        tracker.observe(0.2, &seg(C, S, 108, 0, PA, b"cccc"));
        // Within 3 ms of the highest segment: out of order, not resent.
        tracker.observe(0.201, &seg(C, S, 104, 0, PA, b"bbbb"));
        let c = &tracker.into_conversations()[0];
        assert_eq!(c.retransmissions(), 1);
        assert_eq!(c.out_of_order(), 1);
        assert_eq!(c.analysis.lost_segment, 1, "108 came before 104");
        assert!(c.segments[1].expert.has(Expert::RETRANSMISSION));
        assert!(c.segments[3].expert.has(Expert::OUT_OF_ORDER));
        assert_eq!(
            c.segments[1].expert_words(),
            ["retransmission of seq=1, 100.000 ms after the original"]
        );
        assert_eq!(c.payload_bytes[Dir::ClientToServer], 16, "on the wire");
        assert_eq!(c.stream_bytes[Dir::ClientToServer], 12, "each byte once");
        assert_eq!(c.retransmitted_bytes(), PerDir::new(4, 0));
        assert_eq!(c.handshake.status(), "none");
        assert_eq!(c.close_kind(), "open");
    }

    #[test]
    fn three_identical_acks_are_two_duplicates_and_the_quick_resend_is_fast() {
        let mut tracker = Tracker::new(Limits::default());
        tracker.observe(0.000, &seg(C, S, 100, 500, PA, b"aaaa"));
        tracker.observe(0.001, &seg(C, S, 108, 500, PA, b"cccc"));
        tracker.observe(0.002, &seg(S, C, 500, 104, A, b""));
        tracker.observe(0.003, &seg(S, C, 500, 104, A, b""));
        tracker.observe(0.004, &seg(S, C, 500, 104, A, b""));
        tracker.observe(0.005, &seg(C, S, 104, 500, PA, b"bbbb"));
        let c = &tracker.into_conversations()[0];
        assert_eq!(c.analysis.duplicate_ack, 2);
        assert_eq!(c.analysis.fast_retransmission, 1);
        assert_eq!(c.analysis.retransmission, 1, "a fast one is one too");
        let dup = c
            .segments
            .iter()
            .find(|s| s.duplicate_ack == 2)
            .expect("second dup");
        assert_eq!(dup.expert_words(), ["duplicate ACK #2 of ack=5"]);
    }

    #[test]
    fn a_zero_window_then_an_update_are_flagged() {
        let mut tracker = Tracker::new(Limits::default());
        let mut full = seg(S, C, 500, 104, A, b"");
        tracker.observe(0.0, &seg(C, S, 100, 500, PA, b"aaaa"));
        full.window = 0;
        tracker.observe(0.1, &full);
        tracker.observe(0.2, &seg(S, C, 500, 104, A, b""));
        let c = &tracker.into_conversations()[0];
        assert_eq!(c.analysis.zero_window, 1);
        assert_eq!(c.analysis.window_update, 1);
        assert_eq!(c.segments.len(), 3, "data and both flagged ACKs are kept");
    }

    #[test]
    fn sequence_numbers_wrap_around() {
        let mut tracker = Tracker::new(Limits::default());
        tracker.observe(0.0, &seg(C, S, u32::MAX - 1, 0, PA, b"abcd"));
        tracker.observe(0.1, &seg(C, S, 2, 0, PA, b"efgh"));
        let c = &tracker.into_conversations()[0];
        assert_eq!(c.retransmissions() + c.out_of_order(), 0);
        assert!(c.analysis.is_clean());
        assert_eq!(c.segments[1].step.seq, 5, "no SYN: the first byte is 1");
    }

    #[test]
    fn detail_is_bounded_but_counts_are_not() {
        let mut tracker = Tracker::new(Limits {
            segments: 2,
            payload_bytes: 3,
            ..Limits::default()
        });
        for i in 0..10u32 {
            tracker.observe(f64::from(i), &seg(C, S, 1 + i * 6, 0, PA, b"TIME\r\n"));
        }
        let c = &tracker.into_conversations()[0];
        assert_eq!(c.segments.len(), 2);
        assert_eq!(c.segments_not_shown, 8);
        assert_eq!(&*c.segments[0].payload, b"TIM");
        assert_eq!(c.payload_bytes[Dir::ClientToServer], 60);
    }

    #[test]
    fn max_concurrent_counts_overlap_not_total() {
        let mut tracker = Tracker::new(Limits::default());
        time_session(&mut tracker, 0.0, 1, 2);
        time_session(&mut tracker, 5.0, 3, 4);
        let convs = tracker.into_conversations();
        assert_eq!(max_concurrent(&convs), 1);
        let mut tracker = Tracker::new(Limits::default());
        tracker.observe(0.0, &seg(C, S, 1, 0, SYN, b""));
        tracker.observe(0.5, &seg("10.0.0.3:1", S, 1, 0, SYN, b""));
        tracker.observe(1.0, &seg(C, S, 1, 0, SYN, b""));
        assert_eq!(max_concurrent(&tracker.into_conversations()), 2);
    }
}
