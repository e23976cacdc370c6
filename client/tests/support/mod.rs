//! What the client tests share: in-process servers on 127.0.0.1 and running
//! a client binary, with or without a JSON result.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use progjar_protocol::echo::EchoSession;
use progjar_protocol::time::TimeSession;
use progjar_server::{listener, serve, Mode, ServerOptions, SessionFactory, Shutdown};
use serde::de::DeserializeOwned;

/// Runs a server in this process until the returned switch is dropped... or triggered.
pub fn start(factory: SessionFactory, mode: Mode) -> (SocketAddr, Shutdown) {
    let listener = listener::bind("127.0.0.1:0".parse().expect("addr"), 1024).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = Shutdown::new();
    let mut options = ServerOptions::new(mode);
    options.grace = std::time::Duration::from_millis(200);
    let stop = shutdown.clone();
    std::thread::spawn(move || serve(listener, factory, options, stop));
    (addr, shutdown)
}

/// The lab's time server.
pub fn time_server(mode: Mode) -> (SocketAddr, Shutdown) {
    start(
        Arc::new(|| Box::new(TimeSession::new(1024, || chrono::Local::now().time()))),
        mode,
    )
}

/// The lab's echo server, reading 32 bytes at a time.
pub fn echo_server(mode: Mode) -> (SocketAddr, Shutdown) {
    start(Arc::new(|| Box::new(EchoSession::new(32))), mode)
}

/// A client binary with this log level, without the lab's PROGJAR_JSON.
pub fn command(binary: &str, args: &[&str], log_level: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .args(args)
        .env("RUST_LOG", log_level)
        .env_remove("PROGJAR_JSON");
    command
}

/// Runs a client binary to its end.
pub fn run(binary: &str, args: &[&str], log_level: &str) -> Output {
    command(binary, args, log_level)
        .output()
        .expect("client binary runs")
}

/// Runs a client binary with PROGJAR_JSON set (as the lab does); returns
/// what it printed and the JSON result it wrote.
pub fn run_json<T: DeserializeOwned>(binary: &str, args: &[&str]) -> (Output, T) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("result.json");
    let out = command(binary, args, "info")
        .env("PROGJAR_JSON", &path)
        .output()
        .expect("client binary runs");
    let result = read_json(&path, &out);
    (out, result)
}

/// The JSON result at `path`, failing with the program's output if it is missing or wrong.
pub fn read_json<T: DeserializeOwned>(path: &Path, out: &Output) -> T {
    let bytes = std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "no JSON result at {}: {e}\nstdout: {}\nstderr: {}",
            path.display(),
            text(&out.stdout),
            text(&out.stderr)
        )
    });
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("the JSON result does not parse: {e}\n{}", text(&bytes)))
}

/// Bytes as text, for messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A port on 127.0.0.1 where nothing listens (it was just free).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Pseudo-random bytes that never repeat with a short period, so a dropped
/// or reordered piece is caught.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}
