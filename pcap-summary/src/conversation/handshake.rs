//! The opening handshake: SYN, SYN,ACK, ACK.
//!
//! Each side picks an initial sequence number (ISN) and announces it with
//! its SYN; each acknowledges the other's SYN with ISN + 1. Relative
//! numbers (the ISN as 0) make every handshake read seq=0, ack=1.

use super::{Dir, Step};
use crate::segment::Flags;

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

    /// Takes `step` as a handshake step when it is the next one.
    pub(crate) fn follow(&mut self, step: &Step) {
        let flags = step.flags;
        match step.dir {
            Dir::ClientToServer if flags.is_syn() && self.syn.is_none() => {
                self.syn = Some(step.clone());
            }
            Dir::ServerToClient if flags.is_syn_ack() && self.syn_ack.is_none() => {
                self.syn_ack = Some(step.clone());
            }
            Dir::ClientToServer
                if self.ack.is_none()
                    && self.syn_ack.is_some()
                    && flags.has(Flags::ACK)
                    && !flags.has(Flags::SYN)
                    && step.ack == 1 =>
            {
                self.ack = Some(step.clone());
            }
            _ => {}
        }
    }
}

/// The round trip tshark measures for its out-of-order rule: from the most
/// recent SYN to the first ACK without SYN, in either direction.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FirstRoundTrip {
    last_syn: Option<f64>,
    /// Once measured; never zero (a zero measure counts as none, as in tshark).
    pub rtt: Option<f64>,
}

impl FirstRoundTrip {
    pub(crate) fn observe(&mut self, time: f64, flags: Flags) {
        // Measured once: nothing to follow after that (the common case).
        if self.rtt.is_some() {
            return;
        }
        if flags.is_syn() {
            self.last_syn = Some(time);
        }
        let pure_ack = flags.has(Flags::ACK) && !flags.has(Flags::SYN);
        if let (true, Some(syn)) = (pure_ack, self.last_syn) {
            let rtt = time - syn;
            self.rtt = (rtt != 0.0).then_some(rtt.abs());
        }
    }
}
