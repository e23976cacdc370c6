//! A TCP conversation between two endpoints, with correct sequence numbers.

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;

use etherparse::PacketBuilder;

use crate::capture::TimedPacket;

/// Which way a segment goes. The client is the side that opens the
/// connection (sends the SYN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client to the server.
    ClientToServer,
    /// From the server to the client.
    ServerToClient,
}

impl Direction {
    /// The other way.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }

    fn index(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 1,
        }
    }
}

/// Data bytes one side sent in one segment: where they lie in that side's
/// byte stream. Keep it to [`TcpSession::retransmit`] the segment later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentSegment {
    /// Who sent it.
    pub dir: Direction,
    /// Offset of its first byte in the sender's stream (0 = the first data
    /// byte the sender ever sent, relative sequence number 1).
    pub stream_offset: u64,
    /// Number of payload bytes.
    pub len: u64,
}

impl SentSegment {
    /// Its bytes as a range of the sender's stream offsets.
    pub fn stream_range(&self) -> Range<u64> {
        self.stream_offset..self.stream_offset + self.len
    }

    /// Its relative sequence number, as Wireshark shows it (1 for the first
    /// data byte after the handshake).
    pub fn relative_seq(&self) -> u64 {
        1 + self.stream_offset
    }
}

// The TCP header's flag bits.
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// A TCP connection between a client and a server, told segment by segment.
///
/// Each side's sequence number starts at its initial sequence number (ISN)
/// and advances by one for SYN, by the payload's length for data, and by one
/// for FIN; every segment after the first SYN acknowledges everything the
/// other side has sent so far. So the segments carry the seq and ack a real
/// TCP would put there, and a test only says *what* happens and *when*.
///
/// Each method records the segments it sends, with their times, in
/// [`TcpSession::packets`]; hand the session to
/// [`crate::CaptureBuilder::add_session`] to write them to a file.
/// Times are seconds from the start of the capture and need not grow: a
/// test can give a later segment an earlier time on purpose.
///
/// A session describes well-behaved and misbehaving peers alike; it checks
/// only what would make it produce nonsense (a retransmission of bytes never
/// sent), and panics then with a message that says so.
#[derive(Debug, Clone)]
pub struct TcpSession {
    client: SocketAddr,
    server: SocketAddr,
    /// Initial sequence number of each side, indexed by direction.
    isn: [u32; 2],
    /// Every data byte each side sent, in stream order (for retransmissions).
    stream: [Vec<u8>; 2],
    /// Whether each side sent its FIN (it uses one sequence number).
    fin_sent: [bool; 2],
    /// The receive window each side announces, indexed by direction.
    window: [u16; 2],
    /// The ACK number of the next segment, when not "everything sent".
    ack_override: Option<u32>,
    packets: Vec<TimedPacket>,
}

impl TcpSession {
    /// Time between the three segments of [`TcpSession::handshake`] and of
    /// [`TcpSession::close`]: 100 µs, a LAN's round trip.
    pub const STEP: f64 = 0.000_1;
    /// The client's initial sequence number unless set otherwise.
    pub const CLIENT_ISN: u32 = 1_000_000;
    /// The server's initial sequence number unless set otherwise.
    pub const SERVER_ISN: u32 = 3_000_000_000;

    /// A connection from `client` to `server`, both `"ip:port"`
    /// (`"[fd00::2]:40000"` for IPv6).
    ///
    /// # Panics
    /// When an address does not parse or the two are of different families:
    /// a mistake in the test itself.
    pub fn new(client: &str, server: &str) -> Self {
        let parse = |text: &str| -> SocketAddr {
            text.parse()
                .unwrap_or_else(|e| panic!("{text:?} is not an ip:port address: {e}"))
        };
        Self::between(parse(client), parse(server))
    }

    /// The same from addresses already parsed.
    ///
    /// # Panics
    /// When one is IPv4 and the other IPv6.
    pub fn between(client: SocketAddr, server: SocketAddr) -> Self {
        assert_eq!(
            client.is_ipv4(),
            server.is_ipv4(),
            "client {client} and server {server} must both be IPv4 or both IPv6"
        );
        TcpSession {
            client,
            server,
            isn: [Self::CLIENT_ISN, Self::SERVER_ISN],
            stream: [Vec::new(), Vec::new()],
            fin_sent: [false; 2],
            window: [64240; 2],
            ack_override: None,
            packets: Vec::new(),
        }
    }

