//! Everything one run of an experiment left in its folder, read back.
//!
//! Every file is untrusted: a program may have crashed before writing its
//! result, a log may be cut, the runner may have been interrupted. What is
//! missing is recorded as missing, and the findings say so.

use std::fs;
use std::path::Path;

use pcap_summary::conversation::{Conversation, Limits};
use pcap_summary::{summarize, Follow, Options, Summary};
use serde::Deserialize;

use crate::plan::{
    Plan, ResultKind, ServerUnderTest, CAPTURE_FILE, CAPTURE_STATS_FILE, IMPAIRMENT_FILE,
    PLAN_FILE, RUNS_FILE, SERVER_STATUS_FILE,
};
use crate::runs::{parse_records, Run};
use crate::Error;

/// The most of a file read: a log's last bytes, a JSON file's whole (a
/// larger JSON file is a problem, not a memory hog).
const MAX_FILE: u64 = 4 * 1024 * 1024;

/// Data segments kept per conversation: enough for a whole TIME session
/// with many requests, and the start of a file transfer.
const SEGMENTS_KEPT: usize = 200;

/// Bytes of each conversation's stream kept each way for report.html: a
/// whole TIME session, the start of a file transfer.
const FOLLOWED_BYTES: usize = 64 * 1024;

/// What the runner wrote about the server under test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct ServerStatus {
    /// Whether it listened on its port before the clients started.
    pub listening: bool,
    /// For our server: whether it was running at all (`labctl stop` stops
    /// it; whatever then listens on the port is someone else's program).
    /// Absent for a student's server, and in folders of older runs.
    #[serde(default)]
    pub ours_running: Option<bool>,
}

/// The server's side of the run.
#[derive(Debug, Clone, Default)]
pub struct ServerEvidence {
    /// The command line it ran with.
    pub command: Option<String>,
    /// What it logged during the run.
    pub log: String,
    /// What the runner saw of it, if it wrote that.
    pub status: Option<ServerStatus>,
}

impl ServerEvidence {
    /// Whether the runner found our server not running (`labctl stop`):
    /// whatever listened on the port then was someone else's program.
    pub fn ours_stopped(&self) -> bool {
        self.status.and_then(|s| s.ours_running) == Some(false)
    }

    /// Its log, when it is the log of the program that answered: not when
    /// ours was stopped (the other program's output the lab never saw).
    pub fn log_of_who_answered(&self) -> Option<&str> {
        (!self.ours_stopped()).then_some(self.log.as_str())
    }
}

/// One run of an experiment, as its folder holds it.
#[derive(Debug)]
pub struct Evidence {
    /// What was planned.
    pub plan: Plan,
    /// The capture's summary.
    pub summary: Summary,
    /// Each planned command with its record, log and result.
    pub runs: Vec<Run>,
    /// The server under test, when the plan has one.
    pub server: Option<ServerEvidence>,
    /// What tcpdump reported, if the runner recorded it.
    pub capture_stats: Option<CaptureStats>,
    /// The link impairment during the run, if there was one.
    pub impairment: Option<Impairment>,
    /// Files that were there but could not be read as expected.
    pub problems: Vec<String>,
}

/// What tcpdump said when it stopped (`capture-stats.json`, by the runner).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct CaptureStats {
    /// Packets written to the file.
    pub captured: Option<u64>,
    /// Packets the filter saw.
    pub received: Option<u64>,
    /// Packets the kernel dropped before tcpdump could take them.
    pub dropped: Option<u64>,
}

/// How a machine's link was impaired during the run (`lab/impair.sh json`).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Impairment {
    /// The machine whose link it was.
    pub machine: String,
    /// `netem` (tc, on what the machine sends) or `iptables` (loss both ways; tbf for rate).
    pub method: String,
    /// Packets dropped at random, in percent.
    pub loss_percent: Option<f64>,
    /// Delay added to what the machine sends, in milliseconds.
    pub delay_ms: Option<f64>,
    /// How much the delay varies, in milliseconds.
    pub jitter_ms: Option<f64>,
    /// The most the machine may send, as tc writes it (`1mbit`).
    pub rate: Option<String>,
}

