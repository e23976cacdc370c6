//! Flow control: each side's receive window, and the expert flags about it.
//!
//! Every segment carries its sender's *receive window*: how many more bytes
//! it can take beyond what it acknowledges. A receiver that reads slowly
//! lets the window shrink to zero; the sender must then stop and probe
//! (zero-window probes) until a window update opens it again. This is flow
//! control: the receiver protecting its buffer, distinct from congestion
//! control, where the sender slows down for the network's sake.
//!
//! The rules are tshark 4.0's (`packet-tcp.c`, `tcp_analyze_sequence_number`),
//! with its default preferences; they are checked against tshark in the tests.
//! The window field has 16 bits; a SYN's window-scale option (RFC 7323) says
//! how far later windows are shifted. As in tshark, the field is compared
//! unscaled, and scaled only where the window is measured in bytes (window
//! full).

use crate::segment::{Flags, SynOptions, TcpSegment};

/// What is known of one side's window scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    /// No SYN seen: the shift is unknown.
    #[default]
    Unknown,
    /// The handshake did not agree on scaling: windows are as sent.
    NotUsed,
    /// Windows are shifted left by this many bits.
    Shift(u8),
}

impl Scale {
    /// The shift to apply to a window field (0 when not used or unknown).
    pub fn shift(self) -> u8 {
        match self {
            Scale::Shift(shift) => shift,
            Scale::Unknown | Scale::NotUsed => 0,
        }
    }
}

/// One side's window, as far as its segments told it.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// The last window field this side sent, unscaled; `u32::MAX` before
    /// its first segment (so no comparison with it matches).
    pub field: u32,
    /// Its window scaling.
    pub scale: Scale,
    /// Between this side's SYN and its first pure ACK: the SYN's window is
    /// never scaled, so the window still counts as sent.
    pub before_first_ack: bool,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            field: u32::MAX,
            scale: Scale::Unknown,
            before_first_ack: false,
        }
    }
}

impl Window {
    /// The window in bytes that a segment's window field announces.
    pub fn bytes(&self, segment: &TcpSegment<'_>) -> u32 {
        if segment.flags.has(Flags::SYN) {
            // A SYN's window is never scaled.
            u32::from(segment.window)
        } else {
            u32::from(segment.window) << self.scale.shift()
        }
    }

    /// The receiver's window in bytes, as the window-full check uses it.
    pub(crate) fn last_bytes(&self) -> u32 {
        let shift = if self.before_first_ack {
            0
        } else {
            self.scale.shift()
        };
        // As tshark: bits shifted past 32 are lost.
        self.field << shift
    }

    /// Whether the window-full check can be made: scaling was announced or
    /// ruled out by a SYN.
    pub(crate) fn is_known(&self) -> bool {
        self.scale != Scale::Unknown
    }
}

/// A segment that only fills no sequence space and carries no SYN, FIN or
/// RST: the kind that window updates, duplicate ACKs and probe ACKs are.
pub(crate) fn is_plain(segment: &TcpSegment<'_>) -> bool {
    !segment.any_of(Flags::SYN | Flags::FIN | Flags::RST)
}

/// Zero window: the sender announces it has no room.
pub(crate) fn is_zero_window(segment: &TcpSegment<'_>) -> bool {
    segment.window == 0 && is_plain(segment)
}

/// Once a segment has been analysed: its SYN options set the sender's
/// scaling, and a pure ACK ends the "SYN window" stretch.
pub(crate) fn after_segment(this: &mut Window, reverse: &mut Window, segment: &TcpSegment<'_>) {
    this.field = u32::from(segment.window);
    let flags = segment.flags;
    if flags.has(Flags::SYN) {
        this.before_first_ack = true;
    } else if flags.has(Flags::ACK) {
        this.before_first_ack = false;
    }
    if flags.has(Flags::SYN) {
        agree_on_scaling(this, reverse, flags.has(Flags::ACK), segment.syn_options);
    }
}

/// Scaling is used only when both SYNs offer it (RFC 7323 2.2): a SYN
/// without the option rules it out for both sides, and so does a SYN,ACK
/// with it answering a SYN without.
fn agree_on_scaling(
    this: &mut Window,
    reverse: &mut Window,
    is_syn_ack: bool,
    options: SynOptions,
) {
    if let Some(shift) = options.window_scale {
        this.scale = Scale::Shift(shift);
    }
    if this.scale == Scale::Unknown {
        this.scale = Scale::NotUsed;
        reverse.scale = Scale::NotUsed;
    } else if is_syn_ack && reverse.scale == Scale::NotUsed {
        this.scale = Scale::NotUsed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn(scale: Option<u8>) -> SynOptions {
        SynOptions {
            window_scale: scale,
            ..SynOptions::default()
        }
    }

    #[test]
    fn scaling_is_used_only_when_both_syns_offer_it() {
        let (mut client, mut server) = (Window::default(), Window::default());
        agree_on_scaling(&mut client, &mut server, false, syn(Some(7)));
        agree_on_scaling(&mut server, &mut client, true, syn(Some(9)));
        assert_eq!(
            (client.scale, server.scale),
            (Scale::Shift(7), Scale::Shift(9))
        );

        let (mut client, mut server) = (Window::default(), Window::default());
        agree_on_scaling(&mut client, &mut server, false, syn(None));
        agree_on_scaling(&mut server, &mut client, true, syn(Some(9)));
        assert_eq!(
            (client.scale, server.scale),
            (Scale::NotUsed, Scale::NotUsed)
        );

        let (mut client, mut server) = (Window::default(), Window::default());
        agree_on_scaling(&mut client, &mut server, false, syn(Some(7)));
        agree_on_scaling(&mut server, &mut client, true, syn(None));
        assert_eq!(
            (client.scale, server.scale),
            (Scale::NotUsed, Scale::NotUsed)
        );
    }

    #[test]
    fn the_syn_window_is_not_scaled_until_the_first_ack() {
        let window = Window {
            field: 512,
            scale: Scale::Shift(7),
            before_first_ack: true,
        };
        assert_eq!(window.last_bytes(), 512);
        let window = Window {
            before_first_ack: false,
            ..window
        };
        assert_eq!(window.last_bytes(), 512 << 7);
    }
}
