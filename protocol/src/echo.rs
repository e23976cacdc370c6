//! The Tugas 1 echo protocol, and the client's check that the echo is exact.
//!
//! The server reads up to `chunk` bytes at a time and writes each piece
//! straight back. The client compares what comes back with what it sent,
//! byte for byte, and reports the first offset where they differ.

use crate::escape::escape_preview;
use crate::session::{Action, Session};

/// The message the course's echo client sends.
pub const COURSE_MESSAGE: &[u8] = b"INI ADALAH DATA YANG DIKIRIM ABCDEFGHIJKLMNOPQ";
/// How many bytes the echo server reads at once by default.
pub const DEFAULT_SERVER_CHUNK: usize = 32;
/// How many bytes the echo client reads at once by default.
pub const DEFAULT_CLIENT_CHUNK: usize = 16;

/// The echo protocol's state for one connection: there is none but the chunk size.
#[derive(Debug, Clone)]
pub struct EchoSession {
    chunk: usize,
}

impl EchoSession {
    /// A session that reads `chunk` bytes at a time (at least 1).
    pub fn new(chunk: usize) -> Self {
        EchoSession {
            chunk: chunk.max(1),
        }
    }
}

impl Session for EchoSession {
    fn read_size(&self) -> usize {
        self.chunk
    }

    fn on_bytes(&mut self, data: &[u8], actions: &mut Vec<Action>) {
        if !data.is_empty() {
            actions.push(Action::Received(data.to_vec()));
            actions.push(Action::Send(data.to_vec()));
        }
    }
}

/// Where the echo first differed from what was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EchoMismatch {
    /// A byte came back different.
    #[error("echo differs at byte {offset}: sent {expected}, got {got}")]
    Different {
        /// Offset from the start of the stream.
        offset: u64,
        /// What was sent there, escaped.
        expected: String,
        /// What came back, escaped.
        got: String,
    },
    /// More bytes came back than were sent.
    #[error("echo is longer than what was sent: {sent} bytes sent, extra bytes at offset {sent}")]
    TooLong {
        /// Bytes sent in all.
        sent: u64,
    },
    /// The connection ended before everything came back.
    #[error("echo is shorter than what was sent: {sent} bytes sent, only {received} came back")]
    TooShort {
        /// Bytes sent in all.
        sent: u64,
        /// Bytes that came back.
        received: u64,
    },
}

/// Checks a stream of echoed pieces against `message` sent `repeats` times,
/// without keeping more than the message in memory.
#[derive(Debug, Clone)]
pub struct EchoVerifier {
    message: Vec<u8>,
    total: u64,
    received: u64,
}

impl EchoVerifier {
    /// Expects `message` repeated `repeats` times.
    pub fn new(message: Vec<u8>, repeats: u64) -> Self {
        let total = message.len() as u64 * repeats;
        EchoVerifier {
            message,
            total,
            received: 0,
        }
    }

    /// Bytes checked so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether every byte sent has come back.
    pub fn is_complete(&self) -> bool {
        self.received == self.total
    }

    /// Checks the next piece of the echo.
    pub fn check(&mut self, piece: &[u8]) -> Result<(), EchoMismatch> {
        let len = self.message.len() as u64;
        for (i, &got) in piece.iter().enumerate() {
            let offset = self.received + i as u64;
            if offset >= self.total {
                return Err(EchoMismatch::TooLong { sent: self.total });
            }
            // `len` is non-zero here: `offset < total` and total = len * repeats.
            let start = (offset % len) as usize;
            let expected = self.message[start];
            if got != expected {
                let got_context = &piece[i..piece.len().min(i + 16)];
                let want_end = self.message.len().min(start + 16);
                return Err(EchoMismatch::Different {
                    offset,
                    expected: format!("\"{}\"", escape_preview(&self.message[start..want_end], 16)),
                    got: format!("\"{}\"", escape_preview(got_context, 16)),
                });
            }
        }
        self.received += piece.len() as u64;
        Ok(())
    }

    /// Checks that the echo is complete once the server closed.
    pub fn finish(&self) -> Result<(), EchoMismatch> {
        if self.is_complete() {
            Ok(())
        } else {
            Err(EchoMismatch::TooShort {
                sent: self.total,
                received: self.received,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_session_sends_back_every_piece_unchanged() {
        let mut session = EchoSession::new(32);
        let mut actions = Vec::new();
        session.on_bytes(b"abc", &mut actions);
        assert_eq!(
            actions,
            vec![
                Action::Received(b"abc".to_vec()),
                Action::Send(b"abc".to_vec())
            ]
        );
        assert_eq!(session.read_size(), 32);
        assert_eq!(EchoSession::new(0).read_size(), 1);
    }

    #[test]
    fn verifier_accepts_an_exact_echo_in_any_pieces() {
        let mut verifier = EchoVerifier::new(b"hello".to_vec(), 3);
        for piece in [&b"hel"[..], b"lohe", b"llohello"] {
            verifier.check(piece).expect("exact echo");
        }
        assert!(verifier.is_complete());
        assert_eq!(verifier.finish(), Ok(()));
    }

    #[test]
    fn verifier_names_the_first_differing_offset() {
        let mut verifier = EchoVerifier::new(b"hello".to_vec(), 2);
        verifier.check(b"hello").expect("first copy is right");
        let err = verifier.check(b"hexlo").expect_err("a byte differs");
        assert!(
            matches!(err, EchoMismatch::Different { offset: 7, .. }),
            "{err}"
        );
    }

    #[test]
    fn verifier_reports_extra_and_missing_bytes() {
        let mut verifier = EchoVerifier::new(b"ab".to_vec(), 1);
        assert_eq!(
            verifier.check(b"abc"),
            Err(EchoMismatch::TooLong { sent: 2 })
        );
        let mut verifier = EchoVerifier::new(b"ab".to_vec(), 1);
        verifier.check(b"a").expect("prefix");
        assert_eq!(
            verifier.finish(),
            Err(EchoMismatch::TooShort {
                sent: 2,
                received: 1
            })
        );
    }

    #[test]
    fn verifier_of_an_empty_message_expects_nothing() {
        let mut verifier = EchoVerifier::new(Vec::new(), 5);
        assert_eq!(verifier.finish(), Ok(()));
        assert_eq!(verifier.check(b"x"), Err(EchoMismatch::TooLong { sent: 0 }));
    }
}
