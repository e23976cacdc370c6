//! Follow a TCP stream: each side's bytes once, in stream order, as the
//! applications read them (what `tshark -z follow,tcp,ascii` shows).
//!
//! The capture may hold a byte several times (retransmissions) or see it
//! late (out of order); a [`Reassembler`] per direction hands each byte on
//! once, in sequence order, holding segments that come early until the
//! bytes before them arrive. It is sans-IO: sequence numbers and bytes in,
//! bytes out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::direction::{Dir, PerDir};
use crate::segment::{Flags, TcpSegment};
use crate::seq::SeqNumber;

/// Most bytes followed per direction; past it, the rest is counted only.
pub const MAX_FOLLOWED_BYTES: usize = 64 << 20;
/// Most segments held waiting for a hole to fill, per direction.
const MAX_HELD: usize = 4096;

/// One direction's byte stream, put back in order.
#[derive(Debug, Default)]
pub struct Reassembler {
    /// Stream position (bytes from the first) of the next byte to hand on.
    next: u64,
    /// The sequence number of stream position 0, from the first segment.
    origin: Option<SeqNumber>,
    /// Segments that came before the bytes ahead of them: position -> bytes.
    held: BTreeMap<u64, Vec<u8>>,
}

impl Reassembler {
    /// Takes one segment's payload at sequence number `seq` (the payload's
    /// first byte) and returns the bytes it makes ready, in order: none when
    /// it only repeats what was handed on, or comes before a hole.
    pub fn push(&mut self, seq: SeqNumber, payload: &[u8]) -> Vec<u8> {
        if payload.is_empty() {
            return Vec::new();
        }
        let origin = *self.origin.get_or_insert(seq);
        // Where the payload starts in the stream; a segment from before the
        // first one seen (a resend of older data) only counts from 0.
        let offset = i64::from(seq.distance_from(origin));
        let (start, payload) = if offset < 0 {
            let skip = usize::try_from(-offset).unwrap_or(usize::MAX);
            (0, payload.get(skip..).unwrap_or_default())
        } else {
            (offset as u64, payload)
        };
        let mut ready = Vec::new();
        self.take(start, payload, &mut ready);
        // Held segments the new bytes reached.
        while let Some((&at, _)) = self.held.first_key_value() {
            if at > self.next {
                break;
            }
            if let Some((at, bytes)) = self.held.pop_first() {
                self.take(at, &bytes, &mut ready);
            }
        }
        ready
    }

    /// Hands on the part of `bytes` (at stream position `start`) past what
    /// was handed on, or holds it when a hole comes first.
    fn take(&mut self, start: u64, bytes: &[u8], ready: &mut Vec<u8>) {
        let end = start + bytes.len() as u64;
        if end <= self.next {
            return;
        }
        if start > self.next {
            if self.held.len() < MAX_HELD {
                let slot = self.held.entry(start).or_default();
                if slot.len() < bytes.len() {
                    *slot = bytes.to_vec();
                }
            }
            return;
        }
        let skip = (self.next - start) as usize;
        ready.extend_from_slice(&bytes[skip..]);
        self.next = end;
    }

    /// Bytes still held behind a hole the capture never filled.
    pub fn held_bytes(&self) -> u64 {
        self.held.values().map(|b| b.len() as u64).sum()
    }
}

/// A followed conversation: its bytes each way, in the order they became
/// readable.
#[derive(Debug, Default)]
pub struct FollowedStream {
    /// The conversation followed.
    pub conversation: usize,
    /// Runs of bytes, in capture order, each from one side.
    pub chunks: Vec<(Dir, Vec<u8>)>,
    /// Bytes handed on each way (kept or not).
    pub bytes: PerDir<u64>,
    /// Bytes past `max_bytes`, counted but not kept.
    pub not_kept: PerDir<u64>,
    /// Most bytes kept each way.
    pub max_bytes: usize,
    /// Bytes never handed on: after a hole the capture did not fill.
    pub stuck: PerDir<u64>,
    streams: PerDir<Reassembler>,
}

impl FollowedStream {
    /// Follows conversation `id`, keeping up to `max_bytes` each way.
    pub fn new(conversation: usize, max_bytes: usize) -> Self {
        FollowedStream {
            conversation,
            max_bytes,
            ..FollowedStream::default()
        }
    }

    /// The bytes one side sent, in stream order (as far as kept).
    pub fn side(&self, dir: Dir) -> Vec<u8> {
        self.chunks
            .iter()
            .filter(|(d, _)| *d == dir)
            .flat_map(|(_, bytes)| bytes.iter().copied())
            .collect()
    }

