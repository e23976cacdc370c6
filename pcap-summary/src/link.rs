//! From a link-layer frame to an IP packet.
//!
//! Each capture file names the link type of its frames. Ethernet (with VLAN
//! tags) and raw IP are handed to etherparse as they are. The two Linux
//! "cooked" headers that `tcpdump -i any` writes, SLL and SLL2, are read here
//! with small typed views, because etherparse refuses some of their hardware
//! types (loopback, PPP) and has no entry point for SLL2 at all. BSD NULL and
//! LOOP frames carry a 4-byte address family before the IP packet.

/// The link types this tool understands (tcpdump.org's LINKTYPE_ numbers).
pub mod linktype {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    pub const NULL: u32 = 0;
    /// Ethernet II, possibly with VLAN tags.
    pub const ETHERNET: u32 = 1;
    /// Raw IP, the old numbers some systems write.
    pub const RAW_OLD: [u32; 2] = [12, 14];
    /// Raw IPv4 or IPv6.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1 (`tcpdump -i any`, older libpcap).
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2 (`tcpdump -i any`, libpcap 1.10+).
    pub const LINUX_SLL2: u32 = 276;
}

/// A read-only view of a Linux cooked (SLL) header: 16 bytes.
///
/// ```text
/// 0      2       4         6              14        16
/// | type | ARPHRD | addr len | address (8)  | protocol |
/// ```
pub struct SllHeader<'a>(&'a [u8]);

impl<'a> SllHeader<'a> {
    /// Header length in bytes.
    pub const LEN: usize = 16;

    /// A view of `frame`'s header, if the frame is long enough.
    pub fn new(frame: &'a [u8]) -> Option<Self> {
        (frame.len() >= Self::LEN).then_some(SllHeader(frame))
    }

    /// The protocol of the payload, an EtherType (0x0800 IPv4, 0x86DD IPv6).
    pub fn protocol(&self) -> u16 {
        u16::from_be_bytes([self.0[14], self.0[15]])
    }

    /// The hardware type (1 Ethernet, 772 loopback, 512 PPP, ...).
    pub fn arphrd(&self) -> u16 {
        u16::from_be_bytes([self.0[2], self.0[3]])
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.0[Self::LEN..]
    }
}

/// A read-only view of a Linux cooked v2 (SLL2) header: 20 bytes.
///
/// ```text
/// 0          2          4            8        10     11         12
/// | protocol | reserved | if index   | ARPHRD | type | addr len | address (8) |
/// ```
pub struct Sll2Header<'a>(&'a [u8]);

impl<'a> Sll2Header<'a> {
    /// Header length in bytes.
    pub const LEN: usize = 20;

    /// A view of `frame`'s header, if the frame is long enough.
    pub fn new(frame: &'a [u8]) -> Option<Self> {
        (frame.len() >= Self::LEN).then_some(Sll2Header(frame))
    }

    /// The protocol of the payload, an EtherType.
    pub fn protocol(&self) -> u16 {
        u16::from_be_bytes([self.0[0], self.0[1]])
    }

    /// The interface the packet was seen on.
    pub fn interface_index(&self) -> u32 {
        u32::from_be_bytes([self.0[4], self.0[5], self.0[6], self.0[7]])
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.0[Self::LEN..]
    }
}

/// Why a frame was not decoded down to IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A link type this tool does not read.
    UnsupportedLink(u32),
    /// Shorter than its link header.
    TooShort,
    /// Not IP (ARP, ...).
    NotIp,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
/// 802.1Q, 802.1ad and the old QinQ tag: each adds 4 bytes before the EtherType.
const VLAN_TAGS: [u16; 3] = [0x8100, 0x88A8, 0x9100];
/// Most VLAN tags unwrapped before giving up.
const MAX_VLAN_TAGS: usize = 3;

