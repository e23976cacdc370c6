//! Turning Ctrl-C and SIGTERM into a graceful shutdown.
//!
//! In a container the server is PID 1, and the kernel gives PID 1 no default
//! signal handlers: without this, `docker stop` would wait 10 s and kill it.

use tracing::{info, warn};

use crate::shutdown::Shutdown;

/// Starts a thread that triggers `shutdown` on the first SIGINT or SIGTERM.
pub fn watch(shutdown: Shutdown) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            runtime.block_on(async {
                let name = wait_for_signal().await;
                info!("received {name}: shutting down");
                shutdown.trigger();
            })
        })?;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            warn!("cannot listen for SIGTERM ({e}); only Ctrl-C stops the server gracefully");
            let _ = tokio::signal::ctrl_c().await;
            return "Ctrl-C";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT (Ctrl-C)",
        _ = term.recv() => "SIGTERM",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}
