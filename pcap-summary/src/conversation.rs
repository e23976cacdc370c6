//! Following each TCP conversation through its life.
//!
//! A conversation is a 4-tuple *and* a lifetime, as Wireshark's `tcp.stream`
//! counts them: ports get reused, so a SYN on a 4-tuple whose conversation
//! already ended (FIN or RST) starts a new one. The client is the side that
//! sent the SYN, or, when no SYN was captured, the sender of the first packet.
//!
//! Sequence numbers are shown relative to each side's first one, as
//! Wireshark does, so the handshake always reads seq=0, ack=1.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use progjar_protocol::escape::escape_bytes;

use crate::segment::{Flags, TcpSegment};

/// Direction of a segment within its conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// From the client (the SYN sender) to the server.
    ClientToServer = 0,
    /// From the server to the client.
    ServerToClient = 1,
}

impl Dir {
    /// `c2s` or `s2c`.
    pub fn short(self) -> &'static str {
        match self {
            Dir::ClientToServer => "c2s",
            Dir::ServerToClient => "s2c",
        }
    }
}

/// How much detail the tracker keeps, per conversation and in all.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Data segments kept in detail per conversation; the rest are counted.
    pub segments: usize,
    /// Payload bytes kept per segment.
    pub payload_bytes: usize,
    /// Conversations kept in full, the first ones of the capture. Past
    /// them, up to [`COUNTED_PER_KEPT`] times as many more are told apart
    /// and counted only ([`CountedOnly`]); past those, packets are counted
    /// without being told apart into conversations.
    pub conversations: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // 20 segments show a whole TIME session or the start of a transfer,
        // and keep 13,000 conversations well under 64 MB. 100,000
        // conversations in full are about 45 MB with no data, at most about
        // 350 MB with 20 stored segments of 64 bytes each.
        Limits {
            segments: 20,
            payload_bytes: 64,
            conversations: 100_000,
        }
    }
}

/// Conversations told apart and counted past [`Limits::conversations`], per
/// conversation kept in full: 2,000,000 by default, at about 45 bytes each.
pub const COUNTED_PER_KEPT: usize = 20;

/// A segment of the handshake or the teardown.
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

/// Something unusual about a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anomaly {
    /// Data the receiver had already been sent.
    Retransmission,
    /// Data that fills a gap left by a later segment.
    OutOfOrder,
}

/// A segment that carried data.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSegment {
    /// The segment itself.
    pub step: Step,
    /// Payload length on the wire.
    pub len: u32,
    /// The first bytes of the payload (see [`Limits::payload_bytes`]).
    pub payload: Box<[u8]>,
    /// Retransmitted or out of order.
    pub anomaly: Option<Anomaly>,
}

impl DataSegment {
    /// The stored payload, escaped like `TIME\r\n`.
    pub fn payload_text(&self) -> String {
        escape_bytes(&self.payload)
    }
}

/// The three steps of the opening handshake, as far as they were seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Handshake {
    /// The client's SYN.
    pub syn: Option<Step>,
    /// The server's SYN,ACK.
    pub syn_ack: Option<Step>,
    /// The client's ACK of the SYN,ACK.
    pub ack: Option<Step>,
}

impl Handshake {
    /// `complete`, `partial` or `none`.
    pub fn status(&self) -> &'static str {
        match (&self.syn, &self.syn_ack, &self.ack) {
            (Some(_), Some(_), Some(_)) => "complete",
            (None, None, None) => "none",
            _ => "partial",
        }
    }

    /// Time from SYN to the ACK that completes the handshake.
    pub fn rtt(&self) -> Option<f64> {
        Some(self.ack.as_ref()?.time - self.syn.as_ref()?.time)
    }
}

