//! The lines of a time-protocol conversation, read back from the capture.
//!
//! The captured payloads of one direction are put in stream order (by
//! sequence number, each byte once: where a segment repeats bytes an
//! earlier one carried, only its new bytes are taken) and cut into lines at
//! LF, so a request split over two segments is still one request.

use pcap_summary::conversation::{Conversation, Dir};
use progjar_protocol::escape::escape_bytes;

/// What one direction of a conversation said, line by line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lines {
    /// Whole lines (LF included), escaped like `TIME\r\n`.
    pub lines: Vec<String>,
    /// Whether some payload was not kept by the summary (long transfers),
    /// so the lines are only the first ones.
    pub incomplete: bool,
}

impl Lines {
    /// The lines `dir` sent in `c`.
    pub fn of(c: &Conversation, dir: Dir) -> Lines {
        let mut segments: Vec<_> = c
            .segments
            .iter()
            .filter(|s| s.step.dir == dir && s.len > 0)
            .collect();
        // Relative sequence numbers: a stream under 4 GiB sorts right.
        segments.sort_by_key(|s| s.step.seq);
        let mut bytes = Vec::new();
        let mut incomplete = c.segments_not_shown > 0;
        // The stream position just past the bytes taken so far.
        let mut taken_to: Option<u64> = None;
        for s in segments {
            if s.payload.len() as u64 != u64::from(s.len) {
                incomplete = true;
            }
            let start = u64::from(s.step.seq);
            let skip = taken_to.map_or(0, |end| end.saturating_sub(start));
            let new = s.payload.get(skip as usize..).unwrap_or_default();
            bytes.extend_from_slice(new);
            let end = start + s.payload.len() as u64;
            taken_to = Some(taken_to.map_or(end, |t| t.max(end)));
        }
        let lines = bytes
            .split_inclusive(|&b| b == b'\n')
            .map(escape_bytes)
            .collect();
        Lines { lines, incomplete }
    }

    /// Lines that begin with `word`.
    pub fn starting_with<'a>(&'a self, word: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.lines.iter().filter(move |l| l.starts_with(word))
    }
}
