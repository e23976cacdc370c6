//! Starting a real server on 127.0.0.1 with an ephemeral port, in-process.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::NaiveTime;
use progjar_protocol::echo::EchoSession;
use progjar_protocol::time::TimeSession;
use progjar_server::{listener, serve, Mode, ServerOptions, SessionFactory, Shutdown};

pub const MODES: [Mode; 3] = [Mode::Async, Mode::Thread, Mode::Iterative];

/// A server running on a thread of the test; stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    pub fn start(factory: SessionFactory, options: ServerOptions) -> TestServer {
        let listener = listener::bind("127.0.0.1:0".parse().expect("addr"), 1024).expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let shutdown = Shutdown::new();
        let handle = {
            let shutdown = shutdown.clone();
            std::thread::spawn(move || serve(listener, factory, options, shutdown))
        };
        TestServer {
            addr,
            shutdown,
            handle: Some(handle),
        }
    }

    pub fn time(options: ServerOptions) -> TestServer {
        Self::time_with_limit(options, 1024)
    }

    pub fn time_with_limit(options: ServerOptions, max_line: usize) -> TestServer {
        let factory: SessionFactory =
            Arc::new(move || Box::new(TimeSession::new(max_line, || chrono::Local::now().time())));
        Self::start(factory, options)
    }

    pub fn echo(mut options: ServerOptions, chunk: usize) -> TestServer {
        options.protocol = progjar_server::Protocol::ECHO;
        let factory: SessionFactory = Arc::new(move || Box::new(EchoSession::new(chunk)));
        Self::start(factory, options)
    }

    /// Triggers shutdown and waits for `serve` to return.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.trigger();
        self.handle
            .take()
            .expect("running")
            .join()
            .expect("server thread")
    }

    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.shutdown.trigger();
            let _ = handle.join();
        }
    }
}

/// Reads until the server closes (FIN); panics on a reset or a timeout.
pub fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    stream
        .read_to_end(&mut all)
        .expect("clean close (FIN), not a reset or timeout");
    all
}

/// Reads exactly `n` bytes.
pub fn read_exact_n(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    stream.read_exact(&mut buf).expect("enough bytes");
    buf
}

/// Reads one CR LF-terminated line (byte by byte, test-only).
pub fn read_line(stream: &mut TcpStream) -> Vec<u8> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        let n = stream.read(&mut byte).expect("a reply line");
        assert!(n == 1, "server closed mid-line after {line:?}");
        line.push(byte[0]);
    }
    line
}

pub fn send(stream: &mut TcpStream, bytes: &[u8]) {
    stream.write_all(bytes).expect("send");
}

/// Asserts `reply` is a valid `JAM hh:mm:ss\r\n`.
pub fn assert_jam(reply: &[u8]) {
    assert_eq!(
        reply.len(),
        14,
        "reply {:?}",
        String::from_utf8_lossy(reply)
    );
    let text = std::str::from_utf8(reply).expect("utf-8");
    assert!(
        text.starts_with("JAM ") && text.ends_with("\r\n"),
        "{text:?}"
    );
    NaiveTime::parse_from_str(&text[4..12], "%H:%M:%S").expect("a real time of day");
}

pub fn options(mode: Mode) -> ServerOptions {
    let mut options = ServerOptions::new(mode);
    options.grace = Duration::from_millis(500);
    options
}
