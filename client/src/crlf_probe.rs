//! `time-client crlf`: how a time server answers a bare-LF line, an unknown
//! command and a correct request, on one connection.
//!
//! Sends, one at a time, `TIME\n` (bare LF: what `nc` without `-C` sends),
//! `HELLO\r\n` (unknown), `TIME\r\n` (correct) and `QUIT\r\n`. After each it
//! waits up to the timeout for one whole reply line; after QUIT, for the
//! close. Whatever the server does (answer, say nothing, close, send a line
//! without end) is recorded, never a crash: a server that waits for CR LF
//! simply gets "nothing within 2.0 s" for the bare-LF line.
//!
//! Every wait has a deadline fixed when the request is sent: bytes trickling
//! in do not extend it. At most [`MAX_REPLY_LINE`] bytes are buffered; a
//! longer line is reported as such and the probe stops there.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use progjar_protocol::escape::escape_bytes;
use tracing::info;

use crate::connect::{connect_blocking, target};
use crate::results::{CrlfExchange, CrlfOutcome, CrlfProbeResult};

/// The requests, in the order sent.
pub const REQUESTS: [&[u8]; 4] = [b"TIME\n", b"HELLO\r\n", b"TIME\r\n", b"QUIT\r\n"];

/// The longest reply line kept, line end included.
pub const MAX_REPLY_LINE: usize = 1024;

/// Where to probe and how long to wait.
#[derive(Debug, Clone)]
pub struct CrlfPlan {
    /// Server name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Give up connecting after this long.
    pub connect_timeout: Duration,
    /// How long to wait for each reply line, and for the close after QUIT.
    pub timeout: Duration,
}

/// Runs the probe; `on_exchange` sees each request's outcome as soon as it
/// is known (the binary prints it). Never fails: problems are in the result.
pub fn run(plan: &CrlfPlan, mut on_exchange: impl FnMut(&CrlfExchange)) -> CrlfProbeResult {
    let mut result = CrlfProbeResult {
        server: target(&plan.host, plan.port),
        local: None,
        connected: false,
        requests: Vec::new(),
        passed: false,
        failures: Vec::new(),
        error: None,
    };
    match connect_blocking(&plan.host, plan.port, plan.connect_timeout) {
        Ok(stream) => {
            result.connected = true;
            if let (Ok(peer), Ok(me)) = (stream.peer_addr(), stream.local_addr()) {
                info!("connected to {peer} from {me}");
                result.local = Some(me.to_string());
            }
            probe(&stream, plan.timeout, &mut result, &mut on_exchange);
        }
        Err(e) => {
            result.error = Some(e.to_string());
            for request in REQUESTS {
                let exchange = not_sent(request);
                on_exchange(&exchange);
                result.requests.push(exchange);
            }
        }
    }
    judge(&mut result);
    result
}

/// What a server should answer to each of the first three requests.
fn judge(result: &mut CrlfProbeResult) {
    if !result.connected {
        let why = result.error.clone().unwrap_or_default();
        result.failures.push(format!("could not connect: {why}"));
    }
    let expected = [
        ("the bare-LF line \"TIME\\n\"", Expect::Error),
        ("the unknown command \"HELLO\\r\\n\"", Expect::Error),
        ("the correct request \"TIME\\r\\n\"", Expect::Jam),
    ];
    for ((what, expect), exchange) in expected.iter().zip(&result.requests) {
        let ok = match (&exchange.outcome, expect) {
            (CrlfOutcome::Error { .. }, Expect::Error) => true,
            (CrlfOutcome::Reply { line }, Expect::Jam) => line.starts_with("JAM "),
            _ => false,
        };
        if !ok && result.connected {
            let wanted = match expect {
                Expect::Error => "an ERROR line",
                Expect::Jam => "a JAM line",
            };
            result.failures.push(format!(
                "{what} should get {wanted}, but {}",
                outcome_words(&exchange.outcome)
            ));
        }
    }
    if let (true, false, Some(error)) =
        (result.connected, result.failures.is_empty(), &result.error)
    {
        // What stopped the probe explains the requests that follow it.
        result.failures.insert(0, error.clone());
    }
    result.passed = result.failures.is_empty();
}

enum Expect {
    Error,
    Jam,
}

fn not_sent(request: &[u8]) -> CrlfExchange {
    CrlfExchange {
        sent: escape_bytes(request),
        outcome: CrlfOutcome::NotSent,
        elapsed_secs: 0.0,
        partial: None,
    }
}

