//! Everything one run of an experiment left in its folder, read back.
//!
//! Every file is untrusted: a program may have crashed before writing its
//! result, a log may be cut, the runner may have been interrupted. What is
//! missing is recorded as missing, and the findings say so.

use std::fs;
use std::path::Path;

use pcap_summary::conversation::Conversation;
use pcap_summary::{summarize, Options, Summary};
use serde::Deserialize;

use crate::plan::{Plan, ServerUnderTest, CAPTURE_FILE, PLAN_FILE, RUNS_FILE, SERVER_STATUS_FILE};
use crate::runs::{parse_records, Run};
use crate::Error;

/// Logs and results larger than this are read only up to it.
const MAX_FILE: u64 = 4 * 1024 * 1024;

/// What the runner wrote about the server under test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct ServerStatus {
    /// Whether it listened on its port before the clients started.
    pub listening: bool,
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
    /// Files that were there but could not be read as expected.
    pub problems: Vec<String>,
}

fn read_capped(path: &Path) -> Option<String> {
    use std::io::Read;
    let file = fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

impl Evidence {
    /// Reads the folder `dir`.
    pub fn read(dir: &Path) -> Result<Evidence, Error> {
        let plan_text = fs::read_to_string(dir.join(PLAN_FILE)).map_err(|e| Error::Folder {
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
        let summary = summarize(std::io::BufReader::new(capture), &Options::default())?;
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
                let log = read_capped(&dir.join(planned.log_file())).unwrap_or_default();
                let (result, result_problem) = match read_capped(&dir.join(planned.result_file())) {
                    None => (None, None),
                    Some(text) if text.trim().is_empty() => (None, None),
                    Some(text) => match serde_json::from_str(&text) {
                        Ok(value) => (Some(value), None),
                        Err(e) => (None, Some(format!("{}: {e}", planned.result_file()))),
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
            log: read_capped(&dir.join(ServerUnderTest::LOG_FILE)).unwrap_or_default(),
            status: read_capped(&dir.join(SERVER_STATUS_FILE))
                .and_then(|t| serde_json::from_str(&t).ok()),
        });
        Ok(Evidence {
            plan,
            summary,
            runs,
            server,
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
