//! `time-client load`: a load generator for time servers.
//!
//! Each of `--connections` tasks talks to the server on its own connection:
//! with `--requests 1`, every request is a whole connection (connect, TIME,
//! QUIT, close); with more, a connection carries that many requests, up to
//! `--pipeline` of them in flight at once. Every reply is checked: a wrong
//! reply counts as an error, never as a latency sample. Latencies go into an
//! HDR histogram (microseconds) per task, merged at the end.
//!
//! Every wait has a deadline of `timeout` fixed when it begins (a connect, a
//! reply from when its request was sent, the close from when QUIT was
//! sent): bytes trickling in do not extend it, and a reply line may have at
//! most [`MAX_REPLY_LINE`] bytes. No connection is opened once the run is
//! over, so a timed run ends within `duration + 2 x timeout`. A connection's
//! first batch of requests is taken from `total` before it is opened: if it
//! cannot be, they count, unanswered, so a run against a server that is not
//! there ends too.

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use progjar_protocol::time::{parse_jam_line, QUIT_REQUEST, TIME_REQUEST};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::sync::Barrier;

use crate::lines::{LineError, LineReader};

/// The longest reply line accepted, in bytes before the LF.
pub const MAX_REPLY_LINE: usize = 1024;

/// What load to make.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Server name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Connections (tasks) at once.
    pub connections: usize,
    /// TIME requests per connection; 1 = a new connection per request.
    pub requests: u64,
    /// Requests in flight per connection.
    pub pipeline: usize,
    /// Stop after this long ...
    pub duration: Option<Duration>,
    /// ... or after this many requests in all.
    pub total: Option<u64>,
    /// Pause between one request (batch) and the next on a connection.
    pub interval: Duration,
    /// Deadline of each connect, reply (from its request) and close (from QUIT).
    pub timeout: Duration,
}

/// What the load measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// Correct replies.
    pub requests: u64,
    /// Connections completed (QUIT and close).
    pub connections: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Correct replies per second.
    pub requests_per_second: f64,
    /// Completed connections per second.
    pub connections_per_second: f64,
    /// Latency percentiles, milliseconds.
    pub latency_ms: Latency,
    /// Errors by kind.
    pub errors: BTreeMap<String, u64>,
    /// CPU time this process used, as a share of the wall time (1.0 = one core).
    pub client_cpu: f64,
    /// Worker threads of the load generator's runtime.
    pub threads: usize,
    /// Cores this process may run on (its CPU affinity, as `taskset` set it).
    pub cores: usize,
}

/// Latency percentiles, milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

struct Tally {
    latency: Histogram<u64>,
    /// Replies not yet in the histogram: (sent, arrived, how many).
    unrecorded: Option<(Instant, Instant, u64)>,
    requests: u64,
    connections: u64,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn new() -> Self {
        Tally {
            // 1 µs to 60 s, 3 significant digits: constant, valid bounds.
            latency: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds"),
            unrecorded: None,
            requests: 0,
            connections: 0,
            errors: BTreeMap::new(),
        }
    }

    /// `count` correct replies to requests sent at `sent` that arrived at
    /// `arrived`. Replies from one read to one batch of requests share both
    /// times, so they are counted together and recorded at once.
    fn replies(&mut self, sent: Instant, arrived: Instant, count: u64) {
        self.requests += count;
        match &mut self.unrecorded {
            Some((s, a, counted)) if *s == sent && *a == arrived => *counted += count,
            _ => {
                self.record_latencies();
                self.unrecorded = Some((sent, arrived, count));
            }
        }
    }

    /// Puts the replies counted together into the histogram.
    fn record_latencies(&mut self) {
        if let Some((sent, arrived, count)) = self.unrecorded.take() {
            let micros = u64::try_from(arrived.saturating_duration_since(sent).as_micros())
                .unwrap_or(u64::MAX)
                .clamp(1, 60_000_000);
            let _ = self.latency.record_n(micros, count);
        }
    }

    fn error(&mut self, kind: &str) {
        *self.errors.entry(kind.to_string()).or_default() += 1;
    }
}

