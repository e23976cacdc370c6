//! What the expert analysis says of an experiment's conversations, added
//! up: the counts of each flag (tshark's), and the first example of the
//! ones a report explains, with its words.

use pcap_summary::conversation::{Conversation, Dir};
use pcap_summary::expert::{Expert, ExpertCounts};
use serde::Serialize;

/// One flagged segment, as a report quotes it.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// Its conversation.
    pub conversation: usize,
    /// `c2s` or `s2c`.
    pub dir: &'static str,
    /// Seconds from the capture's start.
    pub time: f64,
    /// The analysis's words for it: "retransmission of seq=1449, 201.000 ms after the original".
    pub words: String,
    /// For a retransmission: seconds since the original was sent.
    pub after: Option<f64>,
}

/// The analysis of the conversations an experiment is about.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TcpAnalysis {
    /// Each flag's count, over every conversation.
    pub counts: ExpertCounts,
    /// The counts' rest (keep-alive ACKs, zero-window probes and their ACKs).
    pub more: pcap_summary::expert::MoreCounts,
    /// Stream bytes each way, added up.
    pub stream_bytes: (u64, u64),
    /// Payload bytes on the wire each way, added up.
    pub wire_bytes: (u64, u64),
    /// The first plain retransmission (after a timeout) the summary kept.
    pub first_timeout_resend: Option<Example>,
    /// The first fast retransmission kept.
    pub first_fast_resend: Option<Example>,
    /// The first duplicate ACK kept.
    pub first_duplicate_ack: Option<Example>,
    /// The first zero window kept.
    pub first_zero_window: Option<Example>,
    /// The first window update kept.
    pub first_window_update: Option<Example>,
}

impl TcpAnalysis {
    /// The analysis of `conversations`.
    pub fn of(conversations: &[&Conversation]) -> TcpAnalysis {
        let mut all = TcpAnalysis::default();
        for c in conversations {
            all.counts.merge(&c.analysis);
            all.stream_bytes.0 += c.stream_bytes[Dir::ClientToServer];
            all.stream_bytes.1 += c.stream_bytes[Dir::ServerToClient];
            all.wire_bytes.0 += c.payload_bytes[Dir::ClientToServer];
            all.wire_bytes.1 += c.payload_bytes[Dir::ServerToClient];
            for s in &c.segments {
                let example = || Example {
                    conversation: c.id,
                    dir: s.step.dir.short(),
                    time: s.step.time,
                    words: s.expert_words().join("; "),
                    after: s.resent_after,
                };
                let f = s.expert;
                let first = |slot: &mut Option<Example>, bits: u16| {
                    if slot.is_none() && f.has(bits) {
                        *slot = Some(example());
                    }
                };
                first(&mut all.first_timeout_resend, Expert::RETRANSMISSION);
                first(&mut all.first_fast_resend, Expert::FAST_RETRANSMISSION);
                first(&mut all.first_duplicate_ack, Expert::DUPLICATE_ACK);
                first(&mut all.first_zero_window, Expert::ZERO_WINDOW);
                first(&mut all.first_window_update, Expert::WINDOW_UPDATE);
            }
        }
        all.more = all.counts.more;
        all
    }

    /// Retransmissions neither fast nor spurious: after a timeout.
    pub fn timeout_resends(&self) -> u64 {
        u64::from(self.counts.retransmission)
            .saturating_sub(u64::from(self.counts.fast_retransmission))
            .saturating_sub(u64::from(self.counts.spurious_retransmission))
    }

    /// Probes of a closed window: tshark's zero-window probes, and the
    /// keep-alive-shaped probes Linux sends (one byte before "next").
    pub fn window_probes(&self) -> u64 {
        u64::from(self.more.zero_window_probe) + u64::from(self.counts.keep_alive)
    }
}
