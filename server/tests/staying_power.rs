//! Staying power: the server binaries under floods and abuse, on loopback.
//!
//! While each attack runs, a well-behaved client must keep getting correct
//! replies, the server must not crash, and its resident memory (read from
//! /proc) must stay bounded. Every loop here is bounded in count and time.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server binary on an ephemeral port; killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(binary: &str, args: &[&str]) -> Server {
        raise_fd_limit();
        let mut child = Command::new(binary)
            .args(["--port", "0", "--bind", "127.0.0.1"])
            .args(args)
            .env("RUST_LOG", "warn,progjar_server=info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("server starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines.next().expect("a log line").expect("readable");
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .expect("addr")
                    .parse()
                    .expect("socket addr");
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, addr }
    }

    fn time(mode: &str, extra: &[&str]) -> Server {
        let mut args = vec!["--mode", mode];
        args.extend_from_slice(extra);
        Server::start(env!("CARGO_BIN_EXE_time-server"), &args)
    }

    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("server alive");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("VmRSS")
    }

    fn assert_alive(&mut self) {
        assert!(
            self.child.try_wait().expect("wait").is_none(),
            "the server exited"
        );
    }

    /// A well-behaved client: TIME, a correct reply, QUIT, close. The 5 s
    /// bound is generous on purpose: on two cores the attackers of the test
    /// itself compete with the server for CPU.
    fn assert_serves(&self) {
        let mut client = TcpStream::connect(self.addr).expect("connect");
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        client.write_all(b"TIME\r\n").expect("send");
        let mut reply = [0u8; 14];
        if let Err(e) = client.read_exact(&mut reply) {
            panic!(
                "no reply within 5 s from server pid {}: {e}",
                self.child.id()
            );
        }
        assert!(
            reply.starts_with(b"JAM ") && reply.ends_with(b"\r\n"),
            "{:?}",
            String::from_utf8_lossy(&reply)
        );
        client.write_all(b"QUIT\r\n").expect("quit");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < 16384 {
            limit.rlim_cur = limit.rlim_max.min(16384);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

const CONCURRENT: [&str; 2] = ["async", "thread"];

#[test]
fn a_flood_of_2000_connections_does_not_stop_the_server() {
    for mode in CONCURRENT {
        let mut server = Server::time(mode, &[]);
        let flood: Vec<TcpStream> = (0..2000)
            .filter_map(|_| TcpStream::connect(server.addr).ok())
            .collect();
        assert!(
            flood.len() >= 1900,
            "{mode}: only {} connections opened",
            flood.len()
        );
        server.assert_serves();
        drop(flood);
        server.assert_serves();
        server.assert_alive();
    }
}

#[test]
fn clients_beyond_max_connections_wait_in_the_backlog_until_a_slot_frees() {
    for mode in CONCURRENT {
        let server = Server::time(mode, &["--max-connections", "20"]);
        let mut holders: Vec<TcpStream> = (0..20)
            .map(|_| TcpStream::connect(server.addr).expect("connect"))
            .collect();
        // Make sure the 20 are really being served (accepted) before the 21st comes.
        for holder in &mut holders {
            holder
                .set_read_timeout(Some(Duration::from_secs(2)))
                .expect("timeout");
            holder.write_all(b"TIME\r\n").expect("send");
            let mut reply = [0u8; 14];
            holder.read_exact(&mut reply).expect("served");
        }
        let mut extra =
            TcpStream::connect(server.addr).expect("the kernel completes the handshake");
        extra.write_all(b"TIME\r\n").expect("send");
        extra
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        let mut byte = [0u8; 1];
        let waited = extra
            .read(&mut byte)
            .expect_err("no reply while all slots are taken");
        assert!(
            matches!(waited.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "{mode}: {waited}"
        );
        drop(holders.pop());
        extra
            .set_read_timeout(Some(Duration::from_secs(3)))
            .expect("timeout");
        let mut reply = [0u8; 14];
        extra
            .read_exact(&mut reply)
            .expect("answered once a slot is free");
        assert!(reply.starts_with(b"JAM "), "{mode}");
    }
}

#[test]
fn slow_clients_sending_a_byte_at_a_time_do_not_delay_others() {
    for mode in CONCURRENT {
        let server = Server::time(mode, &[]);
        let mut slow: Vec<TcpStream> = (0..500)
            .map(|_| TcpStream::connect(server.addr).expect("connect"))
            .collect();
        // Three rounds, one byte per client per second: "TIM" and no more.
        for byte in b"TIM" {
            let round = Instant::now();
            for client in &mut slow {
                client.write_all(&[*byte]).expect("one byte");
            }
            server.assert_serves();
            std::thread::sleep(Duration::from_secs(1).saturating_sub(round.elapsed()));
        }
        // They finish their requests and are answered too.
        for client in slow.iter_mut().take(50) {
            client.write_all(b"E\r\n").expect("rest");
            client
                .set_read_timeout(Some(Duration::from_secs(2)))
                .expect("timeout");
            let mut reply = [0u8; 14];
            client.read_exact(&mut reply).expect("reply");
            assert!(reply.starts_with(b"JAM "));
        }
    }
}

#[test]
fn idle_clients_are_closed_after_the_idle_timeout() {
    for mode in CONCURRENT {
        let server = Server::time(mode, &["--idle-timeout", "1"]);
        let mut idle: Vec<TcpStream> = (0..100)
            .map(|_| TcpStream::connect(server.addr).expect("connect"))
            .collect();
        for client in &mut idle {
            client
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let mut buf = [0u8; 16];
            let n = client.read(&mut buf).unwrap_or(0);
            assert_eq!(n, 0, "{mode}: the server closes idle clients");
        }
        server.assert_serves();
    }
}

#[test]
fn ten_megabytes_without_lf_get_an_error_and_memory_stays_bounded() {
    for mode in CONCURRENT {
        let server = Server::time(mode, &[]);
        let before = server.rss_kb();
        let mut attackers = Vec::new();
        for _ in 0..4 {
            let addr = server.addr;
            attackers.push(std::thread::spawn(move || {
                let mut client = TcpStream::connect(addr).expect("connect");
                client
                    .set_write_timeout(Some(Duration::from_secs(5)))
                    .expect("timeout");
                let chunk = vec![b'A'; 64 * 1024];
                let mut sent = 0;
                while sent < 10 * 1024 * 1024 {
                    match client.write(&chunk) {
                        Ok(n) => sent += n,
                        Err(_) => break,
                    }
                }
                client
                    .set_read_timeout(Some(Duration::from_secs(2)))
                    .expect("timeout");
                let mut reply = Vec::new();
                let _ = client.read_to_end(&mut reply);
                reply
            }));
        }
        server.assert_serves();
        for attacker in attackers {
            let reply = attacker.join().expect("attacker");
            assert!(
                reply.is_empty() || reply.starts_with(b"ERROR line too long"),
                "{mode}: {:?}",
                String::from_utf8_lossy(&reply)
            );
        }
        let after = server.rss_kb();
        assert!(
            after < before + 20 * 1024,
            "{mode}: RSS grew from {before} kB to {after} kB"
        );
        server.assert_serves();
    }
}

#[test]
fn random_bytes_and_resets_mid_request_do_not_hurt_other_clients() {
    for mode in CONCURRENT {
        let mut server = Server::time(mode, &[]);
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..100 {
            let mut client = TcpStream::connect(server.addr).expect("connect");
            let junk: Vec<u8> = (0..4096)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            let _ = client.write_all(if i % 2 == 0 { &junk } else { b"TI" });
            // SO_LINGER 0: the close sends RST, like a crashed client.
            let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
            drop(client);
        }
        server.assert_serves();
        server.assert_alive();
    }
}

#[test]
fn clients_that_never_read_their_replies_cannot_grow_server_memory() {
    for mode in CONCURRENT {
        let server = Server::time(mode, &[]);
        let before = server.rss_kb();
        let mut pushers = Vec::new();
        for _ in 0..10 {
            let addr = server.addr;
            pushers.push(std::thread::spawn(move || {
                let mut client = TcpStream::connect(addr).expect("connect");
                client
                    .set_write_timeout(Some(Duration::from_secs(1)))
                    .expect("timeout");
                let requests = b"TIME\r\n".repeat(10_000);
                let mut sent = 0usize;
                let deadline = Instant::now() + Duration::from_secs(4);
                while Instant::now() < deadline {
                    match client.write(&requests) {
                        Ok(n) => sent += n,
                        Err(_) => break, // the server stopped reading: back-pressure
                    }
                }
                (client, sent)
            }));
        }
        let held: Vec<(TcpStream, usize)> = pushers
            .into_iter()
            .map(|p| p.join().expect("pusher"))
            .collect();
        for (_, sent) in &held {
            assert!(
                *sent < 64 * 1024 * 1024,
                "{mode}: a non-reading client pushed {sent} bytes"
            );
        }
        server.assert_serves();
        let after = server.rss_kb();
        assert!(
            after < before + 20 * 1024,
            "{mode}: RSS grew from {before} kB to {after} kB"
        );
    }
}

#[test]
fn echo_server_memory_stays_bounded_when_a_client_never_reads() {
    for mode in CONCURRENT {
        let server = Server::start(env!("CARGO_BIN_EXE_echo-server"), &["--mode", mode]);
        let before = server.rss_kb();
        let mut client = TcpStream::connect(server.addr).expect("connect");
        client
            .set_write_timeout(Some(Duration::from_secs(1)))
            .expect("timeout");
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0usize;
        while sent < 256 * 1024 * 1024 {
            match client.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        assert!(
            sent < 64 * 1024 * 1024,
            "{mode}: pushed {sent} bytes into a non-reading echo"
        );
        let after = server.rss_kb();
        assert!(
            after < before + 20 * 1024,
            "{mode}: RSS grew from {before} kB to {after} kB"
        );
        let mut other = TcpStream::connect(server.addr).expect("connect");
        other
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        other.write_all(b"ping").expect("send");
        let mut back = [0u8; 4];
        other.read_exact(&mut back).expect("echo");
        assert_eq!(&back, b"ping");
    }
}
