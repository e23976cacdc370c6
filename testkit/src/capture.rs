//! Frames with their times, written as a classic pcap file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;

/// An IP packet (IPv4 or IPv6, header first) and the time it was captured.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedPacket {
    /// Seconds from the start of the capture.
    pub time: f64,
    /// The IP packet, without any link-layer header.
    pub ip: Vec<u8>,
}

/// The link layer a capture's frames have: what tcpdump would write for the
/// interface it listened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Link {
    /// Ethernet II (`tcpdump -i eth0`): 14-byte header with MAC addresses.
    #[default]
    Ethernet,
    /// Raw IP, no link header at all (LINKTYPE_RAW).
    RawIp,
    /// Linux cooked capture v1 (`tcpdump -i any`, older libpcap), with the
    /// loopback hardware type.
    LinuxSll,
    /// Linux cooked capture v2 (`tcpdump -i any`, libpcap 1.10 and later).
    LinuxSll2,
}

impl Link {
    /// The link type written in the pcap file header.
    pub fn data_link(self) -> DataLink {
        match self {
            Link::Ethernet => DataLink::ETHERNET,
            Link::RawIp => DataLink::RAW,
            Link::LinuxSll => DataLink::LINUX_SLL,
            Link::LinuxSll2 => DataLink::LINUX_SLL2,
        }
    }

    /// `ip` with this link's header in front of it.
    ///
    /// Ethernet frames get made-up MAC addresses `02:00:` followed by the
    /// last four bytes of the sender's and receiver's IP addresses, so each
    /// host keeps one MAC.
    pub fn frame(self, ip: &[u8]) -> Vec<u8> {
        let is_v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let ether_type: u16 = if is_v6 { 0x86DD } else { 0x0800 };
        let mut frame = Vec::with_capacity(ip.len() + 20);
        match self {
            Link::Ethernet => {
                let (src, dst) = if is_v6 {
                    (8..24, 24..40)
                } else {
                    (12..16, 16..20)
                };
                let mac = |range: std::ops::Range<usize>| {
                    let mut mac = [2, 0, 0, 0, 0, 0];
                    if let Some(address) = ip.get(range) {
                        mac[2..].copy_from_slice(&address[address.len() - 4..]);
                    }
                    mac
                };
                frame.extend_from_slice(&mac(dst));
                frame.extend_from_slice(&mac(src));
                frame.extend_from_slice(&ether_type.to_be_bytes());
            }
            Link::RawIp => {}
            Link::LinuxSll => {
                // packet type, ARPHRD (772 loopback), address length, address, protocol
                frame.extend_from_slice(&[0, 0]);
                frame.extend_from_slice(&772u16.to_be_bytes());
                frame.extend_from_slice(&[0; 10]);
                frame.extend_from_slice(&ether_type.to_be_bytes());
            }
            Link::LinuxSll2 => {
                // protocol, reserved, interface index, ARPHRD, packet type,
                // address length, address
                frame.extend_from_slice(&ether_type.to_be_bytes());
                frame.extend_from_slice(&[0; 6]);
                frame.extend_from_slice(&772u16.to_be_bytes());
                frame.extend_from_slice(&[0; 10]);
            }
        }
        frame.extend_from_slice(ip);
        frame
    }
}

/// The pcap timestamp of `time` seconds after `epoch`, to the microsecond.
fn timestamp(epoch: Duration, time: f64) -> Duration {
    // Integer microseconds are exact in an f64 up to 2^53 (year 2255).
    let micros = (epoch.as_micros() as f64 + (time * 1e6).round()).max(0.0);
    Duration::from_micros(micros as u64)
}

fn write_error(e: pcap_file::pcap::PcapWriteError) -> io::Error {
    io::Error::other(e)
}

/// Writes a pcap file one packet at a time, straight to `W`: for captures
/// too large to hold in memory. Packets are written in the order given.
pub struct PcapStream<W: Write> {
    writer: PcapWriter<W>,
    link: Link,
    epoch: Duration,
}

impl<W: Write> PcapStream<W> {
    /// Writes the file header for `link` frames to `out`; times are counted
    /// from [`CaptureBuilder::DEFAULT_EPOCH`].
    pub fn new(out: W, link: Link) -> io::Result<Self> {
        Self::with_epoch(out, link, CaptureBuilder::DEFAULT_EPOCH)
    }

    /// The same, with times counted from `epoch` (time since 1970).
    pub fn with_epoch(out: W, link: Link, epoch: Duration) -> io::Result<Self> {
        let header = PcapHeader {
            datalink: link.data_link(),
            ..PcapHeader::default()
        };
        Ok(PcapStream {
            writer: PcapWriter::with_header(out, header).map_err(write_error)?,
            link,
            epoch,
        })
    }

