//! What a client run did and saw, as JSON for the lab's reports.
//!
//! `echo-client`, `time-client` (plain sessions), `time-client crlf` and
//! `socket-info` take `--json FILE` (or `PROGJAR_JSON=FILE` in the
//! environment, so the lab can ask for it without changing the command a
//! student sees). At the end of the run, failed or not, the program writes
//! one of the documents below to FILE; what it prints for people does not
//! change. Readers deserialize them with these same types: every type
//! refuses fields it does not know, so a reader built from another version
//! of this crate fails loudly instead of silently missing a field.
//!
//! The file is written next to its final name and then renamed over it, so a
//! reader never sees half a document. When that fails the program says so on
//! stderr and keeps its exit code: the run itself is what the exit code
//! describes.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One `echo-client` run (not `echo-client check`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EchoResult {
    /// The server as `host:port`, from the command line (an IPv6 literal in
    /// brackets); not what the name resolved to.
    pub server: String,
    /// The client's own `ip:port` on the connection, once connected; `None`
    /// when it never connected.
    pub local: Option<String>,
    /// How rounds were sent: one at a time, each after the previous echo
    /// (`lockstep`, the default), or all on a timer while reading (`stream`).
    pub mode: EchoMode,
    /// Rounds asked for (`--repeat`).
    pub rounds_planned: u64,
    /// Rounds whose payload was written to the socket completely.
    pub rounds_sent: u64,
    /// Bytes of the payload the program wrote to the socket in all rounds,
    /// each byte counted once (a failed write counts only what the kernel took).
    pub bytes_sent: u64,
    /// Bytes the program read from the socket, each counted once, including
    /// any that did not match.
    pub bytes_received: u64,
    /// Reads that returned at least one byte (the end-of-stream read and
    /// failed reads are not counted).
    pub pieces: u64,
    /// Bytes asked for per read (`--chunk`, 16 by default).
    pub chunk: usize,
    /// Size of the payload sent in each round, in bytes.
    pub payload_bytes: u64,
    /// True when every planned round was sent, everything sent came back byte
    /// for byte and nothing more: in lockstep nothing beyond the round's echo
    /// had arrived at any point (checked again, without waiting, just before
    /// the close); in stream mode nothing more came before the server's close.
    pub identical: bool,
    /// Whether the client half-closed (sent its FIN with `shutdown(Write)`)
    /// before reading the whole echo: only `stream` mode does. A lockstep run
    /// sends its FIN only with the full close after the last echo.
    pub half_closed: bool,
    /// Why the run failed, in words, as printed on stderr; `None` when it
    /// succeeded.
    pub error: Option<String>,
}

/// How `echo-client` sends its rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EchoMode {
    /// Like the course's client.py: send a round, read until its whole echo
    /// is back, wait `--interval`, send the next; close at the end.
    Lockstep,
    /// Send every round on a timer on a second thread while reading,
    /// half-close after the last send, read until the server closes.
    Stream,
}

/// One `time-client` run of plain sessions (not `check`, `load` or `crlf`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRun {
    /// The server as `host:port`, from the command line.
    pub server: String,
    /// Every session that ended (well or not), sorted by client, then round.
    pub sessions: Vec<TimeSessionResult>,
    /// True when Ctrl-C stopped the run: sessions still under way then are
    /// not in `sessions`.
    pub interrupted: bool,
}

/// One connection of `time-client`: TIME requests, QUIT, the close.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSessionResult {
    /// Which client ran it (1-based, `--clients`).
    pub client: u32,
    /// Which of that client's sessions it was (0-based, `--rounds`).
    pub round: u64,
    /// The client's own `ip:port` on the connection; `None` when it never connected.
    pub local: Option<String>,
    /// `TIME\r\n` requests written to the socket completely.
    pub requests_sent: u32,
    /// Each whole reply line received, in order, without its line end (CR LF
    /// or bare LF), as lossy UTF-8. A line over the client's limit (1024
    /// bytes) is not kept; `error` says so.
    pub replies: Vec<String>,
    /// Whether `QUIT\r\n` was written to the socket completely.
    pub quit_sent: bool,
    /// Whether the server closed the connection (end of stream seen): after
    /// QUIT as it should, or before, in which case `error` says when.
    pub closed_by_server: bool,
    /// Why the session failed, in words, as logged; `None` when every reply
    /// was a correct `JAM hh:mm:ss\r\n` and the server closed after QUIT.
    pub error: Option<String>,
}

