//! Sequence analysis: which segments were sent again, arrived out of order,
//! repeat an ACK, or show that the capture missed something.
//!
//! Each side's state ([`Flow`]) remembers the next sequence number it should
//! send, its last ACK and window, and how many duplicate ACKs it has sent in
//! a row. One segment at a time, [`analyze`] decides its expert flags with
//! tshark 4.0's rules and default preferences (`packet-tcp.c`,
//! `tcp_analyze_sequence_number`), in tshark's order, so that every count
//! agrees with `tshark -Y tcp.analysis.<flag>`; the tests check that
//! against tshark on real lossy captures. In brief:
//!
//! - a segment that starts *before* the next expected number is, in this
//!   order: *spurious* if the receiver had already acknowledged all of it;
//!   a *fast* retransmission if it answers two or more duplicate ACKs within
//!   20 ms; *out of order* if it came within one handshake round trip (or
//!   3 ms) of the highest segment; otherwise a *retransmission*;
//! - a segment that starts *past* it means the capture lost one
//!   (`lost_segment`); an ACK past anything seen, that it missed one the
//!   other way (`ack_lost_segment`);
//! - an empty segment repeating the last ACK and window is a *duplicate ACK*.

use std::collections::VecDeque;

use super::window::{self, Window};
use crate::direction::PerDir;
use crate::expert::Expert;
use crate::segment::{Flags, TcpSegment};
use crate::seq::SeqNumber;

/// Within this long of the second duplicate ACK, a resend is "fast".
const FAST_RETRANSMISSION_WITHIN: f64 = 0.020;
/// Out of order means "within one round trip of the highest segment"; with
/// no round trip measured, within this.
const OUT_OF_ORDER_WITHIN_DEFAULT: f64 = 0.003;
/// Unacknowledged segments remembered per side (to tell how long after the
/// original a retransmission came). tshark keeps 10,000; the eldest is all
/// that matters, and stopping adding keeps it.
const UNACKED_KEPT: usize = 64;

/// One side's sequence state.
#[derive(Debug, Clone, Default)]
pub struct Flow {
    /// The highest "next sequence number" this side has sent (data end,
    /// plus one for SYN or FIN), and when.
    next_seq: Option<(SeqNumber, f64)>,
    /// The end of what this side sent without a hole: the most the other
    /// side can acknowledge without acknowledging something unseen.
    max_seq_to_be_acked: Option<SeqNumber>,
    /// This side's last ACK field (tshark takes 0 as "none yet"), and when.
    last_ack: (SeqNumber, f64),
    /// Duplicate ACKs this side sent in a row; -1 after an ACK of unseen
    /// data, so that one lost segment is reported once.
    duplicate_acks: i32,
    /// The flags of this side's last segment.
    last_flags: Expert,
    /// This side's window.
    pub window: Window,
    /// Data segments sent and not yet acknowledged, oldest first: `(end,
    /// time)`. An ACK removes them from the front (the oldest are the first
    /// acknowledged), so each segment costs one push and one pop. Boxed,
    /// since most conversations never need it.
    // A box is 8 bytes in every conversation, an empty VecDeque 32.
    #[allow(clippy::box_collection)]
    unacked: Option<Box<VecDeque<(SeqNumber, f64)>>>,
}

/// What the analysis says about one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Verdict {
    /// Its flags.
    pub flags: Expert,
    /// For a retransmission: seconds since the oldest unacknowledged segment
    /// it likely repeats was sent (tshark's `tcp.analysis.rto`).
    pub after: Option<f64>,
    /// For a duplicate ACK: which one in the row (tshark's `#n`).
    pub duplicate_ack: u32,
}

/// Seconds from `then` to `now`; `None` when time stepped back (tshark's
/// unsigned difference is then huge, so no "within" test passes).
fn since(now: f64, then: f64) -> Option<f64> {
    (now >= then).then_some(now - then)
}

impl Flow {
    /// A SYN sent again with the same initial sequence number: tshark takes
    /// back the "next" number to what the other side may acknowledge, since
    /// a RST in between may have moved it.
    pub fn syn_again(&mut self) {
        if let Some(max) = self.max_seq_to_be_acked {
            let time = self.next_seq.map_or(0.0, |(_, time)| time);
            self.next_seq = Some((max, time));
        }
    }

    fn expects(&self, seq: SeqNumber) -> bool {
        self.next_seq.is_some_and(|(next, _)| next == seq)
    }
}

