//! pcapng files written by hand, block by block, so a test can damage any
//! part of one: a block length of 0, 13 or 0xFFFFFFFF, a packet naming an
//! interface that was never described, a bad `if_tsresol` option.
//!
//! Everything is little-endian, as Wireshark and tcpdump write on x86. This
//! writer does not use the pcap-file crate on purpose: a reader tested only
//! on files from its own library could share that library's mistakes.

use std::time::Duration;

use crate::capture::{Link, TimedPacket};

/// Block types (pcapng specification, section 11.1).
pub mod block_type {
    /// Section Header Block.
    pub const SECTION_HEADER: u32 = 0x0A0D_0D0A;
    /// Interface Description Block.
    pub const INTERFACE_DESCRIPTION: u32 = 1;
    /// Simple Packet Block.
    pub const SIMPLE_PACKET: u32 = 3;
    /// Enhanced Packet Block.
    pub const ENHANCED_PACKET: u32 = 6;
}

/// The `if_tsresol` option's code.
const IF_TSRESOL: u16 = 9;

/// A pcapng file being written: a section header first, then whatever
/// blocks the test adds, each at a byte offset it can ask for.
#[derive(Debug, Clone)]
pub struct PcapNgBuilder {
    bytes: Vec<u8>,
    epoch: Duration,
    /// Each interface's ticks per second, by interface id.
    ticks_per_second: Vec<u64>,
}

