//! Stream bytes: how much of one side's byte stream the capture saw, each
//! byte once.
//!
//! On the wire a byte can pass several times (retransmissions); the
//! application sent it once. This counts a segment's payload only where it
//! reaches past everything seen so far, or fills a hole left below that:
//! bytes never captured do not count. It is independent of the expert flags
//! (a late segment that fills a hole brings new bytes whatever tshark calls
//! it).

use crate::segment::{Flags, TcpSegment};
use crate::seq::SeqNumber;

/// Most holes remembered at once per direction: a capture with more holes
/// than that at once counts the bytes that fill the others later as
/// repeated, never twice.
const HOLES: usize = 16;

/// One direction's byte stream, as far as the capture showed it.
#[derive(Debug, Clone, Default)]
pub struct StreamBytes {
    /// Bytes seen, each once.
    pub bytes: u64,
    /// The end of the highest segment seen.
    next: Option<SeqNumber>,
    /// Holes `(from, to)` below `next`; boxed, since most conversations
    /// never have one.
    // A box is 8 bytes in every conversation, an empty Vec 24.
    #[allow(clippy::box_collection)]
    holes: Option<Box<Vec<(SeqNumber, SeqNumber)>>>,
}

impl StreamBytes {
    /// Counts the bytes of `segment` seen for the first time, and returns
    /// how many there were.
    pub fn observe(&mut self, segment: &TcpSegment<'_>) -> u64 {
        let len = segment.seq_len();
        if len == 0 {
            return 0;
        }
        let start = segment.seq;
        let end = start + len;
        let Some(next) = self.next else {
            self.next = Some(end);
            self.bytes += u64::from(segment.len);
            return u64::from(segment.len);
        };
        if start >= next {
            // At or past what was expected next: all of it is new.
            if start > next && self.holes().len() < HOLES {
                // A hole: the bytes in between are missing, for now.
                self.holes
                    .get_or_insert_with(Box::default)
                    .push((next, start));
            }
            self.next = Some(end);
            self.bytes += u64::from(segment.len);
            return u64::from(segment.len);
        }
        // Starts before what was expected next: a hole filled late, or a
        // resend (perhaps with new bytes after the old ones).
        let new = self.take_from_holes(next, segment) + past(next, segment);
        self.bytes += new;
        if end > next {
            self.next = Some(end);
        }
        new
    }

    fn holes(&self) -> &[(SeqNumber, SeqNumber)] {
        self.holes.as_deref().map_or(&[], Vec::as_slice)
    }

    /// Removes the part of the holes below `next` that `segment` covers and
    /// returns how many of its payload bytes were in them. No allocation:
    /// a hole is trimmed in place, split in two only when there is room.
    fn take_from_holes(&mut self, next: SeqNumber, segment: &TcpSegment<'_>) -> u64 {
        let start = relative(next, segment.seq);
        let end = start + i64::from(segment.seq_len());
        let (data_from, data_to) = payload_range(next, segment);
        let Some(holes) = self.holes.as_deref_mut() else {
            return 0;
        };
        let mut found = 0u64;
        let mut i = 0;
        while i < holes.len() {
            let (from, to) = (relative(next, holes[i].0), relative(next, holes[i].1));
            // A hole from more than 2 GiB ago no longer compares: skip it.
            if !(from < to && to <= 0) || end <= from || to <= start {
                i += 1;
                continue;
            }
            let overlap = data_to.min(to) - data_from.max(from);
            found += u64::try_from(overlap).unwrap_or(0);
            let at = |rel: i64| SeqNumber(next.0.wrapping_add(rel as u32));
            let before = (from < start).then(|| (holes[i].0, at(start)));
            let after = (end < to).then(|| (at(end), holes[i].1));
            match (before, after) {
                (Some(piece), Some(other)) => {
                    holes[i] = piece;
                    if holes.len() < HOLES {
                        holes.push(other);
                    }
                    i += 1;
                }
                (Some(piece), None) | (None, Some(piece)) => {
                    holes[i] = piece;
                    i += 1;
                }
                (None, None) => {
                    holes.swap_remove(i);
                }
            }
        }
        found
    }
}

/// Position of `seq` relative to `next` (negative: before it), where
/// interval arithmetic is plain integer arithmetic. A segment that starts
/// before `next` is within 2^31 of it.
fn relative(next: SeqNumber, seq: SeqNumber) -> i64 {
    i64::from(seq.distance_from(next))
}

/// `segment`'s payload as a range relative to `next` (a SYN's sequence
/// number comes before the data).
fn payload_range(next: SeqNumber, segment: &TcpSegment<'_>) -> (i64, i64) {
    let from = relative(next, segment.seq) + i64::from(segment.flags.has(Flags::SYN));
    (from, from + i64::from(segment.len))
}

/// Payload bytes of `segment` at or past `next`: never seen before.
fn past(next: SeqNumber, segment: &TcpSegment<'_>) -> u64 {
    let (from, to) = payload_range(next, segment);
    u64::try_from(to - from.max(0)).unwrap_or(0)
}