    /// Writes `packet` with this stream's link header.
    pub fn write_packet(&mut self, packet: &TimedPacket) -> io::Result<()> {
        let frame = self.link.frame(&packet.ip);
        self.write_frame(packet.time, &frame, frame.len())
    }

    /// Writes a frame as it is (link header included), of which `wire_len`
    /// bytes were on the wire: more than `frame.len()` for a frame cut by a
    /// small snapshot length.
    pub fn write_frame(&mut self, time: f64, frame: &[u8], wire_len: usize) -> io::Result<()> {
        let orig_len = u32::try_from(wire_len.max(frame.len()))
            .map_err(|_| io::Error::other("frame longer than 4 GiB"))?;
        let packet = PcapPacket::new(timestamp(self.epoch, time), orig_len, frame)
            .map_err(|e| write_error(e.into()))?;
        self.writer.write_packet(&packet).map_err(write_error)?;
        Ok(())
    }

    /// The writer, after the last packet.
    pub fn into_inner(self) -> W {
        self.writer.into_inner()
    }
}

/// One frame waiting to be written.
#[derive(Debug, Clone)]
struct Frame {
    time: f64,
    bytes: Vec<u8>,
    wire_len: usize,
}

/// Collects frames with their times and writes them as one classic pcap
/// file (Ethernet unless [`CaptureBuilder::with_link`] says otherwise).
///
/// Frames are written sorted by time (frames with the same time keep the
/// order they were added in), unless [`CaptureBuilder::keep_insertion_order`]
/// asks for them as added, e.g. to test a capture whose timestamps step back.
#[derive(Debug, Clone)]
pub struct CaptureBuilder {
    link: Link,
    epoch: Duration,
    sorted: bool,
    snap_length: Option<usize>,
    frames: Vec<Frame>,
}

impl Default for CaptureBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl CaptureBuilder {
    /// Time 0 of a capture, as the file stores it: 2023-11-14 22:13:20 UTC.
    pub const DEFAULT_EPOCH: Duration = Duration::from_secs(1_700_000_000);

    /// An empty Ethernet capture.
    pub fn new() -> Self {
        Self::with_link(Link::Ethernet)
    }

    /// An empty capture of `link` frames.
    pub fn with_link(link: Link) -> Self {
        CaptureBuilder {
            link,
            epoch: Self::DEFAULT_EPOCH,
            sorted: true,
            snap_length: None,
            frames: Vec::new(),
        }
    }

    /// Writes frames in the order they were added, not sorted by time.
    pub fn keep_insertion_order(mut self) -> Self {
        self.sorted = false;
        self
    }

    /// Counts times from `epoch` (time since 1970) instead of
    /// [`CaptureBuilder::DEFAULT_EPOCH`].
    pub fn with_epoch(mut self, epoch: Duration) -> Self {
        self.epoch = epoch;
        self
    }

    /// Keeps at most `bytes` of each frame, as `tcpdump -s bytes` does; the
    /// file still records each frame's length on the wire.
    pub fn with_snap_length(mut self, bytes: usize) -> Self {
        self.snap_length = Some(bytes);
        self
    }

    /// The link type of the frames.
    pub fn link(&self) -> Link {
        self.link
    }

    /// Adds every captured packet of `session` (a packet sent with
    /// [`crate::TcpSession::send_uncaptured`] is not among them).
    pub fn add_session(&mut self, session: &crate::TcpSession) -> &mut Self {
        for packet in session.packets() {
            self.add_packet(packet.time, &packet.ip);
        }
        self
    }

    /// Adds one IP packet captured at `time`, with this capture's link header.
    pub fn add_packet(&mut self, time: f64, ip: &[u8]) -> &mut Self {
        let frame = self.link.frame(ip);
        self.add_frame(time, frame)
    }

    /// Adds a frame as it is, link header included: an ARP frame, a damaged
    /// frame, anything a test needs to appear in the capture.
    pub fn add_frame(&mut self, time: f64, frame: Vec<u8>) -> &mut Self {
        let wire_len = frame.len();
        let mut bytes = frame;
        if let Some(snap) = self.snap_length {
            bytes.truncate(snap);
        }
        self.frames.push(Frame {
            time,
            bytes,
            wire_len,
        });
        self
    }