    /// Takes one segment of the followed conversation, going `dir`.
    pub fn observe(&mut self, dir: Dir, segment: &TcpSegment<'_>) {
        // The captured bytes only (a short snapshot length keeps fewer).
        let data_seq = segment.seq + u32::from(segment.flags.has(Flags::SYN));
        let ready = self.streams[dir].push(data_seq, segment.payload);
        if ready.is_empty() {
            return;
        }
        self.bytes[dir] += ready.len() as u64;
        let kept: usize = self
            .chunks
            .iter()
            .filter(|(d, _)| *d == dir)
            .map(|(_, b)| b.len())
            .sum();
        let room = self.max_bytes.saturating_sub(kept);
        let keep = ready.len().min(room);
        self.not_kept[dir] += (ready.len() - keep) as u64;
        if keep == 0 {
            return;
        }
        match self.chunks.last_mut() {
            Some((last, bytes)) if *last == dir => bytes.extend_from_slice(&ready[..keep]),
            _ => self.chunks.push((dir, ready[..keep].to_vec())),
        }
    }

    /// Counts what stayed behind holes, once the capture has been read.
    pub fn finish(&mut self) {
        self.stuck = self.streams.map(Reassembler::held_bytes);
    }

    /// The stream for people: each run of bytes under the side that sent
    /// it, text escaped (`\r\n`), other bytes as hex and ASCII.
    pub fn render(&self, client: &str, server: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Follow TCP stream #{}: {client} (client) <-> {server} (server)",
            self.conversation
        );
        let _ = writeln!(
            out,
            "client -> server: {} bytes; server -> client: {} bytes (each byte once, in stream order)",
            self.bytes[Dir::ClientToServer],
            self.bytes[Dir::ServerToClient]
        );
        for (dir, bytes) in &self.chunks {
            let who = match dir {
                Dir::ClientToServer => "client ->",
                Dir::ServerToClient => "         <- server",
            };
            let _ = writeln!(out, "\n{who} ({} bytes)", bytes.len());
            if crate::text::is_text(bytes) {
                for line in bytes.split_inclusive(|&b| b == b'\n') {
                    let _ = writeln!(out, "    {}", progjar_protocol::escape::escape_bytes(line));
                }
            } else {
                out.push_str(&crate::text::hex_dump(bytes, "    "));
            }
        }
        for (dir, n) in self.not_kept.iter() {
            if *n > 0 {
                let _ = writeln!(
                    out,
                    "\n({n} more bytes {} not shown: past 64 MiB)",
                    dir_words(dir)
                );
            }
        }
        for (dir, n) in self.stuck.iter() {
            if *n > 0 {
                let _ = writeln!(
                    out,
                    "\n({n} bytes {} came after a gap the capture never filled: not shown)",
                    dir_words(dir)
                );
            }
        }
        out
    }
}

fn dir_words(dir: Dir) -> &'static str {
    match dir {
        Dir::ClientToServer => "client -> server",
        Dir::ServerToClient => "server -> client",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_resend_is_not_repeated_and_an_early_segment_waits_for_the_hole() {
        let mut r = Reassembler::default();
        assert_eq!(r.push(SeqNumber(100), b"TI"), b"TI");
        assert_eq!(r.push(SeqNumber(104), b"\r\n"), b"", "held behind the hole");
        assert_eq!(r.push(SeqNumber(100), b"TIME"), b"ME\r\n", "fills it");
        assert_eq!(r.push(SeqNumber(100), b"TIME\r\n"), b"");
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn sequence_numbers_wrap_inside_a_stream() {
        let mut r = Reassembler::default();
        assert_eq!(r.push(SeqNumber(u32::MAX - 1), b"ab"), b"ab");
        assert_eq!(r.push(SeqNumber(0), b"cd"), b"cd");
    }

    proptest! {
        /// However a stream is cut, repeated and shuffled, it comes out once,
        /// in order.
        #[test]
        fn any_order_and_repeats_give_the_stream_once(
            len in 1usize..400,
            cuts in proptest::collection::vec(1usize..40, 1..40),
            order in proptest::collection::vec(any::<proptest::sample::Index>(), 0..80),
            start: u32,
        ) {
            let stream: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
            let mut pieces = Vec::new();
            let mut at = 0;
            let mut i = 0;
            while at < len {
                let n = cuts[i % cuts.len()].min(len - at);
                pieces.push((at, n));
                at += n;
                i += 1;
            }
            // Deliver in a shuffled order with repeats, then once in order
            // (the resends that fill every hole).
            let mut sent: Vec<(usize, usize)> = order.iter().map(|ix| pieces[ix.index(pieces.len())]).collect();
            sent.extend(pieces.iter().copied());
            let mut r = Reassembler::default();
            // The first segment fixes the origin: send the stream's start first.
            let mut out = r.push(SeqNumber(start), &stream[..pieces[0].1]);
            for (at, n) in sent {
                out.extend(r.push(SeqNumber(start) + at as u32, &stream[at..at + n]));
            }
            prop_assert_eq!(out, stream);
        }
    }
}
