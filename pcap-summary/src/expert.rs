//! Expert flags: what TCP analysis says about one segment, with the names
//! and meanings tshark 4.0 gives them.
//!
//! A segment can carry several flags (a zero-window ACK that is also a
//! window update). tshark shows a fast or a spurious retransmission as a
//! retransmission too; [`ExpertCounts`] counts them the same way, so each
//! count is what `tshark -Y tcp.analysis.<name>` would list.

use serde::Serialize;

/// The flags of one segment, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expert(pub u16);

/// One kind of flag: its bit, its name (the JSON key and tshark's
/// `tcp.analysis.<name>` field), and what it means, in words.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The flag's bit in [`Expert`].
    pub bit: u16,
    /// JSON key; with `tcp.analysis.` before it, tshark's field name.
    pub name: &'static str,
    /// A few words for people: "duplicate ACK".
    pub words: &'static str,
    /// Why TCP does this, in one sentence, for a student.
    pub meaning: &'static str,
}

impl Expert {
    /// Data sent again: an earlier segment already carried these bytes.
    pub const RETRANSMISSION: u16 = 1 << 0;
    /// Sent again within 20 ms of the second duplicate ACK asking for it.
    pub const FAST_RETRANSMISSION: u16 = 1 << 1;
    /// Sent again although the receiver had already acknowledged it.
    pub const SPURIOUS_RETRANSMISSION: u16 = 1 << 2;
    /// Arrived after a segment with a higher sequence number, soon after it.
    pub const OUT_OF_ORDER: u16 = 1 << 3;
    /// The same ACK again, with no data: the receiver is missing bytes.
    pub const DUPLICATE_ACK: u16 = 1 << 4;
    /// Starts past the end of what this side sent before: a gap.
    pub const LOST_SEGMENT: u16 = 1 << 5;
    /// Acknowledges bytes the capture never saw.
    pub const ACK_LOST_SEGMENT: u16 = 1 << 6;
    /// The sender's receive window is 0: it can take no more data.
    pub const ZERO_WINDOW: u16 = 1 << 7;
    /// The data fills the receiver's window to its last byte.
    pub const WINDOW_FULL: u16 = 1 << 8;
    /// An ACK that only changes the window.
    pub const WINDOW_UPDATE: u16 = 1 << 9;
    /// A keep-alive: one byte before what the side should send next.
    pub const KEEP_ALIVE: u16 = 1 << 10;
    /// The answer to a keep-alive.
    pub const KEEP_ALIVE_ACK: u16 = 1 << 11;
    /// One byte sent into a zero window, to learn when it opens.
    pub const ZERO_WINDOW_PROBE: u16 = 1 << 12;
    /// The answer to a zero-window probe (still zero).
    pub const ZERO_WINDOW_PROBE_ACK: u16 = 1 << 13;

    /// Every kind, in the order they are reported.
    pub const KINDS: [Kind; 14] = [
        Kind { bit: Self::RETRANSMISSION, name: "retransmission", words: "retransmission",
            meaning: "TCP sent these bytes again because no ACK for them came in time (the retransmission timeout)." },
        Kind { bit: Self::FAST_RETRANSMISSION, name: "fast_retransmission", words: "fast retransmission",
            meaning: "TCP sent these bytes again at once, without waiting for its timer, because duplicate ACKs said they were missing." },
        Kind { bit: Self::SPURIOUS_RETRANSMISSION, name: "spurious_retransmission", words: "spurious retransmission",
            meaning: "TCP sent bytes again that the receiver had already acknowledged: the first copy had arrived." },
        Kind { bit: Self::OUT_OF_ORDER, name: "out_of_order", words: "out of order",
            meaning: "this segment came after one with higher sequence numbers, so the receiver had to hold the later bytes until it arrived." },
        Kind { bit: Self::DUPLICATE_ACK, name: "duplicate_ack", words: "duplicate ACK",
            meaning: "the receiver got a segment past a gap and acknowledged again the last byte it had in order, asking for the missing ones." },
        Kind { bit: Self::LOST_SEGMENT, name: "lost_segment", words: "previous segment not captured",
            meaning: "bytes before this segment never showed up in the capture: lost on the way, or missed by the capture." },
        Kind { bit: Self::ACK_LOST_SEGMENT, name: "ack_lost_segment", words: "ACKed unseen segment",
            meaning: "this ACK covers bytes the capture never saw: the capture missed them (common at its start)." },
        Kind { bit: Self::ZERO_WINDOW, name: "zero_window", words: "zero window",
            meaning: "the sender of this segment has no room left in its receive buffer: the other side must stop sending (flow control)." },
        Kind { bit: Self::WINDOW_FULL, name: "window_full", words: "window full",
            meaning: "this data fills the receiver's advertised window: the sender must now wait for an ACK that opens it." },
        Kind { bit: Self::WINDOW_UPDATE, name: "window_update", words: "window update",
            meaning: "an ACK that only announces a new window: the receiver's application read data and made room." },
        Kind { bit: Self::KEEP_ALIVE, name: "keep_alive", words: "keep-alive",
            meaning: "a probe on an idle connection, asking whether the other side is still there." },
        Kind { bit: Self::KEEP_ALIVE_ACK, name: "keep_alive_ack", words: "keep-alive ACK",
            meaning: "the answer to a keep-alive: the other side is still there." },
        Kind { bit: Self::ZERO_WINDOW_PROBE, name: "zero_window_probe", words: "zero-window probe",
            meaning: "one byte sent into a closed window, so the sender learns when the receiver has room again." },
        Kind { bit: Self::ZERO_WINDOW_PROBE_ACK, name: "zero_window_probe_ack", words: "zero-window probe ACK",
            meaning: "the receiver's answer to a zero-window probe: its window is still closed." },
    ];

