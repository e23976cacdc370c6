//! `time-client check`: tests any time server against the assignment.
//!
//! Each check opens its own connection(s), sends exactly what it says, and
//! reports PASS or FAIL with what was sent, what came back, and, on FAIL, a
//! hint in the words of a student's Python server (`recv`, threads). The
//! checks are the mistakes students make: treating one `recv()` as one
//! request, insisting on exactly `TIME\r\n`, serving one client at a time,
//! dying when a client resets.
//!
//! Each check judges one property. Only *reply format* insists on exactly
//! `JAM hh:mm:ss\r\n`; for every other check a reply is any line that begins
//! with `JAM ` and ends in LF, so a server whose only fault is its reply (the
//! course's own `server_thread_time.py` puts the date before the time) fails
//! *reply format* alone. A hint names a cause only when the run showed it:
//! a check that could not get as far as its property (no connection, no
//! reply at all) says so, and hints at that instead.
//!
//! Whatever the server does, the checks end in bounded time and memory:
//! every wait (connect, send, reply, close) has a deadline fixed when it
//! begins, checked before every read, so bytes that keep coming cannot
//! postpone it; at most [`MAX_LINE`] bytes of a line are kept (a longer one
//! is a failed check that says how much came without a line end), and at
//! most [`MAX_LINES`] lines per listen. [`WORST_CASE`] is the sum of every
//! check's waits: `time-client check --help` states it.

use std::future::Future;
use std::time::Duration;

use chrono::{NaiveTime, Timelike};
use progjar_protocol::escape::quoted;
use progjar_protocol::line::Frame;
use progjar_protocol::time::{parse_jam, JAM_REPLY_LEN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, timeout_at, Instant};

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// Short name, e.g. `split request`.
    pub name: &'static str,
    /// Whether the server behaved as the assignment asks.
    pub passed: bool,
    /// What was sent and what came back.
    pub detail: String,
    /// How to fix it, on FAIL only.
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
/// How long a request sent on its own (no reply awaited) may take to be
/// taken by the server's kernel.
const SEND: Duration = Duration::from_secs(1);
/// The longest line kept: more bytes without an LF are taken as they are.
const MAX_LINE: usize = 1024;
/// Lines kept (and shown) per listen; more are counted, not kept.
const MAX_LINES: usize = 4;
/// Bytes of a line shown in a report.
const SHOWN: usize = 64;
/// After a line longer than `MAX_LINE`, bytes read (and dropped) to say
/// how long it was, at most.
const MEASURE_UP_TO: u64 = 16 << 20;
/// The longest `time-client check` can take, whatever the server does: the
/// sum of the checks' waits (see [`worst_case`]), rounded up.
pub const WORST_CASE: Duration = Duration::from_secs(70);
/// Clients the concurrency check serves while one sits idle.
const OTHERS: usize = 10;
/// How long the idle client holds its connection open while the others
/// ask. A concurrent server answers them in milliseconds (a `listen(1)`
/// backlog overrun by a burst of connects costs a 1 s SYN retransmission,
/// then 3 s); an iterative one never answers while the idle client stays.
const IDLE_HOLD: Duration = Duration::from_secs(5);
/// The next of the others starts when the one before is answered, or after
/// this long if it is not: paced, so a `listen(1)` backlog is not overrun.
const LAUNCH_GAP: Duration = Duration::from_millis(300);

const HINT_CONNECT: &str =
    "nothing accepted the connection: start the server first, and check the host and port it listens on (server.bind((\"0.0.0.0\", 45000)))";
const HINT_NOT_ACCEPTED: &str =
    "the connection was not accepted in time: check the host and port, and that the server goes back to accept() after each client";
const HINT_CLOSED: &str =
    "the server closed the connection without a reply: answer every line that begins with TIME, and close only on QUIT or when the client closes (an uncaught exception also closes it)";
const HINT_SILENT: &str =
    "answer a line that begins with TIME at once (conn.sendall(...)); do not wait for more data or for the client to close";
const HINT_NO_LINE_END: &str =
    "end every reply line with \\r\\n: the client reads up to the line end";
const HINT_TOO_LONG: &str =
    "send one short line per request, \"JAM hh:mm:ss\\r\\n\" (14 bytes), ending in \\r\\n: a client stops reading a line that goes on for more than 1 KiB";
const HINT_SEND: &str = "keep the connection open until the client sends QUIT or closes it";
const HINT_NOT_JAM: &str =
    "answer a line that begins with TIME with a line that begins with \"JAM \" and ends in \\r\\n";
const HINT_FORMAT: &str =
    "reply exactly \"JAM hh:mm:ss\\r\\n\": the time only, no date or other text; 24-hour, two digits each (strftime(\"%H:%M:%S\")), UTF-8, ending in \\r\\n";
const HINT_NO_CLOCK: &str =
    "put the time in the reply as hh:mm:ss, two digits each (strftime(\"%H:%M:%S\"))";
const HINT_FROZEN: &str = "read the clock for every request (datetime.now()), not once at start-up";
const HINT_WRONG_CLOCK: &str =
    "report the current time of day for every request: datetime.now().strftime(\"%H:%M:%S\")";
const HINT_CLOSE_AFTER_REPLY: &str =
    "keep reading from the same connection in a loop until QUIT or EOF; do not close after a reply";
const HINT_KEEP_READING: &str =
    "keep reading from the same connection in a loop (while True: data = conn.recv(...)) and answer every TIME until QUIT or EOF";
const HINT_QUIT_CLOSE: &str =
    "on a line that begins with QUIT, send nothing and close the connection (conn.close())";
const HINT_QUIT_SILENT: &str =
    "send nothing in answer to QUIT: just close the connection (conn.close())";
const HINT_SPLIT: &str =
    "TCP is a byte stream: one recv() may hold part of a line. Keep a buffer, append each recv(), and act only on complete lines ending in \\r\\n";
