//! The Tugas 2 time protocol.
//!
//! A client sends lines ending in CR LF:
//! - a line that begins with `TIME` gets `JAM hh:mm:ss\r\n` (24-hour clock,
//!   zero-padded, 14 bytes of UTF-8) in the server's local time;
//! - a line that begins with `QUIT` ends the session: replies already owed
//!   are sent, then the server closes; nothing after it is answered;
//! - anything else gets a line starting with `ERROR ` and the session goes on,
//!   except a line longer than the limit, which gets `ERROR line too long`
//!   and a close (the server cannot find where the next request starts).
//!
//! A server that cannot take a connection on (no thread or no file descriptor
//! to spare) answers [`BUSY_REPLY`], `ERROR busy`, and closes it at once.
//!
//! This module also parses the reply, for the clients.

use chrono::{NaiveTime, Timelike};

use crate::escape::escape_preview;
use crate::line::{Frame, LineFramer, LineRef};
use crate::session::{send, send_repeated, Action, CloseReason, Session};

/// The request that asks for the time.
pub const TIME_REQUEST: &[u8] = b"TIME\r\n";
/// The request that ends the session.
pub const QUIT_REQUEST: &[u8] = b"QUIT\r\n";
/// Every reply is exactly this long: `JAM hh:mm:ss\r\n`.
pub const JAM_REPLY_LEN: usize = 14;
/// The reply to a line that exceeds the limit.
pub const LINE_TOO_LONG_REPLY: &[u8] = b"ERROR line too long\r\n";
/// What a server that cannot take on one more connection (no thread or no
/// file descriptor to spare) answers before it closes that connection.
pub const BUSY_REPLY: &[u8] = b"ERROR busy\r\n";
/// How much of an unknown command an error reply quotes back.
const QUOTE_LIMIT: usize = 32;

/// Where the time comes from; the server passes the local clock, tests a fixed one.
pub trait Clock {
    /// The time of day to report.
    fn now(&self) -> NaiveTime;
}

impl<F: Fn() -> NaiveTime> Clock for F {
    fn now(&self) -> NaiveTime {
        self()
    }
}

/// `JAM hh:mm:ss\r\n` for `time`.
pub fn jam_reply(time: NaiveTime) -> [u8; JAM_REPLY_LEN] {
    // Two digits each: hour < 24, and `second()` is at most 59 even during
    // a leap second, so the reply is always 14 bytes. Filled in place: a
    // busy server sends this for every request.
    let mut reply = *b"JAM hh:mm:ss\r\n";
    for (at, value) in [(4, time.hour()), (7, time.minute()), (10, time.second())] {
        let value = value % 100;
        reply[at] = b'0' + (value / 10) as u8;
        reply[at + 1] = b'0' + (value % 10) as u8;
    }
    reply
}

/// What one complete line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A line beginning with `TIME`.
    Time,
    /// A line beginning with `QUIT`.
    Quit,
    /// Anything else; the reply explains what was wrong.
    Invalid(Vec<u8>),
}

/// Decides what a line means and, for invalid ones, the `ERROR` reply.
pub fn classify(frame: &Frame) -> Request {
    classify_line(frame.as_line())
}

/// [`classify`] for a borrowed line.
pub fn classify_line(line: LineRef<'_>) -> Request {
    let line = match line {
        LineRef::BareLf(_) => {
            return Request::Invalid(
                b"ERROR lines must end with CR LF (\\r\\n), not a bare LF; \
telnet sends CR LF, and so does nc -C\r\n"
                    .to_vec(),
            )
        }
        LineRef::CrLf(line) => line,
    };
    // The request nearly every line is: known at once, no UTF-8 check needed.
    if line == b"TIME" {
        return Request::Time;
    }
    if line.is_empty() {
        return Request::Invalid(b"ERROR empty line; send TIME or QUIT, then CR LF\r\n".to_vec());
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return Request::Invalid(
            b"ERROR request is not valid UTF-8; send TIME or QUIT, then CR LF\r\n".to_vec(),
        );
    };
    if text.starts_with("TIME") {
        return Request::Time;
    }
    if text.starts_with("QUIT") {
        return Request::Quit;
    }
    let quoted = escape_preview(line, QUOTE_LIMIT);
    let upper = text.to_ascii_uppercase();
    let hint = if upper.starts_with("TIME") || upper.starts_with("QUIT") {
        "commands are upper case: send TIME or QUIT, then CR LF"
    } else {
        "send TIME or QUIT, then CR LF"
    };
    Request::Invalid(format!("ERROR unknown command \"{quoted}\"; {hint}\r\n").into_bytes())
}