/// One TCP conversation.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// 0-based, in order of first packet.
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
    /// Packets, indexed by [`Dir`].
    pub packets: [u64; 2],
    /// Payload bytes on the wire, indexed by [`Dir`]: every data segment's
    /// length, retransmissions included (Wireshark's `tcp.len` summed).
    pub payload_bytes: [u64; 2],
    /// Bytes of each side's byte stream seen in the capture, indexed by
    /// [`Dir`], each byte counted once: a retransmission counts only the
    /// bytes it carries that no earlier segment did (a part past what was
    /// seen, or a hole it fills), and bytes never captured do not count.
    /// What the application sent, as far as the capture can tell; at most
    /// [`Conversation::payload_bytes`].
    pub stream_bytes: [u64; 2],
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
    /// Data segments, up to the limit.
    pub segments: Vec<DataSegment>,
    /// Data segments beyond the limit, counted only.
    pub segments_not_shown: u64,
    /// FIN and RST segments and the ACKs that answer them (up to 8).
    pub teardown: Vec<Step>,
    /// Retransmitted segments.
    pub retransmissions: u64,
    /// Out-of-order segments.
    pub out_of_order: u64,
    /// Time of the first (earliest) data byte, indexed by [`Dir`].
    pub first_data: [Option<f64>; 2],
    isn: [Option<u32>; 2],
    next_seq: [Option<u32>; 2],
    /// Holes in each side's sequence space; boxed, since most
    /// conversations never have one.
    gaps: Option<Box<Gaps>>,
    fin_seq: [Option<u32>; 2],
}

/// Holes `(from, to)` in each side's sequence space, indexed by [`Dir`].
type Gaps = [Vec<(u32, u32)>; 2];

/// Most FIN/RST/ACK steps kept for the teardown.
const TEARDOWN_STEPS: usize = 8;
/// Most holes in the sequence space remembered per direction.
const GAPS: usize = 16;