    /// From now on, `dir`'s sender announces this receive window (0: its
    /// buffer is full; flow control).
    pub fn set_window(&mut self, dir: Direction, window: u16) -> &mut Self {
        self.window[dir.index()] = window;
        self
    }

    /// Starts the client's and the server's sequence numbers at `client`
    /// and `server` (e.g. near `u32::MAX`, to test wrap-around).
    pub fn with_initial_sequence_numbers(mut self, client: u32, server: u32) -> Self {
        self.isn = [client, server];
        self
    }

    /// The client's address.
    pub fn client(&self) -> SocketAddr {
        self.client
    }

    /// The server's address.
    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// Data bytes `dir`'s sender has sent so far: the length of its stream,
    /// each byte once, however often it was retransmitted.
    pub fn bytes_sent(&self, dir: Direction) -> u64 {
        self.stream[dir.index()].len() as u64
    }

    /// The next sequence number `dir`'s sender will use (absolute).
    pub fn next_seq(&self, dir: Direction) -> u32 {
        let d = dir.index();
        self.seq_at(dir, self.stream[d].len() as u64)
            .wrapping_add(u32::from(self.fin_sent[d]))
    }

    /// The absolute sequence number of stream offset `offset` of `dir`.
    fn seq_at(&self, dir: Direction, offset: u64) -> u32 {
        // Sequence numbers wrap around at 2^32: the truncation is TCP's.
        self.isn[dir.index()]
            .wrapping_add(1)
            .wrapping_add(offset as u32)
    }

    /// The packets sent so far that the capture saw, in the order sent.
    pub fn packets(&self) -> &[TimedPacket] {
        &self.packets
    }

    /// Takes the packets recorded so far out of the session (for writing a
    /// long conversation piece by piece with [`crate::PcapStream`]); the
    /// sequence numbers carry on.
    pub fn take_packets(&mut self) -> Vec<TimedPacket> {
        std::mem::take(&mut self.packets)
    }

    /// The three-way handshake: the client's SYN at `t`, the server's
    /// SYN,ACK at `t + STEP`, the client's ACK at `t + 2 * STEP`.
    pub fn handshake(&mut self, t: f64) -> &mut Self {
        self.syn(t);
        self.syn_ack(t + Self::STEP);
        self.ack(Direction::ClientToServer, t + 2.0 * Self::STEP)
    }

    /// The client's SYN alone (a handshake the server never answers, say).
    pub fn syn(&mut self, t: f64) -> &mut Self {
        let seq = self.isn[0];
        self.record(Direction::ClientToServer, t, SYN, seq, &[]);
        self
    }

    /// The server's SYN,ACK alone.
    pub fn syn_ack(&mut self, t: f64) -> &mut Self {
        let seq = self.isn[1];
        self.record(Direction::ServerToClient, t, SYN | ACK, seq, &[]);
        self
    }

    /// A pure ACK from `dir`'s sender at `t`, acknowledging everything the
    /// other side has sent so far.
    pub fn ack(&mut self, dir: Direction, t: f64) -> &mut Self {
        let seq = self.next_seq(dir);
        self.record(dir, t, ACK, seq, &[]);
        self
    }

    /// An ACK from `dir`'s sender at `t` of only the first `bytes` of the
    /// other side's stream: what a receiver sends when a segment after
    /// those bytes is missing (repeated, it is a duplicate ACK).
    pub fn ack_up_to(&mut self, dir: Direction, t: f64, bytes: u64) -> &mut Self {
        // The other side's SYN takes one sequence number before its data.
        let ack = self.isn[dir.reverse().index()]
            .wrapping_add(1)
            .wrapping_add(bytes as u32);
        self.ack_override = Some(ack);
        let seq = self.next_seq(dir);
        self.record(dir, t, ACK, seq, &[]);
        self
    }

    /// `payload` sent by `dir`'s sender at `t` in one PSH,ACK segment; the
    /// sender's sequence number advances by its length.
    pub fn send(&mut self, dir: Direction, t: f64, payload: &[u8]) -> SentSegment {
        let sent = self.append(dir, payload);
        let seq = self.seq_at(dir, sent.stream_offset);
        self.record(dir, t, PSH | ACK, seq, payload);
        sent
    }

