//! A TCP segment, as the conversation tracker needs it.
//!
//! The payload *length* comes from the IP header, as Wireshark's `tcp.len`
//! does, so a capture cut short by a small snapshot length still counts the
//! bytes that were on the wire; the payload *bytes* are what was captured.
//!
//! The header itself is read through etherparse's typed view
//! ([`TcpSlice`]); of the options, only those a SYN carries to set up the
//! connection are kept ([`SynOptions`]): the others change nothing the
//! analysis needs, and skipping them keeps the common case fast.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use etherparse::{IpNumber, LaxIpPayloadSlice, LaxIpSlice, TcpSlice};

use crate::seq::SeqNumber;

/// TCP header flags, as the bits of the header's flag byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// No more data from the sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers (opening).
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push: hand the data to the application now.
    pub const PSH: u8 = 0x08;
    /// The acknowledgment number is valid.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer is valid.
    pub const URG: u8 = 0x20;

    /// Whether every bit of `bits` is set.
    pub fn has(self, bits: u8) -> bool {
        self.0 & bits == bits
    }

    /// SYN without ACK: the first step of a handshake.
    #[inline]
    pub fn is_syn(self) -> bool {
        self.0 & (Self::SYN | Self::ACK) == Self::SYN
    }

    /// SYN with ACK: the second step.
    #[inline]
    pub fn is_syn_ack(self) -> bool {
        self.0 & (Self::SYN | Self::ACK) == Self::SYN | Self::ACK
    }
}

/// The name of every combination of the six flags, spelled once.
static FLAG_NAMES: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| (0..64).map(|bits| Flags(bits).spell()).collect());

impl Flags {
    /// Wireshark's order and names: `SYN`, `SYN,ACK`, `PSH,ACK`, `FIN,ACK`.
    pub fn name(self) -> &'static str {
        // The table has every combination of the six bits kept.
        FLAG_NAMES
            .get(usize::from(self.0 & 0x3f))
            .map_or("none", String::as_str)
    }

    fn spell(self) -> String {
        let mut text = String::new();
        let names = [
            (Self::FIN, "FIN"),
            (Self::SYN, "SYN"),
            (Self::RST, "RST"),
            (Self::PSH, "PSH"),
            (Self::ACK, "ACK"),
            (Self::URG, "URG"),
        ];
        for (bit, name) in names {
            if self.has(bit) {
                if !text.is_empty() {
                    text.push(',');
                }
                text.push_str(name);
            }
        }
        if text.is_empty() {
            text.push_str("none");
        }
        text
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One TCP segment of a captured packet.
#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    /// Sender address and port.
    pub src: SocketAddr,
    /// Receiver address and port.
    pub dst: SocketAddr,
    /// Sequence number (absolute).
    pub seq: SeqNumber,
    /// Acknowledgment number (absolute; meaningful with the ACK flag).
    pub ack: SeqNumber,
    /// Header flags.
    pub flags: Flags,
    /// Payload length on the wire.
    pub len: u32,
    /// Payload bytes captured (at most `len`).
    pub payload: &'a [u8],
    /// The window field as sent (not yet scaled: see [`SynOptions`]).
    pub window: u16,
    /// What a SYN or SYN,ACK announced; empty for other segments.
    pub syn_options: SynOptions,
}

/// The options a SYN (or SYN,ACK) uses to set up a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SynOptions {
    /// Maximum segment size this side can receive.
    pub mss: Option<u16>,
    /// Window scale: this side's later windows are to be multiplied by
    /// 2^shift (RFC 7323; a shift over 14 is taken as 14).
    pub window_scale: Option<u8>,
    /// Selective acknowledgment permitted.
    pub sack_permitted: bool,
}

/// Largest window-scale shift RFC 7323 allows; larger ones are taken as it.
pub const MAX_WINDOW_SHIFT: u8 = 14;