/// The received bytes not yet taken as lines; never more than [`MAX_REPLY_LINE`].
struct Incoming {
    buf: [u8; MAX_REPLY_LINE],
    len: usize,
}

/// How one wait ended.
enum Waited {
    Line(Vec<u8>),
    Nothing,
    Closed,
    TooLong,
    Failed(std::io::Error),
}

fn probe(
    stream: &TcpStream,
    timeout: Duration,
    result: &mut CrlfProbeResult,
    on_exchange: &mut impl FnMut(&CrlfExchange),
) {
    let mut incoming = Incoming {
        buf: [0; MAX_REPLY_LINE],
        len: 0,
    };
    let mut stopped = false;
    for request in REQUESTS {
        let exchange = if stopped {
            not_sent(request)
        } else {
            let (exchange, stop) = exchange(stream, request, timeout, &mut incoming, result);
            stopped = stop;
            exchange
        };
        on_exchange(&exchange);
        result.requests.push(exchange);
    }
}

/// Sends one request and waits for what follows; true when the probe must stop.
fn exchange(
    mut stream: &TcpStream,
    request: &[u8],
    timeout: Duration,
    incoming: &mut Incoming,
    result: &mut CrlfProbeResult,
) -> (CrlfExchange, bool) {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut exchange = not_sent(request);
    let sent = stream
        .set_write_timeout(Some(timeout.max(Duration::from_millis(1))))
        .and_then(|()| stream.write_all(request));
    if let Err(e) = sent {
        if is_closed(&e) {
            exchange.outcome = CrlfOutcome::Closed;
            exchange.elapsed_secs = started.elapsed().as_secs_f64();
        } else {
            result.error = Some(format!("sending \"{}\": {e}", escape_bytes(request)));
        }
        return (exchange, true);
    }
    info!("sent \"{}\"", escape_bytes(request));
    let waited = wait_for_line(stream, deadline, incoming);
    exchange.elapsed_secs = started.elapsed().as_secs_f64();
    let keep_partial = |exchange: &mut CrlfExchange, incoming: &Incoming| {
        if incoming.len > 0 {
            exchange.partial = Some(escape_bytes(&incoming.buf[..incoming.len]));
        }
    };
    let stop = match waited {
        Waited::Line(line) => {
            let escaped = escape_bytes(&line);
            exchange.outcome = if line.starts_with(b"ERROR") {
                CrlfOutcome::Error { line: escaped }
            } else {
                CrlfOutcome::Reply { line: escaped }
            };
            false
        }
        Waited::Nothing => {
            exchange.outcome = CrlfOutcome::Nothing {
                waited_secs: timeout.as_secs_f64(),
            };
            keep_partial(&mut exchange, incoming);
            false
        }
        Waited::Closed => {
            exchange.outcome = CrlfOutcome::Closed;
            keep_partial(&mut exchange, incoming);
            true
        }
        Waited::TooLong => {
            exchange.outcome = CrlfOutcome::TooLong {
                limit: MAX_REPLY_LINE,
            };
            result.error = Some(format!(
                "the server sent a line longer than {MAX_REPLY_LINE} bytes after \"{}\"; \
                 the probe stopped there",
                escape_bytes(request)
            ));
            true
        }
        Waited::Failed(e) => {
            let reason = e.to_string();
            result.error = Some(format!(
                "waiting for the reply to \"{}\": {reason}",
                escape_bytes(request)
            ));
            exchange.outcome = CrlfOutcome::Failed { reason };
            keep_partial(&mut exchange, incoming);
            true
        }
    };
    (exchange, stop)
}

/// A reset or broken pipe: the server closed, abortively.
fn is_closed(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
    )
}

/// Reads until a whole line is buffered, the server closes, or `deadline`.
fn wait_for_line(mut stream: &TcpStream, deadline: Instant, incoming: &mut Incoming) -> Waited {
    loop {
        let buffered = &incoming.buf[..incoming.len];
        if let Some(end) = memchr::memchr(b'\n', buffered) {
            let line = buffered[..=end].to_vec();
            incoming.buf.copy_within(end + 1..incoming.len, 0);
            incoming.len -= end + 1;
            return Waited::Line(line);
        }
        if incoming.len == MAX_REPLY_LINE {
            incoming.len = 0;
            return Waited::TooLong;
        }
        let now = Instant::now();
        if now >= deadline {
            return Waited::Nothing;
        }
        // The time left, not a fresh timeout: data trickling in cannot
        // postpone the deadline.
        let left = (deadline - now).max(Duration::from_millis(1));
        if let Err(e) = stream.set_read_timeout(Some(left)) {
            return Waited::Failed(e);
        }
        match stream.read(&mut incoming.buf[incoming.len..]) {
            Ok(0) => return Waited::Closed,
            Ok(n) => incoming.len += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if is_closed(&e) => return Waited::Closed,
            Err(e) => return Waited::Failed(e),
        }
    }
}

