//! echo-server: the Tugas 1 echo server.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use progjar_common::logging;
use progjar_protocol::echo::{EchoSession, DEFAULT_SERVER_CHUNK};
use progjar_server::options::CommonArgs;
use progjar_server::{launch, Mode, Protocol, SessionFactory};

/// A TCP echo server (Tugas 1).
///
/// Reads up to --chunk bytes at a time and writes each piece straight back,
/// logging each one. Iterative by default, as in Tugas 1: a second client
/// waits until the first has closed. Use --port 32444 for the file exercise.
#[derive(Debug, Parser)]
#[command(name = "echo-server", version = progjar_common::build_info::version(env!("CARGO_PKG_VERSION")))]
// A later option replaces an earlier one (`--mode async --mode thread` runs
// thread mode), so a wrapper such as labctl can add to a fixed command line.
#[command(args_override_self = true)]
#[command(
    after_help = "Exit codes: 0 stopped cleanly (Ctrl-C or SIGTERM), 1 could not start or failed, 2 bad command line.\nLogging: RUST_LOG=debug|info|warn (default info)."
)]
struct Args {
    /// TCP port to listen on (10000 for the message, 32444 for the file exercise).
    #[arg(long, short, default_value_t = 10000)]
    port: u16,

    /// Address to listen on (0.0.0.0 = every address of this machine).
    #[arg(long, short, default_value = "0.0.0.0")]
    bind: IpAddr,

    /// How to serve several clients: iterative (one at a time), thread (one thread each), async (tokio tasks).
    #[arg(long, short, value_enum, default_value_t = Mode::Iterative)]
    mode: Mode,

    /// Bytes read (and echoed) at a time.
    #[arg(long, default_value_t = DEFAULT_SERVER_CHUNK, value_name = "BYTES")]
    chunk: usize,

    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    logging::init();
    let chunk = args.chunk;
    let factory: SessionFactory = Arc::new(move || Box::new(EchoSession::new(chunk)));
    launch::run(
        "echo-server",
        SocketAddr::new(args.bind, args.port),
        args.mode,
        &args.common,
        Protocol::ECHO,
        factory,
    )
}