/// `a` comes after `b` in TCP's wrapping sequence space.
fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
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
            packets: [0; 2],
            payload_bytes: [0; 2],
            stream_bytes: [0; 2],
            syn: 0,
            syn_ack: 0,
            fin: 0,
            rst: 0,
            handshake: Handshake::default(),
            // No room for data segments until one comes: most conversations
            // of a scan or a SYN flood never carry any.
            segments: Vec::new(),
            segments_not_shown: 0,
            teardown: Vec::new(),
            retransmissions: 0,
            out_of_order: 0,
            first_data: [None; 2],
            isn: [None; 2],
            next_seq: [None; 2],
            gaps: None,
            fin_seq: [None; 2],
        }
    }

    /// Whether a FIN or RST has been seen: a new SYN then starts a new conversation.
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

    /// Payload bytes on the wire that carried stream bytes already seen,
    /// indexed by [`Dir`]: [`Conversation::payload_bytes`] minus
    /// [`Conversation::stream_bytes`].
    pub fn retransmitted_bytes(&self) -> [u64; 2] {
        [0, 1].map(|d| self.payload_bytes[d].saturating_sub(self.stream_bytes[d]))
    }

    /// Time from the end of the handshake to the server's first data byte:
    /// long when an iterative server made this client wait.
    pub fn first_server_byte_delay(&self) -> Option<f64> {
        let first = self.first_data[Dir::ServerToClient as usize]?;
        let opened = self
            .handshake
            .ack
            .as_ref()
            .or(self.handshake.syn_ack.as_ref())
            .map_or(self.start, |step| step.time);
        Some(first - opened)
    }

    /// When the client had sent data but the server none yet: from the
    /// client's first data byte to the server's first (or, if the server
    /// never sent any, to the conversation's end). This is how a client
    /// waiting in an iterative server's backlog shows: connected, request
    /// sent, no answer. None when the client sent nothing, or the server
    /// spoke first.
    pub fn waiting_for_server(&self) -> Option<(f64, f64)> {
        let client = self.first_data[Dir::ClientToServer as usize]?;
        // Data in the SYN (TCP Fast Open) waits from the handshake's end.
        let from = match &self.handshake.ack {
            Some(ack) => client.max(ack.time),
            None => client,
        };
        let until = self.first_data[Dir::ServerToClient as usize].unwrap_or(self.end);
        (from < until).then_some((from, until))
    }

    fn dir_of(&self, segment: &TcpSegment<'_>) -> Dir {
        if segment.src == self.client {
            Dir::ClientToServer
        } else {
            Dir::ServerToClient
        }
    }

    fn observe(&mut self, time: f64, segment: &TcpSegment<'_>, limits: &Limits) {
        let dir = self.dir_of(segment);
        let d = dir as usize;
        let flags = segment.flags;
        // Times can step back: the conversation spans the earliest to the latest.
        self.start = self.start.min(time);
        self.end = self.end.max(time);
        self.packets[d] += 1;
        self.payload_bytes[d] += u64::from(segment.len);
        // The first sequence number seen (the SYN's, when there is one) is
        // this side's zero.
        self.isn[d].get_or_insert(segment.seq);
        let step = Step {
            time,
            dir,
            flags,
            seq: segment.seq.wrapping_sub(self.isn[d].unwrap_or(segment.seq)),
            ack: if flags.has(Flags::ACK) {
                self.isn[1 - d].map_or(0, |isn| segment.ack.wrapping_sub(isn))
            } else {
                0
            },
        };
        self.count_flags(flags);
        self.follow_handshake(&step, segment);
        let anomaly = self.track_sequence(d, segment);
        if segment.len > 0 {
            let first = self.first_data[d].get_or_insert(time);
            *first = first.min(time);
            if self.segments.len() < limits.segments {
                if self.segments.len() == self.segments.capacity() {
                    // Grow by doubling, but never past the limit.
                    let more = self.segments.len().max(4);
                    self.segments
                        .reserve_exact(more.min(limits.segments - self.segments.len()));
                }
                let keep = segment.payload.len().min(limits.payload_bytes);
                self.segments.push(DataSegment {
                    step: step.clone(),
                    len: segment.len,
                    payload: segment.payload[..keep].into(),
                    anomaly,
                });
            } else {
                self.segments_not_shown += 1;
            }
        }
        self.follow_teardown(step, segment);
    }

    fn count_flags(&mut self, flags: Flags) {
        if flags.is_syn() {
            self.syn += 1;
        }
        if flags.is_syn_ack() {
            self.syn_ack += 1;
        }
        if flags.has(Flags::FIN) {
            self.fin += 1;
        }
        if flags.has(Flags::RST) {
            self.rst += 1;
        }
    }

    fn follow_handshake(&mut self, step: &Step, segment: &TcpSegment<'_>) {
        let hs = &mut self.handshake;
        match step.dir {
            Dir::ClientToServer if segment.flags.is_syn() && hs.syn.is_none() => {
                hs.syn = Some(step.clone());
            }
            Dir::ServerToClient if segment.flags.is_syn_ack() && hs.syn_ack.is_none() => {
                hs.syn_ack = Some(step.clone());
            }
            Dir::ClientToServer
                if hs.ack.is_none()
                    && hs.syn_ack.is_some()
                    && segment.flags.has(Flags::ACK)
                    && !segment.flags.has(Flags::SYN)
                    && step.ack == 1 =>
            {
                hs.ack = Some(step.clone());
            }
            _ => {}
        }
    }

    /// Classifies a segment that uses sequence space as new, retransmitted
    /// or out of order, from the highest sequence number seen so far and the
    /// holes below it, and counts the stream bytes it carries for the first
    /// time (see [`Conversation::stream_bytes`]).
    ///
    /// The holes are remembered up to [`GAPS`] per direction: a capture with
    /// more holes than that at once counts the bytes that fill the others
    /// later as retransmitted, never twice.
    fn track_sequence(&mut self, d: usize, segment: &TcpSegment<'_>) -> Option<Anomaly> {
        let len = segment.seq_len();
        if len == 0 {
            return None;
        }
        let start = segment.seq;
        let end = start.wrapping_add(len);
        let Some(next) = self.next_seq[d] else {
            self.next_seq[d] = Some(end);
            self.stream_bytes[d] += u64::from(segment.len);
            return None;
        };
        if !seq_after(next, start) {
            // At or past what we expected next: all of it is new.
            if seq_after(start, next) && self.gaps(d).len() < GAPS {
                // A hole: the bytes in between are missing, for now.
                self.gaps.get_or_insert_with(Box::default)[d].push((next, start));
            }
            self.next_seq[d] = Some(end);
            self.stream_bytes[d] += u64::from(segment.len);
            return None;
        }
        // Starts before what we expected next: a hole filled late, or a resend
        // (perhaps with new bytes after the old ones).
        let fills_a_hole = self
            .gaps(d)
            .iter()
            .any(|&(from, to)| !seq_after(from, start) && seq_after(to, start));
        let new = self.take_from_gaps(d, next, segment) + Self::past(next, segment);
        self.stream_bytes[d] += new;
        if seq_after(end, next) {
            self.next_seq[d] = Some(end);
        }
        if fills_a_hole {
            self.out_of_order += 1;
            Some(Anomaly::OutOfOrder)
        } else {
            self.retransmissions += 1;
            Some(Anomaly::Retransmission)
        }
    }

    /// The holes remembered in side `d`'s sequence space.
    fn gaps(&self, d: usize) -> &[(u32, u32)] {
        self.gaps.as_ref().map_or(&[], |gaps| &gaps[d])
    }

    /// Positions in sequence space relative to `next` (negative: before it),
    /// where interval arithmetic is plain integer arithmetic. A segment
    /// that starts before `next` is within 2^31 of it.
    fn relative(next: u32, seq: u32) -> i64 {
        // The reinterpretation is the intent: TCP compares modulo 2^32.
        i64::from(seq.wrapping_sub(next) as i32)
    }

    /// `segment`'s payload as a relative range (a SYN's sequence number
    /// comes before the data).
    fn payload_range(next: u32, segment: &TcpSegment<'_>) -> (i64, i64) {
        let from = Self::relative(next, segment.seq) + i64::from(segment.flags.has(Flags::SYN));
        (from, from + i64::from(segment.len))
    }

    /// Payload bytes of `segment` at or past `next`: never seen before.
    fn past(next: u32, segment: &TcpSegment<'_>) -> u64 {
        let (from, to) = Self::payload_range(next, segment);
        u64::try_from(to - from.max(0)).unwrap_or(0)
    }

    /// Removes the part of the holes below `next` that `segment` covers and
    /// returns how many of its payload bytes were in them. No allocation:
    /// a hole is trimmed in place, split in two only when there is room.
    fn take_from_gaps(&mut self, d: usize, next: u32, segment: &TcpSegment<'_>) -> u64 {
        let start = Self::relative(next, segment.seq);
        let end = start + i64::from(segment.seq_len());
        let (data_from, data_to) = Self::payload_range(next, segment);
        let Some(gaps) = self.gaps.as_mut().map(|gaps| &mut gaps[d]) else {
            return 0;
        };
        let mut found = 0u64;
        let mut i = 0;
        while i < gaps.len() {
            let (from, to) = (
                Self::relative(next, gaps[i].0),
                Self::relative(next, gaps[i].1),
            );
            // A hole from more than 2 GiB ago no longer compares: skip it.
            if !(from < to && to <= 0) || end <= from || to <= start {
                i += 1;
                continue;
            }
            let overlap = data_to.min(to) - data_from.max(from);
            found += u64::try_from(overlap).unwrap_or(0);
            let at = |rel: i64| next.wrapping_add(rel as u32);
            let before = (from < start).then(|| (gaps[i].0, at(start)));
            let after = (end < to).then(|| (at(end), gaps[i].1));
            match (before, after) {
                (Some(piece), Some(other)) => {
                    gaps[i] = piece;
                    if gaps.len() < GAPS {
                        gaps.push(other);
                    }
                    i += 1;
                }
                (Some(piece), None) | (None, Some(piece)) => {
                    gaps[i] = piece;
                    i += 1;
                }
                (None, None) => {
                    gaps.swap_remove(i);
                }
            }
        }
        found
    }

    fn follow_teardown(&mut self, step: Step, segment: &TcpSegment<'_>) {
        let d = step.dir as usize;
        let flags = segment.flags;
        let keep = if flags.has(Flags::FIN) {
            self.fin_seq[d].get_or_insert(segment.seq.wrapping_add(segment.len));
            true
        } else if flags.has(Flags::RST) {
            true
        } else {
            // The ACK of the other side's FIN completes the teardown.
            let other_fin = self.fin_seq[1 - d];
            flags.has(Flags::ACK)
                && segment.len == 0
                && other_fin.is_some_and(|fin| segment.ack == fin.wrapping_add(1))
                && !self.teardown.iter().any(|s| {
                    s.dir == step.dir && !s.flags.has(Flags::FIN) && !s.flags.has(Flags::RST)
                })
        };
        if keep && self.teardown.len() < TEARDOWN_STEPS {
            self.teardown.push(step);
        }
    }
}