    /// `payload` sent by `dir`'s sender, received by the other side (later
    /// segments acknowledge it), but missing from the capture: the next
    /// segment in the capture shows a hole before it. A later
    /// [`TcpSession::retransmit`] of it fills the hole, out of order.
    pub fn send_uncaptured(&mut self, dir: Direction, payload: &[u8]) -> SentSegment {
        self.append(dir, payload)
    }

    /// `earlier`'s bytes sent again at `t`, with its sequence number, in a
    /// PSH,ACK segment that acknowledges what the sender has received by now.
    pub fn retransmit(&mut self, t: f64, earlier: SentSegment) -> SentSegment {
        self.retransmit_bytes(earlier.dir, t, earlier.stream_range())
    }

    /// Bytes `range` (offsets in `dir`'s stream) sent again at `t` in one
    /// segment: any run of bytes sent before, so a retransmission can cover
    /// part of one earlier segment, or parts of several.
    ///
    /// # Panics
    /// When the range is empty or reaches past the bytes sent so far.
    pub fn retransmit_bytes(&mut self, dir: Direction, t: f64, range: Range<u64>) -> SentSegment {
        let sent = self.bytes_sent(dir);
        assert!(
            range.start < range.end && range.end <= sent,
            "can only retransmit bytes already sent: {range:?} of {sent} sent {dir:?}"
        );
        let payload = self.stream[dir.index()][range.start as usize..range.end as usize].to_vec();
        let seq = self.seq_at(dir, range.start);
        self.record(dir, t, PSH | ACK, seq, &payload);
        SentSegment {
            dir,
            stream_offset: range.start,
            len: range.end - range.start,
        }
    }

    /// A FIN,ACK from `dir`'s sender at `t`: it sends nothing more. The FIN
    /// uses one sequence number.
    pub fn fin(&mut self, dir: Direction, t: f64) -> &mut Self {
        let seq = self.next_seq(dir);
        self.record(dir, t, FIN | ACK, seq, &[]);
        self.fin_sent[dir.index()] = true;
        self
    }

    /// An RST,ACK from `dir`'s sender at `t`: the connection is reset.
    pub fn rst(&mut self, dir: Direction, t: f64) -> &mut Self {
        let seq = self.next_seq(dir);
        self.record(dir, t, RST | ACK, seq, &[]);
        self
    }

    /// The usual orderly close: `first`'s FIN at `t`, the other side's FIN
    /// at `t + STEP`, `first`'s ACK of it at `t + 2 * STEP`.
    pub fn close(&mut self, first: Direction, t: f64) -> &mut Self {
        self.fin(first, t);
        self.fin(first.reverse(), t + Self::STEP);
        self.ack(first, t + 2.0 * Self::STEP)
    }

    /// Adds `payload` to `dir`'s stream.
    fn append(&mut self, dir: Direction, payload: &[u8]) -> SentSegment {
        let stream = &mut self.stream[dir.index()];
        let stream_offset = stream.len() as u64;
        stream.extend_from_slice(payload);
        SentSegment {
            dir,
            stream_offset,
            len: payload.len() as u64,
        }
    }

