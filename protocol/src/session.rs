//! What a server does with a connection, as data.
//!
//! A [`Session`] is the protocol's state for one connection. The server hands
//! it every chunk of bytes it reads and gets back a list of [`Action`]s: log
//! this request, send these bytes, close the connection. Keeping the decisions
//! here and the socket calls in the server is what lets one protocol run under
//! tokio, under one-thread-per-client and under an iterative loop alike.

use std::fmt;

/// One thing the server must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A complete request (or echo piece) arrived; the server logs it.
    Received(Vec<u8>),
    /// Bytes to write to the client. Replies that follow one another with
    /// nothing in between are gathered into one `Send` (see [`send`]).
    Send(Vec<u8>),
    /// Send what is owed, then close the connection (FIN). No action follows.
    Close(CloseReason),
}

/// Adds "send `bytes`" to `actions`, appending to the previous action when
/// it is a send too: forty pipelined requests then cost one buffer, not forty.
pub fn send(actions: &mut Vec<Action>, bytes: &[u8]) {
    match actions.last_mut() {
        Some(Action::Send(pending)) => pending.extend_from_slice(bytes),
        _ => actions.push(Action::Send(bytes.to_vec())),
    }
}

/// Adds `bytes` `times` times over, as one send: reserves room for all of
/// them first, so a batch of replies costs one allocation, not one per
/// doubling. Nothing is added for `times == 0`.
pub fn send_repeated(actions: &mut Vec<Action>, bytes: &[u8], times: usize) {
    if times == 0 {
        return;
    }
    let total = bytes.len().saturating_mul(times);
    match actions.last_mut() {
        Some(Action::Send(pending)) => pending.reserve(total),
        _ => actions.push(Action::Send(Vec::with_capacity(total))),
    }
    if let Some(Action::Send(pending)) = actions.last_mut() {
        for _ in 0..times {
            pending.extend_from_slice(bytes);
        }
    }
}

/// Why a connection ended; the servers log it in these words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent `QUIT`.
    Quit,
    /// The client closed its side (read returned 0 bytes).
    Eof,
    /// The client sent more than the line limit without a line feed.
    LineTooLong,
    /// Nothing arrived for the idle timeout.
    Idle,
    /// The server is shutting down and the grace period ran out.
    Shutdown,
    /// A socket error (connection reset, broken pipe, ...).
    Error(String),
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::Quit => write!(f, "client sent QUIT"),
            CloseReason::Eof => write!(f, "client closed the connection (EOF)"),
            CloseReason::LineTooLong => write!(f, "line too long"),
            CloseReason::Idle => write!(f, "idle timeout"),
            CloseReason::Shutdown => write!(f, "server shutdown"),
            CloseReason::Error(e) => write!(f, "error: {e}"),
        }
    }
}

/// The protocol state of one connection.
pub trait Session {
    /// How many bytes the server should ask for in one read.
    fn read_size(&self) -> usize;

    /// Handles bytes read from the client, appending what to do to `actions`.
    /// After a [`Action::Close`] the session ignores any further input.
    fn on_bytes(&mut self, data: &[u8], actions: &mut Vec<Action>);

    /// Handles end of stream from the client.
    fn on_eof(&mut self, actions: &mut Vec<Action>) {
        actions.push(Action::Close(CloseReason::Eof));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_sends_merge_into_one() {
        let mut actions = Vec::new();
        send(&mut actions, b"ab");
        send(&mut actions, b"cd");
        assert_eq!(actions, vec![Action::Send(b"abcd".to_vec())]);
    }

    #[test]
    fn a_send_after_another_action_starts_a_new_one() {
        let mut actions = vec![Action::Received(b"x".to_vec())];
        send(&mut actions, b"ab");
        assert_eq!(
            actions,
            vec![
                Action::Received(b"x".to_vec()),
                Action::Send(b"ab".to_vec())
            ]
        );
    }

    #[test]
    fn send_repeated_appends_every_copy_to_the_pending_send() {
        let mut actions = Vec::new();
        send(&mut actions, b"<");
        send_repeated(&mut actions, b"ab", 3);
        assert_eq!(actions, vec![Action::Send(b"<ababab".to_vec())]);
        let mut fresh = vec![Action::Close(CloseReason::Quit)];
        send_repeated(&mut fresh, b"xy", 2);
        assert_eq!(fresh[1], Action::Send(b"xyxy".to_vec()));
    }

    #[test]
    fn send_repeated_zero_times_adds_nothing() {
        let mut actions = Vec::new();
        send_repeated(&mut actions, b"ab", 0);
        assert!(actions.is_empty());
    }
}
