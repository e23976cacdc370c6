//! Reading a server's replies as whole lines, by a deadline.
//!
//! A reply may arrive in pieces, or together with the next one: the reader
//! keeps what it has received and hands out one complete line at a time,
//! cut by the protocol library's [`LineFramer`]. Used by `time-client` and
//! by its load generator.
//!
//! Every wait takes a deadline, an instant fixed by the caller: bytes
//! trickling in do not postpone it (a read is never started once it has
//! passed). Memory is bounded: an unfinished line is kept up to the
//! framer's limit, and at most one read (4 KiB) of received bytes besides.

use std::time::Instant;

use progjar_protocol::line::{Frame, LineFramer, LineRef};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why no line (or no close) came.
#[derive(Debug)]
pub enum LineError {
    /// The server closed the connection first.
    Closed,
    /// Nothing complete arrived by the deadline.
    Timeout,
    /// The line exceeded the limit.
    TooLong,
    /// A socket error.
    Io(std::io::Error),
}

/// A connection whose incoming bytes are read line by line.
pub struct LineReader {
    stream: TcpStream,
    framer: LineFramer,
    buf: Vec<u8>,
    /// Received bytes not yet handed to the framer start at `unread_from`.
    unread: Vec<u8>,
    unread_from: usize,
    /// Line feeds in `unread[unread_from..]`: whole lines waiting.
    lines_waiting: usize,
    /// When the last bytes arrived.
    read_at: std::time::Instant,
}

impl LineReader {
    /// Reads lines of up to `max_line` bytes from `stream`.
    pub fn new(stream: TcpStream, max_line: usize) -> Self {
        LineReader {
            stream,
            framer: LineFramer::new(max_line),
            buf: vec![0; 4096],
            unread: Vec::new(),
            unread_from: 0,
            lines_waiting: 0,
            read_at: std::time::Instant::now(),
        }
    }

    /// When the bytes of the line last returned arrived: replies that came
    /// in one read share it, so a latency needs no clock reading per reply.
    pub fn received_at(&self) -> std::time::Instant {
        self.read_at
    }

    /// Whether a whole line has arrived and waits to be taken: the next
    /// [`Self::next_line`] will not wait for the network.
    pub fn has_line(&self) -> bool {
        self.lines_waiting > 0
    }

    /// Bytes of an unfinished line received so far (after a
    /// [`LineError::Timeout`]: what came without a line end).
    pub fn partial_len(&self) -> usize {
        self.framer.pending().len() + self.unread.len() - self.unread_from
    }

    /// Writes all of `bytes`, by `deadline`: a server that does not read
    /// cannot hold the client. A write still under way then is an error of
    /// kind `TimedOut`.
    pub async fn send(&mut self, bytes: &[u8], deadline: Instant) -> std::io::Result<()> {
        let deadline = tokio::time::Instant::from_std(deadline);
        match tokio::time::timeout_at(deadline, self.stream.write_all(bytes)).await {
            Ok(result) => result,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the server did not take the bytes in time (it is not reading)",
            )),
        }
    }

    /// The next complete line, by `deadline`; bytes after it are kept for
    /// the next call.
    pub async fn next_line(&mut self, deadline: Instant) -> Result<Frame, LineError> {
        Ok(self.next_line_ref(deadline).await?.to_frame())
    }

    /// The same, lending the line instead of copying it (the load
    /// generator reads millions of replies a second).
    pub async fn next_line_ref(&mut self, deadline: Instant) -> Result<LineRef<'_>, LineError> {
        loop {
            if self.has_line() {
                return self.take_line();
            }
            // No whole line here: hand what there is to the framer (it keeps
            // an unfinished line, within its limit) and read more.
            let mut input = &self.unread[self.unread_from..];
            if self.framer.next_line(&mut input).is_err() {
                return Err(LineError::TooLong);
            }
            self.unread.clear();
            self.unread_from = 0;
            match self.read_chunk(deadline).await? {
                0 => return Err(LineError::Closed),
                n => {
                    // Counted once per read, not searched for once per line.
                    self.lines_waiting = memchr::memchr_iter(b'\n', &self.buf[..n]).count();
                    self.unread.extend_from_slice(&self.buf[..n]);
                }
            }
        }
    }

    /// A whole line that has already arrived, or `None`: never waits, so a
    /// caller can take every line of one read in a plain loop.
    pub fn waiting_line(&mut self) -> Option<Result<LineRef<'_>, LineError>> {
        if self.has_line() {
            Some(self.take_line())
        } else {
            None
        }
    }

    /// Takes the next waiting line; only called when [`Self::has_line`].
    fn take_line(&mut self) -> Result<LineRef<'_>, LineError> {
        let mut input = &self.unread[self.unread_from..];
        let before = input.len();
        let framed = self.framer.next_line(&mut input);
        // Move past what was taken (no copying: many replies can share one
        // read, and shifting the rest down for each would be slow).
        self.unread_from += before - input.len();
        self.lines_waiting -= 1;
        match framed {
            Ok(Some(line)) => Ok(line),
            Ok(None) | Err(_) => Err(LineError::TooLong),
        }
    }

    /// After QUIT: `Ok(())` if the server closes by `deadline` without
    /// sending anything more, else what it sent instead (what had arrived,
    /// or one read: at most the framer's limit and 4 KiB).
    pub async fn expect_close(
        &mut self,
        deadline: Instant,
    ) -> Result<Result<(), Vec<u8>>, LineError> {
        let mut extra = self.framer.pending().to_vec();
        extra.extend_from_slice(&self.unread[self.unread_from..]);
        self.unread.clear();
        self.unread_from = 0;
        self.lines_waiting = 0;
        if extra.is_empty() {
            let n = self.read_chunk(deadline).await?;
            extra.extend_from_slice(&self.buf[..n]);
        }
        Ok(if extra.is_empty() { Ok(()) } else { Err(extra) })
    }

    /// One read, by `deadline`. Checked before reading: a read that is
    /// ready returns even after the deadline, so a server that never stops
    /// sending would otherwise never let it pass.
    async fn read_chunk(&mut self, deadline: Instant) -> Result<usize, LineError> {
        if Instant::now() >= deadline {
            return Err(LineError::Timeout);
        }
        let deadline = tokio::time::Instant::from_std(deadline);
        match tokio::time::timeout_at(deadline, self.stream.read(&mut self.buf)).await {
            Ok(Ok(n)) => {
                self.read_at = std::time::Instant::now();
                Ok(n)
            }
            Ok(Err(e)) => Err(LineError::Io(e)),
            Err(_) => Err(LineError::Timeout),
        }
    }
}
