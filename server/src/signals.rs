//! Turning Ctrl-C and SIGTERM into a graceful shutdown.
//!
//! In a container the server is PID 1, and the kernel gives PID 1 no default
//! signal handlers: without this, `docker stop` would wait 10 s and kill it.

use tracing::{info, warn};

use crate::shutdown::Shutdown;

/// Starts a thread that triggers `shutdown` on the first SIGINT or SIGTERM.
/// The handlers are in place when this returns: a SIGTERM that comes right
/// after the server starts listening is a graceful stop too, not a kill.
pub fn watch(shutdown: Shutdown) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let signals = {
        let _context = runtime.enter();
        Signals::register()
    };
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            runtime.block_on(async {
                let name = signals.first().await;
                info!("received {name}: shutting down");
                shutdown.trigger();
            })
        })?;
    Ok(())
}

/// The signals that stop the server, listened for from the moment they are
/// registered.
#[cfg(unix)]
struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Signals {
    fn register() -> Signals {
        use tokio::signal::unix::{signal, SignalKind};
        let interrupt = signal(SignalKind::interrupt())
            .inspect_err(|e| warn!("cannot listen for SIGINT (Ctrl-C): {e}"))
            .ok();
        let terminate = signal(SignalKind::terminate())
            .inspect_err(|e| {
                warn!("cannot listen for SIGTERM ({e}); only Ctrl-C stops the server gracefully")
            })
            .ok();
        Signals {
            interrupt,
            terminate,
        }
    }

    async fn first(mut self) -> &'static str {
        async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = next(&mut self.interrupt) => "SIGINT (Ctrl-C)",
            _ = next(&mut self.terminate) => "SIGTERM",
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn register() -> Signals {
        Signals
    }

    async fn first(self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}
