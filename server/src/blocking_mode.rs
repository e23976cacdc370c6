//! `--mode thread` and `--mode iterative`: blocking std sockets.
//!
//! Thread mode spawns one OS thread per connection, the course's
//! `ProcessTheClient` model. Iterative mode serves each connection on the
//! accept thread itself, so a second client is not even accepted until the
//! first one is done: it waits in the kernel's backlog, which is exactly what
//! Tugas 1 asks students to observe.
//!
//! A connection that cannot have a thread or a file descriptor is answered
//! busy and closed (see [`crate::busy`]) while the others go on.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use progjar_protocol::{CloseReason, Session};
use tracing::{info, info_span};

use crate::busy::{answer_busy, no_descriptor_left, AcceptWarnings, Spare, BACK_OFF};
use crate::limits::is_out_of_descriptors;
use crate::options::Mode;
use crate::shutdown::Shutdown;
use crate::transcript::Transcript;
use crate::{BoxedSession, ServerOptions, SessionFactory};
use crate::{LINGER, LINGER_BYTES};

/// Runs the thread or iterative server until shutdown.
pub fn run(
    listener: TcpListener,
    factory: SessionFactory,
    options: ServerOptions,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let open = Arc::new(OpenConnections::default());
    let close_now = Shutdown::new();
    let acceptor = {
        let listener = listener.try_clone()?;
        let (open, close_now, shutdown) = (open.clone(), close_now.clone(), shutdown.clone());
        let options = options.clone();
        std::thread::Builder::new()
            .name("accept".into())
            .spawn(move || accept_loop(listener, factory, options, shutdown, open, close_now))?
    };

    shutdown.wait_blocking();
    // Wake the accept() blocked in the kernel: on Linux, shutting down a
    // listening socket makes a pending accept() return an error.
    let _ = socket2::SockRef::from(&listener).shutdown(std::net::Shutdown::Read);
    info!(
        "no longer accepting connections; waiting up to {:.1} s for {} open connection(s)",
        options.grace.as_secs_f64(),
        open.count()
    );
    if !open.wait_until_empty(options.grace) {
        info!("grace period over: closing {} connection(s)", open.count());
        close_now.trigger();
        open.close_all();
        open.wait_until_empty(Duration::from_secs(2));
    }
    if open.count() == 0 {
        let _ = acceptor.join();
    }
    info!("server stopped");
    Ok(())
}

fn accept_loop(
    listener: TcpListener,
    factory: SessionFactory,
    options: ServerOptions,
    shutdown: Shutdown,
    open: Arc<OpenConnections>,
    close_now: Shutdown,
) {
    let mut spare = Spare::open();
    let mut warnings = AcceptWarnings::default();
    loop {
        if options.mode == Mode::Thread {
            open.wait_for_slot(options.max_connections, &shutdown);
        }
        if shutdown.is_triggered() {
            return;
        }
        let accepted = match listener.accept() {
            Err(e) if is_out_of_descriptors(&e) && !shutdown.is_triggered() => {
                accept_with_spare(&listener, &mut spare, &mut warnings, &options, e)
            }
            other => other.map_err(Some),
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(_) if shutdown.is_triggered() => return,
            // Answered busy, or failed and already reported.
            Err(None) => continue,
            // The client gave up before we took it: nothing to wait for.
            Err(Some(e)) if e.kind() == ErrorKind::ConnectionAborted => continue,
            Err(Some(e)) => {
                warnings.warn(format_args!("accept failed: {e}"));
                std::thread::sleep(BACK_OFF);
                continue;
            }
        };
        if shutdown.is_triggered() {
            return;
        }
        // Small replies go out at once (no Nagle delay).
        let _ = stream.set_nodelay(true);
        let ticket = match open.register(&stream) {
            Ok(ticket) => ticket,
            Err(e) if is_out_of_descriptors(&e) => {
                answer_busy(stream, peer, &options.protocol, &no_descriptor_left());
                continue;
            }
            Err(e) => {
                let why = format!("cannot keep track of it: {e}");
                answer_busy(stream, peer, &options.protocol, &why);
                continue;
            }
        };
        let session = factory();
        if options.mode == Mode::Iterative {
            serve_connection(stream, peer, session, &options, &close_now);
            drop(ticket);
            continue;
        }
        // The connection goes to the thread through this slot, so that it
        // is still here to be answered if the thread cannot be started.
        let slot = Arc::new(Mutex::new(Some((stream, ticket, session))));
        let spawned = {
            let (slot, options, close_now) = (slot.clone(), options.clone(), close_now.clone());
            std::thread::Builder::new()
                .name(format!("conn {peer}"))
                .spawn(move || {
                    let taken = lock(&slot).take();
                    if let Some((stream, _ticket, session)) = taken {
                        serve_connection(stream, peer, session, &options, &close_now);
                    }
                })
        };
        if let Err(e) = spawned {
            if let Some((stream, ticket, _)) = lock(&slot).take() {
                let why = format!("cannot start a thread for it: {e}");
                answer_busy(stream, peer, &options.protocol, &why);
                drop(ticket);
            }
        }
    }
}

