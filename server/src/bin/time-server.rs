//! time-server: the Tugas 2 time server.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use progjar_common::{logging, timezone};
use progjar_protocol::line::DEFAULT_MAX_LINE;
use progjar_protocol::time::TimeSession;
use progjar_server::clock::LocalClock;
use progjar_server::options::CommonArgs;
use progjar_server::{launch, Mode, Protocol, SessionFactory};
use tracing::{info, warn};

/// A concurrent TCP time server (Tugas 2).
///
/// Send `TIME` followed by CR LF and it answers `JAM hh:mm:ss` followed by
/// CR LF, in local time (set TZ, e.g. TZ=Asia/Jakarta). Send `QUIT` and CR LF
/// to end the session. Try it: `telnet 127.0.0.1 45000`, or `nc -C 127.0.0.1 45000`.
#[derive(Debug, Parser)]
#[command(name = "time-server", version = progjar_common::build_info::version(env!("CARGO_PKG_VERSION")))]
// A later option replaces an earlier one (`--mode async --mode thread` runs
// thread mode), so a wrapper such as labctl can add to a fixed command line.
#[command(args_override_self = true)]
#[command(
    after_help = "Exit codes: 0 stopped cleanly (Ctrl-C or SIGTERM), 1 could not start or failed, 2 bad command line.\nLogging: RUST_LOG=debug|info|warn (default info)."
)]
struct Args {
    /// TCP port to listen on.
    #[arg(long, short, default_value_t = 45000)]
    port: u16,

    /// Address to listen on (0.0.0.0 = every address of this machine).
    #[arg(long, short, default_value = "0.0.0.0")]
    bind: IpAddr,

    /// How to serve several clients: async (tokio tasks), thread (one thread each), iterative (one at a time).
    #[arg(long, short, value_enum, default_value_t = Mode::Async)]
    mode: Mode,

    /// Longest request line in bytes; a longer one gets "ERROR line too long" and a close.
    #[arg(long, default_value_t = DEFAULT_MAX_LINE, value_name = "BYTES")]
    max_line: usize,

    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    logging::init();
    let zone = timezone::report();
    info!("local time zone: {} (UTC{})", zone.source, zone.offset);
    if let Some(warning) = zone.warning {
        warn!("{warning}");
    }
    let max_line = args.max_line;
    let factory: SessionFactory = Arc::new(move || {
        // Requests are only copied for the log when the log shows them
        // (asked of the server's log: RUST_LOG may name it alone).
        let transcript = progjar_server::transcript::enabled();
        Box::new(TimeSession::new(max_line, LocalClock::default()).with_transcript(transcript))
    });
    launch::run(
        "time-server",
        SocketAddr::new(args.bind, args.port),
        args.mode,
        &args.common,
        Protocol::TIME,
        factory,
    )
}
