//! socket-info: what the course's socket_info.py prints.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use progjar_client::socket_info::{resolve, timeouts};
use progjar_common::parse_seconds;

/// Show a socket's default timeout and the addresses a name resolves to (Tugas 1).
///
/// Like the course's socket_info.py: prints the timeout of a new socket
/// (none: it blocks), sets one and prints it, then calls getaddrinfo(HOST, PORT)
/// and prints every answer. In an offline lab use a lab name: `socket-info mesin-1 45000`.
#[derive(Debug, Parser)]
#[command(name = "socket-info", version)]
#[command(
    after_help = "Exit codes: 0 done, 1 the name did not resolve or a socket could not be made, 2 bad command line."
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
}

fn main() -> ExitCode {
    let args = Args::parse();
    match timeouts(args.timeout) {
        Ok((before, after)) => {
            println!("timeout of a new socket: {}", describe(before));
            println!(
                "after settimeout({}): {}",
                args.timeout.as_secs_f64(),
                describe(after)
            );
        }
        Err(e) => {
            eprintln!("socket-info: cannot create a socket: {e}");
            return ExitCode::FAILURE;
        }
    }
    match resolve(&args.host, &args.port) {
        Ok(entries) => {
            println!("getaddrinfo(\"{}\", {}):", args.host, args.port);
            for entry in entries {
                println!(
                    "  {:<9} {:<12} {:<12} {}",
                    entry.family, entry.socket_type, entry.protocol, entry.address
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("socket-info: {e}");
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