/// What followed a request, in words: `got "ERROR ...\r\n"`, `nothing within 2.0 s`.
pub fn outcome_words(outcome: &CrlfOutcome) -> String {
    match outcome {
        CrlfOutcome::Reply { line } | CrlfOutcome::Error { line } => format!("got \"{line}\""),
        CrlfOutcome::Nothing { waited_secs } => format!("nothing within {waited_secs:.1} s"),
        CrlfOutcome::Closed => "the server closed the connection".into(),
        CrlfOutcome::TooLong { limit } => {
            format!("got a line longer than {limit} bytes (not kept)")
        }
        CrlfOutcome::Failed { reason } => format!("the wait failed: {reason}"),
        CrlfOutcome::NotSent => "not sent: the connection had ended".into(),
    }
}

/// The line printed for one request: `sent "TIME\n" -> got "ERROR ...\r\n"`.
pub fn human_line(exchange: &CrlfExchange) -> String {
    if exchange.outcome == CrlfOutcome::NotSent {
        return format!("not sent \"{}\" (the connection had ended)", exchange.sent);
    }
    let mut line = format!(
        "sent \"{}\" -> {}",
        exchange.sent,
        outcome_words(&exchange.outcome)
    );
    if let Some(partial) = &exchange.partial {
        line.push_str(&format!(" (received \"{partial}\" without a line end)"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(sent: &str, outcome: CrlfOutcome) -> CrlfExchange {
        CrlfExchange {
            sent: sent.into(),
            outcome,
            elapsed_secs: 0.1,
            partial: None,
        }
    }

    #[test]
    fn human_lines_say_what_followed_each_request() {
        let error = CrlfOutcome::Error {
            line: "ERROR x\\r\\n".into(),
        };
        assert_eq!(
            human_line(&exchange("TIME\\n", error)),
            r#"sent "TIME\n" -> got "ERROR x\r\n""#
        );
        assert_eq!(
            human_line(&exchange(
                "TIME\\n",
                CrlfOutcome::Nothing { waited_secs: 2.0 }
            )),
            r#"sent "TIME\n" -> nothing within 2.0 s"#
        );
        assert_eq!(
            human_line(&exchange("QUIT\\r\\n", CrlfOutcome::Closed)),
            r#"sent "QUIT\r\n" -> the server closed the connection"#
        );
        assert_eq!(
            human_line(&exchange("TIME\\r\\n", CrlfOutcome::NotSent)),
            r#"not sent "TIME\r\n" (the connection had ended)"#
        );
        let mut partial = exchange("TIME\\n", CrlfOutcome::Nothing { waited_secs: 2.0 });
        partial.partial = Some("JAM 1".into());
        assert!(human_line(&partial).ends_with(r#"(received "JAM 1" without a line end)"#));
    }

    fn judged(outcomes: [CrlfOutcome; 3]) -> CrlfProbeResult {
        let mut result = CrlfProbeResult {
            server: "x:1".into(),
            local: None,
            connected: true,
            requests: outcomes
                .into_iter()
                .zip(REQUESTS)
                .map(|(outcome, request)| exchange(&escape_bytes(request), outcome))
                .collect(),
            passed: false,
            failures: Vec::new(),
            error: None,
        };
        judge(&mut result);
        result
    }

    #[test]
    fn only_error_error_jam_passes() {
        let error = || CrlfOutcome::Error {
            line: "ERROR\\r\\n".into(),
        };
        let jam = || CrlfOutcome::Reply {
            line: "JAM 10:00:00\\r\\n".into(),
        };
        assert!(judged([error(), error(), jam()]).passed);
        let result = judged([jam(), error(), jam()]);
        assert!(!result.passed);
        assert_eq!(
            result.failures,
            vec![
                r#"the bare-LF line "TIME\n" should get an ERROR line, but got "JAM 10:00:00\r\n""#
            ]
        );
        let result = judged([error(), error(), error()]);
        assert_eq!(result.failures.len(), 1, "{:?}", result.failures);
        assert!(result.failures[0].starts_with("the correct request"));
    }
}