/// A whole small file; `Err` says why not (missing, or larger than the cap).
fn read_whole(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let file = fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(format!("larger than {MAX_FILE} bytes"));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn read_capped(path: &Path) -> Option<String> {
    read_whole(path).ok()
}

/// A log's last [`MAX_FILE`] bytes: a program's last words are at its end.
fn read_tail(path: &Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    if len > MAX_FILE {
        file.seek(SeekFrom::Start(len - MAX_FILE)).ok()?;
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Whether `value` is the result a command of `kind` writes.
fn check_result(kind: ResultKind, value: &serde_json::Value) -> Result<(), String> {
    use progjar_client::results::{CrlfProbeResult, EchoResult, SocketInfoResult, TimeRun};
    fn is<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Result<(), String> {
        serde_json::from_value::<T>(value.clone())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    match kind {
        ResultKind::Echo => is::<EchoResult>(value),
        ResultKind::Crlf => is::<CrlfProbeResult>(value),
        ResultKind::Time => is::<TimeRun>(value),
        ResultKind::SocketInfo => is::<SocketInfoResult>(value),
        ResultKind::Nothing => Ok(()),
    }
}

impl Evidence {
    /// Reads the folder `dir`.
    pub fn read(dir: &Path) -> Result<Evidence, Error> {
        let plan_text = read_whole(&dir.join(PLAN_FILE)).map_err(|e| Error::Folder {
            file: PLAN_FILE.into(),
            reason: format!("{e} (the runner writes it before the capture starts)"),
        })?;
        let plan: Plan = serde_json::from_str(&plan_text).map_err(|e| Error::Folder {
            file: PLAN_FILE.into(),
            reason: e.to_string(),
        })?;
        let capture = fs::File::open(dir.join(CAPTURE_FILE)).map_err(|e| Error::Folder {
            file: CAPTURE_FILE.into(),
            reason: e.to_string(),
        })?;
        let options = Options {
            limits: Limits {
                segments: SEGMENTS_KEPT,
                ladder: pcap_summary::ladder::LADDER_SEGMENTS,
                ..Limits::default()
            },
            follow: Follow::All {
                max_bytes: FOLLOWED_BYTES,
            },
        };
        let summary = summarize(std::io::BufReader::new(capture), &options)?;
        let mut problems = Vec::new();
        let records = match read_capped(&dir.join(RUNS_FILE)) {
            Some(text) => {
                let (records, bad) = parse_records(&text);
                problems.extend(bad);
                records
            }
            None => {
                problems.push(format!(
                    "{RUNS_FILE} is missing: no command was recorded as finished"
                ));
                Vec::new()
            }
        };
        let runs = plan
            .commands()
            .map(|planned| {
                let record = records.iter().rev().find(|r| r.id == planned.id).copied();
                let log = read_tail(&dir.join(planned.log_file())).unwrap_or_default();
                let file = planned.result_file();
                let (result, result_problem) = match read_whole(&dir.join(&file)) {
                    Err(_) if !dir.join(&file).exists() => (None, None),
                    Err(e) => (None, Some(format!("{file}: {e}"))),
                    Ok(text) if text.trim().is_empty() => (None, None),
                    Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
                        Err(e) => (None, Some(format!("{file}: {e}"))),
                        Ok(value) => match check_result(planned.result_kind(), &value) {
                            Ok(()) => (Some(value), None),
                            Err(e) => (
                                None,
                                Some(format!(
                                    "{file} is not what `{}` writes: {e}",
                                    planned.program()
                                )),
                            ),
                        },
                    },
                };
                problems.extend(result_problem.clone());
                Run {
                    planned: planned.clone(),
                    record,
                    log,
                    result,
                    result_problem,
                }
            })
            .collect();
        let server = plan.server.as_ref().map(|_| ServerEvidence {
            command: read_capped(&dir.join(ServerUnderTest::CMDLINE_FILE))
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty()),
            log: read_tail(&dir.join(ServerUnderTest::LOG_FILE)).unwrap_or_default(),
            status: read_capped(&dir.join(SERVER_STATUS_FILE))
                .and_then(|t| serde_json::from_str(&t).ok()),
        });
        let capture_stats =
            read_capped(&dir.join(CAPTURE_STATS_FILE)).and_then(|t| serde_json::from_str(&t).ok());
        let impairment = match read_whole(&dir.join(IMPAIRMENT_FILE)) {
            Err(_) => None,
            Ok(text) if text.trim() == "null" => None,
            Ok(text) => match serde_json::from_str(&text) {
                Ok(impairment) => Some(impairment),
                Err(e) => {
                    problems.push(format!("{IMPAIRMENT_FILE}: {e}"));
                    None
                }
            },
        };
        Ok(Evidence {
            plan,
            summary,
            runs,
            server,
            capture_stats,
            impairment,
            problems,
        })
    }

    /// The conversations with the server under test's port (all of them
    /// when the experiment has no server), in order.
    pub fn relevant(&self) -> Vec<&Conversation> {
        let port = self.plan.server.as_ref().map(ServerUnderTest::port);
        self.summary
            .conversations
            .iter()
            .filter(|c| port.is_none_or(|p| c.server.port() == p))
            .collect()
    }

    /// Whether a student's program stood in for our server.
    pub fn student_server(&self) -> Option<&str> {
        self.plan.server.as_ref()?.student_command.as_deref()
    }
}