    /// A SYN flood: `count` SYNs, one every millisecond, each from its own
    /// client (10.2.0.0 and up, port 40000) to 10.1.0.1:45000, none answered,
    /// so that every packet is a conversation of its own.
    pub fn syn_flood(count: u32) -> Self {
        let server = std::net::SocketAddr::from(([10, 1, 0, 1], 45000));
        let mut capture = CaptureBuilder::new();
        for i in 0..count {
            let client =
                std::net::SocketAddr::from((std::net::Ipv4Addr::from(0x0A02_0000 + i), 40000));
            let mut session = crate::TcpSession::between(client, server);
            session.syn(f64::from(i) * 0.001);
            capture.add_session(&session);
        }
        capture
    }

    /// Frames added so far.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no frame was added.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The frames in the order they will be written.
    fn ordered(&self) -> Vec<&Frame> {
        let mut frames: Vec<&Frame> = self.frames.iter().collect();
        if self.sorted {
            // A stable sort: frames of the same time stay in insertion order.
            frames.sort_by(|a, b| a.time.total_cmp(&b.time));
        }
        frames
    }

    /// Writes the capture to `out`.
    pub fn write_to<W: Write>(&self, out: W) -> io::Result<W> {
        let mut stream = PcapStream::with_epoch(out, self.link, self.epoch)?;
        for frame in self.ordered() {
            stream.write_frame(frame.time, &frame.bytes, frame.wire_len)?;
        }
        Ok(stream.into_inner())
    }

    /// The capture as the bytes of a pcap file.
    pub fn to_pcap_bytes(&self) -> Vec<u8> {
        // Writing to a Vec fails only for a frame over 4 GiB or a time past
        // 2106, which a test never builds.
        self.write_to(Vec::new())
            .expect("a pcap file in memory can always be written")
    }

    /// Writes the capture to a pcap file at `path`.
    pub fn write_pcap(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let file = BufWriter::new(File::create(path)?);
        self.write_to(file)?.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_exact_to_the_microsecond() {
        let epoch = CaptureBuilder::DEFAULT_EPOCH;
        assert_eq!(timestamp(epoch, 0.001), epoch + Duration::from_micros(1000));
        assert_eq!(
            timestamp(epoch, 2.000_007),
            epoch + Duration::from_micros(2_000_007)
        );
        assert_eq!(timestamp(Duration::ZERO, -5.0), Duration::ZERO);
    }

    #[test]
    fn ethernet_frames_carry_macs_made_from_the_ip_addresses() {
        // An IPv4 header from 10.0.0.2 to 10.0.0.1, rest zero.
        let mut ip = vec![0x45; 20];
        ip[12..16].copy_from_slice(&[10, 0, 0, 2]);
        ip[16..20].copy_from_slice(&[10, 0, 0, 1]);
        let frame = Link::Ethernet.frame(&ip);
        assert_eq!(&frame[..6], &[2, 0, 10, 0, 0, 1], "destination");
        assert_eq!(&frame[6..12], &[2, 0, 10, 0, 0, 2], "source");
        assert_eq!(&frame[12..14], &[0x08, 0x00]);
        assert_eq!(&frame[14..], &ip[..]);
        assert_eq!(Link::RawIp.frame(&ip), ip);
        assert_eq!(Link::LinuxSll.frame(&ip).len(), 16 + 20);
        assert_eq!(Link::LinuxSll2.frame(&ip).len(), 20 + 20);
    }

    #[test]
    fn frames_are_written_in_time_order_unless_asked_not_to() {
        let times = |builder: &CaptureBuilder| -> Vec<f64> {
            builder.ordered().iter().map(|f| f.time).collect()
        };
        let mut sorted = CaptureBuilder::new();
        sorted
            .add_frame(2.0, vec![1])
            .add_frame(1.0, vec![2])
            .add_frame(1.0, vec![3]);
        assert_eq!(times(&sorted), [1.0, 1.0, 2.0]);
        assert_eq!(sorted.ordered()[0].bytes, [2], "ties keep insertion order");
        let mut unsorted = CaptureBuilder::new().keep_insertion_order();
        unsorted.add_frame(2.0, vec![1]).add_frame(1.0, vec![2]);
        assert_eq!(times(&unsorted), [2.0, 1.0]);
    }

    #[test]
    fn a_snap_length_cuts_frames_but_keeps_their_wire_length() {
        let mut builder = CaptureBuilder::new().with_snap_length(4);
        builder.add_frame(0.0, vec![7; 10]);
        let bytes = builder.to_pcap_bytes();
        // 24-byte file header, then ts_sec, ts_usec, incl_len, orig_len.
        assert_eq!(&bytes[32..36], &4u32.to_le_bytes());
        assert_eq!(&bytes[36..40], &10u32.to_le_bytes());
        assert_eq!(bytes.len(), 24 + 16 + 4);
    }
}
