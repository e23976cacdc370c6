//! echo-client: the Tugas 1 client that checks its echo byte for byte.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use progjar_client::echo_client::{run, EchoPlan};
use progjar_common::{logging, parse_seconds};
use progjar_protocol::echo::{COURSE_MESSAGE, DEFAULT_CLIENT_CHUNK};

/// Send data to an echo server (Tugas 1), read the echo in small pieces, check it.
///
/// Sends the course's message by default, or --message TEXT, or the raw bytes
/// of --file PATH (use port 32444 for the file exercise). It keeps reading
/// while it sends, so files of any size work.
#[derive(Debug, Parser)]
#[command(name = "echo-client", version, args_conflicts_with_subcommands = true)]
#[command(
    after_help = "Exit codes: 0 the echo was identical, 1 it differed or the connection failed (the error says where), 2 bad command line.\nLogging: RUST_LOG=debug|info|warn (default info)."
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// Server name or address.
    #[arg(default_value = "172.16.16.101", env = "LAB_SERVER")]
    host: String,

    /// Server port.
    #[arg(default_value_t = 10000)]
    port: u16,

    /// Send this text instead of the course's message.
    #[arg(long, conflicts_with = "file")]
    message: Option<String>,

    /// Send the raw bytes of this file.
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,

    /// Bytes read at a time.
    #[arg(long, default_value_t = DEFAULT_CLIENT_CHUNK, value_name = "BYTES")]
    chunk: usize,

    /// Send the data this many times on one connection.
    #[arg(long, default_value_t = 1, value_name = "N")]
    repeat: u64,

    /// Seconds between two sends.
    #[arg(long, default_value = "0", value_name = "SECS", value_parser = parse_seconds)]
    interval: Duration,

    /// Give up connecting after this many seconds.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = parse_seconds)]
    connect_timeout: Duration,

    /// Give up when nothing comes back for this many seconds (an iterative server may keep you waiting).
    #[arg(long, default_value = "60", value_name = "SECS", value_parser = parse_seconds)]
    timeout: Duration,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check any echo server: 1 MiB of random bytes in odd-sized writes must come back
    /// exactly; also reports whether it is concurrent or iterative. Exit code = failed checks.
    Check {
        /// Server name or address.
        #[arg(default_value = "172.16.16.101", env = "LAB_SERVER")]
        host: String,

        /// Server port.
        #[arg(default_value_t = 10000)]
        port: u16,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    logging::init();
    if let Some(Command::Check { host, port }) = &args.command {
        println!("checking the echo server at {host}:{port}");
        let report =
            progjar_client::echo_check::run(host, *port, args.timeout.min(Duration::from_secs(10)));
        let mut failed = 0u8;
        match &report.exact {
            Ok(()) => println!("PASS  byte-exact echo       1 MiB of random bytes in odd-sized writes came back identical, then the server closed"),
            Err(e) => {
                failed += 1;
                println!("FAIL  byte-exact echo       {e}\n      hint: loop on recv() and sendall() every piece back; close when recv() returns b''");
            }
        }
        match &report.model {
            Ok((model, detail)) => println!("INFO  concurrency model    {model}: {detail}"),
            Err(e) => {
                failed += 1;
                println!("FAIL  concurrency model    {e}");
            }
        }
        return ExitCode::from(failed);
    }
    let payload = match (&args.file, &args.message) {
        (Some(path), _) => match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("echo-client: cannot read {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        },
        (None, Some(text)) => text.as_bytes().to_vec(),
        (None, None) => COURSE_MESSAGE.to_vec(),
    };
    let plan = EchoPlan {
        host: args.host,
        port: args.port,
        payload,
        repeat: args.repeat,
        interval: args.interval,
        chunk: args.chunk,
        connect_timeout: args.connect_timeout,
        read_timeout: args.timeout,
    };
    match run(&plan) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo-client: {e}");
            ExitCode::FAILURE
        }
    }
}