/// The two ends of an IPv4 connection, the same whichever way a segment
/// goes, packed into 12 bytes: looking it up is the tracker's most frequent
/// job, and a small key keeps the table small (a SYN flood makes a million).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct V4Key {
    /// The lower end's address and port, then the higher end's.
    addresses: [u32; 2],
    ports: [u16; 2],
}

/// The same for IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct V6Key {
    addresses: [u128; 2],
    ports: [u16; 2],
}

impl std::hash::Hash for V4Key {
    // By hand: two integer writes instead of hashing arrays as slices.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from(self.addresses[0]) | u64::from(self.addresses[1]) << 32);
        state.write_u32(u32::from(self.ports[0]) | u32::from(self.ports[1]) << 16);
    }
}

impl std::hash::Hash for V6Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u128(self.addresses[0]);
        state.write_u128(self.addresses[1]);
        state.write_u32(u32::from(self.ports[0]) | u32::from(self.ports[1]) << 16);
    }
}

/// The lower and the higher of two ends: the same pair both ways.
fn ordered<A: Ord + Copy>(a: (A, u16), b: (A, u16)) -> ([A; 2], [u16; 2]) {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    ([low.0, high.0], [low.1, high.1])
}

/// A segment's connection as a key, by address family. Mixed families
/// (which no real packet has) fall into the IPv6 table, IPv4 mapped.
enum FlowKey {
    V4(V4Key),
    V6(V6Key),
}