const HINT_PIPELINED: &str =
    "one recv() may hold several requests: split the buffer at \\r\\n and answer every complete line";
const HINT_BARE_LF: &str =
    "a request must end with CR LF (\\r\\n); answer a line ending in a bare \\n with an error, not JAM";
const HINT_UNKNOWN: &str =
    "an unknown command must not stop the server: answer it with an error line and keep serving; if it raised an exception, catch it per client";
const HINT_THREAD: &str =
    "serve each client in its own thread (threading.Thread(target=..., args=(conn,)).start()) or with asyncio, so one client cannot make the others wait";
const HINT_LIMITED: &str =
    "some clients were served only after the idle one left: serve every client at once (a thread per client, or asyncio); a fixed pool of threads or a cap on clients makes the rest wait";
const HINT_SOME_UNANSWERED: &str =
    "some clients got no reply at all: go back to accept() right after starting each client's thread, and answer every TIME at once";
const HINT_IDLE_CLOSED: &str =
    "keep a connection open while its client is silent (a person may wait before typing TIME); this check holds one silent client for 5 s to see whether the others are served meanwhile";
const HINT_RESET: &str =
    "catch ConnectionResetError (and other socket errors) per client and close only that connection";

/// The longest each check can take, added up from its waits: connecting,
/// asking (send and reply share one deadline) and listening take `PROMPT`,
/// `PROMPT` and the listen's time at most, whatever the server sends.
#[cfg(test)]
fn worst_case() -> Duration {
    let open = PROMPT;
    let ask = PROMPT;
    let ms = Duration::from_millis;
    [
        // reply format
        open + ask,
        // time advances
        open + ask + ms(1200) + ask,
        // several requests
        open + 3 * ask,
        // QUIT closes
        open + Duration::from_secs(1),
        // split request: a lone client first, then "TI", 200 ms, "ME\r\n" and listen
        open + ask + open + SEND + ms(200) + QUIET + ms(400),
        // two in one segment
        open + ask + open + QUIET + ms(400),
        // bare LF refused
        open + QUIET,
        // unknown command
        open + ask + QUIET + open + ask,
        // concurrency: the idle client, its hold, then the others' last chance
        open + IDLE_HOLD + PROMPT,
        // survives a reset
        open + ask + SEND + ms(300) + open + ask,
    ]
    .iter()
    .sum()
}

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

/// What a check concluded about its property.
struct Verdict {
    passed: bool,
    detail: String,
    /// Shown on FAIL only.
    hint: &'static str,
}

impl Verdict {
    fn pass(detail: String) -> Verdict {
        Verdict {
            passed: true,
            detail,
            hint: "",
        }
    }

    fn fail(detail: String, hint: &'static str) -> Verdict {
        Verdict {
            passed: false,
            detail,
            hint,
        }
    }
}

/// Why a check could not get as far as its property, and what to do.
#[derive(Debug)]
struct Failure {
    kind: Trouble,
    detail: String,
    hint: &'static str,
}

/// What stopped a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trouble {
    /// The connection was refused or failed.
    Connect,
    /// The connection was not accepted in time.
    NotAccepted,
    /// Writing a request failed.
    Send,
    /// The server closed (or reset) the connection before a whole line.
    Closed,
    /// Nothing in time.
    Silent,
    /// Part of a line, but no line end, in time.
    Partial,
    /// A line that is not a JAM reply.
    NotJam,
    /// More than `MAX_LINE` bytes without a line end.
    TooLong,
}

impl Failure {
    /// The same failure, its detail after `context`.
    fn after(self, context: &str) -> Failure {
        Failure {
            detail: format!("{context}{}", self.detail),
            ..self
        }
    }
}

fn finish(name: &'static str, outcome: Result<Verdict, Failure>) -> CheckResult {
    let (passed, detail, hint) = match outcome {
        Ok(v) => (v.passed, v.detail, v.hint),
        Err(f) => (false, f.detail, f.hint),
    };
    CheckResult {
        name,
        passed,
        detail,
        hint: (!passed).then_some(hint),
    }
}

/// A connection that keeps what it has read, to show it in the report.
struct Probe {
    stream: TcpStream,
    /// Bytes read but not yet returned as a line; never more than `MAX_LINE`.
    received: Vec<u8>,
}

/// What came back while a check listened.
enum Heard {
    /// A whole line with its LF.
    Line(Vec<u8>),
    /// More than `MAX_LINE` bytes without an LF.
    TooLong(Overrun),
    /// The server closed (or reset) the connection.
    Closed,
    /// Nothing more within the time.
    Nothing,
}