/// After accept() failed for want of a file descriptor (`error`): lets the
/// spare descriptor go and accepts the waiting client with it. If a
/// descriptor is free again by then, the client is served (Ok); otherwise it
/// is answered busy (Err(None)). Without a spare, or when even that accept
/// fails, the clients wait in the backlog and the loop backs off.
fn accept_with_spare(
    listener: &TcpListener,
    spare: &mut Spare,
    warnings: &mut AcceptWarnings,
    options: &ServerOptions,
    error: std::io::Error,
) -> Result<(TcpStream, SocketAddr), Option<std::io::Error>> {
    let out_of_descriptors = |warnings: &mut AcceptWarnings, e: &std::io::Error| {
        warnings.warn(format_args!(
            "cannot accept a connection: {e}; clients wait in the backlog until a \
             descriptor is free ({})",
            no_descriptor_left()
        ));
        std::thread::sleep(BACK_OFF);
    };
    if !spare.release() {
        // Spare gone (taken back failed earlier): try again later.
        if !spare.restore() {
            out_of_descriptors(warnings, &error);
        }
        return Err(None);
    }
    // Blocks until a client comes, like the accept() that failed would have.
    let accepted = listener.accept();
    let room = spare.restore();
    match accepted {
        Ok(pair) if room => Ok(pair),
        Ok((stream, peer)) => {
            answer_busy(stream, peer, &options.protocol, &no_descriptor_left());
            spare.restore();
            Err(None)
        }
        Err(e) if is_out_of_descriptors(&e) => {
            out_of_descriptors(warnings, &e);
            Err(None)
        }
        Err(e) => Err(Some(e)),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    mut session: BoxedSession,
    options: &ServerOptions,
    close_now: &Shutdown,
) {
    let span = info_span!("conn", peer = %peer);
    let _entered = span.enter();
    info!("connected");
    let mut transcript = Transcript::new(options.protocol, options.show_bytes);
    let reason = converse(
        &mut stream,
        session.as_mut(),
        &mut transcript,
        options,
        close_now,
    );
    transcript.closed(&reason);
}

/// Reads, lets the session decide, writes; until the session or the socket ends it.
fn converse(
    stream: &mut TcpStream,
    session: &mut (dyn Session + Send),
    transcript: &mut Transcript,
    options: &ServerOptions,
    close_now: &Shutdown,
) -> CloseReason {
    // A zero timeout means "none" to the OS; keep at least a millisecond.
    let idle = options.idle_timeout.max(Duration::from_millis(1));
    if let Err(e) = stream
        .set_read_timeout(Some(idle))
        .and_then(|()| stream.set_write_timeout(Some(idle)))
    {
        return CloseReason::Error(e.to_string());
    }
    let mut buf = vec![0u8; session.read_size()];
    let mut actions = Vec::new();
    let mut outgoing = Vec::new();
    loop {
        let read = stream.read(&mut buf);
        if close_now.is_triggered() {
            return CloseReason::Shutdown;
        }
        match read {
            Ok(0) => session.on_eof(&mut actions),
            Ok(n) => {
                transcript.read(n);
                session.on_bytes(&buf[..n], &mut actions);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if is_timeout(&e) => return CloseReason::Idle,
            Err(e) => return CloseReason::Error(e.to_string()),
        }
        let close = transcript.settle(&mut actions, &mut outgoing);
        if !outgoing.is_empty() {
            // Writing before reading again is our back-pressure.
            match stream.write_all(&outgoing) {
                Ok(()) => {
                    transcript.wrote(outgoing.len());
                    outgoing.clear();
                }
                Err(_) if close_now.is_triggered() => return CloseReason::Shutdown,
                Err(e) if is_timeout(&e) => {
                    return CloseReason::Error("client stopped reading; write timed out".into())
                }
                Err(e) => return CloseReason::Error(e.to_string()),
            }
        }
        if let Some(reason) = close {
            if reason != CloseReason::Eof {
                close_gracefully(stream, &mut buf);
            }
            return reason;
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Sends our FIN, then waits briefly for the client's (see async_mode).
fn close_gracefully(stream: &mut TcpStream, buf: &mut [u8]) {
    if stream.shutdown(std::net::Shutdown::Write).is_err()
        || stream.set_read_timeout(Some(LINGER)).is_err()
    {
        return;
    }
    let deadline = Instant::now() + LINGER;
    let mut discarded = 0;
    while discarded < LINGER_BYTES && Instant::now() < deadline {
        match stream.read(buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => discarded += n,
        }
    }
}

/// The connections being served, so that shutdown can wait for them and,
/// when the grace period is over, close them.
#[derive(Default)]
struct OpenConnections {
    streams: Mutex<HashMap<u64, TcpStream>>,
    changed: Condvar,
    next_id: AtomicU64,
}

/// Removes its connection from the table when dropped.
struct Ticket {
    id: u64,
    table: Arc<OpenConnections>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.table.lock().remove(&self.id);
        self.table.changed.notify_all();
    }
}

impl OpenConnections {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.streams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn count(&self) -> usize {
        self.lock().len()
    }

    fn register(self: &Arc<Self>, stream: &TcpStream) -> std::io::Result<Ticket> {
        let handle = stream.try_clone()?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, handle);
        Ok(Ticket {
            id,
            table: self.clone(),
        })
    }

    /// Blocks while `max` connections are open (or until shutdown).
    fn wait_for_slot(&self, max: usize, shutdown: &Shutdown) {
        let mut streams = self.lock();
        while streams.len() >= max && !shutdown.is_triggered() {
            streams = self
                .changed
                .wait_timeout(streams, Duration::from_millis(100))
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    /// Waits up to `timeout` for every connection to end; true if they did.
    fn wait_until_empty(&self, timeout: Duration) -> bool {
        let streams = self.lock();
        let (streams, _) = self
            .changed
            .wait_timeout_while(streams, timeout, |s| !s.is_empty())
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        streams.is_empty()
    }

    /// Shuts every open socket down, which wakes the threads blocked on them.
    fn close_all(&self) {
        for stream in self.lock().values() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}
