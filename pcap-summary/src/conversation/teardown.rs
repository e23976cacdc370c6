//! The teardown: FIN from each side, each acknowledged, or a RST.
//!
//! A FIN says "I will send no more" and uses one sequence number, so its
//! ACK is the FIN's sequence number plus one. The side that sends the first
//! FIN closes actively (and waits in TIME_WAIT afterwards).

use super::{PerDir, Step};
use crate::segment::{Flags, TcpSegment};
use crate::seq::SeqNumber;

/// Most FIN/RST/ACK steps kept for the teardown.
const STEPS: usize = 8;

/// FIN and RST segments and the ACKs that answer them.
#[derive(Debug, Clone, Default)]
pub struct Teardown {
    /// The steps, in capture order (up to 8).
    pub steps: Vec<Step>,
    /// Where each side's FIN sits in its sequence space, once seen.
    fin_seq: PerDir<Option<SeqNumber>>,
}

impl Teardown {
    /// Takes `step` (of `segment`) when it belongs to the teardown.
    pub(crate) fn follow(&mut self, step: &Step, segment: &TcpSegment<'_>) {
        let flags = segment.flags;
        let keep = if flags.has(Flags::FIN) {
            self.fin_seq[step.dir].get_or_insert(segment.seq + segment.len);
            true
        } else if flags.has(Flags::RST) {
            true
        } else {
            // The ACK of the other side's FIN completes the teardown.
            let other_fin = self.fin_seq[step.dir.reverse()];
            flags.has(Flags::ACK)
                && segment.len == 0
                && other_fin.is_some_and(|fin| segment.ack == fin + 1)
                && !self.steps.iter().any(|s| {
                    s.dir == step.dir && !s.flags.has(Flags::FIN) && !s.flags.has(Flags::RST)
                })
        };
        if keep && self.steps.len() < STEPS {
            self.steps.push(step.clone());
        }
    }
}
