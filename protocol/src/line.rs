//! Splitting a TCP byte stream into lines.
//!
//! TCP delivers a stream of bytes, not messages: one `recv()` may hold half a
//! request, exactly one, or three. A [`LineFramer`] keeps the unfinished tail
//! between reads, so what a server answers never depends on how the bytes
//! were cut into segments. It also bounds memory: a line may hold at most
//! `max_line` bytes before its line feed, and the framer never stores more.

/// The default line limit of the time server, in bytes before the LF.
pub const DEFAULT_MAX_LINE: usize = 1024;

/// One complete line, with its terminator removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The line ended with CR LF, as the protocol requires.
    CrLf(Vec<u8>),
    /// The line ended with a bare LF (what `nc` without `-C` sends).
    BareLf(Vec<u8>),
}

impl Frame {
    /// The line as it travelled, terminator included (for logs).
    pub fn to_wire(&self) -> Vec<u8> {
        self.as_line().to_wire()
    }

    /// A borrowed view of this line.
    pub fn as_line(&self) -> LineRef<'_> {
        match self {
            Frame::CrLf(line) => LineRef::CrLf(line),
            Frame::BareLf(line) => LineRef::BareLf(line),
        }
    }
}

/// One complete line, borrowed from the framer or the input: what a busy
/// server or client looks at without copying it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRef<'a> {
    /// The line ended with CR LF.
    CrLf(&'a [u8]),
    /// The line ended with a bare LF.
    BareLf(&'a [u8]),
}

impl LineRef<'_> {
    /// An owned copy.
    pub fn to_frame(self) -> Frame {
        match self {
            LineRef::CrLf(line) => Frame::CrLf(line.to_vec()),
            LineRef::BareLf(line) => Frame::BareLf(line.to_vec()),
        }
    }

    /// The line as it travelled, terminator included (for logs).
    pub fn to_wire(self) -> Vec<u8> {
        match self {
            LineRef::CrLf(line) => [line, b"\r\n"].concat(),
            LineRef::BareLf(line) => [line, b"\n"].concat(),
        }
    }
}

/// The client sent more than the limit without a line feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("line longer than {max} bytes without a line feed")]
pub struct LineTooLong {
    /// The limit that was exceeded.
    pub max: usize,
}

/// Cuts a byte stream into [`Frame`]s at each LF.
#[derive(Debug, Clone)]
pub struct LineFramer {
    pending: Vec<u8>,
    /// A line that began in an earlier input, joined here (reused).
    joined: Vec<u8>,
    max_line: usize,
    too_long: bool,
}

impl LineFramer {
    /// A framer that accepts lines of up to `max_line` bytes before the LF
    /// (the CR of a CR LF counts).
    pub fn new(max_line: usize) -> Self {
        LineFramer {
            pending: Vec::new(),
            joined: Vec::new(),
            max_line,
            too_long: false,
        }
    }

    /// Bytes of an unfinished line held from earlier input.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// Takes bytes from the front of `input` up to and including the next LF
    /// and returns the line they finish. Returns `Ok(None)` when `input` ran
    /// out first (its bytes are kept for the next call), and [`LineTooLong`]
    /// once the line in progress exceeds the limit; after that every call
    /// returns the same error, since the stream can no longer be trusted.
    pub fn next_frame(&mut self, input: &mut &[u8]) -> Result<Option<Frame>, LineTooLong> {
        Ok(self.next_line(input)?.map(LineRef::to_frame))
    }

