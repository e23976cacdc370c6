//! socket-info: what the course's socket_info.py prints.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use progjar_client::results::{save_result, SocketInfoResult};
use progjar_client::socket_info::{resolve, system_nameservers, timeouts};
use progjar_common::parse_seconds;

/// Show a socket's default timeout and the addresses a name resolves to (Tugas 1).
///
/// Like the course's socket_info.py: prints the timeout of a new socket
/// (none: it blocks), sets one and prints it, then calls getaddrinfo(HOST, PORT)
/// and prints every answer. In an offline lab use a lab name: `socket-info mesin-1 45000`.
#[derive(Debug, Parser)]
#[command(name = "socket-info", version = progjar_common::build_info::version(env!("CARGO_PKG_VERSION")))]
#[command(
    after_help = "Exit codes: 0 done, 1 the name did not resolve or a socket could not be made, 2 bad command line.\n--json FILE (or PROGJAR_JSON=FILE): also write what was seen as one JSON document (timeouts, getaddrinfo answers, this machine's nameservers, the error), written when the run ends, failed or not (not on a bad command line). If FILE cannot be written, stderr says so and the exit code stays that of the run."
)]
struct Args {
    /// Name or address to resolve.
    #[arg(default_value = "www.its.ac.id")]
    host: String,

    /// Port number or service name (http, ...).
    #[arg(default_value = "80")]
    port: String,

    /// The timeout to set on the socket, in seconds.
    #[arg(long, default_value = "10", value_name = "SECS", value_parser = parse_seconds)]
    timeout: Duration,

    /// Also write the result as JSON to FILE (written to FILE's directory, then renamed over it).
    #[arg(long, value_name = "FILE", env = "PROGJAR_JSON")]
    json: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut result = SocketInfoResult {
        host: args.host.clone(),
        port: args.port.clone(),
        entries: Vec::new(),
        default_timeout_secs: None,
        timeout_requested_secs: args.timeout.as_secs_f64(),
        timeout_after_set_secs: None,
        resolvers: system_nameservers(),
        error: None,
    };
    let code = run(&args, &mut result);
    save_result("socket-info", args.json.as_deref(), &result);
    code
}

fn run(args: &Args, result: &mut SocketInfoResult) -> ExitCode {
    match timeouts(args.timeout) {
        Ok((before, after)) => {
            result.default_timeout_secs = before.map(|t| t.as_secs_f64());
            result.timeout_after_set_secs = after.map(|t| t.as_secs_f64());
            println!("timeout of a new socket: {}", describe(before));
            println!(
                "after settimeout({}): {}",
                args.timeout.as_secs_f64(),
                describe(after)
            );
        }
        Err(e) => {
            let error = format!("cannot create a socket: {e}");
            eprintln!("socket-info: {error}");
            result.error = Some(error);
            return ExitCode::FAILURE;
        }
    }
    match resolve(&args.host, &args.port) {
        Ok(entries) => {
            println!("getaddrinfo(\"{}\", {}):", args.host, args.port);
            for entry in &entries {
                println!(
                    "  {:<9} {:<12} {:<12} {}",
                    entry.family, entry.socket_type, entry.protocol, entry.address
                );
            }
            result.entries = entries.iter().map(|e| e.to_result()).collect();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("socket-info: {e}");
            result.error = Some(e.to_string());
            ExitCode::FAILURE
        }
    }
}

fn describe(timeout: Option<Duration>) -> String {
    match timeout {
        None => "None (blocking: waits as long as it takes)".to_string(),
        Some(t) => format!("{} s", t.as_secs_f64()),
    }
}
