//! t2-crlf: what the time server answers to a bare LF and to an unknown
//! command, next to a correct `TIME\r\n`, on one connection
//! (`time-client crlf`).

use progjar_client::crlf_probe::REQUESTS;
use progjar_client::results::{CrlfOutcome, CrlfProbeResult};
use progjar_protocol::escape::escape_bytes;
use serde::Serialize;

use crate::evidence::Evidence;
use crate::lang::Message;
use crate::plan::{LabServer, Machine, Param, Plan, Settings};
use crate::scenario::{Analysis, Scenario};
use crate::Error;

/// The experiment.
pub struct Crlf;

/// Seconds the probe waits for each reply.
pub const WAIT: Param = Param {
    env: "T2_WAIT",
    default: "2",
    help: "seconds time-client crlf waits for each reply",
};

/// What the assignment asks a request to get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// A line starting `ERROR`, the connection left open.
    Error,
    /// `JAM hh:mm:ss`.
    Jam,
}

/// What the assignment asks for each of the probe's requests, in its order
/// (QUIT is not judged: its close is reported as it came).
const WANTED: [Option<Want>; REQUESTS.len()] =
    [Some(Want::Error), Some(Want::Error), Some(Want::Jam), None];

/// What the assignment asks for the request `sent` (escaped).
fn wanted(sent: &str) -> Option<Want> {
    REQUESTS
        .iter()
        .zip(WANTED)
        .find(|(request, _)| escape_bytes(request) == sent)
        .and_then(|(_, want)| want)
}

/// One request and what followed it.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// What was sent, escaped.
    pub sent: String,
    /// What came back.
    pub outcome: CrlfOutcome,
    /// Bytes that came without a line end, escaped.
    pub partial: Option<String>,
    /// Whether that is what the assignment asks (`None` for QUIT).
    pub as_asked: Option<bool>,
}

/// The facts of t2-crlf.
#[derive(Debug, Clone, Serialize)]
pub struct CrlfFacts {
    /// The probe's machine.
    pub machine: Option<&'static str>,
    /// Each request, in order; empty when the probe left no result.
    pub exchanges: Vec<Exchange>,
    /// Why the probe could not do its work, if it said.
    pub error: Option<String>,
}

fn judged(sent: &str, outcome: &CrlfOutcome) -> Option<bool> {
    let got = match outcome {
        CrlfOutcome::Reply { line } if line.starts_with("JAM ") => Some(Want::Jam),
        CrlfOutcome::Error { .. } => Some(Want::Error),
        _ => None,
    };
    wanted(sent).map(|w| Some(w) == got)
}

impl CrlfFacts {
    fn gather(evidence: &Evidence) -> CrlfFacts {
        let probe = evidence
            .runs
            .iter()
            .find(|r| r.planned.command.starts_with("time-client crlf"));
        let result: Option<CrlfProbeResult> = probe.and_then(|r| r.result_as());
        CrlfFacts {
            machine: probe.map(|r| r.planned.machine.name()),
            exchanges: result
                .as_ref()
                .map(|r| {
                    r.requests
                        .iter()
                        .map(|x| Exchange {
                            sent: x.sent.clone(),
                            outcome: x.outcome.clone(),
                            partial: x.partial.clone(),
                            as_asked: judged(&x.sent, &x.outcome),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            error: result.and_then(|r| r.error),
        }
    }

    fn as_expected(&self) -> bool {
        let judged: Vec<bool> = self.exchanges.iter().filter_map(|x| x.as_asked).collect();
        judged.len() == 3 && judged.iter().all(|ok| *ok)
    }

    fn findings(&self) -> Vec<Message> {
        let mut out = Vec::new();
        for x in &self.exchanges {
            let sent = x.sent.clone();
            out.push(match &x.outcome {
                CrlfOutcome::Reply { line } => Message::new("crlf-reply")
                    .text("sent", sent)
                    .text("line", line.clone()),
                CrlfOutcome::Error { line } => Message::new("crlf-error")
                    .text("sent", sent)
                    .text("line", line.clone()),
                CrlfOutcome::Nothing { waited_secs } => match &x.partial {
                    None => Message::new("crlf-nothing"),
                    Some(partial) => Message::new("crlf-partial").text("partial", partial.clone()),
                }
                .text("sent", sent)
                .text("secs", format!("{waited_secs:.1}")),
                CrlfOutcome::Closed => Message::new("crlf-closed").text("sent", sent),
                CrlfOutcome::TooLong { limit } => Message::new("crlf-too-long")
                    .text("sent", sent)
                    .count("limit", *limit as u64),
                CrlfOutcome::NotSent => Message::new("crlf-not-sent").text("sent", sent),
                CrlfOutcome::Failed { reason } => Message::new("crlf-failed")
                    .text("sent", sent)
                    .text("reason", reason.clone()),
            });
        }
        if let Some(error) = &self.error {
            out.push(Message::new("crlf-probe-error").text("error", error.clone()));
        }
        // A verdict on the server only when it answered something.
        let answered = self.exchanges.iter().any(|x| {
            matches!(
                x.outcome,
                CrlfOutcome::Reply { .. } | CrlfOutcome::Error { .. } | CrlfOutcome::TooLong { .. }
            )
        });
        if answered {
            out.push(Message::new(if self.as_expected() {
                "crlf-as-asked"
            } else {
                "crlf-not-as-asked"
            }));
        } else if !self.exchanges.is_empty() {
            out.push(Message::new("crlf-no-answer"));
        }
        out
    }
}

impl Scenario for Crlf {
    fn name(&self) -> &'static str {
        "t2-crlf"
    }

    fn about(&self) -> &'static str {
        "Tugas 2: a bare LF and an unknown command get ERROR; TIME + CR LF gets JAM"
    }

    fn params(&self) -> &'static [Param] {
        &[WAIT]
    }

    fn plan(&self, settings: &Settings) -> Result<Plan, Error> {
        let wait = settings.seconds(&WAIT)?;
        let plan = Plan::new(self.name(), settings).with_server(LabServer::Time, settings);
        let command = format!(
            "time-client crlf {} {} --timeout {wait}",
            plan.server_address(),
            LabServer::Time.port()
        );
        Ok(plan.step(&[(Machine::Mesin2, command)]))
    }

    fn analyse(&self, evidence: &Evidence) -> Analysis {
        let facts = CrlfFacts::gather(evidence);
        Analysis::of(&facts, facts.findings(), facts.as_expected())
    }
}
