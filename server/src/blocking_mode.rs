//! `--mode thread` and `--mode iterative`: blocking std sockets.
//!
//! Thread mode spawns one OS thread per connection, the course's
//! `ProcessTheClient` model. Iterative mode serves each connection on the
//! accept thread itself, so a second client is not even accepted until the
//! first one is done: it waits in the kernel's backlog, which is exactly what
//! Tugas 1 asks students to observe.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use progjar_protocol::{CloseReason, Session};
use tracing::{info, info_span, warn};

use crate::options::Mode;
use crate::shutdown::Shutdown;
use crate::transcript::settle;
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
    loop {
        if options.mode == Mode::Thread {
            open.wait_for_slot(options.max_connections, &shutdown);
        }
        if shutdown.is_triggered() {
            return;
        }
        let (stream, peer) = match listener.accept() {
            Ok(pair) => pair,
            Err(_) if shutdown.is_triggered() => return,
            Err(e) => {
                warn!("accept failed: {e} (out of file descriptors? raise `ulimit -n`)");
                std::thread::sleep(Duration::from_millis(100));
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
            Err(e) => {
                warn!("cannot track connection from {peer}: {e}");
                continue;
            }
        };
        let session = factory();
        if options.mode == Mode::Iterative {
            serve_connection(stream, peer, session, &options, &close_now);
            drop(ticket);
            continue;
        }
        let (options, close_now) = (options.clone(), close_now.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("conn {peer}"))
            .spawn(move || {
                let _ticket = ticket;
                serve_connection(stream, peer, session, &options, &close_now);
            });
        if let Err(e) = spawned {
            // The closure, and with it the connection, has been dropped.
            warn!("cannot start a thread for {peer}: {e}; connection closed");
        }
    }
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
    let reason = converse(&mut stream, session.as_mut(), options, close_now);
    info!("connection closed: {reason}");
}

/// Reads, lets the session decide, writes; until the session or the socket ends it.
fn converse(
    stream: &mut TcpStream,
    session: &mut (dyn Session + Send),
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
            Ok(n) => session.on_bytes(&buf[..n], &mut actions),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if is_timeout(&e) => return CloseReason::Idle,
            Err(e) => return CloseReason::Error(e.to_string()),
        }
        let close = settle(&mut actions, &mut outgoing, options.show_bytes);
        if !outgoing.is_empty() {
            // Writing before reading again is our back-pressure.
            match stream.write_all(&outgoing) {
                Ok(()) => outgoing.clear(),
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
