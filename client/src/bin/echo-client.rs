//! echo-client: the Tugas 1 client that checks its echo byte for byte.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use progjar_client::connect::target;
use progjar_client::echo_client::{run, EchoPlan};
use progjar_client::results::{save_result, EchoMode, EchoResult};
use progjar_common::{logging, parse_seconds};
use progjar_protocol::echo::{COURSE_MESSAGE, DEFAULT_CLIENT_CHUNK};

/// Send data to an echo server (Tugas 1), read the echo in small pieces, check it.
///
/// Sends the course's message by default, or --message TEXT, or the raw bytes
/// of --file PATH (use port 32444 for the file exercise). Like the course's
/// client.py, each round (--repeat) is sent, its whole echo read back, then
/// after --interval the next round; the connection is closed after the last
/// echo. It keeps reading while it sends, so files of any size work.
#[derive(Debug, Parser)]
#[command(name = "echo-client", version = progjar_common::build_info::version(env!("CARGO_PKG_VERSION")), args_conflicts_with_subcommands = true)]
#[command(
    after_help = "Exit codes: 0 the echo was identical, 1 it differed, the connection failed or the file could not be read (the error says where), 2 bad command line.\n--json FILE (or PROGJAR_JSON=FILE): also write what was sent and seen (bytes, pieces, rounds, the error) as one JSON document when the run ends, failed or not (not on a bad command line, not for `check`). If FILE cannot be written, stderr says so and the exit code stays that of the run.\nLogging: RUST_LOG=debug|info|warn (default info)."
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

    /// Send the data this many times on one connection, each after the previous echo is back.
    #[arg(long, default_value_t = 1, value_name = "N")]
    repeat: u64,

    /// Seconds to wait after an echo is back before the next send (with --stream: between two sends).
    #[arg(long, default_value = "0", value_name = "SECS", value_parser = parse_seconds)]
    interval: Duration,

    /// Send every round on the --interval timer without waiting for echoes, half-close
    /// (shutdown(SHUT_WR)) right after the last send, read until the server closes.
    #[arg(long)]
    stream: bool,

    /// Seconds to pause after every piece read: a slow reader, to see TCP flow
    /// control (the receive window fills, the server waits).
    #[arg(long, default_value = "0", value_name = "SECS", value_parser = parse_seconds)]
    read_pause: Duration,

    /// The socket's receive buffer in bytes (SO_RCVBUF; the kernel doubles it): small
    /// with --read-pause, the window closes sooner.
    #[arg(long, value_name = "BYTES")]
    receive_buffer: Option<usize>,

    /// Give up connecting after this many seconds.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = parse_seconds)]
    connect_timeout: Duration,

    /// Seconds a round's whole echo may take, counted from its send (with --stream: from the
    /// last send's due time). A deadline: bytes trickling in do not extend it. An iterative server
    /// may keep you waiting; raise it for large files over slow links.
    #[arg(long, default_value = "60", value_name = "SECS", value_parser = parse_seconds)]
    timeout: Duration,

    /// Also write the result as JSON to FILE (written to FILE's directory, then renamed over it).
    #[arg(long, value_name = "FILE", env = "PROGJAR_JSON")]
    json: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check any echo server: 1 MiB of random bytes in odd-sized writes must come back
    /// exactly; also reports whether it is concurrent or iterative. Exit code = failed checks.
    ///
    /// Ends within 40 s whatever the server does (per address the host resolves to): every wait
    /// has a deadline that bytes trickling in do not extend (the 1 MiB and the close after our
    /// EOF: 10 s from the connect; a connect: 5 s), and a wrong or extra byte fails at once.
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
        let report = progjar_client::echo_check::run(host, *port);
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
    let mode = if args.stream {
        EchoMode::Stream
    } else {
        EchoMode::Lockstep
    };
    let payload = match (&args.file, &args.message) {
        (Some(path), _) => match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                let error = format!("cannot read {}: {e}", path.display());
                eprintln!("echo-client: {error}");
                let result = EchoResult {
                    server: target(&args.host, args.port),
                    local: None,
                    mode,
                    rounds_planned: args.repeat,
                    rounds_sent: 0,
                    bytes_sent: 0,
                    bytes_received: 0,
                    pieces: 0,
                    chunk: args.chunk.max(1),
                    payload_bytes: 0,
                    identical: false,
                    half_closed: false,
                    error: Some(error),
                };
                save_result("echo-client", args.json.as_deref(), &result);
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
        mode,
        read_pause: args.read_pause,
        receive_buffer: args.receive_buffer,
    };
    let result = run(&plan);
    save_result("echo-client", args.json.as_deref(), &result);
    match &result.error {
        None => ExitCode::SUCCESS,
        Some(error) => {
            eprintln!("echo-client: {error}");
            ExitCode::FAILURE
        }
    }
}
