//! How much the servers log under a flood, and what they do at the edge of
//! their resources: the open-files limit raised at start, and in thread mode
//! a connection that cannot have a descriptor or a thread answered
//! `ERROR busy` while the others go on being served.
//!
//! The server binaries run as a student runs them (RUST_LOG unset: info),
//! on 127.0.0.1 ports the kernel chooses; every wait here is bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A server binary with its whole stderr collected; killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<u8>>>,
}

/// What the child does between fork and exec (setrlimit, setuid: only
/// async-signal-safe calls).
type PreExec = Box<dyn FnMut() -> std::io::Result<()> + Send + Sync>;

impl Server {
    fn start(binary: &str, args: &[&str], pre_exec: Option<PreExec>) -> Server {
        let mut command = Command::new(binary);
        command
            .args(["--port", "0", "--bind", "127.0.0.1"])
            .args(args)
            .env_remove("RUST_LOG")
            .env("TZ", "UTC")
            .stderr(Stdio::piped());
        if let Some(pre_exec) = pre_exec {
            // SAFETY: the closures given here only make system calls.
            unsafe {
                command.pre_exec(pre_exec);
            }
        }
        let mut child = command.spawn().expect("server starts");
        let mut stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n) = stderr.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    log.lock().expect("log").extend_from_slice(&buf[..n]);
                }
            });
        }
        let mut server = Server {
            child,
            addr: "127.0.0.1:0".parse().expect("addr"),
            log,
        };
        let line = server.wait_for("listening on");
        server.addr = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("address after 'listening on'")
            .parse()
            .expect("a socket address");
        server
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().expect("log")).into_owned()
    }

    /// Waits up to 10 s for a log line containing `needle`, and returns it.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.text().lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            if let Some(status) = self.child.try_wait().expect("wait") {
                panic!(
                    "the server exited ({status}) before logging {needle:?}:\n{}",
                    self.text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?} within 10 s:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        stream
    }

    /// CPU time (user + system) the server has used, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("server alive");
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .expect("stat")
            .split_whitespace()
            .collect();
        // After the command's ")": state is field 3, utime 14 and stime 15.
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Bytes of the log written about connections (their lines carry the peer).
fn connection_log_bytes(log: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("conn{peer="))
        .map(|l| l.len() + 1)
        .sum()
}

/// Sends `requests` from one thread while this one reads until the server closes.
fn flood(stream: &mut TcpStream, requests: Vec<u8>) -> Vec<u8> {
    let mut writer = stream.try_clone().expect("clone");
    let sender = std::thread::spawn(move || writer.write_all(&requests));
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut replies = Vec::new();
    stream
        .read_to_end(&mut replies)
        .expect("replies, then a FIN");
    sender.join().expect("sender").expect("all requests sent");
    replies
}

/// The numbers in the log's "... N more requests (...)" lines, added up.
fn counted(log: &str, units: &str) -> u64 {
    log.lines()
        .filter_map(|l| l.split("... ").nth(1)?.split_once(" more "))
        .filter(|(_, rest)| rest.starts_with(units))
        .map(|(n, _)| n.replace(',', "").parse::<u64>().expect("a count"))
        .sum()
}

