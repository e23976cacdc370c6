//! One Tugas 2 session, checked strictly.
//!
//! Connect, send `TIME\r\n` and read one complete CR LF line (however the
//! server's bytes are segmented), check it is `JAM hh:mm:ss`, repeat, send
//! `QUIT\r\n` and wait for the server to close. Every step is logged, and
//! anything off is an error that says what was expected.
//!
//! Every wait has a deadline fixed when the request is sent: the reply
//! must be complete `read_timeout` after its TIME was sent, and the close
//! `read_timeout` after QUIT, however the server's bytes trickle in. A reply
//! line may have at most [`MAX_REPLY_LINE`] bytes. So a session ends within
//! `connect_timeout + requests x (pause + read_timeout) + read_timeout`.

use std::time::{Duration, Instant};

use chrono::NaiveTime;
use progjar_protocol::escape::quoted;
use progjar_protocol::line::Frame;
use progjar_protocol::time::{parse_jam, ReplyError, QUIT_REQUEST, TIME_REQUEST};
use tokio::net::TcpStream;
use tracing::info;

use crate::connect::{connect_async, ConnectError};
use crate::lines::{LineError, LineReader};
use crate::results::TimeSessionResult;

/// The longest reply line the client accepts, in bytes before the LF.
pub const MAX_REPLY_LINE: usize = 1024;
/// Bytes of unexpected data shown in an error.
const SHOWN: usize = 64;

/// What a session needs to know.
#[derive(Debug, Clone)]
pub struct SessionPlan {
    /// Server name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// TIME requests on this connection.
    pub requests: u32,
    /// Pause between requests on this connection.
    pub pause: Duration,
    /// Give up connecting after this long.
    pub connect_timeout: Duration,
    /// A reply must be complete this long after its request was sent (and
    /// the close this long after QUIT): a deadline, not an idle timeout.
    pub read_timeout: Duration,
}

/// What went wrong in a session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Could not connect.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The server's reply was not `JAM hh:mm:ss\r\n`.
    #[error("reply to TIME #{request}: {source}")]
    Reply {
        /// Which request (1-based).
        request: u32,
        /// What was wrong with it.
        source: ReplyError,
    },
    /// The reply line was longer than [`MAX_REPLY_LINE`].
    #[error(
        "reply to TIME #{request}: the server sent more than {limit} bytes without a line end \
         (a reply is \"JAM hh:mm:ss\\r\\n\", 14 bytes); the client stopped reading there"
    )]
    TooLong {
        /// Which request (1-based).
        request: u32,
        /// The limit.
        limit: usize,
    },
    /// Nothing at all in time.
    #[error(
        "no reply to {what} within {secs:.1} s: the server sent nothing (it may be stuck, or waiting for CR LF)"
    )]
    Timeout {
        /// What we were waiting for.
        what: String,
        /// The timeout.
        secs: f64,
    },
    /// Part of a line, but no line end, in time.
    #[error(
        "no complete reply to {what} within {secs:.1} s: the server sent {partial} bytes without a line end \
         (it may send slowly, or never end the line with CR LF)"
    )]
    Incomplete {
        /// What we were waiting for.
        what: String,
        /// The timeout.
        secs: f64,
        /// Bytes received without a line end.
        partial: usize,
    },
    /// No close in time after QUIT.
    #[error("the server did not close the connection within {secs:.1} s of QUIT")]
    NoClose {
        /// The timeout.
        secs: f64,
    },
    /// The server closed while we waited for a reply.
    #[error("the server closed the connection before answering {what}")]
    Closed {
        /// What we were waiting for.
        what: String,
    },
    /// The server sent more after QUIT instead of closing.
    #[error("after QUIT the server sent {0} instead of closing the connection")]
    DataAfterQuit(String),
    /// A socket error.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing.
        what: String,
        /// What the kernel said.
        source: std::io::Error,
    },
}

/// What a successful session saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionReport {
    /// The time in each reply, in order.
    pub times: Vec<NaiveTime>,
}

/// A record of session `round` of client `client` with nothing done yet, for [`run_session`].
pub fn new_record(client: u32, round: u64) -> TimeSessionResult {
    TimeSessionResult {
        client,
        round,
        local: None,
        requests_sent: 0,
        replies: Vec::new(),
        quit_sent: false,
        closed_by_server: false,
        error: None,
    }
}

/// Runs one session: connect, `requests` x TIME, QUIT, wait for the close.
/// `record` (see [`new_record`]) gets what was sent and seen, as it happens,
/// and the error, if any.
pub async fn run_session(
    plan: &SessionPlan,
    record: &mut TimeSessionResult,
) -> Result<SessionReport, SessionError> {
    let result = session(plan, record).await;
    if let Err(e) = &result {
        record.error = Some(e.to_string());
    }
    result
}