/// Why one exchange failed (the key in `errors`).
#[derive(Debug)]
struct Failure(&'static str);

struct Conn {
    lines: LineReader,
}

impl Conn {
    async fn open(plan: &LoadPlan) -> Result<Conn, Failure> {
        let stream = match tokio::time::timeout(
            plan.timeout,
            TcpStream::connect((plan.host.as_str(), plan.port)),
        )
        .await
        {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(Failure("connect refused"))
            }
            Ok(Err(_)) => return Err(Failure("connect failed")),
            Err(_) => return Err(Failure("connect timeout")),
        };
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            lines: LineReader::new(stream, MAX_REPLY_LINE),
        })
    }

    async fn send(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), Failure> {
        self.lines
            .send(bytes, deadline)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::TimedOut => Failure("send timeout"),
                _ => Failure("send failed"),
            })
    }

    /// The replies that one read brought, at least one (waiting for it by
    /// `deadline` if need be) and at most `max`; each must be a correct
    /// `JAM hh:mm:ss\r\n`. Returns how many were correct, and the failure
    /// that stopped it, if any.
    async fn replies(&mut self, max: u64, deadline: Instant) -> (u64, Option<Failure>) {
        match self.lines.next_line_ref(deadline).await {
            Ok(line) => {
                if parse_jam_line(line).is_err() {
                    return (0, Some(Failure("wrong reply")));
                }
            }
            Err(e) => return (0, Some(failure(e, "reply timeout"))),
        }
        // The rest have arrived already: checked in a plain loop, no await.
        let mut correct = 1;
        while correct < max {
            match self.lines.waiting_line() {
                None => break,
                Some(Ok(line)) if parse_jam_line(line).is_ok() => correct += 1,
                Some(Ok(_)) => return (correct, Some(Failure("wrong reply"))),
                Some(Err(e)) => return (correct, Some(failure(e, "reply timeout"))),
            }
        }
        (correct, None)
    }

    async fn quit(mut self, timeout: Duration) -> Result<(), Failure> {
        let deadline = Instant::now() + timeout;
        self.send(QUIT_REQUEST, deadline).await?;
        match self.lines.expect_close(deadline).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Failure("data after QUIT")),
            Err(e) => Err(failure(e, "no close after QUIT")),
        }
    }
}

/// The error kind for a read that failed; `timed_out` names a timeout.
fn failure(error: LineError, timed_out: &'static str) -> Failure {
    Failure(match error {
        LineError::Closed => "closed early",
        LineError::Timeout => timed_out,
        LineError::TooLong => "reply line too long",
        LineError::Io(_) => "connection reset",
    })
}

/// Shared stop conditions.
struct Budget {
    deadline: Option<Instant>,
    total: Option<u64>,
    issued: AtomicU64,
}

impl Budget {
    /// Whether a timed run's time is up.
    fn time_up(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Whether the time is up or every request has been handed out.
    fn exhausted(&self) -> bool {
        self.time_up()
            || self
                .total
                .is_some_and(|t| self.issued.load(Ordering::Relaxed) >= t)
    }

    /// When a timed run ends: a wait cut short there ends at the latest then.
    fn until(&self, wanted: Instant) -> Instant {
        self.deadline.map_or(wanted, |d| wanted.min(d))
    }

    /// Takes up to `want` requests from the budget; 0 means stop.
    fn take(&self, want: u64) -> u64 {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return 0;
        }
        match self.total {
            None => want,
            Some(total) => {
                let before = self.issued.fetch_add(want, Ordering::Relaxed);
                total.saturating_sub(before).min(want)
            }
        }
    }
}

