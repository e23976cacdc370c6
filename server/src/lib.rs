//! The lab's servers, as a library the binaries and the tests share.
//!
//! A server here only moves bytes: it accepts connections, reads, hands the
//! bytes to a protocol [`Session`](progjar_protocol::Session) and carries out
//! the actions it returns. Three ways to do that, chosen with `--mode`:
//!
//! - [`async_mode`]: tokio, one task per connection;
//! - [`blocking_mode`] with `thread`: one OS thread per connection, like the
//!   course's `ProcessTheClient`;
//! - [`blocking_mode`] with `iterative`: one connection at a time; the next
//!   client waits in the kernel's backlog.
//!
//! The rest: [`listener`] binds the port, [`shutdown`] and [`signals`] stop
//! the server gracefully, [`transcript`] logs what each connection did (a
//! flood of requests as counts), [`limits`] raises the open-files limit,
//! [`busy`] answers a client thread mode cannot take on,
//! [`clock`] is the local time time-server reports,
//! [`options`] holds the command-line options both servers share.

pub mod async_mode;
pub mod blocking_mode;
pub mod busy;
pub mod clock;
pub mod idle;
pub mod launch;
pub mod limits;
pub mod listener;
pub mod options;
pub mod shutdown;
pub mod signals;
pub mod transcript;

use std::sync::Arc;

use progjar_protocol::Session;

pub use options::{Mode, Protocol, ServerOptions};
pub use shutdown::Shutdown;

/// How long a closing connection waits for the client's FIN (both modes).
pub(crate) const LINGER: std::time::Duration = std::time::Duration::from_secs(1);
/// How much a closing connection reads and discards while it waits.
pub(crate) const LINGER_BYTES: usize = 64 * 1024;

/// A protocol session for one connection.
pub type BoxedSession = Box<dyn Session + Send>;

/// Makes a fresh session for each new connection.
pub type SessionFactory = Arc<dyn Fn() -> BoxedSession + Send + Sync>;

/// Serves connections from `listener` in the chosen mode until `shutdown` is
/// triggered, then waits up to the grace period for open connections.
pub fn serve(
    listener: std::net::TcpListener,
    factory: SessionFactory,
    options: ServerOptions,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    match options.mode {
        Mode::Async => async_mode::run(listener, factory, options, shutdown),
        Mode::Thread | Mode::Iterative => blocking_mode::run(listener, factory, options, shutdown),
    }
}