impl FlowKey {
    fn of(segment: &TcpSegment<'_>) -> Self {
        match (segment.src, segment.dst) {
            (SocketAddr::V4(src), SocketAddr::V4(dst)) => {
                let (addresses, ports) = ordered(
                    (u32::from(*src.ip()), src.port()),
                    (u32::from(*dst.ip()), dst.port()),
                );
                FlowKey::V4(V4Key { addresses, ports })
            }
            (src, dst) => {
                let bits = |ip: IpAddr| match ip {
                    IpAddr::V4(ip) => u128::from(ip.to_ipv6_mapped()),
                    IpAddr::V6(ip) => u128::from(ip),
                };
                let (addresses, ports) =
                    ordered((bits(src.ip()), src.port()), (bits(dst.ip()), dst.port()));
                FlowKey::V6(V6Key { addresses, ports })
            }
        }
    }
}

/// foldhash: several times faster than SipHash on these small keys and
/// still randomly seeded, so a crafted capture cannot pick collisions.
type FlowTable<K> = HashMap<K, Slot, foldhash::fast::RandomState>;

/// Where a connection's current conversation is: an index into the kept
/// conversations, or (with [`COUNTED`] set) into the counted ones.
type Slot = u32;
const COUNTED: Slot = 1 << 31;

/// A conversation past [`Limits::conversations`]: what the totals and the
/// concurrency need, and no more (24 bytes).
#[derive(Debug, Clone, Copy)]
struct Counted {
    start: f64,
    end: f64,
    ended: bool,
}

/// The conversations past [`Limits::conversations`], counted but not kept:
/// how many, and what their packets were. Packets past the last
/// conversation that could be told apart are in these counts too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountedOnly {
    /// Conversations told apart past the limit, and counted only.
    pub conversations: u64,
    /// Packets of those conversations, and the packets not told apart.
    pub packets: u64,
    /// Their payload bytes on the wire.
    pub payload_bytes: u64,
    /// SYN (without ACK) segments among those packets.
    pub syn: u64,
    /// SYN,ACK segments.
    pub syn_ack: u64,
    /// Segments with FIN.
    pub fin: u64,
    /// Segments with RST.
    pub rst: u64,
    /// Packets that could not be told apart into conversations: they came
    /// after [`COUNTED_PER_KEPT`] times [`Limits::conversations`] more
    /// conversations had been counted, on connections not seen before (or
    /// opening a new conversation on one that had ended).
    pub packets_not_told_apart: u64,
}

impl CountedOnly {
    fn add(&mut self, segment: &TcpSegment<'_>) {
        let flags = segment.flags;
        self.packets += 1;
        self.payload_bytes += u64::from(segment.len);
        self.syn += u64::from(flags.is_syn());
        self.syn_ack += u64::from(flags.is_syn_ack());
        self.fin += u64::from(flags.has(Flags::FIN));
        self.rst += u64::from(flags.has(Flags::RST));
    }
}

/// The conversations themselves, kept and counted.
#[derive(Debug, Default)]
struct Store {
    conversations: Vec<Conversation>,
    counted: Vec<Counted>,
    counted_only: CountedOnly,
    limits: Limits,
}

impl Store {
    fn kept_limit(&self) -> usize {
        // A slot's index has 31 bits.
        self.limits.conversations.min(COUNTED as usize - 1)
    }

