//! Where the bytes of a capture come from: big chunks, each parsed where it
//! lies (see [`super::records`]), read on this thread or on a helper thread
//! ahead of the parser.
//!
//! Reading a file is mostly the kernel copying pages into our buffer. On a
//! machine with two cores that copy can run on one core while the parser
//! works on the other: [`ReadAhead`] does that, with a fixed number of
//! buffers going round between the two threads, so memory stays bounded
//! whatever the size of the file. [`Chunks`] reads on the calling thread, for
//! inputs that cannot move to another thread (a byte slice in a test).

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};

/// Size of one chunk: big enough that a read is mostly copying, small
/// enough to stay in the CPU's cache while it is parsed.
pub const CHUNK: usize = 1 << 20;
/// The first chunk's size: a small capture needs no 1 MiB buffer.
const FIRST_CHUNK: usize = 64 << 10;
/// Chunks read ahead of the parser at most.
const AHEAD: usize = 3;

/// A source of chunks of the input, in order.
pub trait ChunkSource {
    /// The next chunk, reusing `spare`'s memory when it can; `None` at the
    /// end of the input. A chunk is shorter than asked for only at the end,
    /// and never empty.
    fn next_chunk(&mut self, spare: Vec<u8>) -> io::Result<Option<Vec<u8>>>;
}

/// The input as a sequence of chunks, read on the calling thread when the
/// parser asks for them.
pub struct Chunks<R> {
    reader: R,
    sizes: ChunkSizes,
}

/// Chunk sizes growing from [`FIRST_CHUNK`] to a largest one, so a small
/// input is read into a small buffer and a large one into large ones.
#[derive(Debug, Clone, Copy)]
struct ChunkSizes {
    next: usize,
    largest: usize,
}

impl ChunkSizes {
    fn up_to(largest: usize) -> Self {
        let largest = largest.max(1);
        ChunkSizes {
            next: FIRST_CHUNK.min(largest),
            largest,
        }
    }

    fn next(&mut self) -> usize {
        let size = self.next;
        self.next = (size * 4).min(self.largest);
        size
    }
}

impl<R: Read> Chunks<R> {
    /// Chunks of [`CHUNK`] bytes from `reader`.
    pub fn new(reader: R) -> Self {
        Self::with_chunk_size(reader, CHUNK)
    }

    /// Chunks of at most `chunk` bytes: small ones let tests put record
    /// boundaries everywhere.
    pub fn with_chunk_size(reader: R, chunk: usize) -> Self {
        Chunks {
            reader,
            sizes: ChunkSizes::up_to(chunk),
        }
    }
}

impl<R: Read> ChunkSource for Chunks<R> {
    fn next_chunk(&mut self, spare: Vec<u8>) -> io::Result<Option<Vec<u8>>> {
        fill(&mut self.reader, spare, self.sizes.next())
    }
}

/// Reads up to `size` bytes into `buffer`: fewer only at the end of the input.
fn fill(reader: &mut impl Read, mut buffer: Vec<u8>, size: usize) -> io::Result<Option<Vec<u8>>> {
    buffer.resize(size, 0);
    let mut filled = 0;
    while filled < size {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buffer.truncate(filled);
    Ok((filled > 0).then_some(buffer))
}

/// Reads chunks on a helper thread while the parser works on earlier ones.
///
/// When the parser stops early (a damaged record) it drops its end of the
/// channel; the helper notices at its next chunk and ends by itself. It is not
/// waited for: on a pipe that stays open it could wait for input forever.
pub struct ReadAhead {
    full: Option<Receiver<io::Result<Vec<u8>>>>,
    empty: SyncSender<Vec<u8>>,
}

impl ReadAhead {
    /// Starts reading `reader` on a helper thread.
    pub fn spawn<R: Read + Send + 'static>(reader: R) -> io::Result<Self> {
        Self::spawn_with_chunk_size(reader, CHUNK)
    }

    /// Same, with chunks of at most `chunk` bytes.
    pub fn spawn_with_chunk_size<R: Read + Send + 'static>(
        mut reader: R,
        chunk: usize,
    ) -> io::Result<Self> {
        let mut sizes = ChunkSizes::up_to(chunk);
        let (full_tx, full_rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(AHEAD);
        // Buffers the parser is done with come back here to be filled again.
        let (empty_tx, empty_rx) = mpsc::sync_channel::<Vec<u8>>(AHEAD + 2);
        std::thread::Builder::new()
            .name("read-ahead".into())
            .spawn(move || loop {
                let spare = empty_rx.try_recv().unwrap_or_default();
                let result = fill(&mut reader, spare, sizes.next());
                let last = !matches!(result, Ok(Some(_)));
                // An empty chunk marks the end. If the parser hung up (it
                // stopped early), there is nothing left to do either.
                if full_tx.send(result.map(Option::unwrap_or_default)).is_err() || last {
                    return;
                }
            })?;
        Ok(ReadAhead {
            full: Some(full_rx),
            empty: empty_tx,
        })
    }
}

impl ChunkSource for ReadAhead {
    fn next_chunk(&mut self, spare: Vec<u8>) -> io::Result<Option<Vec<u8>>> {
        if spare.capacity() > 0 {
            // When the pool is full the buffer is simply freed.
            let _ = self.empty.try_send(spare);
        }
        let Some(full) = &self.full else {
            return Ok(None);
        };
        match full.recv() {
            Ok(Ok(chunk)) if !chunk.is_empty() => Ok(Some(chunk)),
            Ok(Err(e)) => {
                self.full = None;
                Err(e)
            }
            // The end, or the helper is gone, which it only is after the end.
            Ok(Ok(_)) | Err(_) => {
                self.full = None;
                Ok(None)
            }
        }
    }
}