/// A line longer than `MAX_LINE`: how it began and how long it was.
#[derive(Debug, Clone)]
struct Overrun {
    /// Its first `SHOWN` bytes.
    head: Vec<u8>,
    /// Bytes of it received, its LF included if it came.
    bytes: u64,
    /// How it ended.
    end: OverrunEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OverrunEnd {
    /// An LF came.
    LineEnd,
    /// The server closed the connection.
    Closed,
    /// Still no LF when the wait ended or `MEASURE_UP_TO` bytes had come.
    NoEnd,
}

impl Overrun {
    /// In words, e.g. `a line of 1048582 bytes (1.0 MiB) with its line end
    /// (at most 1024 allowed), beginning "JAM 0000"...`.
    fn show(&self) -> String {
        let size = size(self.bytes);
        let head = format!("{}...", quoted(&self.head));
        match self.end {
            OverrunEnd::LineEnd => format!(
                "a line of {size} with its line end (at most {MAX_LINE} allowed), beginning {head}"
            ),
            OverrunEnd::Closed => {
                format!("{size} without a line end, beginning {head}, then a close")
            }
            OverrunEnd::NoEnd if self.bytes >= MEASURE_UP_TO => format!(
                "{size} without a line end, beginning {head}; the client stopped reading there"
            ),
            OverrunEnd::NoEnd => format!(
                "{size} without a line end, beginning {head}, and no line end when the wait ended"
            ),
        }
    }
}

/// A byte count for a report: `1048582 bytes (1.0 MiB)`.
fn size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KIB * KIB {
        format!("{bytes} bytes ({:.1} MiB)", b / (KIB * KIB))
    } else if b >= KIB {
        format!("{bytes} bytes ({:.1} KiB)", b / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Every line heard during one listen.
struct Listened {
    /// The first `MAX_LINES` lines.
    lines: Vec<Vec<u8>>,
    /// Lines heard beyond those.
    more: usize,
    /// A line too long to keep, which ended the listen.
    overrun: Option<Overrun>,
    /// Whether the server closed the connection.
    closed: bool,
}

impl Listened {
    fn count(&self) -> usize {
        self.lines.len() + self.more + usize::from(self.overrun.is_some())
    }

    fn show(&self) -> String {
        let mut shown = show(&self.lines);
        if self.more > 0 {
            shown.push_str(&format!(" and {} more", self.more));
        }
        if let Some(overrun) = &self.overrun {
            if self.lines.is_empty() {
                shown = overrun.show();
            } else {
                shown.push_str(&format!(" and {}", overrun.show()));
            }
        }
        shown
    }

    /// Whether any line heard begins with `JAM ` (a line too long to keep
    /// counts, by how it began).
    fn any_jam(&self) -> bool {
        self.lines.iter().any(|l| l.starts_with(b"JAM "))
            || self
                .overrun
                .as_ref()
                .is_some_and(|o| o.head.starts_with(b"JAM "))
    }
}

/// How one read ended.
enum Read {
    Data(usize),
    Closed,
    Timeout,
}

impl Probe {
    async fn open(target: &Target) -> Result<Probe, Failure> {
        Probe::open_by(target, Instant::now() + PROMPT).await
    }

    async fn open_by(target: &Target, deadline: Instant) -> Result<Probe, Failure> {
        match timeout_at(
            deadline,
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
            Ok(Err(e)) => Err(Failure {
                kind: Trouble::Connect,
                detail: format!(
                    "a client cannot connect to {}:{}: {e}",
                    target.host, target.port
                ),
                hint: HINT_CONNECT,
            }),
            Err(_) => Err(Failure {
                kind: Trouble::NotAccepted,
                detail: format!(
                    "a client's connection to {}:{} was not accepted in time",
                    target.host, target.port
                ),
                hint: HINT_NOT_ACCEPTED,
            }),
        }
    }

    /// Writes all of `bytes`, within `SEND`.
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.send_by(bytes, Instant::now() + SEND).await
    }

    /// Writes all of `bytes` by `deadline`: a server that does not read
    /// cannot hold the check.
    async fn send_by(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), Failure> {
        let failed = |why: String| Failure {
            kind: Trouble::Send,
            detail: format!("sending {} failed: {why}", quoted(bytes)),
            hint: HINT_SEND,
        };
        match timeout_at(deadline, self.stream.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(failed(e.to_string())),
            Err(_) => Err(failed(
                "the server did not take it in time (it is not reading)".into(),
            )),
        }
    }

    /// Sends `bytes`, then listens: both within `wait`.
    async fn request(&mut self, bytes: &[u8], wait: Duration) -> Result<Listened, Failure> {
        let deadline = Instant::now() + wait;
        self.send_by(bytes, deadline).await?;
        Ok(self.hear_all_by(deadline).await)
    }

    /// One read into `buf`, by `deadline`. The deadline is checked before
    /// reading: a read that is ready returns even after it, so a server that
    /// never stops sending would otherwise never let it pass.
    async fn read_by(&mut self, deadline: Instant, buf: &mut [u8]) -> Read {
        if Instant::now() >= deadline {
            return Read::Timeout;
        }
        match timeout_at(deadline, self.stream.read(buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => Read::Closed,
            Ok(Ok(n)) => Read::Data(n),
            Err(_) => Read::Timeout,
        }
    }

    /// Reads until a whole line, a close, or `deadline`; never keeps more
    /// than `MAX_LINE` bytes.
    async fn hear_by(&mut self, deadline: Instant) -> Heard {
        let mut buf = [0u8; MAX_LINE];
        loop {
            // A line is everything up to and including the next LF.
            if let Some(lf) = memchr::memchr(b'\n', &self.received) {
                return Heard::Line(self.received.drain(..=lf).collect());
            }
            if self.received.len() >= MAX_LINE {
                return Heard::TooLong(self.overrun(deadline).await);
            }
            let room = MAX_LINE - self.received.len();
            match self.read_by(deadline, &mut buf[..room]).await {
                Read::Data(n) => self.received.extend_from_slice(&buf[..n]),
                Read::Closed => return Heard::Closed,
                Read::Timeout => return Heard::Nothing,
            }
        }
    }

    /// After `MAX_LINE` bytes without an LF: reads on, dropping the bytes,
    /// to say how long the line was: up to its LF, a close, `deadline` or
    /// `MEASURE_UP_TO` bytes. What follows its LF is kept.
    async fn overrun(&mut self, deadline: Instant) -> Overrun {
        let mut overrun = Overrun {
            head: self.received[..SHOWN.min(self.received.len())].to_vec(),
            bytes: self.received.len() as u64,
            end: OverrunEnd::NoEnd,
        };
        self.received.clear();
        let mut buf = vec![0u8; 64 * 1024];
        while overrun.bytes < MEASURE_UP_TO {
            match self.read_by(deadline, &mut buf).await {
                Read::Data(n) => {
                    let piece = &buf[..n];
                    if let Some(lf) = memchr::memchr(b'\n', piece) {
                        overrun.bytes += lf as u64 + 1;
                        overrun.end = OverrunEnd::LineEnd;
                        let rest = &piece[lf + 1..];
                        self.received
                            .extend_from_slice(&rest[..rest.len().min(MAX_LINE)]);
                        break;
                    }
                    overrun.bytes += n as u64;
                }
                Read::Closed => {
                    overrun.end = OverrunEnd::Closed;
                    break;
                }
                Read::Timeout => break,
            }
        }
        overrun
    }

    /// Every line heard by `deadline`, and whether the server closed.
    async fn hear_all_by(&mut self, deadline: Instant) -> Listened {
        let mut heard = Listened {
            lines: Vec::new(),
            more: 0,
            overrun: None,
            closed: false,
        };
        loop {
            match self.hear_by(deadline).await {
                Heard::Line(line) if heard.lines.len() < MAX_LINES => heard.lines.push(line),
                Heard::Line(_) => heard.more += 1,
                Heard::TooLong(overrun) => {
                    // The stream is out of step: listen no further.
                    heard.overrun = Some(overrun);
                    return heard;
                }
                Heard::Closed => {
                    heard.closed = true;
                    return heard;
                }
                Heard::Nothing => return heard,
            }
        }
    }

    /// Sends TIME and returns the reply line (whatever it is), or why there
    /// is none.
    async fn ask_time(&mut self) -> Result<Vec<u8>, Failure> {
        let deadline = Instant::now() + PROMPT;
        self.send_by(b"TIME\r\n", deadline).await?;
        match self.hear_by(deadline).await {
            Heard::Line(line) => Ok(line),
            Heard::TooLong(overrun) => Err(Failure {
                kind: Trouble::TooLong,
                detail: format!(
                    "sent \"TIME\\r\\n\", and the server sent {}",
                    overrun.show()
                ),
                hint: HINT_TOO_LONG,
            }),
            Heard::Closed => Err(Failure {
                kind: Trouble::Closed,
                detail: format!(
                    "sent \"TIME\\r\\n\", and the server closed the connection without a reply{}",
                    leftover(&self.received)
                ),
                hint: HINT_CLOSED,
            }),
            Heard::Nothing => {
                let (kind, hint) = if self.received.is_empty() {
                    (Trouble::Silent, HINT_SILENT)
                } else {
                    (Trouble::Partial, HINT_NO_LINE_END)
                };
                Err(Failure {
                    kind,
                    detail: format!(
                        "sent \"TIME\\r\\n\", and no complete reply line came within {:?}{}",
                        PROMPT,
                        leftover(&self.received)
                    ),
                    hint,
                })
            }
        }
    }

    /// Sends TIME and returns the reply, which must be a JAM line.
    async fn ask_jam(&mut self) -> Result<Vec<u8>, Failure> {
        let line = self.ask_time().await?;
        if is_jam(&line) {
            Ok(line)
        } else {
            Err(Failure {
                kind: Trouble::NotJam,
                detail: format!("sent \"TIME\\r\\n\", got {} (not a JAM line)", shown(&line)),
                hint: HINT_NOT_JAM,
            })
        }
    }
}

/// Whether a fresh client's TIME gets a JAM line: without that a check
/// cannot blame what it tests for a missing reply.
async fn answers_time(target: &Target) -> Result<Vec<u8>, Failure> {
    let mut probe = Probe::open(target).await?;
    probe
        .ask_jam()
        .await
        .map_err(|f| f.after("first, a client on its own: "))
}

fn leftover(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        String::new()
    } else {
        format!(" (partial: {})", shown(bytes))
    }
}

/// A reply, for every check but *reply format*: a line that begins with
/// `JAM ` and ends in LF.
fn is_jam(line: &[u8]) -> bool {
    line.starts_with(b"JAM ") && line.ends_with(b"\n")
}

/// The time in a `JAM hh:mm:ss\r\n` line, if it is exactly that.
fn jam_time(line: &[u8]) -> Option<NaiveTime> {
    let body = line.strip_suffix(b"\r\n")?;
    if line.len() != JAM_REPLY_LEN {
        return None;
    }
    parse_jam(&Frame::CrLf(body.to_vec())).ok()
}

/// The last `hh:mm:ss` time of day in `line`, wherever it is (a date or
/// other text around it is allowed): two digits each, not part of a longer
/// run of digits.
fn clock_in(line: &[u8]) -> Option<NaiveTime> {
    let digit = |at: usize| line.get(at).is_some_and(u8::is_ascii_digit);
    let number = |at: usize| u32::from(line[at] - b'0') * 10 + u32::from(line[at + 1] - b'0');
    (0..line.len().saturating_sub(7)).rev().find_map(|at| {
        let shape = [0, 1, 3, 4, 6, 7].iter().all(|&d| digit(at + d))
            && line[at + 2] == b':'
            && line[at + 5] == b':'
            && !(at > 0 && digit(at - 1))
            && !digit(at + 8);
        if !shape {
            return None;
        }
        NaiveTime::from_hms_opt(number(at), number(at + 3), number(at + 6))
    })
}

/// A line for the report: quoted, cut after `SHOWN` bytes.
fn shown(line: &[u8]) -> String {
    match line.get(..SHOWN) {
        Some(head) if line.len() > SHOWN => {
            format!("{}... ({} bytes)", quoted(head), line.len())
        }
        _ => quoted(line),
    }
}

fn show(lines: &[Vec<u8>]) -> String {
    if lines.is_empty() {
        "nothing".to_string()
    } else {
        lines.iter().map(|l| shown(l)).collect::<Vec<_>>().join(" ")
    }
}

async fn with_probe<F, Fut>(target: &Target, name: &'static str, body: F) -> CheckResult
where
    F: FnOnce(Probe) -> Fut,
    Fut: Future<Output = Result<Verdict, Failure>>,
{
    let outcome = match Probe::open(target).await {
        Ok(probe) => body(probe).await,
        Err(e) => Err(e),
    };
    finish(name, outcome)
}

async fn reply_format(target: &Target) -> CheckResult {
    with_probe(target, "reply format", |mut probe| async move {
        let line = probe.ask_time().await?;
        // A long line's length is already in `shown`.
        let length = if line.len() > SHOWN {
            String::new()
        } else {
            format!("{} bytes; ", line.len())
        };
        let detail = format!(
            "sent \"TIME\\r\\n\", got {} ({length}want 14: \"JAM hh:mm:ss\\r\\n\")",
            shown(&line)
        );
        Ok(if jam_time(&line).is_some() {
            Verdict::pass(detail)
        } else {
            Verdict::fail(detail, HINT_FORMAT)
        })
    })
    .await
}

async fn time_advances(target: &Target) -> CheckResult {
    with_probe(target, "time advances", |mut probe| async move {
        let first = probe.ask_time().await?;
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let second = probe.ask_time().await.map_err(|f| {
            f.after(&format!(
                "the first TIME got {}; 1.2 s later, ",
                shown(&first)
            ))
        })?;
        let detail = format!(
            "two TIMEs 1.2 s apart got {} then {}",
            shown(&first),
            shown(&second)
        );
        if !is_jam(&first) || !is_jam(&second) {
            return Ok(Verdict::fail(
                format!("{detail}: not both JAM lines"),
                HINT_NOT_JAM,
            ));
        }
        let (Some(a), Some(b)) = (clock_in(&first), clock_in(&second)) else {
            return Ok(Verdict::fail(
                format!("{detail}: no hh:mm:ss time in both"),
                HINT_NO_CLOCK,
            ));
        };
        // Seconds from a to b, across midnight if need be, in -12 h..12 h.
        let diff = (i64::from(b.num_seconds_from_midnight())
            - i64::from(a.num_seconds_from_midnight())
            + 43_200)
            .rem_euclid(86_400)
            - 43_200;
        let detail = format!("{detail}: the clock moved {diff} s");
        Ok(match diff {
            1..=3 => Verdict::pass(detail),
            0 => Verdict::fail(detail, HINT_FROZEN),
            _ => Verdict::fail(detail, HINT_WRONG_CLOCK),
        })
    })
    .await
}

async fn several_requests(target: &Target) -> CheckResult {
    with_probe(target, "several requests", |mut probe| async move {
        let mut replies = Vec::new();
        for _ in 0..3 {
            match probe.ask_time().await {
                Ok(line) => replies.push(line),
                // No reply at all: the failure's own hint says why.
                Err(f) if replies.is_empty() => return Err(f),
                Err(f) => {
                    // It answered before: what stopped it is the fault.
                    let hint = match f.kind {
                        Trouble::Closed | Trouble::Send => HINT_CLOSE_AFTER_REPLY,
                        Trouble::Silent => HINT_KEEP_READING,
                        _ => f.hint,
                    };
                    let detail = match replies.len() {
                        1 => format!(
                            "on one connection, the first TIME got {}; then {}",
                            show(&replies),
                            f.detail
                        ),
                        n => format!(
                            "on one connection, the first {n} TIMEs got {}; then {}",
                            show(&replies),
                            f.detail
                        ),
                    };
                    return Ok(Verdict::fail(detail, hint));
                }
            }
        }
        let detail = format!(
            "3 x \"TIME\\r\\n\" on one connection got {}",
            show(&replies)
        );
        Ok(if replies.iter().all(|l| is_jam(l)) {
            Verdict::pass(detail)
        } else {
            Verdict::fail(detail, HINT_NOT_JAM)
        })
    })
    .await
}

async fn quit_closes(target: &Target) -> CheckResult {
    with_probe(target, "QUIT closes", |mut probe| async move {
        let heard = probe.request(b"QUIT\r\n", Duration::from_secs(1)).await?;
        let detail = format!(
            "sent \"QUIT\\r\\n\", got {} and {}",
            heard.show(),
            if heard.closed {
                "the connection closed"
            } else {
                "no close within 1 s"
            }
        );
        Ok(match (heard.closed, heard.count()) {
            (true, 0) => Verdict::pass(detail),
            (true, _) => Verdict::fail(detail, HINT_QUIT_SILENT),
            (false, _) => Verdict::fail(detail, HINT_QUIT_CLOSE),
        })
    })
    .await
}

async fn split_request(target: &Target) -> CheckResult {
    let outcome = async {
        answers_time(target).await?;
        let mut probe = Probe::open(target).await?;
        probe.send(b"TI").await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let heard = probe
            .request(b"ME\r\n", QUIET + Duration::from_millis(400))
            .await?;
        let ok = heard.count() == 1 && heard.lines.first().is_some_and(|l| is_jam(l));
        let detail = format!(
            "a lone client's TIME got a JAM reply; a new client sent \"TI\", 200 ms later \"ME\\r\\n\", got {}{}",
            heard.show(),
            if heard.closed { ", then a close" } else { "" }
        );
        Ok(if ok {
            Verdict::pass(detail)
        } else {
            Verdict::fail(detail, HINT_SPLIT)
        })
    };
    finish("split request", outcome.await)
}

async fn two_requests_in_one_segment(target: &Target) -> CheckResult {
    let outcome = async {
        answers_time(target).await?;
        let mut probe = Probe::open(target).await?;
        let heard = probe
            .request(b"TIME\r\nTIME\r\n", QUIET + Duration::from_millis(400))
            .await?;
        let ok =
            heard.overrun.is_none() && heard.count() == 2 && heard.lines.iter().all(|l| is_jam(l));
        let detail = format!(
            "a lone client's TIME got a JAM reply; a new client sent \"TIME\\r\\nTIME\\r\\n\" in one write, got {}{}",
            heard.show(),
            if heard.closed { ", then a close" } else { "" }
        );
        Ok(if ok {
            Verdict::pass(detail)
        } else {
            Verdict::fail(detail, HINT_PIPELINED)
        })
    };
    finish("two in one segment", outcome.await)
}

async fn bare_lf(target: &Target) -> CheckResult {
    with_probe(target, "bare LF refused", |mut probe| async move {
        let heard = probe.request(b"TIME\n", QUIET).await?;
        let jam = heard.any_jam();
        let detail = format!(
            "sent \"TIME\\n\", got {}{}",
            heard.show(),
            if heard.closed { ", then a close" } else { "" }
        );
        Ok(if jam {
            Verdict::fail(detail, HINT_BARE_LF)
        } else {
            Verdict::pass(detail)
        })
    })
    .await
}

async fn unknown_command(target: &Target) -> CheckResult {
    let outcome = async {
        let mut first = Probe::open(target).await?;
        let before = first.ask_jam().await?;
        let heard = first.request(b"HELLO\r\n", QUIET).await?;
        drop(first);
        let context = format!(
            "a client's TIME got {}, then \"HELLO\\r\\n\" got {}{}; a new client: ",
            shown(&before),
            heard.show(),
            if heard.closed { " and a close" } else { "" }
        );
        let mut second = match Probe::open(target).await {
            Ok(probe) => probe,
            Err(f) => return Ok(Verdict::fail(f.after(&context).detail, HINT_UNKNOWN)),
        };
        Ok(match second.ask_time().await {
            Ok(line) if is_jam(&line) => {
                Verdict::pass(format!("{context}TIME got {}", shown(&line)))
            }
            Ok(line) => Verdict::fail(
                format!("{context}TIME got {} (not a JAM line)", shown(&line)),
                HINT_UNKNOWN,
            ),
            Err(f) => Verdict::fail(f.after(&context).detail, HINT_UNKNOWN),
        })
    };
    finish("unknown command", outcome.await)
}

/// What one of the concurrency check's clients got.
#[derive(Debug)]
enum Outcome {
    /// A JAM line, this long after the first client started.
    Jam(Duration),
    /// A line that is not a JAM reply (as shown in the report).
    Other(String),
    /// The connection closed (or was reset) before a whole line.
    Closed,
    /// The connection failed.
    NoConnect(String),
    /// Nothing yet: still connecting, or no reply.
    Waiting,
}

async fn one_of_the_others(target: Target, start: Instant, deadline: Instant) -> Outcome {
    let mut probe = match Probe::open_by(&target, deadline).await {
        Ok(probe) => probe,
        Err(f) if f.kind == Trouble::NotAccepted => return Outcome::Waiting,
        Err(f) => return Outcome::NoConnect(f.detail),
    };
    if probe.send_by(b"TIME\r\n", deadline).await.is_err() {
        return Outcome::Closed;
    }
    match probe.hear_by(deadline).await {
        Heard::Line(line) if is_jam(&line) => {
            let at = start.elapsed();
            let quit = Instant::now() + Duration::from_millis(200);
            let _ = probe.send_by(b"QUIT\r\n", quit).await;
            Outcome::Jam(at)
        }
        Heard::Line(line) => Outcome::Other(shown(&line)),
        Heard::TooLong(overrun) => Outcome::Other(overrun.show()),
        Heard::Closed => Outcome::Closed,
        Heard::Nothing => Outcome::Waiting,
    }
}

/// The concurrency check's clients: started one at a time, each as soon as
/// the one before has finished, or `LAUNCH_GAP` after it started.
struct Crowd {
    target: Target,
    start: Instant,
    /// When every client gives up.
    deadline: Instant,
    clients: JoinSet<(usize, Outcome)>,
    outcomes: Vec<Option<Outcome>>,
    launched: usize,
    next_launch: Instant,
}

impl Crowd {
    fn finished(&self) -> usize {
        self.outcomes.iter().filter(|o| o.is_some()).count()
    }

    /// Runs the clients until every one has finished or `until` passes.
    /// While `idle` is open, also watches it: returns when the server
    /// closed it, after `idle` is set to `None`.
    async fn run(&mut self, until: Instant, idle: &mut Option<Probe>) {
        let mut scratch = [0u8; 1024];
        // `until` is checked here too: a branch always ready (an idle client
        // flooded with bytes) must not keep the loop from ending.
        while self.finished() < OTHERS && Instant::now() < until {
            let watching = idle.is_some();
            tokio::select! {
                _ = sleep_until(self.next_launch), if self.launched < OTHERS => {
                    let (index, target) = (self.launched, self.target.clone());
                    let (start, deadline) = (self.start, self.deadline);
                    self.clients.spawn(async move {
                        (index, one_of_the_others(target, start, deadline).await)
                    });
                    self.launched += 1;
                    self.next_launch = Instant::now() + LAUNCH_GAP;
                }
                Some(joined) = self.clients.join_next() => {
                    if let Ok((index, outcome)) = joined {
                        if let Some(slot) = self.outcomes.get_mut(index) {
                            *slot = Some(outcome);
                        }
                    }
                    self.next_launch = Instant::now();
                }
                read = async {
                    match idle.as_mut() {
                        Some(probe) => probe.stream.read(&mut scratch).await,
                        None => std::future::pending().await,
                    }
                }, if watching => {
                    // Bytes sent to the idle client are read and dropped.
                    if matches!(read, Ok(0) | Err(_)) {
                        *idle = None;
                        return;
                    }
                }
                _ = sleep_until(until) => return,
            }
        }
    }
}

async fn concurrency(target: &Target) -> CheckResult {
    let idle = match Probe::open(target).await {
        Ok(probe) => probe,
        Err(f) => return finish("concurrency", Err(f.after("the idle client: "))),
    };
    let start = Instant::now();
    let hold_end = start + IDLE_HOLD;
    let mut crowd = Crowd {
        target: target.clone(),
        start,
        deadline: hold_end + PROMPT,
        clients: JoinSet::new(),
        outcomes: (0..OTHERS).map(|_| None).collect(),
        launched: 0,
        next_launch: start,
    };
    // While the idle client holds its connection; it may be closed by the
    // server, then the others go on until the hold ends.
    let mut idle = Some(idle);
    let mut closed_by_server = None;
    crowd.run(hold_end, &mut idle).await;
    if idle.is_none() {
        closed_by_server = Some(start.elapsed());
        crowd.run(hold_end, &mut idle).await;
    }
    let open_for = closed_by_server.unwrap_or_else(|| start.elapsed());
    // Clients still waiting: the idle client leaves, and they get a little
    // longer, to tell a server that serves one client at a time from one
    // that serves nobody.
    let released = idle.is_some();
    drop(idle);
    if crowd.finished() < OTHERS {
        crowd.run(crowd.deadline, &mut None).await;
    }
    crowd.clients.abort_all();
    judge_concurrency(&crowd.outcomes, open_for, closed_by_server, released)
}

/// The concurrency verdict. `open_for`: how long after the first of the
/// others started the idle connection was still open.
fn judge_concurrency(
    outcomes: &[Option<Outcome>],
    open_for: Duration,
    closed_by_server: Option<Duration>,
    released: bool,
) -> CheckResult {
    let mut while_open = Vec::new();
    let (mut after, mut closed, mut waiting) = (0, 0, 0);
    let (mut other, mut no_connect) = (None, None);
    let mut others = 0;
    for outcome in outcomes {
        match outcome {
            Some(Outcome::Jam(at)) if *at < open_for => while_open.push(*at),
            Some(Outcome::Jam(_)) => after += 1,
            Some(Outcome::Other(line)) => {
                others += 1;
                other.get_or_insert_with(|| line.clone());
            }
            Some(Outcome::Closed) => closed += 1,
            Some(Outcome::NoConnect(e)) => {
                no_connect.get_or_insert_with(|| e.clone());
            }
            Some(Outcome::Waiting) | None => waiting += 1,
        }
    }
    let answered = while_open.len();
    let last = while_open.iter().max().copied().unwrap_or_default();
    if answered == OTHERS {
        let mut detail = format!(
            "while one client stayed connected and silent, all {OTHERS} other clients, started one after another, got a JAM reply, the last {:.2} s after the first started (the silent client is held up to {:.0} s)",
            last.as_secs_f64(),
            IDLE_HOLD.as_secs_f64()
        );
        if let Some(at) = closed_by_server {
            detail.push_str(&format!(
                "; the server closed the silent client after {:.2} s",
                at.as_secs_f64()
            ));
        }
        return finish("concurrency", Ok(Verdict::pass(detail)));
    }
    let mut detail = match closed_by_server {
        Some(at) => format!(
            "one client stayed connected and silent until the server closed it after {:.2} s",
            at.as_secs_f64()
        ),
        None => format!(
            "one client stayed connected and silent for {:.2} s",
            open_for.as_secs_f64()
        ),
    };
    if answered == 0 {
        detail.push_str(&format!(
            "; meanwhile none of {OTHERS} other clients got a JAM reply"
        ));
    } else {
        detail.push_str(&format!(
            "; meanwhile {answered} of {OTHERS} other clients got a JAM reply (the last after {:.2} s)",
            last.as_secs_f64()
        ));
    }
    if after > 0 {
        let left = if released { "it left" } else { "it was closed" };
        let who = if answered == 0 { "of them" } else { "more" };
        detail.push_str(&format!("; {after} {who} were answered only once {left}"));
    }
    if waiting > 0 {
        detail.push_str(&format!(
            "; {waiting} had no reply when the check ended, {:.0} s after the first started",
            (IDLE_HOLD + PROMPT).as_secs_f64()
        ));
    }
    if closed > 0 {
        detail.push_str(&format!("; {closed} were closed without a reply"));
    }
    if let Some(line) = &other {
        detail.push_str(&format!("; {others} got another line, e.g. {line}"));
    }
    if let Some(e) = &no_connect {
        detail.push_str(&format!("; some could not connect ({e})"));
    }
    let hint = if closed_by_server.is_some() {
        HINT_IDLE_CLOSED
    } else if answered == 0 && after > 0 {
        detail.push_str(": the server serves one client at a time (iterative)");
        HINT_THREAD
    } else if after > 0 {
        HINT_LIMITED
    } else if waiting > 0 && answered > 0 {
        HINT_SOME_UNANSWERED
    } else if waiting > 0 {
        HINT_SILENT
    } else if no_connect.is_some() {
        HINT_CONNECT
    } else if closed > 0 {
        HINT_CLOSED
    } else {
        HINT_NOT_JAM
    };
    finish("concurrency", Ok(Verdict::fail(detail, hint)))
}

async fn survives_reset(target: &Target) -> CheckResult {
    let outcome = async {
        let mut first = Probe::open(target).await?;
        let before = first.ask_jam().await?;
        first.send(b"TI").await?;
        // SO_LINGER 0: closing sends RST instead of FIN, like a crashed client.
        let _ = socket2::SockRef::from(&first.stream).set_linger(Some(Duration::ZERO));
        drop(first);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let context = format!(
            "a client's TIME got {}, then it sent \"TI\" and reset; the next client: ",
            shown(&before)
        );
        let mut next = match Probe::open(target).await {
            Ok(probe) => probe,
            Err(f) => return Ok(Verdict::fail(f.after(&context).detail, HINT_RESET)),
        };
        Ok(match next.ask_time().await {
            Ok(line) if is_jam(&line) => {
                Verdict::pass(format!("{context}TIME got {}", shown(&line)))
            }
            Ok(line) => Verdict::fail(
                format!("{context}TIME got {} (not a JAM line)", shown(&line)),
                HINT_RESET,
            ),
            Err(f) => Verdict::fail(f.after(&context).detail, HINT_RESET),
        })
    };
    finish("survives a reset", outcome.await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32, s: u32) -> Option<NaiveTime> {
        NaiveTime::from_hms_opt(h, m, s)
    }

    #[test]
    fn the_clock_is_found_with_or_without_a_date() {
        assert_eq!(clock_in(b"JAM 14:05:09\r\n"), at(14, 5, 9));
        assert_eq!(clock_in(b"JAM 23-11-2026 14:05:09\r\n"), at(14, 5, 9));
        assert_eq!(clock_in(b"JAM 2026-11-23T14:05:09+07:00\n"), at(14, 5, 9));
        assert_eq!(clock_in(b"JAM 01:02:03 then 04:05:06\r\n"), at(4, 5, 6));
        assert_eq!(clock_in(b"00:00:00"), at(0, 0, 0));
    }

    #[test]
    fn no_clock_in_malformed_or_short_input() {
        for line in [
            &b""[..],
            b"JAM",
            b"1:02:03",
            b"JAM 14:05\r\n",
            b"JAM 24:00:00\r\n",
            b"JAM 12:60:00\r\n",
            b"JAM 114:05:09\r\n",
            b"JAM 14:05:099\r\n",
            b"JAM 14-05-09\r\n",
            b"\xff\xfe:\x00",
        ] {
            assert_eq!(clock_in(line), None, "{}", quoted(line));
        }
    }

    #[test]
    fn a_reply_is_a_line_that_begins_with_jam() {
        assert!(is_jam(b"JAM 14:05:09\r\n"));
        assert!(is_jam(b"JAM 23-11-2026 14:05:09\r\n"));
        assert!(is_jam(b"JAM 14:05:09\n"));
        assert!(!is_jam(b"ERROR unknown command\r\n"));
        assert!(!is_jam(b"JAM 14:05:09"));
        assert!(!is_jam(b"JAM14:05:09\r\n"));
        assert!(jam_time(b"JAM 14:05:09\r\n").is_some());
        assert!(jam_time(b"JAM 23-11-2026 14:05:09\r\n").is_none());
        assert!(jam_time(b"JAM 14:05:09\n").is_none());
    }

    #[test]
    fn the_stated_bound_covers_every_wait() {
        assert!(worst_case() <= WORST_CASE, "{:?}", worst_case());
        assert!(WORST_CASE - worst_case() < Duration::from_secs(5));
    }

    #[test]
    fn an_overlong_line_is_told_by_its_size_and_how_it_ended() {
        let overrun = |bytes, end| Overrun {
            head: b"JAM 0000".to_vec(),
            bytes,
            end,
        };
        assert_eq!(
            overrun(1_048_582, OverrunEnd::LineEnd).show(),
            "a line of 1048582 bytes (1.0 MiB) with its line end (at most 1024 allowed), beginning \"JAM 0000\"..."
        );
        assert_eq!(
            overrun(MEASURE_UP_TO, OverrunEnd::NoEnd).show(),
            "16777216 bytes (16.0 MiB) without a line end, beginning \"JAM 0000\"...; the client stopped reading there"
        );
        assert_eq!(
            overrun(2048, OverrunEnd::Closed).show(),
            "2048 bytes (2.0 KiB) without a line end, beginning \"JAM 0000\"..., then a close"
        );
        assert!(overrun(5000, OverrunEnd::NoEnd)
            .show()
            .ends_with("no line end when the wait ended"));
    }

    #[test]
    fn long_lines_are_cut_in_the_report() {
        assert_eq!(shown(b"JAM 1\r\n"), "\"JAM 1\\r\\n\"");
        let long = vec![b'x'; 1000];
        let text = shown(&long);
        assert!(text.ends_with("... (1000 bytes)"), "{text}");
        assert!(text.len() < 100, "{text}");
    }

    fn jam(secs: f64) -> Option<Outcome> {
        Some(Outcome::Jam(Duration::from_secs_f64(secs)))
    }

    #[test]
    fn concurrency_blames_iteration_only_when_the_others_waited_for_the_idle_client() {
        let hold = Duration::from_secs(5);
        let all_fast: Vec<_> = (0..OTHERS).map(|_| jam(0.01)).collect();
        assert!(judge_concurrency(&all_fast, hold, None, false).passed);

        let all_after: Vec<_> = (0..OTHERS).map(|_| jam(5.01)).collect();
        let r = judge_concurrency(&all_after, hold, None, true);
        assert!(!r.passed);
        assert_eq!(r.hint, Some(HINT_THREAD));
        assert!(r.detail.contains("one client at a time (iterative)"), "{r}");

        let nobody: Vec<_> = (0..OTHERS).map(|_| Some(Outcome::Waiting)).collect();
        let r = judge_concurrency(&nobody, hold, None, true);
        assert_eq!(r.hint, Some(HINT_SILENT));
        assert!(!r.detail.contains("iterative"), "{r}");

        let some: Vec<_> = (0..OTHERS)
            .map(|i| if i < 4 { jam(0.1) } else { jam(5.1) })
            .collect();
        assert_eq!(
            judge_concurrency(&some, hold, None, true).hint,
            Some(HINT_LIMITED)
        );

        let closed_idle = Duration::from_secs(1);
        let r = judge_concurrency(&all_after, closed_idle, Some(closed_idle), false);
        assert_eq!(r.hint, Some(HINT_IDLE_CLOSED));
        assert!(!r.detail.contains("iterative"), "{r}");

        let errors: Vec<_> = (0..OTHERS)
            .map(|_| Some(Outcome::Other(shown(b"ERROR\r\n"))))
            .collect();
        assert_eq!(
            judge_concurrency(&errors, hold, None, false).hint,
            Some(HINT_NOT_JAM)
        );
    }
}
