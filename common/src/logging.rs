//! Logging set-up for the lab's programs.
//!
//! Logs go to stderr with a local timestamp, so a student can line them up
//! with a capture. `RUST_LOG` chooses the level (`RUST_LOG=debug`,
//! `RUST_LOG=warn`); without it the programs log at info.

use std::io::IsTerminal;

use tracing_subscriber::fmt::time::ChronoLocal;
use tracing_subscriber::EnvFilter;

/// Installs the global logger. Call once, at the start of `main`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(ChronoLocal::new("%Y-%m-%d %H:%M:%S%.3f".to_string()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