/// The time protocol's state for one connection.
pub struct TimeSession<C> {
    framer: LineFramer,
    clock: C,
    closed: bool,
    transcript: bool,
}

impl<C: Clock> TimeSession<C> {
    /// A session that accepts lines of up to `max_line` bytes.
    pub fn new(max_line: usize, clock: C) -> Self {
        TimeSession {
            framer: LineFramer::new(max_line),
            clock,
            closed: false,
            transcript: true,
        }
    }

    /// Whether each request line is reported as [`Action::Received`] (on by
    /// default) for the server's log. A server whose log would drop them
    /// turns it off and saves a copy of every request.
    pub fn with_transcript(mut self, on: bool) -> Self {
        self.transcript = on;
        self
    }

    /// Whether the session has ended (QUIT or a line too long).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    fn close(&mut self, reason: CloseReason, actions: &mut Vec<Action>) {
        self.closed = true;
        actions.push(Action::Close(reason));
    }
}

impl<C: Clock> Session for TimeSession<C> {
    fn read_size(&self) -> usize {
        4096
    }

    fn on_bytes(&mut self, mut data: &[u8], actions: &mut Vec<Action>) {
        // Requests that arrived together (one read) are answered with one
        // reading of the clock: they were sent within microseconds of each
        // other, and a busy server would otherwise read the clock millions
        // of times a second. The next read reads it again.
        let mut reply: Option<[u8; JAM_REPLY_LEN]> = None;
        // TIME requests in a row are answered together: their replies are
        // the same 14 bytes, written into one buffer sized for all of them.
        let mut jams_owed = 0;
        while !self.closed {
            let line = match self.framer.next_line(&mut data) {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(_) => {
                    send_owed_jams(actions, reply, &mut jams_owed);
                    send(actions, LINE_TOO_LONG_REPLY);
                    self.close(CloseReason::LineTooLong, actions);
                    break;
                }
            };
            if self.transcript {
                send_owed_jams(actions, reply, &mut jams_owed);
                actions.push(Action::Received(line.to_wire()));
            }
            match classify_line(line) {
                Request::Time => {
                    reply.get_or_insert_with(|| jam_reply(self.clock.now()));
                    jams_owed += 1;
                }
                Request::Quit => {
                    send_owed_jams(actions, reply, &mut jams_owed);
                    self.close(CloseReason::Quit, actions);
                }
                Request::Invalid(error) => {
                    send_owed_jams(actions, reply, &mut jams_owed);
                    send(actions, &error);
                }
            }
        }
        send_owed_jams(actions, reply, &mut jams_owed);
    }

    fn on_eof(&mut self, actions: &mut Vec<Action>) {
        if !self.closed {
            // A final line without LF is not a request: close quietly.
            self.close(CloseReason::Eof, actions);
        }
    }
}

/// Sends the JAM replies owed so far, all in one go, and clears the debt.
fn send_owed_jams(actions: &mut Vec<Action>, reply: Option<[u8; JAM_REPLY_LEN]>, owed: &mut usize) {
    if let Some(jam) = reply {
        send_repeated(actions, &jam, *owed);
    }
    *owed = 0;
}

