//! The options both servers share, on the command line and in code.

use std::time::Duration;

use clap::{Args, ValueEnum};
use progjar_common::parse_seconds;

/// How the server handles several clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// tokio: one lightweight task per connection.
    Async,
    /// One OS thread per connection (the course's ProcessTheClient model).
    Thread,
    /// One connection at a time; the next client waits in the backlog.
    Iterative,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Async => "async",
            Mode::Thread => "thread",
            Mode::Iterative => "iterative",
        })
    }
}

/// Options common to time-server and echo-server.
///
/// Both binaries set clap's `args_override_self`: an option given twice takes
/// its last value, here as for `--mode` and `--port`.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Most connections served at once (async and thread modes); more wait in the backlog.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub max_connections: usize,

    /// Close a connection when nothing arrives for this many seconds.
    #[arg(long, default_value = "300", value_name = "SECS", value_parser = parse_seconds)]
    pub idle_timeout: Duration,

    /// On Ctrl-C or SIGTERM, let open connections finish for this many seconds.
    #[arg(long, default_value = "2", value_name = "SECS", value_parser = parse_seconds)]
    pub grace: Duration,

    /// Also log the byte values of each request, e.g. [84, 73, 77, 69, 13, 10].
    #[arg(long)]
    pub show_bytes: bool,

    /// Length of the kernel's queue of connections not yet accepted.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub backlog: i32,

    /// Worker threads in async mode; 1 is a single event loop. Default: one
    /// per core the server may run on (taskset -c 0 gives one).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// Everything a running server needs to know besides its protocol.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Concurrency model.
    pub mode: Mode,
    /// Most connections served at once (async and thread modes).
    pub max_connections: usize,
    /// Idle timeout per connection (also bounds a blocked write).
    pub idle_timeout: Duration,
    /// How long open connections may go on after shutdown starts.
    pub grace: Duration,
    /// Log byte values as well as escaped text.
    pub show_bytes: bool,
    /// Worker threads in async mode (None: one per usable core).
    pub threads: Option<usize>,
}

impl ServerOptions {
    /// Options from the command line.
    pub fn from_args(mode: Mode, args: &CommonArgs) -> Self {
        ServerOptions {
            mode,
            max_connections: args.max_connections.max(1),
            idle_timeout: args.idle_timeout,
            grace: args.grace,
            show_bytes: args.show_bytes,
            threads: args.threads,
        }
    }

    /// Defaults for `mode`, as the command line has them.
    pub fn new(mode: Mode) -> Self {
        ServerOptions {
            mode,
            max_connections: 10_000,
            idle_timeout: Duration::from_secs(300),
            grace: Duration::from_secs(2),
            show_bytes: false,
            threads: None,
        }
    }
}
