//! One Tugas 2 session, checked strictly.
//!
//! Connect, send `TIME\r\n` and read one complete CR LF line (however the
//! server's bytes are segmented), check it is `JAM hh:mm:ss`, repeat, send
//! `QUIT\r\n` and wait for the server to close. Every step is logged, and
//! anything off is an error that says what was expected.

use std::time::Duration;

use chrono::NaiveTime;
use progjar_protocol::escape::quoted;
use progjar_protocol::line::Frame;
use progjar_protocol::time::{parse_jam, ReplyError, QUIT_REQUEST, TIME_REQUEST};
use tokio::net::TcpStream;
use tracing::info;

use crate::connect::{connect_async, ConnectError};
use crate::lines::{LineError, LineReader};
use crate::results::TimeSessionResult;

/// The longest reply line the client accepts.
const MAX_REPLY_LINE: usize = 1024;

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
    /// Give up waiting for a reply (or for the close) after this long.
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
    /// No reply in time.
    #[error(
        "no reply to {what} within {secs:.1} s: the server may be stuck, or waiting for CR LF"
    )]
    Timeout {
        /// What we were waiting for.
        what: String,
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
        conn.send(TIME_REQUEST).await?;
        record.requests_sent += 1;
        let frame = conn.read_line(request, record).await?;
        let time = parse_jam(&frame).map_err(|source| SessionError::Reply { request, source })?;
        times.push(time);
    }
    conn.send(QUIT_REQUEST).await?;
    record.quit_sent = true;
    conn.expect_close(record).await?;
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

    async fn send(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        self.lines
            .send(bytes)
            .await
            .map_err(|source| SessionError::Io {
                what: format!("sending {}", quoted(bytes)),
                source,
            })?;
        info!("sent {}", quoted(bytes));
        Ok(())
    }

    /// Reads until one whole line has arrived; bytes after it are kept.
    async fn read_line(
        &mut self,
        request: u32,
        record: &mut TimeSessionResult,
    ) -> Result<Frame, SessionError> {
        let what = format!("TIME #{request}");
        match self.lines.next_line(self.timeout).await {
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
                Err(self.read_error(LineError::Closed, what))
            }
            Err(LineError::TooLong) => Err(SessionError::Reply {
                request,
                source: ReplyError::Malformed(format!("a line longer than {MAX_REPLY_LINE} bytes")),
            }),
            Err(e) => Err(self.read_error(e, what)),
        }
    }

    /// After QUIT: the next thing from the server must be its FIN.
    async fn expect_close(&mut self, record: &mut TimeSessionResult) -> Result<(), SessionError> {
        match self.lines.expect_close(self.timeout).await {
            Ok(Ok(())) => {
                record.closed_by_server = true;
                Ok(())
            }
            Ok(Err(extra)) => Err(SessionError::DataAfterQuit(quoted(&extra))),
            Err(e) => Err(self.read_error(e, "QUIT (waiting for the close)".into())),
        }
    }

    fn read_error(&self, error: LineError, what: String) -> SessionError {
        match error {
            LineError::Closed => SessionError::Closed { what },
            LineError::Timeout | LineError::TooLong => SessionError::Timeout {
                what,
                secs: self.timeout.as_secs_f64(),
            },
            LineError::Io(source) => SessionError::Io {
                what: format!("waiting for the reply to {what}"),
                source,
            },
        }
    }
}
