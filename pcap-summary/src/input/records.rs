//! Cutting a stream of chunks into records (file header, packet records,
//! pcapng blocks) without copying them.
//!
//! Almost every record lies inside one chunk and is parsed where it lies.
//! A record that straddles two chunks is the exception: its start is copied
//! to a small "stitch" buffer and bytes of the next chunk are added until the
//! parser is satisfied. The parser itself (pcap-file's) says when it needs
//! more bytes, so the format's rules stay in one place.

use std::io;

use super::chunks::ChunkSource;

/// Largest record accepted: generous for jumbo frames (and pcapng blocks with
/// options), bounded so a damaged length field cannot make us buffer gigabytes.
pub const MAX_RECORD: usize = 1 << 20;

/// What parsing one record at the front of a byte slice gave.
pub enum Parsed {
    /// A whole record of this many bytes (at least one) was parsed and used.
    Record(usize),
    /// The bytes end before the record does.
    Incomplete,
    /// The record is damaged: why.
    Invalid(String),
}

/// Why the records stopped.
#[derive(Debug)]
pub enum Stop {
    /// The input ended between two records.
    End,
    /// The input ended inside a record.
    Truncated,
    /// A record claims to be larger than [`MAX_RECORD`].
    TooLarge,
    /// The parser rejected a record.
    Invalid(String),
    /// Reading failed.
    Io(io::Error),
}

/// The records of a stream of chunks, one at a time.
pub struct Records<S> {
    source: S,
    chunk: Vec<u8>,
    pos: usize,
    stitch: Vec<u8>,
    offset: u64,
    ended: bool,
}

impl<S: ChunkSource> Records<S> {
    /// Records from the chunks of `source`.
    pub fn new(source: S) -> Self {
        Records {
            source,
            chunk: Vec::new(),
            pos: 0,
            stitch: Vec::new(),
            offset: 0,
            ended: false,
        }
    }

    /// Byte offset of the next record from the start of the input.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Calls `parse` on the bytes from the next record on, until it takes a
    /// whole record. `parse` gets a slice starting at the record and returns
    /// how long the record was. A parser that once said `Incomplete` must
    /// need more bytes than it had then: that is how a record that
    /// straddles chunks is found to end in the newer one.
    pub fn next(&mut self, mut parse: impl FnMut(&[u8]) -> Parsed) -> Result<(), Stop> {
        loop {
            if self.pos < self.chunk.len() {
                match parse(&self.chunk[self.pos..]) {
                    Parsed::Record(len) => {
                        self.pos += len;
                        self.offset += len as u64;
                        return Ok(());
                    }
                    Parsed::Invalid(why) => return Err(Stop::Invalid(why)),
                    Parsed::Incomplete => return self.next_across_chunks(parse),
                }
            }
            if !self.load_next_chunk()? {
                return Err(Stop::End);
            }
        }
    }

    /// Replaces the used-up chunk with the next one; false at the end.
    fn load_next_chunk(&mut self) -> Result<bool, Stop> {
        if self.ended {
            return Ok(false);
        }
        let spare = std::mem::take(&mut self.chunk);
        self.pos = 0;
        match self.source.next_chunk(spare) {
            Ok(Some(chunk)) => {
                self.chunk = chunk;
                Ok(true)
            }
            Ok(None) => {
                self.ended = true;
                Ok(false)
            }
            Err(e) => Err(Stop::Io(e)),
        }
    }

    /// The record starting at `pos` runs past the end of the chunk: gather
    /// it in the stitch buffer, growing it until the parser has it whole.
    fn next_across_chunks(&mut self, mut parse: impl FnMut(&[u8]) -> Parsed) -> Result<(), Stop> {
        self.stitch.clear();
        self.stitch.extend_from_slice(&self.chunk[self.pos..]);
        self.pos = self.chunk.len();
        // Bytes of the current chunk that are in the stitch: all of this one.
        let mut taken = self.chunk.len();
        loop {
            if taken == self.chunk.len() {
                if !self.load_next_chunk()? {
                    return Err(Stop::Truncated);
                }
                taken = 0;
            }
            if self.stitch.len() >= MAX_RECORD {
                return Err(Stop::TooLarge);
            }
            // Grow by doubling: a few tries even for a large record.
            let want = self
                .stitch
                .len()
                .max(4096)
                .min(MAX_RECORD - self.stitch.len());
            let add = want.min(self.chunk.len() - taken);
            let before = self.stitch.len();
            self.stitch
                .extend_from_slice(&self.chunk[taken..taken + add]);
            taken += add;
            match parse(&self.stitch) {
                Parsed::Record(len) => {
                    // The record ends inside the bytes just added (it did not
                    // fit in the ones before), so it ends in this chunk.
                    let into_chunk = (taken - add) + len.saturating_sub(before);
                    self.pos = into_chunk.min(self.chunk.len());
                    self.offset += len as u64;
                    self.stitch.clear();
                    return Ok(());
                }
                Parsed::Invalid(why) => return Err(Stop::Invalid(why)),
                Parsed::Incomplete => {}
            }
        }
    }
}
