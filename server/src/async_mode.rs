//! `--mode async`: tokio, one task per connection.
//!
//! A task costs a few kilobytes, so thousands of idle clients are cheap. A
//! semaphore bounds how many are served at once; beyond that the accept loop
//! stops taking connections and new clients wait in the kernel's backlog.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use progjar_protocol::{CloseReason, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tracing::{info, info_span, Instrument};

use crate::busy::AcceptWarnings;
use crate::idle::IdleTimer;
use crate::shutdown::Shutdown;
use crate::transcript::Transcript;
use crate::{BoxedSession, ServerOptions, SessionFactory};
use crate::{LINGER, LINGER_BYTES};

/// Runs the async server on its own tokio runtime until shutdown.
pub fn run(
    listener: std::net::TcpListener,
    factory: SessionFactory,
    options: ServerOptions,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = progjar_common::runtime::build(options.threads)
        .context("cannot start the tokio runtime")?;
    let result = runtime.block_on(async {
        let listener = TcpListener::from_std(listener)?;
        accept_loop(listener, factory, options, shutdown).await
    });
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

async fn accept_loop(
    listener: TcpListener,
    factory: SessionFactory,
    options: ServerOptions,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let limit = Arc::new(Semaphore::new(options.max_connections));
    let close_now = Shutdown::new();
    let mut connections = JoinSet::new();
    let mut warnings = AcceptWarnings::default();
    // One shutdown future for the whole loop, not one per connection.
    let stopping = shutdown.wait();
    tokio::pin!(stopping);
    loop {
        let permit = tokio::select! {
            biased;
            _ = &mut stopping => break,
            permit = limit.clone().acquire_owned() => permit.context("connection limit closed")?,
        };
        let (stream, peer) = tokio::select! {
            biased;
            _ = &mut stopping => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    warnings.warn(format_args!(
                        "accept failed: {e} (out of file descriptors? raise `ulimit -n`)"
                    ));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // Replies are small and answer a request: send them at once rather
        // than letting Nagle's algorithm hold them back for an ACK.
        let _ = stream.set_nodelay(true);
        // Forget connections that have finished, so the set stays small.
        while connections.try_join_next().is_some() {}
        let session = factory();
        let options = options.clone();
        let close_now = close_now.clone();
        let span = info_span!("conn", peer = %peer);
        connections.spawn(
            async move {
                let _permit = permit;
                serve_connection(stream, session, &options, &close_now).await;
            }
            .instrument(span),
        );
    }
    drop(listener);
    while connections.try_join_next().is_some() {}
    info!(
        "no longer accepting connections; waiting up to {:.1} s for {} open connection(s)",
        options.grace.as_secs_f64(),
        connections.len()
    );
    let all_closed = async { while connections.join_next().await.is_some() {} };
    if timeout(options.grace, all_closed).await.is_err() {
        info!(
            "grace period over: closing {} connection(s)",
            connections.len()
        );
        close_now.trigger();
        let _ = timeout(Duration::from_secs(2), async {
            while connections.join_next().await.is_some() {}
        })
        .await;
    }
    info!("server stopped");
    Ok(())
}

async fn serve_connection(
    mut stream: TcpStream,
    mut session: BoxedSession,
    options: &ServerOptions,
    close_now: &Shutdown,
) {
    info!("connected");
    let mut transcript = Transcript::new(options.protocol, options.show_bytes);
    let reason = converse(
        &mut stream,
        session.as_mut(),
        &mut transcript,
        options,
        close_now,
    )
    .await;
    transcript.closed(&reason);
}

/// Reads, lets the session decide, writes; until the session or the socket ends it.
async fn converse(
    stream: &mut TcpStream,
    session: &mut (dyn Session + Send),
    transcript: &mut Transcript,
    options: &ServerOptions,
    close_now: &Shutdown,
) -> CloseReason {
    let read_size = session.read_size();
    let mut buf = Vec::new();
    let mut actions = Vec::new();
    let mut outgoing = Vec::new();
    // Both made once per connection, not once per read: a busy connection
    // reads hundreds of thousands of times a second.
    let mut idle = IdleTimer::new(options.idle_timeout);
    let closing = close_now.wait();
    tokio::pin!(closing);
    loop {
        // `biased`: shutdown first, then the read; the idle timer last, so
        // a connection with bytes waiting is never called idle.
        let read = tokio::select! {
            biased;
            _ = &mut closing => return CloseReason::Shutdown,
            read = read_when_ready(stream, &mut buf, read_size) => read,
            _ = idle.expired() => return CloseReason::Idle,
        };
        idle.progress();
        // A read that filled the buffer means a busy client with more
        // waiting: after serving this batch, let the other connections run
        // (tokio would only interrupt this task after ~64 batches).
        let mut busy = false;
        match read {
            Ok(0) => session.on_eof(&mut actions),
            Ok(n) => {
                busy = n == buf.len();
                transcript.read(n);
                session.on_bytes(&buf[..n], &mut actions);
            }
            Err(e) => return CloseReason::Error(e.to_string()),
        }
        let close = transcript.settle(&mut actions, &mut outgoing);
        if !outgoing.is_empty() {
            // Writing before reading again is our back-pressure: a client that
            // does not read its replies stops being read from, and is dropped
            // when the reply has not gone out within the idle timeout.
            let written = tokio::select! {
                biased;
                _ = &mut closing => return CloseReason::Shutdown,
                written = stream.write_all(&outgoing) => written,
                _ = idle.expired() => {
                    return CloseReason::Error("client stopped reading; write timed out".into())
                }
            };
            match written {
                Err(e) => return CloseReason::Error(e.to_string()),
                Ok(()) => {
                    transcript.wrote(outgoing.len());
                    outgoing.clear();
                }
            }
            idle.progress();
        }
        if let Some(reason) = close {
            if reason != CloseReason::Eof {
                buf.resize(read_size.max(1), 0);
                close_gracefully(stream, &mut buf).await;
            }
            return reason;
        }
        if busy {
            tokio::task::yield_now().await;
        }
    }
}

/// Reads into `buf`, allocating it only once the first bytes are ready: an
/// idle connection holds no read buffer, which is most of what 10,000 idle
/// clients would otherwise cost.
async fn read_when_ready(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    size: usize,
) -> std::io::Result<usize> {
    if buf.is_empty() {
        stream.readable().await?;
        buf.resize(size.max(1), 0);
    }
    stream.read(buf).await
}

/// Sends our FIN, then waits briefly for the client's, reading and discarding
/// what it still sends: closing with unread data would make the kernel send
/// RST instead of FIN, and the student's capture would show a reset.
async fn close_gracefully(stream: &mut TcpStream, buf: &mut [u8]) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let _ = timeout(LINGER, async {
        let mut discarded = 0;
        while discarded < LINGER_BYTES {
            match stream.read(buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => discarded += n,
            }
        }
    })
    .await;
}
