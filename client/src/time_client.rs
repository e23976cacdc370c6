//! One Tugas 2 session, checked strictly.
//!
//! Connect, send `TIME\r\n` and read one complete CR LF line (however the
//! server's bytes are segmented), check it is `JAM hh:mm:ss`, repeat, send
//! `QUIT\r\n` and wait for the server to close. Every step is logged, and
//! anything off is an error that says what was expected.

use std::time::Duration;

use chrono::NaiveTime;
use progjar_protocol::escape::quoted;
use progjar_protocol::line::{Frame, LineFramer};
use progjar_protocol::time::{parse_jam, ReplyError, QUIT_REQUEST, TIME_REQUEST};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::info;

use crate::connect::{connect_async, ConnectError};

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

/// Runs one session: connect, `requests` x TIME, QUIT, wait for the close.
pub async fn run_session(plan: &SessionPlan) -> Result<SessionReport, SessionError> {
    let stream = connect_async(&plan.host, plan.port, plan.connect_timeout).await?;
    let local = stream.local_addr().ok();
    let peer = stream.peer_addr().ok();
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
        let frame = conn.read_line(request).await?;
        let time = parse_jam(&frame).map_err(|source| SessionError::Reply { request, source })?;
        times.push(time);
    }
    conn.send(QUIT_REQUEST).await?;
    conn.expect_close().await?;
    info!("server closed the connection; session done");
    Ok(SessionReport { times })
}

/// A connection that reads replies as whole lines.
struct ReplyReader {
    stream: TcpStream,
    framer: LineFramer,
    buf: Vec<u8>,
    unread: Vec<u8>,
    timeout: Duration,
}

impl ReplyReader {
    fn new(stream: TcpStream, timeout: Duration) -> Self {
        ReplyReader {
            stream,
            framer: LineFramer::new(MAX_REPLY_LINE),
            buf: vec![0; 4096],
            unread: Vec::new(),
            timeout,
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|source| SessionError::Io {
                what: format!("sending {}", quoted(bytes)),
                source,
            })?;
        info!("sent {}", quoted(bytes));
        Ok(())
    }

    /// Reads until one whole line has arrived; bytes after it are kept.
    async fn read_line(&mut self, request: u32) -> Result<Frame, SessionError> {
        let what = format!("TIME #{request}");
        loop {
            let mut input = self.unread.as_slice();
            let framed = self.framer.next_frame(&mut input);
            let rest = input.to_vec();
            self.unread = rest;
            match framed {
                Ok(Some(frame)) => {
                    info!("received {}", quoted(&frame.to_wire()));
                    return Ok(frame);
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(SessionError::Reply {
                        request,
                        source: ReplyError::Malformed(e.to_string()),
                    })
                }
            }
            let n = self.read_some(&what).await?;
            if n == 0 {
                return Err(SessionError::Closed { what });
            }
            self.unread.extend_from_slice(&self.buf[..n]);
        }
    }

    /// After QUIT: the next thing from the server must be its FIN.
    async fn expect_close(&mut self) -> Result<(), SessionError> {
        let mut extra = std::mem::take(&mut self.unread);
        extra.splice(0..0, self.framer.pending().iter().copied());
        if extra.is_empty() {
            let n = self.read_some("QUIT (waiting for the close)").await?;
            extra.extend_from_slice(&self.buf[..n]);
        }
        if extra.is_empty() {
            Ok(())
        } else {
            Err(SessionError::DataAfterQuit(quoted(&extra)))
        }
    }

    async fn read_some(&mut self, what: &str) -> Result<usize, SessionError> {
        match tokio::time::timeout(self.timeout, self.stream.read(&mut self.buf)).await {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(source)) => Err(SessionError::Io {
                what: format!("waiting for the reply to {what}"),
                source,
            }),
            Err(_) => Err(SessionError::Timeout {
                what: what.into(),
                secs: self.timeout.as_secs_f64(),
            }),
        }
    }
}