impl SynOptions {
    /// Reads the options of a SYN. An option that does not parse ends the
    /// reading: what came before it is kept.
    fn read(tcp: &TcpSlice<'_>) -> Self {
        use etherparse::TcpOptionElement as Option_;
        let mut found = SynOptions::default();
        for option in tcp.options_iterator() {
            match option {
                Ok(Option_::MaximumSegmentSize(mss)) => found.mss = Some(mss),
                Ok(Option_::WindowScale(shift)) => {
                    found.window_scale = Some(shift.min(MAX_WINDOW_SHIFT));
                }
                Ok(Option_::SelectiveAcknowledgementPermitted) => found.sack_permitted = true,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        found
    }
}

impl TcpSegment<'_> {
    /// Sequence space the segment uses: its data, plus one for SYN and for FIN.
    pub fn seq_len(&self) -> u32 {
        self.len
            .saturating_add(u32::from(self.flags.has(Flags::SYN)))
            .saturating_add(u32::from(self.flags.has(Flags::FIN)))
    }

    /// The sequence number after this segment, as tshark counts it: its
    /// data, plus one for a SYN or a FIN (one, even with both).
    pub fn end(&self) -> SeqNumber {
        self.seq + self.len + u32::from(self.any_of(Flags::SYN | Flags::FIN))
    }

    /// Whether any of `bits` is set: `segment.any_of(Flags::SYN | Flags::FIN)`.
    pub fn any_of(&self, bits: u8) -> bool {
        self.flags.0 & bits != 0
    }
}

/// The TCP segment in the IP packet `ip`, if it carries a whole TCP header
/// (and is not a fragment).
pub fn tcp_segment(ip: &[u8]) -> Option<TcpSegment<'_>> {
    let (packet, _) = LaxIpSlice::from_slice(ip).ok()?;
    let (src_ip, dst_ip, payload, ip_payload_len): (IpAddr, IpAddr, &LaxIpPayloadSlice<'_>, usize) =
        match &packet {
            LaxIpSlice::Ipv4(ip) => {
                let header = ip.header();
                let payload = ip.payload();
                // When the capture cut the packet short, the IP header still
                // tells how long it was on the wire.
                let len = if payload.incomplete {
                    usize::from(header.total_len()).saturating_sub(usize::from(header.ihl()) * 4)
                } else {
                    payload.payload.len()
                };
                (
                    header.source_addr().into(),
                    header.destination_addr().into(),
                    payload,
                    len,
                )
            }
            LaxIpSlice::Ipv6(ip) => {
                let header = ip.header();
                let payload = ip.payload();
                let len = if payload.incomplete {
                    usize::from(header.payload_length())
                        .saturating_sub(ip.extensions().slice().len())
                } else {
                    payload.payload.len()
                };
                (
                    header.source_addr().into(),
                    header.destination_addr().into(),
                    payload,
                    len,
                )
            }
        };
    if payload.ip_number != IpNumber::TCP || payload.fragmented {
        return None;
    }
    let tcp = TcpSlice::from_slice(payload.payload).ok()?;
    let header_len = usize::from(tcp.data_offset()) * 4;
    let len = ip_payload_len.saturating_sub(header_len);
    let captured = tcp.payload();
    let captured = &captured[..captured.len().min(len)];
    let mut flags = 0u8;
    for (set, bit) in [
        (tcp.fin(), Flags::FIN),
        (tcp.syn(), Flags::SYN),
        (tcp.rst(), Flags::RST),
        (tcp.psh(), Flags::PSH),
        (tcp.ack(), Flags::ACK),
        (tcp.urg(), Flags::URG),
    ] {
        if set {
            flags |= bit;
        }
    }
    let syn_options = if tcp.syn() {
        SynOptions::read(&tcp)
    } else {
        SynOptions::default()
    };
    Some(TcpSegment {
        src: SocketAddr::new(src_ip, tcp.source_port()),
        dst: SocketAddr::new(dst_ip, tcp.destination_port()),
        seq: SeqNumber(tcp.sequence_number()),
        ack: SeqNumber(tcp.acknowledgment_number()),
        flags: Flags(flags),
        len: u32::try_from(len).unwrap_or(u32::MAX),
        payload: captured,
        window: tcp.window_size(),
        syn_options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_print_in_wiresharks_order() {
        assert_eq!(Flags(Flags::SYN).to_string(), "SYN");
        assert_eq!(Flags(Flags::SYN | Flags::ACK).to_string(), "SYN,ACK");
        assert_eq!(Flags(Flags::PSH | Flags::ACK).to_string(), "PSH,ACK");
        assert_eq!(Flags(Flags::FIN | Flags::ACK).to_string(), "FIN,ACK");
        assert_eq!(Flags(0).to_string(), "none");
    }

    #[test]
    fn syn_and_syn_ack_are_told_apart() {
        assert!(Flags(Flags::SYN).is_syn());
        assert!(!Flags(Flags::SYN | Flags::ACK).is_syn());
        assert!(Flags(Flags::SYN | Flags::ACK).is_syn_ack());
    }
}