#[test]
fn a_flood_of_20000_requests_on_one_connection_logs_a_few_kilobytes() {
    for mode in ["async", "thread", "iterative"] {
        let mut server = Server::start(env!("CARGO_BIN_EXE_time-server"), &["--mode", mode], None);
        let mut client = server.connect();
        let mut requests = b"TIME\r\n".repeat(20_000);
        requests.extend_from_slice(b"QUIT\r\n");
        let replies = flood(&mut client, requests);
        assert_eq!(replies.len(), 20_000 * 14, "{mode}: every TIME answered");
        let closed = server.wait_for("connection closed");
        let log = server.text();
        let bytes = connection_log_bytes(&log);
        eprintln!("{mode}: {bytes} bytes of log for 20,000 requests on one connection");
        // One by one, it was 160 bytes a request: 3.2 MB.
        assert!(bytes < 8 * 1024, "{mode}: {bytes} bytes of log:\n{log}");
        // What a student needs is still there: the start, the first
        // requests and replies, and the end with why and how many.
        assert!(log.contains("connected"), "{log}");
        let shown = log.matches(r#"received "TIME\r\n""#).count() as u64;
        assert!(
            shown >= 10,
            "{mode}: the first 10 requests are shown:\n{log}"
        );
        assert!(log.matches(r#"sent "JAM "#).count() as u64 >= 10, "{log}");
        assert!(
            closed.contains("client sent QUIT; 20,001 requests"),
            "{mode}: {closed}"
        );
        // Every request (QUIT too) is either shown or counted.
        let all_shown = log.matches(r#"received ""#).count() as u64;
        assert_eq!(
            all_shown + counted(&log, "requests"),
            20_001,
            "{mode}: requests shown + counted:\n{log}"
        );
    }
}

#[test]
fn an_echo_flood_logs_a_few_kilobytes_not_ten_bytes_per_byte() {
    for mode in ["iterative", "thread", "async"] {
        let mut server = Server::start(env!("CARGO_BIN_EXE_echo-server"), &["--mode", mode], None);
        let mut client = server.connect();
        let mut writer = client.try_clone().expect("clone");
        let sender = std::thread::spawn(move || {
            writer.write_all(&vec![b'x'; 200_000]).expect("send");
            writer.shutdown(std::net::Shutdown::Write).expect("FIN");
        });
        let mut echo = Vec::new();
        client.read_to_end(&mut echo).expect("the echo, then a FIN");
        sender.join().expect("sender");
        assert_eq!(echo.len(), 200_000, "{mode}");
        let closed = server.wait_for("connection closed");
        let log = server.text();
        let bytes = connection_log_bytes(&log);
        eprintln!("echo {mode}: {bytes} bytes of log for 200,000 bytes echoed");
        assert!(bytes < 8 * 1024, "{mode}: {bytes} bytes of log:\n{log}");
        assert!(
            log.matches(r#"received "xxxxxxxx"#).count() >= 10,
            "{mode}: the first pieces are shown:\n{log}"
        );
        assert!(
            closed.contains("200,000 bytes read, 200,000 sent"),
            "{mode}: {closed}"
        );
    }
}

#[test]
fn a_client_that_pauses_gets_its_requests_shown_again_and_errors_are_shown() {
    let mut server = Server::start(env!("CARGO_BIN_EXE_time-server"), &[], None);
    let mut client = server.connect();
    // 50 at once: 10 shown, 40 counted.
    client.write_all(&b"TIME\r\n".repeat(50)).expect("send");
    let mut replies = vec![0u8; 50 * 14];
    client.read_exact(&mut replies).expect("50 replies");
    // Invalid requests beyond the rate are shown all the same.
    client.write_all(b"time\r\n").expect("send");
    let mut line = [0u8; 5];
    client.read_exact(&mut line).expect("a reply");
    assert_eq!(&line, b"ERROR");
    server.wait_for(r#"received "time\r\n""#);
    server.wait_for(r#"sent "ERROR unknown command \"time\"; commands are upper case"#);
    // After a pause of a second and a bit, the next request is shown again
    // (and QUIT, the 53rd, counted: the pause earned one).
    std::thread::sleep(Duration::from_millis(1_200));
    client.write_all(b"TIME\r\nQUIT\r\n").expect("send");
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    let closed = server.wait_for("connection closed");
    let log = server.text();
    assert_eq!(
        log.matches(r#"received "TIME\r\n""#).count(),
        11,
        "10 at once, then one more after the pause:\n{log}"
    );
    assert!(
        log.contains("requests come faster than the log shows them one by one"),
        "{log}"
    );
    assert!(
        closed.contains("53 requests (41 of them only counted)"),
        "{closed}"
    );
}

/// Sets the open-files limit of the child (soft, hard).
fn nofile(soft: u64, hard: u64) -> PreExec {
    Box::new(move || {
        let limit = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setrlimit only reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    })
}

fn current_nofile() -> (u64, u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    (limit.rlim_cur, limit.rlim_max)
}

#[test]
fn the_soft_open_files_limit_is_raised_to_the_hard_one_and_logged() {
    let hard = current_nofile().1.min(4096);
    assert!(
        hard > 256,
        "this test needs a hard limit above 256, not {hard}"
    );
    let mut server = Server::start(
        env!("CARGO_BIN_EXE_time-server"),
        &[],
        Some(nofile(256, hard)),
    );
    let line = server.wait_for("open files limit");
    assert!(
        line.contains(&format!("raised from 256 to {hard}, the hard limit")),
        "{line}"
    );
    let limits =
        std::fs::read_to_string(format!("/proc/{}/limits", server.child.id())).expect("limits");
    let open_files = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files");
    let numbers: Vec<&str> = open_files.split_whitespace().skip(3).take(2).collect();
    assert_eq!(
        numbers,
        [hard.to_string(), hard.to_string()],
        "{open_files}"
    );
}

/// Reads one reply line, or what came before the server closed or went quiet.
fn reply_line(stream: &mut TcpStream) -> Vec<u8> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            _ => break,
        }
    }
    line
}

/// Opens connections, each asking TIME, until one is answered `ERROR busy`
/// (at most `tries`): returns the ones served, and the busy one.
fn fill_until_busy(server: &Server, tries: usize) -> (Vec<TcpStream>, TcpStream) {
    let mut served = Vec::new();
    for i in 0..tries {
        let mut client = server.connect();
        client.write_all(b"TIME\r\n").expect("send");
        let reply = reply_line(&mut client);
        if reply.starts_with(b"JAM ") {
            served.push(client);
            continue;
        }
        assert_eq!(
            String::from_utf8_lossy(&reply),
            "ERROR busy\r\n",
            "connection {i}: neither served nor answered busy"
        );
        return (served, client);
    }
    panic!("no connection was answered ERROR busy in {tries} tries");
}

fn assert_serves(client: &mut TcpStream) {
    client.write_all(b"TIME\r\n").expect("send");
    let reply = reply_line(client);
    assert!(
        reply.starts_with(b"JAM "),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
}

/// A new connection is served within 5 s (a thread that ended may take a
/// moment to give its descriptor or its task back).
fn assert_new_connection_served(server: &Server) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut client = server.connect();
        client.write_all(b"TIME\r\n").expect("send");
        let reply = reply_line(&mut client);
        if reply.starts_with(b"JAM ") {
            return client;
        }
        assert!(
            Instant::now() < deadline,
            "a new connection was not served: {:?}",
            String::from_utf8_lossy(&reply)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn thread_mode_out_of_descriptors_answers_busy_and_keeps_serving() {
    let limit = 40;
    let mut server = Server::start(
        env!("CARGO_BIN_EXE_time-server"),
        &["--mode", "thread"],
        Some(nofile(limit, limit)),
    );
    let line = server.wait_for("open files limit");
    assert!(line.contains("40, already the hard limit"), "{line}");
    let (mut served, mut busy) = fill_until_busy(&server, 2 * limit as usize);
    assert!(
        served.len() >= 5,
        "only {} served before busy",
        served.len()
    );
    // The busy client is closed after the reply (FIN, not a reset).
    let mut rest = Vec::new();
    busy.read_to_end(&mut rest).expect("a FIN after ERROR busy");
    assert!(rest.is_empty(), "{rest:?}");
    let refusal = server.wait_for("ERROR busy");
    assert!(
        refusal.contains("no file descriptor left (open files limit 40, ulimit -n)"),
        "{refusal}"
    );
    // More clients at the limit are answered too, and nothing spins: the
    // accept thread waits for the next client as it always does.
    for _ in 0..5 {
        let mut client = server.connect();
        client.write_all(b"TIME\r\n").expect("send");
        assert_eq!(reply_line(&mut client), b"ERROR busy\r\n");
    }
    let before = server.cpu_ticks();
    std::thread::sleep(Duration::from_secs(1));
    let spent = server.cpu_ticks() - before;
    assert!(
        spent <= 10,
        "the server used {spent} ticks of CPU in 1 s at the limit"
    );
    // Those being served still are; once some leave, newcomers are served.
    for client in &mut served {
        assert_serves(client);
    }
    served.truncate(served.len() - 2);
    assert_new_connection_served(&server);
    assert!(
        server.child.try_wait().expect("wait").is_none(),
        "the server exited"
    );
}

/// Threads (tasks) of user `uid` now, from /proc.
fn tasks_of(uid: u32) -> u64 {
    let mut count = 0;
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return 0;
    };
    for process in processes.flatten() {
        let Ok(tasks) = std::fs::read_dir(process.path().join("task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
                continue;
            };
            let real = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().next()?.parse::<u32>().ok());
            count += u64::from(real == Some(uid));
        }
    }
    count
}

#[test]
fn thread_mode_without_a_thread_to_spare_answers_busy_and_keeps_serving() {
    // RLIMIT_NPROC (threads per user) does not bind root: the server runs
    // as nobody, with room for a few threads. Only root can switch users.
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("skipped: only root can run the server as another user with few threads");
        return;
    }
    let nobody: u32 = 65_534;
    // Its own three threads (main, signals, accept), and two connections.
    let nproc = tasks_of(nobody) + 5;
    let pre_exec: PreExec = Box::new(move || {
        let limit = libc::rlimit {
            rlim_cur: nproc,
            rlim_max: nproc,
        };
        // SAFETY: plain system calls on our own process.
        unsafe {
            if libc::setrlimit(libc::RLIMIT_NPROC, &limit) != 0
                || libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(nobody) != 0
                || libc::setuid(nobody) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    });
    let mut server = Server::start(
        env!("CARGO_BIN_EXE_time-server"),
        &["--mode", "thread"],
        Some(pre_exec),
    );
    let (mut served, mut busy) = fill_until_busy(&server, 20);
    assert!(!served.is_empty(), "no connection served at all");
    let mut rest = Vec::new();
    busy.read_to_end(&mut rest).expect("a FIN after ERROR busy");
    let refusal = server.wait_for("ERROR busy");
    assert!(
        refusal.contains("cannot start a thread for it"),
        "{refusal}"
    );
    for client in &mut served {
        assert_serves(client);
    }
    served.pop();
    assert_new_connection_served(&server);
    assert!(
        server.child.try_wait().expect("wait").is_none(),
        "the server exited"
    );
}

#[test]
fn thread_mode_echo_out_of_descriptors_closes_at_once_and_keeps_serving() {
    let mut server = Server::start(
        env!("CARGO_BIN_EXE_echo-server"),
        &["--mode", "thread"],
        Some(nofile(40, 40)),
    );
    let mut served = Vec::new();
    let mut refused = None;
    for _ in 0..80 {
        let mut client = server.connect();
        client.write_all(b"ping").expect("send");
        let mut echo = Vec::new();
        let _ = (&mut client).take(4).read_to_end(&mut echo);
        if echo == b"ping" {
            served.push(client);
            continue;
        }
        // The echo protocol has no message for it: a FIN with nothing sent.
        assert!(echo.is_empty(), "{echo:?}");
        refused = Some(client);
        break;
    }
    assert!(refused.is_some(), "no connection was refused at the limit");
    assert!(served.len() >= 5, "only {} served", served.len());
    let line = server.wait_for("closed at once with nothing sent");
    assert!(line.contains("no file descriptor left"), "{line}");
    for client in &mut served {
        client.write_all(b"more").expect("send");
        let mut echo = [0u8; 4];
        client.read_exact(&mut echo).expect("still echoed");
        assert_eq!(&echo, b"more");
    }
    served.truncate(served.len() - 2);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut client = server.connect();
        client.write_all(b"back").expect("send");
        let mut echo = Vec::new();
        let _ = (&mut client).take(4).read_to_end(&mut echo);
        if echo == b"back" {
            break;
        }
        assert!(Instant::now() < deadline, "a newcomer was not echoed");
        std::thread::sleep(Duration::from_millis(100));
    }
}
