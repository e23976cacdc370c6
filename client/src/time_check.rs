//! `time-client check`: tests any time server against the assignment.
//!
//! Each check opens its own connection(s), sends exactly what it says, and
//! reports PASS or FAIL with what was sent, what came back, and, on FAIL, a
//! hint in the words of a student's Python server (`recv`, threads). The
//! checks are the mistakes students make: treating one `recv()` as one
//! request, insisting on exactly `TIME\r\n`, serving one client at a time,
//! dying when a client resets.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{NaiveTime, Timelike};
use progjar_protocol::escape::quoted;
use progjar_protocol::line::Frame;
use progjar_protocol::time::{parse_jam, JAM_REPLY_LEN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// Short name, e.g. `split request`.
    pub name: &'static str,
    /// Whether the server behaved as the assignment asks.
    pub passed: bool,
    /// What was sent and what came back.
    pub detail: String,
    /// How to fix it, on FAIL.
    pub hint: Option<&'static str>,
}

impl std::fmt::Display for CheckResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = if self.passed { "PASS" } else { "FAIL" };
        write!(f, "{verdict}  {:<22} {}", self.name, self.detail)?;
        if let (false, Some(hint)) = (self.passed, self.hint) {
            write!(f, "\n      hint: {hint}")?;
        }
        Ok(())
    }
}

/// Where the server under test is.
#[derive(Debug, Clone)]
pub struct Target {
    /// Name or address.
    pub host: String,
    /// Port.
    pub port: u16,
}

/// How long a check waits for something that should come at once.
const PROMPT: Duration = Duration::from_secs(2);
/// How long a check listens for replies that should *not* come.
const QUIET: Duration = Duration::from_millis(600);

/// Runs every check in order and returns their results.
pub async fn run_all(target: &Target) -> Vec<CheckResult> {
    vec![
        reply_format(target).await,
        time_advances(target).await,
        several_requests(target).await,
        quit_closes(target).await,
        split_request(target).await,
        two_requests_in_one_segment(target).await,
        bare_lf(target).await,
        unknown_command(target).await,
        concurrency(target).await,
        survives_reset(target).await,
    ]
}

fn result(name: &'static str, passed: bool, detail: String, hint: &'static str) -> CheckResult {
    CheckResult {
        name,
        passed,
        detail,
        hint: Some(hint),
    }
}

/// A connection that keeps what it has read, to show it in the report.
struct Probe {
    stream: TcpStream,
    received: Vec<u8>,
}

/// What came back while a check listened.
enum Heard {
    /// A whole line (with its terminator).
    Line(Vec<u8>),
    /// The server closed the connection.
    Closed,
    /// Nothing more within the time.
    Nothing,
}

impl Probe {
    async fn open(target: &Target) -> Result<Probe, String> {
        match tokio::time::timeout(
            PROMPT,
            TcpStream::connect((target.host.as_str(), target.port)),
        )
        .await
        {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                Ok(Probe {
                    stream,
                    received: Vec::new(),
                })
            }
            Ok(Err(e)) => Err(format!(
                "cannot connect to {}:{}: {e}",
                target.host, target.port
            )),
            Err(_) => Err(format!(
                "no answer from {}:{} within {:?}",
                target.host, target.port, PROMPT
            )),
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| format!("sending {}: {e}", quoted(bytes)))
    }

    /// Reads until a whole line, a close, or `wait` passes.
    async fn hear(&mut self, wait: Duration) -> Heard {
        let deadline = Instant::now() + wait;
        loop {
            // A line is everything up to and including the next LF.
            if let Some(lf) = self.received.iter().position(|&b| b == b'\n') {
                return Heard::Line(self.received.drain(..=lf).collect());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let mut buf = [0u8; 4096];
            match tokio::time::timeout(left, self.stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return Heard::Closed,
                Ok(Ok(n)) => self.received.extend_from_slice(&buf[..n]),
                Err(_) => return Heard::Nothing,
            }
        }
    }

    /// Every line heard within `wait`, and whether the server closed.
    async fn hear_all(&mut self, wait: Duration) -> (Vec<Vec<u8>>, bool) {
        let deadline = Instant::now() + wait;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.hear(left).await {
                Heard::Line(line) => lines.push(line),
                Heard::Closed => return (lines, true),
                Heard::Nothing => return (lines, false),
            }
        }
    }

    /// Sends TIME and returns the reply line (or why there is none).
    async fn ask_time(&mut self) -> Result<Vec<u8>, String> {
        self.send(b"TIME\r\n").await?;
        match self.hear(PROMPT).await {
            Heard::Line(line) => Ok(line),
            Heard::Closed => Err(format!(
                "the server closed the connection{}",
                leftover(&self.received)
            )),
            Heard::Nothing => Err(format!(
                "no complete reply line within {:?}{}",
                PROMPT,
                leftover(&self.received)
            )),
        }
    }
}