/// Why a line from the server is not a valid `JAM hh:mm:ss` reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// The line ended in a bare LF.
    #[error("the reply ended with a bare LF, not CR LF")]
    BareLf,
    /// The server sent an `ERROR` line.
    #[error("the server answered with an error: {0}")]
    ServerError(String),
    /// Anything else.
    #[error("expected \"JAM hh:mm:ss\\r\\n\", got \"{0}\"")]
    Malformed(String),
}

/// Parses one reply line (as cut by [`LineFramer`]) into the time it names.
pub fn parse_jam(frame: &Frame) -> Result<NaiveTime, ReplyError> {
    parse_jam_line(frame.as_line())
}

/// [`parse_jam`] for a borrowed line.
pub fn parse_jam_line(reply: LineRef<'_>) -> Result<NaiveTime, ReplyError> {
    let line = match reply {
        LineRef::CrLf(line) => line,
        LineRef::BareLf(_) => return Err(ReplyError::BareLf),
    };
    let malformed = || ReplyError::Malformed(escape_preview(&reply.to_wire(), 64));
    if line.starts_with(b"ERROR") {
        return Err(ReplyError::ServerError(escape_preview(line, 200)));
    }
    // "JAM hh:mm:ss": 12 bytes, digits where the digits go.
    let [b'J', b'A', b'M', b' ', h1, h2, b':', m1, m2, b':', s1, s2] = line else {
        return Err(malformed());
    };
    let number = |tens: u8, ones: u8| -> Option<u32> {
        (tens.is_ascii_digit() && ones.is_ascii_digit())
            .then(|| u32::from(tens - b'0') * 10 + u32::from(ones - b'0'))
    };
    let (Some(hour), Some(minute), Some(second)) =
        (number(*h1, *h2), number(*m1, *m2), number(*s1, *s2))
    else {
        return Err(malformed());
    };
    NaiveTime::from_hms_opt(hour, minute, second).ok_or_else(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32, s: u32) -> impl Fn() -> NaiveTime {
        move || NaiveTime::from_hms_opt(h, m, s).expect("valid test time")
    }

    fn run(input: &[u8]) -> Vec<Action> {
        let mut session = TimeSession::new(1024, at(9, 5, 3));
        let mut actions = Vec::new();
        session.on_bytes(input, &mut actions);
        actions
    }

    fn sent(actions: &[Action]) -> Vec<Vec<u8>> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(bytes) => Some(bytes.clone()),
                _ => None,
            })
            .collect()
    }

    fn closed_by(actions: &[Action]) -> Option<CloseReason> {
        actions.iter().find_map(|a| match a {
            Action::Close(reason) => Some(reason.clone()),
            _ => None,
        })
    }

    #[test]
    fn time_gets_jam_with_zero_padded_24_hour_time() {
        let actions = run(b"TIME\r\n");
        assert_eq!(
            actions,
            vec![
                Action::Received(b"TIME\r\n".to_vec()),
                Action::Send(b"JAM 09:05:03\r\n".to_vec())
            ]
        );
    }

    #[test]
    fn jam_reply_is_always_14_bytes() {
        for (h, m, s) in [(0, 0, 0), (23, 59, 59), (12, 0, 9)] {
            let reply = jam_reply(NaiveTime::from_hms_opt(h, m, s).expect("valid"));
            assert_eq!(reply.len(), JAM_REPLY_LEN);
        }
        let afternoon = jam_reply(NaiveTime::from_hms_opt(21, 7, 0).expect("valid"));
        assert_eq!(&afternoon, b"JAM 21:07:00\r\n");
    }

    #[test]
    fn jam_reply_matches_chronos_formatting_for_every_second_of_the_day() {
        for second in 0..86_400 {
            let time = NaiveTime::from_num_seconds_from_midnight_opt(second, 0).expect("valid");
            let expected = format!("JAM {}\r\n", time.format("%H:%M:%S"));
            assert_eq!(&jam_reply(time)[..], expected.as_bytes(), "{time}");
        }
    }

    #[test]
    fn leap_second_still_gives_a_valid_reply() {
        let leap = NaiveTime::from_hms_milli_opt(23, 59, 59, 1500).expect("leap second");
        assert_eq!(&jam_reply(leap), b"JAM 23:59:59\r\n");
    }

    #[test]
    fn a_line_that_begins_with_time_is_a_time_request() {
        assert_eq!(
            sent(&run(b"TIME please\r\n")),
            vec![b"JAM 09:05:03\r\n".to_vec()]
        );
        assert_eq!(sent(&run(b"TIMEX\r\n")), vec![b"JAM 09:05:03\r\n".to_vec()]);
    }

    #[test]
    fn quit_closes_without_a_reply() {
        let actions = run(b"QUIT\r\n");
        assert_eq!(
            actions,
            vec![
                Action::Received(b"QUIT\r\n".to_vec()),
                Action::Close(CloseReason::Quit)
            ]
        );
    }

    #[test]
    fn replies_owed_before_quit_are_sent_and_nothing_after_it_is_answered() {
        let actions = run(b"TIME\r\nQUIT\r\nTIME\r\n");
        assert_eq!(sent(&actions), vec![b"JAM 09:05:03\r\n".to_vec()]);
        assert_eq!(closed_by(&actions), Some(CloseReason::Quit));
        assert_eq!(actions.last(), Some(&Action::Close(CloseReason::Quit)));
    }

    #[test]
    fn input_after_close_is_ignored() {
        let mut session = TimeSession::new(1024, at(1, 2, 3));
        let mut actions = Vec::new();
        session.on_bytes(b"QUIT\r\n", &mut actions);
        assert!(session.is_closed());
        actions.clear();
        session.on_bytes(b"TIME\r\n", &mut actions);
        session.on_eof(&mut actions);
        assert!(actions.is_empty());
    }

    #[test]
    fn bare_lf_gets_an_error_that_explains_crlf_and_keeps_the_session() {
        let actions = run(b"TIME\nTIME\r\n");
        let replies = sent(&actions);
        assert_eq!(replies.len(), 2);
        let error = String::from_utf8(replies[0].clone()).expect("utf-8");
        assert!(error.starts_with("ERROR "), "{error}");
        assert!(error.ends_with("\r\n"));
        assert!(
            error.contains("CR LF") && error.contains("nc -C"),
            "{error}"
        );
        assert_eq!(replies[1], b"JAM 09:05:03\r\n");
        assert_eq!(closed_by(&actions), None);
    }

    #[test]
    fn bare_lf_quit_does_not_end_the_session() {
        let actions = run(b"QUIT\n");
        assert_eq!(closed_by(&actions), None);
        assert!(sent(&actions)[0].starts_with(b"ERROR "));
    }

    #[test]
    fn unknown_empty_and_non_utf8_lines_get_errors_and_keep_the_session() {
        for input in [&b"HELLO\r\n"[..], b"\r\n", b"\xff\xfe\r\n", b" TIME\r\n"] {
            let actions = run(input);
            let replies = sent(&actions);
            assert_eq!(replies.len(), 1, "{input:?}");
            assert!(replies[0].starts_with(b"ERROR "), "{input:?}");
            assert!(replies[0].ends_with(b"\r\n"), "{input:?}");
            assert_eq!(closed_by(&actions), None, "{input:?}");
        }
    }

    #[test]
    fn lower_case_commands_get_a_hint_about_case() {
        let reply = &sent(&run(b"time\r\n"))[0];
        let text = String::from_utf8_lossy(reply);
        assert!(text.contains("upper case"), "{text}");
    }

    #[test]
    fn unknown_command_error_quotes_it_escaped_and_bounded() {
        let mut long = vec![b'Z'; 500];
        long.extend_from_slice(b"\r\n");
        let reply = &sent(&run(&long))[0];
        assert!(reply.len() < 200, "reply is {} bytes", reply.len());
        let reply = &sent(&run(b"HE\x01LO\r\n"))[0];
        assert!(String::from_utf8_lossy(reply).contains("HE\\x01LO"));
    }

    #[test]
    fn a_line_too_long_gets_an_error_and_closes() {
        let mut session = TimeSession::new(16, at(0, 0, 0));
        let mut actions = Vec::new();
        session.on_bytes(&[b'A'; 17], &mut actions);
        assert_eq!(
            actions,
            vec![
                Action::Send(LINE_TOO_LONG_REPLY.to_vec()),
                Action::Close(CloseReason::LineTooLong)
            ]
        );
    }

    #[test]
    fn eof_closes_quietly_even_with_a_final_line_without_lf() {
        let mut session = TimeSession::new(1024, at(0, 0, 0));
        let mut actions = Vec::new();
        session.on_bytes(b"TIME\r", &mut actions);
        session.on_eof(&mut actions);
        assert_eq!(actions, vec![Action::Close(CloseReason::Eof)]);
    }

    #[test]
    fn requests_that_arrive_together_share_one_clock_reading_and_each_read_reads_it_again() {
        let ticks = std::cell::Cell::new(0);
        let clock = || {
            ticks.set(ticks.get() + 1);
            NaiveTime::from_hms_opt(10, 0, ticks.get()).expect("valid")
        };
        let mut session = TimeSession::new(1024, clock);
        let mut actions = Vec::new();
        session.on_bytes(b"TIME\r\nTIME\r\n", &mut actions);
        session.on_bytes(b"TIME\r\n", &mut actions);
        assert_eq!(
            sent(&actions),
            vec![
                b"JAM 10:00:01\r\n".to_vec(),
                b"JAM 10:00:01\r\n".to_vec(),
                b"JAM 10:00:02\r\n".to_vec()
            ]
        );
        // A read with no TIME in it does not read the clock at all.
        session.on_bytes(b"HELLO\r\n", &mut actions);
        assert_eq!(ticks.get(), 2);
    }

    #[test]
    fn without_a_transcript_pipelined_replies_go_out_as_one_send() {
        let clock = || NaiveTime::from_hms_opt(8, 30, 0).expect("valid");
        let mut session = TimeSession::new(1024, clock).with_transcript(false);
        let mut actions = Vec::new();
        session.on_bytes(b"TIME\r\nTIME\r\nHELLO\r\nTIME\r\n", &mut actions);
        assert_eq!(actions.len(), 1, "{actions:?}");
        let Action::Send(bytes) = &actions[0] else {
            panic!("expected one send, got {actions:?}");
        };
        let text = String::from_utf8_lossy(bytes);
        assert!(
            text.starts_with("JAM 08:30:00\r\nJAM 08:30:00\r\nERROR unknown command"),
            "{text}"
        );
        assert!(text.ends_with("JAM 08:30:00\r\n"), "{text}");
    }

    #[test]
    fn parse_jam_accepts_exactly_the_reply_format() {
        let ok = parse_jam(&Frame::CrLf(b"JAM 23:59:07".to_vec()));
        assert_eq!(ok, Ok(NaiveTime::from_hms_opt(23, 59, 7).expect("valid")));
        for bad in [
            &b"JAM 24:00:00"[..],
            b"JAM 9:05:03",
            b"JAM 09:05:3x",
            b"JAM 09-05-03",
            b"jam 09:05:03",
            b"JAM 09:05:03 ",
        ] {
            assert!(
                matches!(
                    parse_jam(&Frame::CrLf(bad.to_vec())),
                    Err(ReplyError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_jam(&Frame::BareLf(b"JAM 09:05:03".to_vec())),
            Err(ReplyError::BareLf)
        );
        assert!(matches!(
            parse_jam(&Frame::CrLf(b"ERROR nope".to_vec())),
            Err(ReplyError::ServerError(_))
        ));
    }
}