/// Analyses `segment`, sent at `time` by the side whose state is `this`
/// (`reverse`: the other side's). `out_of_order_within` is the handshake's
/// round trip when it was measured.
pub fn analyze(
    flows: (&mut Flow, &mut Flow),
    segment: &TcpSegment<'_>,
    time: f64,
    out_of_order_within: Option<f64>,
) -> Verdict {
    let (this, reverse) = flows;
    let mut verdict = Verdict::default();
    let flags = &mut verdict.flags;
    let (seq, ack, len) = (segment.seq, segment.ack, segment.len);
    let plain = window::is_plain(segment);
    let field = u32::from(segment.window);

    // The common cases first: data that starts where its side left off,
    // and an empty segment with a new ACK number, with an open window and
    // no SYN, FIN or RST. Of the checks below, only "window full" can be
    // true of them (each other one needs another length, a closed window,
    // another sequence number or a repeated ACK), and none of the
    // retransmission family but "spurious".
    let in_order = plain && field != 0 && this.expects(seq);
    let common = in_order && (len > 1 || (len == 0 && ack != this.last_ack.0));

    // The checks in tshark's order.
    'forward: {
        if common {
            if len > 0 && window_filled(reverse, segment) {
                flags.set(Expert::WINDOW_FULL);
            }
            break 'forward;
        }
        if len == 1 && this.expects(seq) && reverse.window.field == 0 {
            flags.set(Expert::ZERO_WINDOW_PROBE);
            break 'forward;
        }
        if window::is_zero_window(segment) {
            flags.set(Expert::ZERO_WINDOW);
        }
        if let Some((next, _)) = this.next_seq {
            if seq > next && !segment.flags.has(Flags::RST) {
                flags.set(Expert::LOST_SEGMENT);
            }
            if len <= 1 && seq == next - 1 && plain {
                flags.set(Expert::KEEP_ALIVE);
            }
        }
        let repeats_ack = len == 0 && plain && ack == this.last_ack.0 && this.expects(seq);
        let same_window = field == this.window.field;
        if repeats_ack && field != 0 && !same_window {
            flags.set(Expert::WINDOW_UPDATE);
        }
        if len > 0 && plain && window_filled(reverse, segment) {
            flags.set(Expert::WINDOW_FULL);
        }
        if !repeats_ack || !same_window {
            break 'forward;
        }
        if field != 0 && reverse.last_flags.has(Expert::KEEP_ALIVE) {
            flags.set(Expert::KEEP_ALIVE_ACK);
            break 'forward;
        }
        if field == 0 && reverse.last_flags.has(Expert::ZERO_WINDOW_PROBE) {
            flags.set(Expert::ZERO_WINDOW_PROBE_ACK);
            break 'forward;
        }
        if field != 0 {
            this.duplicate_acks = if this.duplicate_acks == -1 {
                1
            } else {
                this.duplicate_acks + 1
            };
            flags.set(Expert::DUPLICATE_ACK);
            verdict.duplicate_ack = u32::try_from(this.duplicate_acks).unwrap_or(0);
        }
    }

    // A new ACK number starts a new row of duplicates.
    if ack != this.last_ack.0 {
        this.duplicate_acks = 0;
    }

    if segment.flags.has(Flags::ACK) {
        if let Some(max) = reverse.max_seq_to_be_acked {
            if ack > max {
                let reverse_next = reverse.next_seq.map(|(next, _)| next);
                if reverse_next.is_some_and(|next| max < next) {
                    // Say it once: what can be acknowledged moves past it.
                    reverse.max_seq_to_be_acked = reverse_next;
                    flags.set(Expert::ACK_LOST_SEGMENT);
                } else {
                    if reverse.duplicate_acks == 0 {
                        flags.set(Expert::ACK_LOST_SEGMENT);
                    }
                    reverse.duplicate_acks = -1;
                }
            }
        }
    }

    if common {
        // In order: not a resend of any kind, unless already acknowledged.
        if len > 0 && is_acknowledged(reverse, segment) {
            verdict.flags.set(Expert::SPURIOUS_RETRANSMISSION);
        }
    } else if len > 0 || segment.any_of(Flags::SYN | Flags::FIN) {
        classify_resend(
            this,
            reverse,
            segment,
            time,
            out_of_order_within,
            &mut verdict,
        );
    }

    remember(this, segment, time, verdict.flags);
    forget_acknowledged(reverse, segment);
    verdict
}