async fn worker(
    plan: Arc<LoadPlan>,
    budget: Arc<Budget>,
    all_connected: Arc<Barrier>,
    index: usize,
) -> Tally {
    let mut tally = Tally::new();
    let mut connected = None;
    if !plan.interval.is_zero() {
        // Paced clients stand for clients that are already connected: all
        // connect first (the connection storm is not what is measured), then
        // start spread over one interval, as independent clients would;
        // otherwise they would all fire in the same instant, every interval.
        match Conn::open(&plan).await {
            Ok(conn) => connected = Some(conn),
            Err(Failure(kind)) => tally.error(kind),
        }
        let until = budget.until(Instant::now() + plan.timeout);
        let _ = tokio::time::timeout_at(until.into(), all_connected.wait()).await;
        let share = index as f64 / plan.connections.max(1) as f64;
        let start = budget.until(Instant::now() + plan.interval.mul_f64(share));
        tokio::time::sleep_until(start.into()).await;
    }
    let pipeline = plan.pipeline.max(1) as u64;
    let batch: Vec<u8> = TIME_REQUEST.repeat(plan.pipeline.max(1));
    let first_batch = pipeline.min(plan.requests);
    'connections: loop {
        // The first requests of a connection are taken from the budget
        // before it is opened: if it cannot be, they count, unanswered, so
        // a run with a total ends even when no connection can be made. Once
        // the run is over, nothing new starts; what is under way ends
        // within its timeout.
        let mut reserved = budget.take(first_batch);
        if reserved == 0 {
            if let Some(conn) = connected.take() {
                let _ = conn.quit(plan.timeout).await;
            }
            break;
        }
        let opened = match connected.take() {
            Some(conn) => Ok(conn),
            None => Conn::open(&plan).await,
        };
        let mut conn = match opened {
            Ok(conn) => conn,
            Err(Failure(kind)) => {
                tally.error(kind);
                if budget.exhausted() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if budget.time_up() {
            // Connected after a timed run ended: send nothing.
            reserved = 0;
        }
        let started = Instant::now();
        // Requests sent and not yet answered, oldest first: (sent at, count).
        let mut in_flight: VecDeque<(Instant, u64)> = VecDeque::new();
        let mut waiting = 0u64;
        let mut sent_here = 0u64;
        loop {
            // Keep up to `pipeline` requests in flight: once half of them
            // are answered (and the next reply is not already here), send
            // that many more in one write. The server always has work, and
            // it gets requests in batches, as a pipelining client sends them.
            let room = (pipeline - waiting).min(plan.requests - sent_here);
            if waiting == 0 && conn.lines.has_line() {
                // A line with nothing asked: not a reply to anything sent.
                tally.error("line nobody asked for");
                continue 'connections;
            }
            if room > 0 && (waiting == 0 || (waiting <= pipeline / 2 && !conn.lines.has_line())) {
                let granted = if reserved > 0 {
                    std::mem::take(&mut reserved).min(room)
                } else {
                    budget.take(room)
                };
                if granted > 0 {
                    let sent_at = Instant::now();
                    if let Err(Failure(kind)) = conn
                        .send(
                            &batch[..TIME_REQUEST.len() * granted as usize],
                            sent_at + plan.timeout,
                        )
                        .await
                    {
                        tally.error(kind);
                        continue 'connections;
                    }
                    in_flight.push_back((sent_at, granted));
                    waiting += granted;
                    sent_here += granted;
                }
            }
            if in_flight.is_empty() {
                // Nothing in flight and nothing more to send.
                break;
            }
            // The oldest request in flight is owed a reply `timeout` after it was sent.
            let deadline = in_flight
                .front()
                .map_or_else(Instant::now, |oldest| oldest.0)
                + plan.timeout;
            let (answered, failed) = conn.replies(waiting, deadline).await;
            let arrived = conn.lines.received_at();
            // Match the replies to the batches they answer, oldest first.
            let mut left = answered;
            while let Some(oldest) = in_flight.front_mut().filter(|_| left > 0) {
                let here = left.min(oldest.1);
                // A new connection per request: its latency includes the connect.
                let from = if plan.requests == 1 {
                    started
                } else {
                    oldest.0
                };
                tally.replies(from, arrived, here);
                oldest.1 -= here;
                if oldest.1 == 0 {
                    in_flight.pop_front();
                }
                left -= here;
            }
            waiting -= answered;
            if let Some(Failure(kind)) = failed {
                tally.error(kind);
                continue 'connections;
            }
            if waiting == 0 && !plan.interval.is_zero() && sent_here < plan.requests {
                tokio::time::sleep_until(budget.until(Instant::now() + plan.interval).into()).await;
            }
        }
        if budget.exhausted() && sent_here < plan.requests {
            let _ = conn.quit(plan.timeout).await;
            break 'connections;
        }
        match conn.quit(plan.timeout).await {
            Ok(()) => tally.connections += 1,
            Err(Failure(kind)) => tally.error(kind),
        }
    }
    let ended_by_time = budget.deadline.is_some_and(|d| Instant::now() >= d);
    if ended_by_time && tally.requests == 0 && tally.connections == 0 && tally.errors.is_empty() {
        // Still connecting (or waiting) when the run ended: say so, rather
        // than report a run with nothing done and nothing wrong.
        tally.error("nothing done before the end");
    }
    tally.record_latencies();
    tally
}

fn cpu_seconds() -> f64 {
    // /proc/self/stat fields 14 and 15: user and system time in clock ticks (100 Hz on Linux).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let after = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = after.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / 100.0)
        })
        .unwrap_or(0.0)
}

/// Runs the load and returns what it measured.
pub async fn run(plan: LoadPlan) -> LoadReport {
    let budget = Arc::new(Budget {
        deadline: plan.duration.map(|d| Instant::now() + d),
        total: plan.total,
        issued: AtomicU64::new(0),
    });
    let plan = Arc::new(plan);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let all_connected = Arc::new(Barrier::new(plan.connections.max(1)));
    for index in 0..plan.connections.max(1) {
        tasks.spawn(worker(
            plan.clone(),
            budget.clone(),
            all_connected.clone(),
            index,
        ));
    }
    let mut total = Tally::new();
    while let Some(done) = tasks.join_next().await {
        let tally = done.unwrap_or_else(|_| {
            let mut t = Tally::new();
            t.error("task panicked");
            t
        });
        let _ = total.latency.add(&tally.latency);
        total.requests += tally.requests;
        total.connections += tally.connections;
        for (kind, n) in tally.errors {
            *total.errors.entry(kind).or_default() += n;
        }
    }
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    let ms = |q: f64| total.latency.value_at_quantile(q) as f64 / 1000.0;
    LoadReport {
        requests: total.requests,
        connections: total.connections,
        seconds,
        requests_per_second: total.requests as f64 / seconds,
        connections_per_second: total.connections as f64 / seconds,
        latency_ms: Latency {
            p50: ms(0.50),
            p90: ms(0.90),
            p99: ms(0.99),
            max: total.latency.max() as f64 / 1000.0,
        },
        errors: total.errors,
        client_cpu: (cpu_seconds() - cpu_before) / seconds,
        threads: tokio::runtime::Handle::current().metrics().num_workers(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}