/// One `socket-info` run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocketInfoResult {
    /// The name or address resolved, as given.
    pub host: String,
    /// The port or service name resolved, as given.
    pub port: String,
    /// Every answer of `getaddrinfo(host, port)` with no hints, in its order;
    /// empty when the name did not resolve.
    pub entries: Vec<AddrInfo>,
    /// The receive timeout of a fresh socket, in seconds; `None` means it
    /// blocks forever (Python's `getdefaulttimeout()` is `None`), and also
    /// when no socket could be made (`error` says so).
    pub default_timeout_secs: Option<f64>,
    /// The timeout asked for (`--timeout`, Python's `settimeout(10)`), in seconds.
    pub timeout_requested_secs: f64,
    /// The socket's receive timeout read back after setting it, in seconds;
    /// `None` when no socket could be made.
    pub timeout_after_set_secs: Option<f64>,
    /// The `nameserver` addresses of `/etc/resolv.conf` on the machine that
    /// ran it, in order; empty when the file is missing or unreadable.
    pub resolvers: Vec<String>,
    /// Why it failed, in words (no socket, or the name did not resolve);
    /// `None` when it succeeded.
    pub error: Option<String>,
}

/// One answer of `getaddrinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddrInfo {
    /// `AF_INET`, `AF_INET6`, or `other`.
    pub family: String,
    /// `SOCK_STREAM`, `SOCK_DGRAM`, `SOCK_RAW`, or `other`.
    pub socket_type: String,
    /// `IPPROTO_TCP`, `IPPROTO_UDP`, `0`, or `other`.
    pub protocol: String,
    /// The address and port, `ip:port` (`[ip]:port` for IPv6).
    pub address: String,
}

/// One `time-client crlf` run: how a time server answers a bare-LF line, an
/// unknown command and a correct request, all on one connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrlfProbeResult {
    /// The server as `host:port`, from the command line.
    pub server: String,
    /// The client's own `ip:port` on the connection; `None` when it never connected.
    pub local: Option<String>,
    /// Whether the connection was made.
    pub connected: bool,
    /// The four requests in the order sent: `TIME\n`, `HELLO\r\n`,
    /// `TIME\r\n`, `QUIT\r\n`, each with what followed it. Always four
    /// entries; after a close or a failure the rest are `not_sent`.
    pub requests: Vec<CrlfExchange>,
    /// The verdict the exit code gives: true (exit 0) when `TIME\r\n` got a
    /// `JAM ` line and `TIME\n` and `HELLO\r\n` each got an `ERROR` line.
    /// How the server ended the session after QUIT is recorded but not judged.
    pub passed: bool,
    /// Why `passed` is false, one sentence per request that did not get the
    /// expected answer (or the connection problem); empty when it passed.
    pub failures: Vec<String>,
    /// A problem that stopped the probe (could not connect, a socket error,
    /// a reply line over the limit), in words; `None` otherwise. Unexpected
    /// answers are not errors: see `failures`.
    pub error: Option<String>,
}

/// One request of the crlf probe and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrlfExchange {
    /// The request's bytes escaped like Python's repr without quotes
    /// ([`progjar_protocol::escape::escape_bytes`]): `TIME\n` is the six
    /// characters `T I M E \ n`.
    pub sent: String,
    /// What followed the request.
    pub outcome: CrlfOutcome,
    /// Seconds from the request's write to the outcome (0 when not sent).
    pub elapsed_secs: f64,
    /// When the wait ended without a whole line (`nothing`, `closed`,
    /// `failed`): the bytes received that did not complete one, escaped the
    /// same way (e.g. a reply without its line end); `None` when there were
    /// none, and for the other outcomes. They stay buffered: a later line may
    /// complete them.
    pub partial: Option<String>,
}

/// What followed one request of the crlf probe.
///
/// In JSON an object whose `kind` names the variant (`reply`, `error`,
/// `nothing`, `closed`, `too_long`, `failed`, `not_sent`) next to the
/// variant's fields.
/// Variants with fields refuse unknown ones; serde cannot make the field-less
/// `closed` and `not_sent` do the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CrlfOutcome {
    /// A whole line that does not start with `ERROR` (a `JAM ` line, or
    /// anything else: the text says which), escaped, with its line end.
    Reply {
        /// The line, escaped, line end included (`JAM 10:00:00\r\n`).
        line: String,
    },
    /// A whole line starting with `ERROR`, escaped, with its line end.
    Error {
        /// The line, escaped, line end included.
        line: String,
    },
    /// No whole line within the timeout (bytes without a line end, if any,
    /// are in the exchange's `partial`).
    Nothing {
        /// How long the probe waited: the `--timeout`, in seconds.
        waited_secs: f64,
    },
    /// The server closed the connection (end of stream, or a reset) before a
    /// whole line came.
    Closed,
    /// A line longer than the limit arrived; its text is not kept and the
    /// probe stopped there.
    TooLong {
        /// The limit, in bytes, line end included.
        limit: usize,
    },
    /// A socket error other than a close or a reset ended the wait; the
    /// probe stopped there (the result's `error` says more).
    Failed {
        /// What the kernel said.
        reason: String,
    },
    /// Not sent: the connection had closed or failed before.
    NotSent,
}