    fn counted_limit(&self) -> usize {
        self.kept_limit()
            .saturating_mul(COUNTED_PER_KEPT)
            .min(COUNTED as usize - 1)
    }

    /// Opens a new conversation with `segment`, kept while there is room,
    /// else counted while there is room; None past both limits.
    fn open(&mut self, time: f64, segment: &TcpSegment<'_>) -> Option<Slot> {
        let (kept, kept_limit) = (self.conversations.len(), self.kept_limit());
        if kept < kept_limit {
            grow_within(&mut self.conversations, kept_limit);
            self.conversations
                .push(Conversation::new(kept, time, segment));
            return Slot::try_from(kept).ok();
        }
        let (counted, counted_limit) = (self.counted.len(), self.counted_limit());
        if counted < counted_limit {
            grow_within(&mut self.counted, counted_limit);
            self.counted.push(Counted {
                start: time,
                end: time,
                ended: false,
            });
            self.counted_only.conversations += 1;
            return Slot::try_from(counted).ok().map(|i| i | COUNTED);
        }
        None
    }

    fn has_ended(&self, slot: Slot) -> bool {
        if slot & COUNTED == 0 {
            self.conversations[slot as usize].has_ended()
        } else {
            self.counted[(slot & !COUNTED) as usize].ended
        }
    }

    fn observe(&mut self, slot: Option<Slot>, time: f64, segment: &TcpSegment<'_>) {
        match slot {
            Some(slot) if slot & COUNTED == 0 => {
                self.conversations[slot as usize].observe(time, segment, &self.limits);
            }
            Some(slot) => {
                let counted = &mut self.counted[(slot & !COUNTED) as usize];
                counted.start = counted.start.min(time);
                counted.end = counted.end.max(time);
                counted.ended |= segment.flags.has(Flags::FIN) || segment.flags.has(Flags::RST);
                self.counted_only.add(segment);
            }
            None => {
                self.counted_only.packets_not_told_apart += 1;
                self.counted_only.add(segment);
            }
        }
    }
}

/// Makes room for one more in `list` when it is full: double its size, but
/// never past `limit`, so a list that reaches its limit wastes nothing.
fn grow_within<T>(list: &mut Vec<T>, limit: usize) {
    if list.len() == list.capacity() {
        let more = list
            .len()
            .max(64)
            .min(limit.saturating_sub(list.len()).max(1));
        list.reserve_exact(more);
    }
}

/// Finds the conversation of `segment` in `table` (a new one when the
/// connection is new, or a SYN reopens one that ended) and adds it there.
fn observe_in<K: std::hash::Hash + Eq>(
    table: &mut FlowTable<K>,
    key: K,
    store: &mut Store,
    time: f64,
    segment: &TcpSegment<'_>,
) {
    use std::collections::hash_map::Entry;
    let slot = match table.entry(key) {
        Entry::Occupied(mut entry) => {
            let slot = *entry.get();
            if segment.flags.is_syn() && store.has_ended(slot) {
                match store.open(time, segment) {
                    Some(new) => {
                        entry.insert(new);
                        Some(new)
                    }
                    None => {
                        // No room: its packets are not told apart, and must
                        // not be taken for the ended conversation's.
                        entry.remove();
                        None
                    }
                }
            } else {
                Some(slot)
            }
        }
        Entry::Vacant(entry) => store.open(time, segment).map(|new| *entry.insert(new)),
    };
    store.observe(slot, time, segment);
}

/// Every conversation of a capture, found as its packets stream past.
///
/// Memory is bounded: [`Limits::conversations`] kept in full (about 440
/// bytes each, plus their stored segments), up to [`COUNTED_PER_KEPT`] times
/// as many counted (about 45 bytes each with their table entry).
#[derive(Debug, Default)]
pub struct Tracker {
    v4: FlowTable<V4Key>,
    v6: FlowTable<V6Key>,
    store: Store,
}

impl Tracker {
    /// A tracker keeping `limits` of detail.
    pub fn new(limits: Limits) -> Self {
        Tracker {
            store: Store {
                limits,
                ..Store::default()
            },
            ..Tracker::default()
        }
    }

    /// Adds one segment seen `time` seconds after the capture's first packet.
    pub fn observe(&mut self, time: f64, segment: &TcpSegment<'_>) {
        match FlowKey::of(segment) {
            FlowKey::V4(key) => observe_in(&mut self.v4, key, &mut self.store, time, segment),
            FlowKey::V6(key) => observe_in(&mut self.v6, key, &mut self.store, time, segment),
        }
    }

