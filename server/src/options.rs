//! The options both servers share, on the command line and in code.

use std::time::Duration;

use clap::{Args, ValueEnum};
use progjar_common::parse_seconds;
use progjar_protocol::time::BUSY_REPLY;

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

/// What the server needs to know of its protocol besides the session: how
/// its log names what a session reports as received, and what it tells a
/// client it cannot serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocol {
    /// One thing received, as the log counts it ("request").
    pub unit: &'static str,
    /// More than one ("requests").
    pub units: &'static str,
    /// Sent to a connection the server cannot take on (no thread or no file
    /// descriptor to spare) before closing it; empty: closed unanswered.
    pub busy_reply: &'static [u8],
    /// Whether a reply that begins with `ERROR` says a request was invalid
    /// (the log shows the first few of those however fast they come).
    pub error_replies: bool,
}

impl Protocol {
    /// The time protocol: request lines; a client it cannot serve gets `ERROR busy`.
    pub const TIME: Protocol = Protocol {
        unit: "request",
        units: "requests",
        busy_reply: BUSY_REPLY,
        error_replies: true,
    };

    /// The echo protocol: pieces as read. Every byte the server sends is an
    /// echo of the client's, so there is no room for a message: a client it
    /// cannot serve is closed at once (FIN) with nothing sent.
    pub const ECHO: Protocol = Protocol {
        unit: "piece",
        units: "pieces",
        busy_reply: b"",
        error_replies: false,
    };

    /// "1 request", "2 requests".
    pub fn count(&self, n: u64) -> String {
        format!(
            "{} {}",
            crate::transcript::thousands(n),
            if n == 1 { self.unit } else { self.units }
        )
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
    /// How the log counts requests, and the busy reply.
    pub protocol: Protocol,
}

impl ServerOptions {
    /// Options from the command line, for `protocol`.
    pub fn from_args(mode: Mode, args: &CommonArgs, protocol: Protocol) -> Self {
        ServerOptions {
            mode,
            max_connections: args.max_connections.max(1),
            idle_timeout: args.idle_timeout,
            grace: args.grace,
            show_bytes: args.show_bytes,
            threads: args.threads,
            protocol,
        }
    }

    /// Defaults for `mode`, as the command line has them, for the time
    /// protocol (set `protocol` to [`Protocol::ECHO`] for an echo server).
    pub fn new(mode: Mode) -> Self {
        ServerOptions {
            mode,
            max_connections: 10_000,
            idle_timeout: Duration::from_secs(300),
            grace: Duration::from_secs(2),
            show_bytes: false,
            threads: None,
            protocol: Protocol::TIME,
        }
    }
}
