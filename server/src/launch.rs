//! What both server binaries do after parsing their command line: bind,
//! install the signal handler, serve, and turn errors into an exit code.

use std::net::SocketAddr;
use std::process::ExitCode;

use tracing::{info, warn};

use crate::limits::{raise_open_files_limit, Raise};
use crate::options::{CommonArgs, Mode, Protocol, ServerOptions};
use crate::{listener, serve, signals, SessionFactory, Shutdown};

/// Exit code for a server that could not start or failed while running.
pub const EXIT_FAILURE: u8 = 1;

/// Runs a server to completion; the binaries return this from `main`.
pub fn run(
    name: &str,
    addr: SocketAddr,
    mode: Mode,
    common: &CommonArgs,
    protocol: Protocol,
    factory: SessionFactory,
) -> ExitCode {
    match try_run(name, addr, mode, common, protocol, factory) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn try_run(
    name: &str,
    addr: SocketAddr,
    mode: Mode,
    common: &CommonArgs,
    protocol: Protocol,
    factory: SessionFactory,
) -> anyhow::Result<()> {
    match raise_open_files_limit() {
        failed @ Raise::Failed { .. } => warn!("{failed}"),
        done => info!("{done}"),
    }
    let listener = listener::bind(addr, common.backlog)?;
    // Before saying it listens: whoever waits for that line and then sends
    // SIGTERM gets a graceful stop, not a kill.
    let shutdown = Shutdown::new();
    signals::watch(shutdown.clone())?;
    info!(
        "{name} listening on {} ({mode} mode)",
        listener.local_addr()?
    );
    serve(
        listener,
        factory,
        ServerOptions::from_args(mode, common, protocol),
        shutdown,
    )
}