async fn session(
    plan: &SessionPlan,
    record: &mut TimeSessionResult,
) -> Result<SessionReport, SessionError> {
    let stream = connect_async(&plan.host, plan.port, plan.connect_timeout).await?;
    let local = stream.local_addr().ok();
    let peer = stream.peer_addr().ok();
    record.local = local.map(|a| a.to_string());
    info!(
        "connected to {} from {}",
        peer.map_or_else(|| "?".into(), |a| a.to_string()),
        local.map_or_else(|| "?".into(), |a| a.to_string())
    );
    let mut conn = ReplyReader::new(stream, plan.read_timeout);
    let mut times = Vec::new();
    for request in 1..=plan.requests {
        if request > 1 && !plan.pause.is_zero() {
            tokio::time::sleep(plan.pause).await;
        }
        // The reply's deadline, fixed now: what the server sends cannot move it.
        let deadline = Instant::now() + plan.read_timeout;
        conn.send(TIME_REQUEST, deadline).await?;
        record.requests_sent += 1;
        let frame = conn.read_line(request, deadline, record).await?;
        let time = parse_jam(&frame).map_err(|source| SessionError::Reply { request, source })?;
        times.push(time);
    }
    let deadline = Instant::now() + plan.read_timeout;
    conn.send(QUIT_REQUEST, deadline).await?;
    record.quit_sent = true;
    conn.expect_close(deadline, record).await?;
    info!("server closed the connection; session done");
    Ok(SessionReport { times })
}

/// A session's connection: logs what it sends and receives, and turns
/// read problems into [`SessionError`]s.
struct ReplyReader {
    lines: LineReader,
    timeout: Duration,
}

impl ReplyReader {
    fn new(stream: TcpStream, timeout: Duration) -> Self {
        ReplyReader {
            lines: LineReader::new(stream, MAX_REPLY_LINE),
            timeout,
        }
    }

    async fn send(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), SessionError> {
        self.lines
            .send(bytes, deadline)
            .await
            .map_err(|source| SessionError::Io {
                what: format!("sending {}", quoted(bytes)),
                source,
            })?;
        info!("sent {}", quoted(bytes));
        Ok(())
    }

    /// Reads until one whole line has arrived, by `deadline`; bytes after
    /// it are kept.
    async fn read_line(
        &mut self,
        request: u32,
        deadline: Instant,
        record: &mut TimeSessionResult,
    ) -> Result<Frame, SessionError> {
        let what = format!("TIME #{request}");
        match self.lines.next_line(deadline).await {
            Ok(frame) => {
                info!("received {}", quoted(&frame.to_wire()));
                let (Frame::CrLf(line) | Frame::BareLf(line)) = &frame;
                record
                    .replies
                    .push(String::from_utf8_lossy(line).into_owned());
                Ok(frame)
            }
            Err(LineError::Closed) => {
                record.closed_by_server = true;
                Err(SessionError::Closed { what })
            }
            Err(LineError::TooLong) => Err(SessionError::TooLong {
                request,
                limit: MAX_REPLY_LINE,
            }),
            Err(LineError::Timeout) => {
                let secs = self.timeout.as_secs_f64();
                Err(match self.lines.partial_len() {
                    0 => SessionError::Timeout { what, secs },
                    partial => SessionError::Incomplete {
                        what,
                        secs,
                        partial,
                    },
                })
            }
            Err(LineError::Io(source)) => Err(SessionError::Io {
                what: format!("waiting for the reply to {what}"),
                source,
            }),
        }
    }

    /// After QUIT: the next thing from the server must be its FIN, by `deadline`.
    async fn expect_close(
        &mut self,
        deadline: Instant,
        record: &mut TimeSessionResult,
    ) -> Result<(), SessionError> {
        match self.lines.expect_close(deadline).await {
            Ok(Ok(())) => {
                record.closed_by_server = true;
                Ok(())
            }
            Ok(Err(extra)) => Err(SessionError::DataAfterQuit(shown(&extra))),
            Err(LineError::Closed) => {
                record.closed_by_server = true;
                Ok(())
            }
            Err(LineError::TooLong) => Err(SessionError::DataAfterQuit(format!(
                "more than {MAX_REPLY_LINE} bytes"
            ))),
            Err(LineError::Timeout) => Err(SessionError::NoClose {
                secs: self.timeout.as_secs_f64(),
            }),
            Err(LineError::Io(source)) => Err(SessionError::Io {
                what: "waiting for the close after QUIT".into(),
                source,
            }),
        }
    }
}

/// Bytes for an error message: quoted, cut after [`SHOWN`] bytes.
fn shown(bytes: &[u8]) -> String {
    match bytes.get(..SHOWN) {
        Some(head) if bytes.len() > SHOWN => format!("{}... ({} bytes)", quoted(head), bytes.len()),
        _ => quoted(bytes),
    }
}