    /// Builds one segment from `dir`'s sender and records it as captured.
    fn record(&mut self, dir: Direction, t: f64, flags: u8, seq: u32, payload: &[u8]) {
        let (src, dst) = match dir {
            Direction::ClientToServer => (self.client, self.server),
            Direction::ServerToClient => (self.server, self.client),
        };
        let ip = match (src.ip(), dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ipv4(s.octets(), d.octets(), 64),
            (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ipv6(s.octets(), d.octets(), 64),
            // `between` refused mixed families.
            _ => unreachable!("mixed address families"),
        };
        let mut tcp = ip.tcp(src.port(), dst.port(), seq, self.window[dir.index()]);
        if flags & SYN != 0 {
            tcp = tcp.syn();
        }
        if flags & ACK != 0 {
            let ack = self
                .ack_override
                .take()
                .unwrap_or_else(|| self.next_seq(dir.reverse()));
            tcp = tcp.ack(ack);
        }
        if flags & PSH != 0 {
            tcp = tcp.psh();
        }
        if flags & FIN != 0 {
            tcp = tcp.fin();
        }
        if flags & RST != 0 {
            tcp = tcp.rst();
        }
        let mut packet = Vec::with_capacity(tcp.size(payload.len()));
        tcp.write(&mut packet, payload)
            .expect("a TCP segment under 64 KiB always builds");
        self.packets.push(TimedPacket {
            time: t,
            ip: packet,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::Direction::*;
    use super::*;

    /// (seq, ack, flags, payload length) of each packet, as etherparse reads it.
    fn headers(session: &TcpSession) -> Vec<(u32, u32, String, usize)> {
        session
            .packets()
            .iter()
            .map(|p| {
                let parsed = etherparse::SlicedPacket::from_ip(&p.ip).expect("a valid packet");
                let Some(etherparse::TransportSlice::Tcp(tcp)) = parsed.transport else {
                    panic!("not TCP");
                };
                let mut flags = Vec::new();
                for (set, name) in [
                    (tcp.fin(), "F"),
                    (tcp.syn(), "S"),
                    (tcp.rst(), "R"),
                    (tcp.psh(), "P"),
                    (tcp.ack(), "A"),
                ] {
                    if set {
                        flags.push(name);
                    }
                }
                (
                    tcp.sequence_number(),
                    tcp.acknowledgment_number(),
                    flags.concat(),
                    tcp.payload().len(),
                )
            })
            .collect()
    }

    #[test]
    fn sequence_and_acknowledgment_numbers_follow_each_side() {
        let mut s = TcpSession::new("10.0.0.2:40000", "10.0.0.1:45000")
            .with_initial_sequence_numbers(100, 500);
        s.handshake(0.0);
        s.send(ClientToServer, 0.1, b"TIME\r\n");
        s.send(ServerToClient, 0.2, b"JAM 10:00:00\r\n");
        s.close(ClientToServer, 0.3);
        assert_eq!(
            headers(&s),
            [
                (100, 0, "S".into(), 0),
                (500, 101, "SA".into(), 0),
                (101, 501, "A".into(), 0),
                (101, 501, "PA".into(), 6),
                (501, 107, "PA".into(), 14),
                (107, 515, "FA".into(), 0),
                (515, 108, "FA".into(), 0),
                (108, 516, "A".into(), 0),
            ]
        );
        let times: Vec<f64> = s.packets().iter().map(|p| p.time).collect();
        assert_eq!(times[..3], [0.0, TcpSession::STEP, 2.0 * TcpSession::STEP]);
        assert_eq!(s.bytes_sent(ClientToServer), 6);
    }

    #[test]
    fn retransmissions_reuse_sequence_numbers_and_uncaptured_bytes_leave_a_hole() {
        let mut s =
            TcpSession::new("10.0.0.2:40000", "10.0.0.1:10000").with_initial_sequence_numbers(0, 0);
        let first = s.send(ClientToServer, 0.1, b"aaaa");
        let lost = s.send_uncaptured(ClientToServer, b"bbbb");
        s.send(ClientToServer, 0.2, b"cccc");
        s.retransmit(0.3, lost);
        s.retransmit_bytes(ClientToServer, 0.4, 2..6);
        s.rst(ClientToServer, 0.5);
        assert_eq!((first.relative_seq(), lost.relative_seq()), (1, 5));
        let seqs: Vec<(u32, usize)> = headers(&s).iter().map(|h| (h.0, h.3)).collect();
        assert_eq!(seqs, [(1, 4), (9, 4), (5, 4), (3, 4), (13, 0)]);
        assert_eq!(headers(&s)[4].2, "RA");
        assert_eq!(s.bytes_sent(ClientToServer), 12);
    }

    #[test]
    fn sequence_numbers_wrap_past_u32_max() {
        let mut s = TcpSession::new("[fd00::2]:40000", "[fd00::1]:45000")
            .with_initial_sequence_numbers(u32::MAX - 1, 7);
        s.send(ClientToServer, 0.0, b"abcd");
        s.send(ClientToServer, 0.1, b"efgh");
        let seqs: Vec<u32> = headers(&s).iter().map(|h| h.0).collect();
        assert_eq!(seqs, [u32::MAX, 3]);
    }

    #[test]
    #[should_panic(expected = "can only retransmit bytes already sent")]
    fn retransmitting_bytes_never_sent_is_a_mistake_in_the_test() {
        let mut s = TcpSession::new("10.0.0.2:1", "10.0.0.1:2");
        s.send(ClientToServer, 0.0, b"ab");
        s.retransmit_bytes(ClientToServer, 0.1, 1..3);
    }
}