/// The IP packet inside `frame` of `linktype`.
///
/// Only the link layer is taken off here; the IP and TCP headers are read by
/// [`crate::segment::tcp_segment`]. (etherparse's all-layers `LaxSlicedPacket`
/// would do both, but it is a large value to move around per packet.)
pub fn ip_packet(linktype: u32, frame: &[u8]) -> Result<&[u8], Skip> {
    match linktype {
        linktype::ETHERNET => {
            let ethernet = etherparse::Ethernet2Slice::from_slice_without_fcs(frame)
                .map_err(|_| Skip::TooShort)?;
            let (mut ether_type, mut payload) = (ethernet.ether_type().0, ethernet.payload_slice());
            for _ in 0..MAX_VLAN_TAGS {
                if !VLAN_TAGS.contains(&ether_type) {
                    break;
                }
                let vlan =
                    etherparse::SingleVlanSlice::from_slice(payload).map_err(|_| Skip::TooShort)?;
                (ether_type, payload) = (vlan.ether_type().0, vlan.payload_slice());
            }
            ip_by_ether_type(ether_type, payload)
        }
        linktype::LINUX_SLL => {
            let sll = SllHeader::new(frame).ok_or(Skip::TooShort)?;
            ip_by_ether_type(sll.protocol(), sll.payload())
        }
        linktype::LINUX_SLL2 => {
            let sll2 = Sll2Header::new(frame).ok_or(Skip::TooShort)?;
            ip_by_ether_type(sll2.protocol(), sll2.payload())
        }
        linktype::RAW | linktype::IPV4 | linktype::IPV6 => Ok(frame),
        t if linktype::RAW_OLD.contains(&t) => Ok(frame),
        // The 4-byte family says IPv4 or IPv6; so does the IP version nibble.
        linktype::NULL | linktype::LOOP => frame.get(4..).ok_or(Skip::TooShort),
        other => Err(Skip::UnsupportedLink(other)),
    }
}

fn ip_by_ether_type(ether_type: u16, payload: &[u8]) -> Result<&[u8], Skip> {
    match ether_type {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Ok(payload),
        _ => Err(Skip::NotIp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sll_header_fields_are_read_from_their_offsets() {
        let mut frame = vec![0u8; 20];
        frame[2..4].copy_from_slice(&772u16.to_be_bytes());
        frame[14..16].copy_from_slice(&0x0800u16.to_be_bytes());
        let sll = SllHeader::new(&frame).expect("long enough");
        assert_eq!(sll.arphrd(), 772);
        assert_eq!(sll.protocol(), 0x0800);
        assert_eq!(sll.payload().len(), 4);
        assert!(SllHeader::new(&frame[..15]).is_none());
    }

    #[test]
    fn sll2_header_fields_are_read_from_their_offsets() {
        let mut frame = vec![0u8; 24];
        frame[0..2].copy_from_slice(&0x86DDu16.to_be_bytes());
        frame[4..8].copy_from_slice(&7u32.to_be_bytes());
        let sll2 = Sll2Header::new(&frame).expect("long enough");
        assert_eq!(sll2.protocol(), 0x86DD);
        assert_eq!(sll2.interface_index(), 7);
        assert_eq!(sll2.payload().len(), 4);
        assert!(Sll2Header::new(&frame[..19]).is_none());
    }

    #[test]
    fn unknown_link_types_and_short_frames_are_skipped_not_panicked_on() {
        assert_eq!(
            ip_packet(147, &[0; 40]).err(),
            Some(Skip::UnsupportedLink(147))
        );
        assert_eq!(
            ip_packet(linktype::LINUX_SLL2, &[0; 3]).err(),
            Some(Skip::TooShort)
        );
        assert_eq!(
            ip_packet(linktype::NULL, &[2, 0]).err(),
            Some(Skip::TooShort)
        );
        assert_eq!(
            ip_packet(linktype::ETHERNET, &[0; 5]).err(),
            Some(Skip::TooShort)
        );
    }

    #[test]
    fn vlan_tags_are_unwrapped_and_arp_is_not_ip() {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x81, 0x00, 0x00, 0x07, 0x08, 0x00]);
        frame.extend_from_slice(&[0x45, 0, 0, 20]);
        assert_eq!(
            ip_packet(linktype::ETHERNET, &frame),
            Ok(&[0x45, 0, 0, 20][..])
        );
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06, 0, 1]);
        assert_eq!(ip_packet(linktype::ETHERNET, &arp).err(), Some(Skip::NotIp));
    }
}