fn leftover(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        String::new()
    } else {
        format!(" (partial: {})", quoted(bytes))
    }
}

/// The time in a `JAM hh:mm:ss\r\n` line, if it is exactly that.
fn jam_time(line: &[u8]) -> Option<NaiveTime> {
    let body = line.strip_suffix(b"\r\n")?;
    if line.len() != JAM_REPLY_LEN {
        return None;
    }
    parse_jam(&Frame::CrLf(body.to_vec())).ok()
}

fn show(lines: &[Vec<u8>]) -> String {
    if lines.is_empty() {
        "nothing".to_string()
    } else {
        lines
            .iter()
            .map(|l| quoted(l))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

async fn with_probe<F, Fut>(
    target: &Target,
    name: &'static str,
    hint: &'static str,
    body: F,
) -> CheckResult
where
    F: FnOnce(Probe) -> Fut,
    Fut: Future<Output = Result<(bool, String), String>>,
{
    let outcome = match Probe::open(target).await {
        Ok(probe) => body(probe).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok((passed, detail)) => result(name, passed, detail, hint),
        Err(detail) => result(name, false, detail, hint),
    }
}

async fn reply_format(target: &Target) -> CheckResult {
    with_probe(
        target,
        "reply format",
        "reply exactly \"JAM hh:mm:ss\\r\\n\": 24-hour, two digits each (strftime(\"%H:%M:%S\")), UTF-8, ending in \\r\\n",
        |mut probe| async move {
            let line = probe.ask_time().await?;
            Ok((jam_time(&line).is_some(), format!("sent \"TIME\\r\\n\", got {} ({} bytes; want 14)", quoted(&line), line.len())))
        },
    )
    .await
}

async fn time_advances(target: &Target) -> CheckResult {
    with_probe(
        target,
        "time advances",
        "read the clock for every request (datetime.now()), not once at start-up",
        |mut probe| async move {
            let first = probe.ask_time().await?;
            tokio::time::sleep(Duration::from_millis(1200)).await;
            let second = probe.ask_time().await?;
            let detail = format!(
                "two TIMEs 1.2 s apart got {} then {}",
                quoted(&first),
                quoted(&second)
            );
            let (Some(a), Some(b)) = (jam_time(&first), jam_time(&second)) else {
                return Ok((false, detail));
            };
            // Seconds from a to b, across midnight if need be.
            let diff = (i64::from(b.num_seconds_from_midnight())
                - i64::from(a.num_seconds_from_midnight()))
            .rem_euclid(86_400);
            Ok(((1..=3).contains(&diff), detail))
        },
    )
    .await
}

async fn several_requests(target: &Target) -> CheckResult {
    with_probe(
        target,
        "several requests",
        "keep reading from the same connection in a loop until QUIT or EOF; do not close after one reply",
        |mut probe| async move {
            let mut replies = Vec::new();
            for _ in 0..3 {
                match probe.ask_time().await {
                    Ok(line) => replies.push(line),
                    Err(e) => return Ok((false, format!("after {} good replies: {e}", replies.len()))),
                }
            }
            let ok = replies.iter().all(|l| jam_time(l).is_some());
            Ok((ok, format!("3 x \"TIME\\r\\n\" on one connection got {}", show(&replies))))
        },
    )
    .await
}

async fn quit_closes(target: &Target) -> CheckResult {
    with_probe(
        target,
        "QUIT closes",
        "on a line starting with QUIT, send nothing and close the connection (conn.close())",
        |mut probe| async move {
            probe.send(b"QUIT\r\n").await?;
            let (lines, closed) = probe.hear_all(Duration::from_secs(1)).await;
            let detail = format!(
                "sent \"QUIT\\r\\n\", got {} and {}",
                show(&lines),
                if closed {
                    "the connection closed"
                } else {
                    "no close within 1 s"
                }
            );
            Ok((closed && lines.is_empty(), detail))
        },
    )
    .await
}

async fn split_request(target: &Target) -> CheckResult {
    with_probe(
        target,
        "split request",
        "TCP is a byte stream: one recv() may hold part of a line. Keep a buffer, append each recv(), and act only on complete lines ending in \\r\\n",
        |mut probe| async move {
            probe.send(b"TI").await?;
            tokio::time::sleep(Duration::from_millis(200)).await;
            probe.send(b"ME\r\n").await?;
            let (lines, _) = probe.hear_all(QUIET + Duration::from_millis(400)).await;
            let ok = lines.len() == 1 && jam_time(&lines[0]).is_some();
            Ok((ok, format!("sent \"TI\", 200 ms later \"ME\\r\\n\", got {}", show(&lines))))
        },
    )
    .await
}

async fn two_requests_in_one_segment(target: &Target) -> CheckResult {
    with_probe(
        target,
        "two in one segment",
        "one recv() may hold several requests: split the buffer at \\r\\n and answer every complete line",
        |mut probe| async move {
            probe.send(b"TIME\r\nTIME\r\n").await?;
            let (lines, _) = probe.hear_all(QUIET + Duration::from_millis(400)).await;
            let ok = lines.len() == 2 && lines.iter().all(|l| jam_time(l).is_some());
            Ok((ok, format!("sent \"TIME\\r\\nTIME\\r\\n\" in one write, got {}", show(&lines))))
        },
    )
    .await
}

async fn bare_lf(target: &Target) -> CheckResult {
    with_probe(
        target,
        "bare LF refused",
        "a request must end with CR LF (\\r\\n); answer a line ending in a bare \\n with an error, not JAM",
        |mut probe| async move {
            probe.send(b"TIME\n").await?;
            let (lines, closed) = probe.hear_all(QUIET).await;
            let jam = lines.iter().any(|l| l.starts_with(b"JAM"));
            Ok((!jam, format!("sent \"TIME\\n\", got {}{}", show(&lines), if closed { ", then a close" } else { "" })))
        },
    )
    .await
}

async fn unknown_command(target: &Target) -> CheckResult {
    let first = with_probe(target, "unknown command", "", |mut probe| async move {
        probe.send(b"HELLO\r\n").await?;
        let (lines, _) = probe.hear_all(QUIET).await;
        Ok((true, show(&lines)))
    })
    .await;
    with_probe(
        target,
        "unknown command",
        "answer an unknown command with an error line and keep serving; never let one bad line stop the server",
        |mut probe| async move {
            let line = probe.ask_time().await;
            let ok = line.as_ref().is_ok_and(|l| jam_time(l).is_some());
            let after = match line {
                Ok(l) => quoted(&l),
                Err(e) => e,
            };
            Ok((ok, format!("sent \"HELLO\\r\\n\" (got {}); a new client's TIME then got {after}", first.detail)))
        },
    )
    .await
}

async fn concurrency(target: &Target) -> CheckResult {
    let hint = "serve each client in its own thread (threading.Thread(target=..., args=(conn,)).start()) or with asyncio, so one client cannot make the others wait";
    let idle = match Probe::open(target).await {
        Ok(probe) => probe,
        Err(e) => return result("concurrency", false, e, hint),
    };
    let started = Instant::now();
    let mut clients = JoinSet::new();
    for _ in 0..10 {
        let target = target.clone();
        clients.spawn(async move {
            let mut probe = Probe::open(&target).await.ok()?;
            let line = probe.ask_time().await.ok()?;
            let _ = probe.send(b"QUIT\r\n").await;
            jam_time(&line).map(|_| ())
        });
    }
    let mut answered = 0;
    let deadline = tokio::time::sleep(PROMPT);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            done = clients.join_next() => match done {
                Some(Ok(Some(()))) => answered += 1,
                Some(_) => {}
                None => break,
            },
            _ = &mut deadline => break,
        }
    }
    clients.abort_all();
    drop(idle);
    let took = started.elapsed().as_secs_f64();
    if answered == 10 {
        result(
            "concurrency",
            true,
            format!("while one client sat idle, 10 others were answered in {took:.2} s"),
            hint,
        )
    } else {
        result(
            "concurrency",
            false,
            format!(
                "while one client sat idle, only {answered} of 10 others were answered within {:.0} s: \
                 the server serves one client at a time (iterative)",
                PROMPT.as_secs_f64()
            ),
            hint,
        )
    }
}

async fn survives_reset(target: &Target) -> CheckResult {
    if let Ok(mut probe) = Probe::open(target).await {
        let _ = probe.send(b"TI").await;
        // SO_LINGER 0: closing sends RST instead of FIN, like a crashed client.
        let _ = socket2::SockRef::from(&probe.stream).set_linger(Some(Duration::ZERO));
        drop(probe);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    with_probe(
        target,
        "survives a reset",
        "catch ConnectionResetError (and other socket errors) per client and close only that connection",
        |mut probe| async move {
            let line = probe.ask_time().await?;
            Ok((jam_time(&line).is_some(), format!("a client sent \"TI\" and reset; the next client's TIME got {}", quoted(&line))))
        },
    )
    .await
}