/// Whether `segment`'s data ends at the last byte the receiver's window
/// allowed (known once the SYNs said how windows scale).
fn window_filled(reverse: &Flow, segment: &TcpSegment<'_>) -> bool {
    reverse.window.is_known()
        && segment.seq + segment.len == reverse.last_ack.0 + reverse.window.last_bytes()
}

/// Whether the receiver had already acknowledged all of `segment`'s data
/// (tshark takes an ACK number of 0 as none yet).
fn is_acknowledged(reverse: &Flow, segment: &TcpSegment<'_>) -> bool {
    let last_ack = reverse.last_ack.0;
    last_ack != SeqNumber(0) && segment.seq + segment.len <= last_ack
}

/// The retransmission family, for a segment that uses sequence space.
fn classify_resend(
    this: &Flow,
    reverse: &Flow,
    segment: &TcpSegment<'_>,
    time: f64,
    out_of_order_within: Option<f64>,
    verdict: &mut Verdict,
) {
    let flags = &mut verdict.flags;
    if flags.has(Expert::KEEP_ALIVE) {
        return;
    }
    let (seq, len) = (segment.seq, segment.len);
    let next = this.next_seq;
    let mut not_advanced = next.is_some_and(|(next, _)| seq < next);
    // More than one byte starting one before "next": new data after what
    // may have been a zero-window probe.
    if len > 1 && next.is_some_and(|(next, _)| next - 1 == seq) {
        not_advanced = false;
    }
    let last_ack = reverse.last_ack.0;
    if len > 0 && is_acknowledged(reverse, segment) {
        flags.set(Expert::SPURIOUS_RETRANSMISSION);
        return;
    }
    let within = |then: f64, limit: f64| since(time, then).is_some_and(|t| t < limit);
    if not_advanced
        && reverse.duplicate_acks >= 2
        && last_ack == seq
        && within(reverse.last_ack.1, FAST_RETRANSMISSION_WITHIN)
    {
        flags.set(Expert::FAST_RETRANSMISSION);
        return;
    }
    let limit = out_of_order_within.unwrap_or(OUT_OF_ORDER_WITHIN_DEFAULT);
    if let Some((next, next_time)) = next {
        if not_advanced && within(next_time, limit) && next != segment.end() {
            flags.set(Expert::OUT_OF_ORDER);
            return;
        }
        if not_advanced {
            flags.set(Expert::RETRANSMISSION);
            let original = this
                .unacked
                .as_deref()
                .and_then(VecDeque::front)
                .map_or(next_time, |&(_, sent)| sent);
            verdict.after = Some((time - original).max(0.0));
        }
    }
}

/// Updates this side's state with the segment it just sent.
fn remember(this: &mut Flow, segment: &TcpSegment<'_>, time: f64, flags: Expert) {
    let end = segment.end();
    // Only data is remembered (tshark keeps SYNs and FINs too): a resent SYN
    // or FIN is timed from "next" (its own first sending), and a SYN flood
    // allocates nothing here.
    if segment.len > 0 {
        let list = this.unacked.get_or_insert_with(Box::default);
        if list.len() < UNACKED_KEPT {
            list.push_back((end, time));
        }
    }
    let probe = flags.has(Expert::ZERO_WINDOW_PROBE);
    // A zero-window probe's byte is not really sent yet: it does not move "next".
    if !probe && this.next_seq.is_none_or(|(next, _)| end > next) {
        this.next_seq = Some((end, time));
    }
    if !probe
        && this
            .max_seq_to_be_acked
            .is_none_or(|max| max == segment.seq)
    {
        this.max_seq_to_be_acked = this.next_seq.map(|(next, _)| next);
    }
    this.last_ack = (segment.ack, time);
    this.last_flags = flags;
}

/// Drops the other side's oldest segments that `segment`'s ACK covers.
/// (tshark removes every covered one wherever it is in its list; only the
/// oldest uncovered one's time is ever read, and that is the same.)
fn forget_acknowledged(reverse: &mut Flow, segment: &TcpSegment<'_>) {
    let Some(list) = reverse.unacked.as_deref_mut() else {
        return;
    };
    while list.front().is_some_and(|&(end, _)| end <= segment.ack) {
        list.pop_front();
    }
}

/// Both sides' sequence state.
pub type Flows = PerDir<Flow>;