    /// Whether `bits` are all set.
    pub fn has(self, bits: u16) -> bool {
        self.0 & bits == bits
    }

    /// Whether any flag is set.
    pub fn any(self) -> bool {
        self.0 != 0
    }

    /// Sets `bits`.
    pub fn set(&mut self, bits: u16) {
        self.0 |= bits;
    }

    /// The kinds set, in report order.
    pub fn kinds(self) -> impl Iterator<Item = &'static Kind> {
        Self::KINDS.iter().filter(move |k| self.0 & k.bit != 0)
    }

    /// Whether tshark shows this segment as a retransmission: a plain,
    /// fast or spurious one.
    pub fn is_retransmission(self) -> bool {
        self.0 & (Self::RETRANSMISSION | Self::FAST_RETRANSMISSION | Self::SPURIOUS_RETRANSMISSION)
            != 0
    }
}

impl Serialize for Expert {
    /// The names of the flags set, as a list: `["retransmission"]`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.kinds().map(|k| k.name))
    }
}

/// Frames carrying each flag in one conversation (32 bits each, to keep a
/// conversation small; a count stops at its largest value rather than wrap). The first eleven are
/// `conversations[].analysis` in the JSON (the set the course's issue
/// named); the other three, `analysis_more`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ExpertCounts {
    /// Plain, fast and spurious retransmissions (as tshark counts them).
    pub retransmission: u32,
    /// Fast retransmissions.
    pub fast_retransmission: u32,
    /// Spurious retransmissions.
    pub spurious_retransmission: u32,
    /// Out-of-order segments.
    pub out_of_order: u32,
    /// Duplicate ACKs.
    pub duplicate_ack: u32,
    /// Segments after a gap the capture never filled at that point.
    pub lost_segment: u32,
    /// ACKs of bytes the capture never saw.
    pub ack_lost_segment: u32,
    /// Segments advertising a zero window.
    pub zero_window: u32,
    /// Segments that filled the receiver's window.
    pub window_full: u32,
    /// Pure window updates.
    pub window_update: u32,
    /// Keep-alives.
    pub keep_alive: u32,
    /// The rest: not in the JSON's `analysis` object.
    #[serde(skip)]
    pub more: MoreCounts,
}

/// Flags tshark also sets that are not in `analysis`: in the JSON as
/// `analysis_more`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct MoreCounts {
    /// Answers to keep-alives.
    pub keep_alive_ack: u32,
    /// Zero-window probes.
    pub zero_window_probe: u32,
    /// Answers to zero-window probes.
    pub zero_window_probe_ack: u32,
}

impl ExpertCounts {
    /// Counts one segment's flags.
    pub fn add(&mut self, flags: Expert) {
        if !flags.any() {
            return;
        }
        let count = |bit: u16| u32::from(flags.0 & bit != 0);
        self.retransmission = self
            .retransmission
            .saturating_add(u32::from(flags.is_retransmission()));
        self.fast_retransmission = self
            .fast_retransmission
            .saturating_add(count(Expert::FAST_RETRANSMISSION));
        self.spurious_retransmission = self
            .spurious_retransmission
            .saturating_add(count(Expert::SPURIOUS_RETRANSMISSION));
        self.out_of_order = self
            .out_of_order
            .saturating_add(count(Expert::OUT_OF_ORDER));
        self.duplicate_ack = self
            .duplicate_ack
            .saturating_add(count(Expert::DUPLICATE_ACK));
        self.lost_segment = self
            .lost_segment
            .saturating_add(count(Expert::LOST_SEGMENT));
        self.ack_lost_segment = self
            .ack_lost_segment
            .saturating_add(count(Expert::ACK_LOST_SEGMENT));
        self.zero_window = self.zero_window.saturating_add(count(Expert::ZERO_WINDOW));
        self.window_full = self.window_full.saturating_add(count(Expert::WINDOW_FULL));
        self.window_update = self
            .window_update
            .saturating_add(count(Expert::WINDOW_UPDATE));
        self.keep_alive = self.keep_alive.saturating_add(count(Expert::KEEP_ALIVE));
        self.more.keep_alive_ack = self
            .more
            .keep_alive_ack
            .saturating_add(count(Expert::KEEP_ALIVE_ACK));
        self.more.zero_window_probe = self
            .more
            .zero_window_probe
            .saturating_add(count(Expert::ZERO_WINDOW_PROBE));
        self.more.zero_window_probe_ack = self
            .more
            .zero_window_probe_ack
            .saturating_add(count(Expert::ZERO_WINDOW_PROBE_ACK));
    }