/// The JSON result could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the JSON result to {}: {source}", path.display())]
pub struct ResultFileError {
    /// The file asked for.
    pub path: PathBuf,
    /// What went wrong.
    pub source: std::io::Error,
}

/// Writes `value` as pretty JSON to `path`: first to a temporary file in the
/// same directory, then renamed over `path`, so a reader sees the old file or
/// the whole new one. Never panics; on failure the temporary file is removed.
pub fn write_result<T: Serialize>(path: &Path, value: &T) -> Result<(), ResultFileError> {
    let error = |source| ResultFileError {
        path: path.to_path_buf(),
        source,
    };
    let mut json = serde_json::to_vec_pretty(value).map_err(|e| error(e.into()))?;
    json.push(b'\n');
    let name = path
        .file_name()
        .ok_or_else(|| error(std::io::Error::other("the path names no file")))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let written = std::fs::File::create(&temp)
        .and_then(|mut file| {
            file.write_all(&json)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(source) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(error(source));
    }
    Ok(())
}

/// [`write_result`] when `path` is given, saying on stderr (as `program`) if
/// it failed. Returns whether the file was written (true when none was asked for).
pub fn save_result<T: Serialize>(program: &str, path: Option<&Path>, value: &T) -> bool {
    let Some(path) = path else { return true };
    match write_result(path, value) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("{program}: {e}");
            false
        }
    }
}

/// Reads a document written by [`write_result`].
pub fn read_result<T: DeserializeOwned>(path: &Path) -> Result<T, ResultFileError> {
    let error = |source| ResultFileError {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(error)?;
    serde_json::from_slice(&bytes).map_err(|e| error(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo_sample() -> EchoResult {
        EchoResult {
            server: "127.0.0.1:10000".into(),
            local: Some("127.0.0.1:50000".into()),
            mode: EchoMode::Lockstep,
            rounds_planned: 3,
            rounds_sent: 3,
            bytes_sent: 138,
            bytes_received: 138,
            pieces: 9,
            chunk: 16,
            payload_bytes: 46,
            identical: true,
            half_closed: false,
            error: None,
        }
    }

    #[test]
    fn a_result_survives_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("echo.json");
        write_result(&path, &echo_sample()).expect("written");
        let back: EchoResult = read_result(&path).expect("read back");
        assert_eq!(back, echo_sample());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("echo.json")]);
    }

    #[test]
    fn an_unwritable_path_is_an_error_that_names_it_not_a_panic() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("no-such-dir").join("r.json");
        let err = write_result(&path, &echo_sample()).expect_err("cannot write");
        assert!(err.to_string().contains("no-such-dir"), "{err}");
        assert!(!save_result("test", Some(&path), &echo_sample()));
        assert!(save_result("test", None, &echo_sample()));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut json = serde_json::to_value(echo_sample()).expect("json");
        json["surprise"] = serde_json::json!(1);
        assert!(serde_json::from_value::<EchoResult>(json).is_err());
        // A variant with fields refuses others (serde cannot make a unit
        // variant such as `closed` refuse them).
        let outcome = serde_json::json!({"kind": "nothing", "waited_secs": 2.0, "extra": true});
        assert!(serde_json::from_value::<CrlfOutcome>(outcome).is_err());
    }

    #[test]
    fn modes_and_outcomes_have_their_documented_spelling() {
        assert_eq!(
            serde_json::to_value(EchoMode::Lockstep).expect("json"),
            "lockstep"
        );
        assert_eq!(
            serde_json::to_value(EchoMode::Stream).expect("json"),
            "stream"
        );
        let cases = [
            (
                CrlfOutcome::Reply {
                    line: "JAM 10:00:00\\r\\n".into(),
                },
                serde_json::json!({"kind": "reply", "line": "JAM 10:00:00\\r\\n"}),
            ),
            (
                CrlfOutcome::Error {
                    line: "ERROR x\\r\\n".into(),
                },
                serde_json::json!({"kind": "error", "line": "ERROR x\\r\\n"}),
            ),
            (
                CrlfOutcome::Nothing { waited_secs: 2.0 },
                serde_json::json!({"kind": "nothing", "waited_secs": 2.0}),
            ),
            (CrlfOutcome::Closed, serde_json::json!({"kind": "closed"})),
            (
                CrlfOutcome::TooLong { limit: 1024 },
                serde_json::json!({"kind": "too_long", "limit": 1024}),
            ),
            (
                CrlfOutcome::Failed { reason: "x".into() },
                serde_json::json!({"kind": "failed", "reason": "x"}),
            ),
            (
                CrlfOutcome::NotSent,
                serde_json::json!({"kind": "not_sent"}),
            ),
        ];
        for (outcome, json) in cases {
            assert_eq!(serde_json::to_value(&outcome).expect("json"), json);
            assert_eq!(
                serde_json::from_value::<CrlfOutcome>(json).expect("back"),
                outcome
            );
        }
    }
}