    /// The most conversations open at once, counted ones included.
    pub fn max_concurrent(&self) -> usize {
        let kept = self.store.conversations.iter().map(|c| (c.start, c.end));
        let counted = self.store.counted.iter().map(|c| (c.start, c.end));
        max_concurrent_spans(kept.chain(counted))
    }

    /// What was counted past [`Limits::conversations`].
    pub fn counted_only(&self) -> CountedOnly {
        self.store.counted_only
    }

    /// The conversations kept, in order of their first packet.
    pub fn into_conversations(self) -> Vec<Conversation> {
        self.store.conversations
    }
}

/// The most conversations open at the same moment, each open from its first
/// packet to its last.
pub fn max_concurrent<'a>(conversations: impl IntoIterator<Item = &'a Conversation>) -> usize {
    max_concurrent_spans(conversations.into_iter().map(|c| (c.start, c.end)))
}

/// The most spans `(start, end)` open at the same moment.
fn max_concurrent_spans(spans: impl Iterator<Item = (f64, f64)>) -> usize {
    let (mut starts, mut ends): (Vec<f64>, Vec<f64>) = spans.unzip();
    starts.sort_unstable_by(f64::total_cmp);
    ends.sort_unstable_by(f64::total_cmp);
    let (mut open, mut most, mut next_end) = (0usize, 0usize, 0usize);
    for start in starts {
        // At the same instant, an opening counts before a closing:
        // touching conversations did overlap for that moment.
        while next_end < ends.len() && ends[next_end] < start {
            open = open.saturating_sub(1);
            next_end += 1;
        }
        open += 1;
        most = most.max(open);
    }
    most
}

#[cfg(test)]
mod tests {
    use super::*;

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
            seq,
            ack,
            flags: Flags(flags),
            len: payload.len() as u32,
            payload,
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
        assert_eq!(c.payload_bytes, [12, 14]);
        assert_eq!((c.syn, c.syn_ack, c.fin, c.rst), (1, 1, 2, 0));
        assert_eq!(c.close_kind(), "fin");
        // Server FIN first, client FIN, then the server's last ACK.
        let order: Vec<(Dir, String)> = c
            .teardown
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
        assert_eq!((c.retransmissions, c.out_of_order), (0, 0));
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
    fn a_resent_segment_is_a_retransmission_and_a_late_one_is_out_of_order() {
        let mut tracker = Tracker::new(Limits::default());
        tracker.observe(0.0, &seg(C, S, 100, 0, PA, b"aaaa"));
        tracker.observe(0.1, &seg(C, S, 100, 0, PA, b"aaaa"));
        tracker.observe(0.2, &seg(C, S, 108, 0, PA, b"cccc"));
        tracker.observe(0.3, &seg(C, S, 104, 0, PA, b"bbbb"));
        let c = &tracker.into_conversations()[0];
        assert_eq!(c.retransmissions, 1);
        assert_eq!(c.out_of_order, 1);
        assert_eq!(c.segments[1].anomaly, Some(Anomaly::Retransmission));
        assert_eq!(c.segments[3].anomaly, Some(Anomaly::OutOfOrder));
        assert_eq!(c.payload_bytes[0], 16, "on the wire");
        assert_eq!(c.stream_bytes[0], 12, "each byte once");
        assert_eq!(c.retransmitted_bytes(), [4, 0]);
        assert_eq!(c.handshake.status(), "none");
        assert_eq!(c.close_kind(), "open");
    }

    #[test]
    fn sequence_numbers_wrap_around() {
        assert!(seq_after(5, u32::MAX - 5));
        assert!(!seq_after(u32::MAX - 5, 5));
        let mut tracker = Tracker::new(Limits::default());
        tracker.observe(0.0, &seg(C, S, u32::MAX - 1, 0, PA, b"abcd"));
        tracker.observe(0.1, &seg(C, S, 2, 0, PA, b"efgh"));
        let c = &tracker.into_conversations()[0];
        assert_eq!(c.retransmissions + c.out_of_order, 0);
        assert_eq!(c.segments[1].step.seq, 4);
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
        assert_eq!(c.payload_bytes[0], 60);
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