    /// The same as [`Self::next_frame`], lending the line instead of
    /// copying it: a line wholly inside `input` is borrowed from it, one
    /// that began in an earlier input from the framer.
    pub fn next_line<'s, 'i: 's>(
        &'s mut self,
        input: &mut &'i [u8],
    ) -> Result<Option<LineRef<'s>>, LineTooLong> {
        if self.too_long {
            return Err(LineTooLong { max: self.max_line });
        }
        let Some(lf) = input.iter().position(|&b| b == b'\n') else {
            // No line end yet: keep the bytes, but never more than the limit.
            if self.pending.len() + input.len() > self.max_line {
                return Err(self.overflow());
            }
            self.pending.extend_from_slice(input);
            *input = &[];
            return Ok(None);
        };
        let (head, rest) = input.split_at(lf);
        *input = &rest[1..];
        if self.pending.len() + head.len() > self.max_line {
            return Err(self.overflow());
        }
        let line: &'s [u8] = if self.pending.is_empty() {
            head
        } else {
            self.joined.clear();
            self.joined.append(&mut self.pending);
            self.joined.extend_from_slice(head);
            &self.joined
        };
        Ok(Some(match line.split_last() {
            Some((b'\r', body)) => LineRef::CrLf(body),
            _ => LineRef::BareLf(line),
        }))
    }

    fn overflow(&mut self) -> LineTooLong {
        self.too_long = true;
        self.pending = Vec::new();
        self.joined = Vec::new();
        LineTooLong { max: self.max_line }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut LineFramer, mut input: &[u8]) -> Vec<Result<Frame, LineTooLong>> {
        let mut out = Vec::new();
        loop {
            match framer.next_frame(&mut input) {
                Ok(Some(frame)) => out.push(Ok(frame)),
                Ok(None) => return out,
                Err(e) => {
                    out.push(Err(e));
                    return out;
                }
            }
        }
    }

    #[test]
    fn crlf_and_bare_lf_lines_are_told_apart() {
        let mut framer = LineFramer::new(100);
        assert_eq!(
            frames(&mut framer, b"TIME\r\nTIME\n\r\n"),
            vec![
                Ok(Frame::CrLf(b"TIME".to_vec())),
                Ok(Frame::BareLf(b"TIME".to_vec())),
                Ok(Frame::CrLf(Vec::new())),
            ]
        );
    }

    #[test]
    fn a_line_split_across_reads_is_joined() {
        let mut framer = LineFramer::new(100);
        assert!(frames(&mut framer, b"TI").is_empty());
        assert!(frames(&mut framer, b"ME\r").is_empty());
        assert_eq!(framer.pending(), b"TIME\r");
        assert_eq!(
            frames(&mut framer, b"\nQU"),
            vec![Ok(Frame::CrLf(b"TIME".to_vec()))]
        );
        assert_eq!(framer.pending(), b"QU");
    }

    #[test]
    fn a_line_at_the_limit_is_accepted() {
        let mut framer = LineFramer::new(6);
        assert_eq!(
            frames(&mut framer, b"ABCDE\r\n"),
            vec![Ok(Frame::CrLf(b"ABCDE".to_vec()))]
        );
    }

    #[test]
    fn a_line_over_the_limit_is_refused_before_its_lf_arrives() {
        let mut framer = LineFramer::new(4);
        assert!(frames(&mut framer, b"ABCD").is_empty());
        assert_eq!(frames(&mut framer, b"E"), vec![Err(LineTooLong { max: 4 })]);
        // The framer stays refused and holds nothing.
        assert_eq!(
            frames(&mut framer, b"\r\n"),
            vec![Err(LineTooLong { max: 4 })]
        );
        assert!(framer.pending().is_empty());
    }

    #[test]
    fn a_line_over_the_limit_is_refused_when_its_lf_is_in_the_same_read() {
        let mut framer = LineFramer::new(4);
        assert_eq!(
            frames(&mut framer, b"ABCDE\n"),
            vec![Err(LineTooLong { max: 4 })]
        );
    }

    #[test]
    fn endless_input_without_lf_never_stores_more_than_the_limit() {
        let mut framer = LineFramer::new(1024);
        let chunk = [b'x'; 100];
        for _ in 0..10 {
            let _ = frames(&mut framer, &chunk);
            assert!(framer.pending().len() <= 1024);
        }
        // 1000 bytes stored, the next 100 overflow.
        assert_eq!(
            frames(&mut framer, &chunk),
            vec![Err(LineTooLong { max: 1024 })]
        );
        for _ in 0..10_000 {
            let _ = frames(&mut framer, &chunk);
            assert!(framer.pending.capacity() <= 2048);
        }
    }
}