impl Default for PcapNgBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PcapNgBuilder {
    /// A file with its Section Header Block (version 1.0, section length
    /// unknown) and nothing else yet. Times are counted from
    /// [`crate::CaptureBuilder::DEFAULT_EPOCH`].
    pub fn new() -> Self {
        let mut body = Vec::new();
        body.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes()); // byte-order magic
        body.extend_from_slice(&1u16.to_le_bytes()); // major version
        body.extend_from_slice(&0u16.to_le_bytes()); // minor version
        body.extend_from_slice(&u64::MAX.to_le_bytes()); // section length: unknown
        let mut builder = PcapNgBuilder {
            bytes: Vec::new(),
            epoch: crate::CaptureBuilder::DEFAULT_EPOCH,
            ticks_per_second: Vec::new(),
        };
        builder.block(block_type::SECTION_HEADER, &body);
        builder
    }

    /// Byte offset where the next block will start.
    pub fn offset(&self) -> usize {
        self.bytes.len()
    }

    /// Adds an Interface Description Block for `link` frames with the
    /// default resolution (microseconds); its id is the number of interfaces
    /// described before it.
    pub fn interface(&mut self, link: Link) -> &mut Self {
        self.interface_with_options(link, &[]);
        self.ticks_per_second.push(1_000_000);
        self
    }

    /// Adds an Interface Description Block with an `if_tsresol` option of
    /// these bytes (one byte when well formed: 6 is microseconds, 9
    /// nanoseconds, 0x80 | n is 2^-n seconds). Packets on it are written in
    /// its ticks when the value is one of those; in microseconds otherwise.
    pub fn interface_with_tsresol(&mut self, link: Link, value: &[u8]) -> &mut Self {
        let mut option = Vec::new();
        option.extend_from_slice(&IF_TSRESOL.to_le_bytes());
        option.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_le_bytes());
        option.extend_from_slice(value);
        pad(&mut option);
        option.extend_from_slice(&[0; 4]); // opt_endofopt
        self.interface_with_options(link, &option);
        let ticks = match value {
            [n] if n & 0x80 == 0 && *n <= 9 => 10u64.pow(u32::from(*n)),
            [n] if n & 0x80 != 0 && n & 0x7f <= 63 => 1u64 << (n & 0x7f),
            _ => 1_000_000,
        };
        self.ticks_per_second.push(ticks);
        self
    }

    fn interface_with_options(&mut self, link: Link, options: &[u8]) {
        let mut body = Vec::new();
        let linktype = u16::try_from(u32::from(link.data_link())).unwrap_or(u16::MAX);
        body.extend_from_slice(&linktype.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes()); // reserved
        body.extend_from_slice(&0u32.to_le_bytes()); // snaplen: no limit
        body.extend_from_slice(options);
        self.block(block_type::INTERFACE_DESCRIPTION, &body);
    }

    /// Adds an Enhanced Packet Block holding `frame` (link header included),
    /// captured `time` seconds into the capture on interface `interface_id`
    /// (which need not have been described: that is a damage to test).
    pub fn packet(&mut self, interface_id: u32, time: f64, frame: &[u8]) -> &mut Self {
        let per_second = self
            .ticks_per_second
            .get(interface_id as usize)
            .copied()
            .unwrap_or(1_000_000);
        let at = self.epoch.as_secs_f64() + time;
        // Ticks since 1970 fit a u64 for any resolution up to 2^-63 s until
        // long after this test suite is gone; the rounding is the intent.
        let ticks = (at * per_second as f64).round() as u64;
        let mut body = Vec::new();
        body.extend_from_slice(&interface_id.to_le_bytes());
        body.extend_from_slice(&((ticks >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ticks as u32).to_le_bytes());
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        body.extend_from_slice(&len.to_le_bytes()); // captured length
        body.extend_from_slice(&len.to_le_bytes()); // original length
        body.extend_from_slice(frame);
        pad(&mut body);
        self.block(block_type::ENHANCED_PACKET, &body);
        self
    }

    /// Adds every captured packet of `session` on interface `interface_id`,
    /// with `link`'s header.
    pub fn add_session(
        &mut self,
        interface_id: u32,
        link: Link,
        session: &crate::TcpSession,
    ) -> &mut Self {
        for TimedPacket { time, ip } in session.packets() {
            self.packet(interface_id, *time, &link.frame(ip));
        }
        self
    }

    /// Adds a Simple Packet Block holding `frame` (it has no interface id:
    /// it belongs to interface 0, and no timestamp).
    pub fn simple_packet(&mut self, frame: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        body.extend_from_slice(&len.to_le_bytes());
        body.extend_from_slice(frame);
        pad(&mut body);
        self.block(block_type::SIMPLE_PACKET, &body);
        self
    }

    /// Adds a well-formed block of `type_` around `body` (padded to 4 bytes).
    pub fn block(&mut self, type_: u32, body: &[u8]) -> &mut Self {
        let mut body = body.to_vec();
        pad(&mut body);
        let length = u32::try_from(body.len() + 12).unwrap_or(u32::MAX);
        self.block_claiming(type_, &body, length, length)
    }

    /// Adds a block of `type_` whose leading and trailing length fields say
    /// `leading` and `trailing` whatever the size of `body`: a damaged block.
    pub fn block_claiming(
        &mut self,
        type_: u32,
        body: &[u8],
        leading: u32,
        trailing: u32,
    ) -> &mut Self {
        self.bytes.extend_from_slice(&type_.to_le_bytes());
        self.bytes.extend_from_slice(&leading.to_le_bytes());
        self.bytes.extend_from_slice(body);
        self.bytes.extend_from_slice(&trailing.to_le_bytes());
        self
    }

    /// Appends bytes as they are (after the last block, or to cut one).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// The file's bytes so far.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The file.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Pads `bytes` with zeros to a multiple of 4.
fn pad(bytes: &mut Vec<u8>) {
    while !bytes.len().is_multiple_of(4) {
        bytes.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_framed_by_equal_length_fields_and_padded() {
        let mut builder = PcapNgBuilder::new();
        assert_eq!(builder.offset(), 28, "section header: 12 + 16 bytes");
        builder.interface(Link::RawIp);
        assert_eq!(builder.offset(), 28 + 20);
        builder.packet(0, 0.0, &[1, 2, 3, 4, 5]);
        let bytes = builder.into_bytes();
        let epb = &bytes[48..];
        assert_eq!(&epb[..4], &6u32.to_le_bytes());
        // 12 framing + 20 fixed fields + 5 bytes padded to 8.
        assert_eq!(&epb[4..8], &40u32.to_le_bytes());
        assert_eq!(&epb[36..40], &40u32.to_le_bytes());
        assert_eq!(epb.len(), 40);
    }

    #[test]
    fn a_block_can_claim_any_length() {
        let mut builder = PcapNgBuilder::new();
        builder.block_claiming(block_type::ENHANCED_PACKET, &[0; 4], 13, 13);
        let bytes = builder.into_bytes();
        assert_eq!(&bytes[32..36], &13u32.to_le_bytes());
        assert_eq!(bytes.len(), 28 + 12 + 4);
    }
}