    /// Adds another conversation's counts to these (saturating).
    pub fn merge(&mut self, other: &ExpertCounts) {
        let sum = |a: &mut u32, b: u32| *a = a.saturating_add(b);
        sum(&mut self.retransmission, other.retransmission);
        sum(&mut self.fast_retransmission, other.fast_retransmission);
        sum(
            &mut self.spurious_retransmission,
            other.spurious_retransmission,
        );
        sum(&mut self.out_of_order, other.out_of_order);
        sum(&mut self.duplicate_ack, other.duplicate_ack);
        sum(&mut self.lost_segment, other.lost_segment);
        sum(&mut self.ack_lost_segment, other.ack_lost_segment);
        sum(&mut self.zero_window, other.zero_window);
        sum(&mut self.window_full, other.window_full);
        sum(&mut self.window_update, other.window_update);
        sum(&mut self.keep_alive, other.keep_alive);
        sum(&mut self.more.keep_alive_ack, other.more.keep_alive_ack);
        sum(
            &mut self.more.zero_window_probe,
            other.more.zero_window_probe,
        );
        sum(
            &mut self.more.zero_window_probe_ack,
            other.more.zero_window_probe_ack,
        );
    }

    /// `(name, count)` of every kind, [`Expert::KINDS`] order, the
    /// retransmission count including fast and spurious ones.
    pub fn by_name(&self) -> [(&'static str, u32); 14] {
        [
            ("retransmission", self.retransmission),
            ("fast_retransmission", self.fast_retransmission),
            ("spurious_retransmission", self.spurious_retransmission),
            ("out_of_order", self.out_of_order),
            ("duplicate_ack", self.duplicate_ack),
            ("lost_segment", self.lost_segment),
            ("ack_lost_segment", self.ack_lost_segment),
            ("zero_window", self.zero_window),
            ("window_full", self.window_full),
            ("window_update", self.window_update),
            ("keep_alive", self.keep_alive),
            ("keep_alive_ack", self.more.keep_alive_ack),
            ("zero_window_probe", self.more.zero_window_probe),
            ("zero_window_probe_ack", self.more.zero_window_probe_ack),
        ]
    }

    /// Whether nothing was flagged.
    pub fn is_clean(&self) -> bool {
        *self == ExpertCounts::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_retransmission_counts_as_a_retransmission_too() {
        let mut counts = ExpertCounts::default();
        counts.add(Expert(Expert::FAST_RETRANSMISSION));
        counts.add(Expert(Expert::SPURIOUS_RETRANSMISSION));
        counts.add(Expert(Expert::RETRANSMISSION));
        assert_eq!(counts.retransmission, 3);
        assert_eq!(counts.fast_retransmission, 1);
        assert_eq!(counts.spurious_retransmission, 1);
    }

    #[test]
    fn merged_counts_are_the_counts_of_all_the_segments() {
        let (mut a, mut b, mut all) = (
            ExpertCounts::default(),
            ExpertCounts::default(),
            ExpertCounts::default(),
        );
        for (i, kind) in Expert::KINDS.iter().enumerate() {
            let flags = Expert(kind.bit);
            let part: &mut ExpertCounts = if i % 2 == 0 { &mut a } else { &mut b };
            part.add(flags);
            all.add(flags);
        }
        a.merge(&b);
        assert_eq!(a, all);
    }

    #[test]
    fn kinds_and_counts_name_the_same_flags_in_the_same_order() {
        let names: Vec<&str> = Expert::KINDS.iter().map(|k| k.name).collect();
        let counted: Vec<&str> = ExpertCounts::default()
            .by_name()
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(names, counted);
        for kind in Expert::KINDS {
            let mut counts = ExpertCounts::default();
            counts.add(Expert(kind.bit));
            let hit: Vec<&str> = counts
                .by_name()
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(name, _)| *name)
                .collect();
            assert!(
                hit.contains(&kind.name),
                "{} counted under its name",
                kind.name
            );
        }
    }

    #[test]
    fn json_lists_flag_names_and_analysis_has_exactly_the_eleven_keys() {
        let flags = Expert(Expert::ZERO_WINDOW | Expert::WINDOW_UPDATE);
        assert_eq!(
            serde_json::to_string(&flags).expect("json"),
            r#"["zero_window","window_update"]"#
        );
        let value = serde_json::to_value(ExpertCounts::default()).expect("json");
        let keys: Vec<&String> = value.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 11);
    }
}
