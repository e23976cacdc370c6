//! Facts every experiment reports, whatever it is about: the capture, the
//! server that answered, programs that failed, lost segments and resets.

use pcap_summary::conversation::{Conversation, Dir};
use pcap_summary::segment::Flags;
use serde::Serialize;

use crate::evidence::{Evidence, Impairment, ServerEvidence};
use crate::lang::Message;
use crate::machines::name_of;

/// How many of a failed program's last lines the report shows.
pub const FAILURE_LINES: usize = 8;

/// The capture as a whole.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureFacts {
    /// Frames captured.
    pub packets: u64,
    /// Frames that held TCP.
    pub tcp_packets: u64,
    /// TCP conversations.
    pub conversations: usize,
    /// Conversations with the experiment's server port.
    pub relevant_conversations: usize,
    /// Most conversations open at once.
    pub max_concurrent: usize,
    /// What was wrong with the file, if anything.
    pub errors: Vec<String>,
}

/// Who answered on mesin-1.
#[derive(Debug, Clone, Serialize)]
pub struct ServerFacts {
    /// Ours or a student's.
    pub who: ServerKind,
    /// Its command line, as the runner found it.
    pub command: Option<String>,
    /// The port the experiment talks to.
    pub port: u16,
    /// Whether it listened when the clients started (`None`: not recorded).
    pub listening: Option<bool>,
}

/// Who answered on mesin-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    /// One of the lab's servers.
    Ours,
    /// A student's program in its place (`SERVER=...`).
    Student,
    /// Ours was not running (stopped with `labctl stop`), and no program was
    /// named in its place: whatever listened on the port, if anything.
    Unknown,
}

impl ServerKind {
    /// The catalogue's word for it, as the table of what ran says it.
    pub fn word(self) -> &'static str {
        match self {
            ServerKind::Ours => "server-ours",
            ServerKind::Student => "server-student",
            ServerKind::Unknown => "server-unknown",
        }
    }
}

/// A program of the plan that did not end well.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Where it ran.
    pub machine: &'static str,
    /// What ran.
    pub command: String,
    /// Its exit code; `None` when it never finished.
    pub exit: Option<i32>,
    /// Its last lines of output.
    pub last_lines: Vec<String>,
}

/// A conversation in which segments were sent more than once.
#[derive(Debug, Clone, Serialize)]
pub struct Resent {
    /// The conversation's number in the capture.
    pub conversation: usize,
    /// The client machine.
    pub client: String,
    /// Segments pcap-summary marked as retransmitted.
    pub retransmissions: u64,
    /// Segments that filled a hole left by a later one (captured out of order).
    pub out_of_order: u64,
    /// Payload bytes on the wire, both ways, minus stream bytes: what went twice.
    pub bytes_resent: u64,
}

/// How a conversation with an RST ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetKind {
    /// The SYN was answered with RST: nothing listened on the port.
    Refused,
    /// RST after a FIN had been sent: one side had closed, the other still sent.
    AfterFin,
    /// RST instead of a FIN: the connection was aborted.
    Aborted,
}

/// A conversation that ended with RST.
#[derive(Debug, Clone, Serialize)]
pub struct Reset {
    /// The conversation's number in the capture.
    pub conversation: usize,
    /// The client machine.
    pub client: String,
    /// Who sent the RST.
    pub sender: String,
    /// Refused, after a FIN, or instead of one.
    pub kind: ResetKind,
    /// When, in seconds from the capture's start.
    pub time: f64,
}

/// The facts every experiment reports.
#[derive(Debug, Clone, Serialize)]
pub struct CommonFacts {
    /// The capture.
    pub capture: CaptureFacts,
    /// The server under test, when there is one.
    pub server: Option<ServerFacts>,
    /// Programs that failed or never finished.
    pub failures: Vec<Failure>,
    /// Programs that ended without the result they always write.
    pub missing_results: Vec<String>,
    /// Conversations with the server port in which data was sent again.
    pub resent: Vec<Resent>,
    /// Conversations with the server port that ended with RST.
    pub resets: Vec<Reset>,
    /// Packets tcpdump dropped, when it said.
    pub capture_dropped: Option<u64>,
    /// The link impairment during the run, if there was one.
    pub impairment: Option<Impairment>,
    /// Files of the folder that could not be read as expected.
    pub problems: Vec<String>,
}

/// The client end's machine name (`mesin-2`, or the address).
pub fn client_of(c: &Conversation) -> String {
    name_of(&c.client.ip())
}

/// The name of the side that sent in `dir`.
pub fn sender_of(c: &Conversation, dir: Dir) -> String {
    match dir {
        Dir::ClientToServer => name_of(&c.client.ip()),
        Dir::ServerToClient => name_of(&c.server.ip()),
    }
}

impl CommonFacts {
    /// The common facts of one run.
    pub fn gather(evidence: &Evidence) -> CommonFacts {
        let summary = &evidence.summary;
        let relevant = evidence.relevant();
        let capture = CaptureFacts {
            packets: summary.packets,
            tcp_packets: summary.tcp_packets,
            conversations: summary.conversations.len(),
            relevant_conversations: relevant.len(),
            max_concurrent: summary.max_concurrent,
            errors: summary.errors(),
        };
        let server = evidence.plan.server.as_ref().map(|s| {
            let seen = evidence.server.as_ref();
            ServerFacts {
                who: if s.student_command.is_some() {
                    ServerKind::Student
                } else if seen.is_some_and(ServerEvidence::ours_stopped) {
                    ServerKind::Unknown
                } else {
                    ServerKind::Ours
                },
                command: seen
                    .and_then(|e| e.command.clone())
                    .or_else(|| s.student_command.clone()),
                port: s.port(),
                listening: seen.and_then(|e| e.status).map(|st| st.listening),
            }
        });
        let failures = evidence
            .runs
            .iter()
            .filter(|r| !r.succeeded())
            .map(|r| Failure {
                machine: r.planned.machine.name(),
                command: r.planned.command.clone(),
                exit: r.exit(),
                last_lines: r.last_lines(FAILURE_LINES),
            })
            .collect();
        let missing_results = evidence
            .runs
            .iter()
            .filter(|r| r.record.is_some() && r.result.is_none() && r.result_problem.is_none())
            .map(|r| r.planned.command.clone())
            .collect();
        let resent = relevant
            .iter()
            .filter(|c| c.retransmissions() + c.out_of_order() > 0)
            .map(|c| Resent {
                conversation: c.id,
                client: client_of(c),
                retransmissions: c.retransmissions(),
                out_of_order: c.out_of_order(),
                bytes_resent: c
                    .payload_bytes
                    .total()
                    .saturating_sub(c.stream_bytes.total()),
            })
            .collect();
        let resets = relevant
            .iter()
            .filter_map(|c| {
                let rst = c.teardown.steps.iter().find(|s| s.flags.has(Flags::RST))?;
                let fin_before = c
                    .teardown
                    .steps
                    .iter()
                    .any(|s| s.flags.has(Flags::FIN) && s.time <= rst.time);
                let kind = if c.handshake.syn_ack.is_none()
                    && c.first_data.iter().all(|(_, first)| first.is_none())
                {
                    ResetKind::Refused
                } else if fin_before {
                    ResetKind::AfterFin
                } else {
                    ResetKind::Aborted
                };
                Some(Reset {
                    conversation: c.id,
                    client: client_of(c),
                    sender: sender_of(c, rst.dir),
                    kind,
                    time: rst.time,
                })
            })
            .collect();
        CommonFacts {
            capture,
            server,
            failures,
            missing_results,
            resent,
            resets,
            capture_dropped: evidence.capture_stats.and_then(|s| s.dropped),
            impairment: evidence.impairment.clone(),
            problems: evidence.problems.clone(),
        }
    }

    /// Whether every program ended well and left its result.
    pub fn programs_ok(&self) -> bool {
        self.failures.is_empty() && self.missing_results.is_empty()
    }

    /// Findings about the server, said before the experiment's own.
    pub fn server_findings(&self) -> Vec<Message> {
        let mut out = self.impairment_findings();
        if let Some(server) = &self.server {
            let command = server.command.clone().unwrap_or_default();
            let port = u64::from(server.port);
            out.push(match (server.who, server.listening) {
                (ServerKind::Student, Some(false)) => Message::new("student-server-not-listening")
                    .text("command", command)
                    .count("port", port),
                (ServerKind::Student, _) => Message::new("student-server").text("command", command),
                (ServerKind::Ours, Some(false)) => {
                    Message::new("server-not-listening").count("port", port)
                }
                (ServerKind::Ours, _) => return out,
                (ServerKind::Unknown, Some(true)) => {
                    Message::new("server-unknown-listening").count("port", port)
                }
                (ServerKind::Unknown, _) => {
                    Message::new("server-unknown-silent").count("port", port)
                }
            });
        }
        out
    }

    /// What was done to a machine's link during the run.
    fn impairment_findings(&self) -> Vec<Message> {
        let Some(i) = &self.impairment else {
            return Vec::new();
        };
        let both = if i.method == "iptables" { "yes" } else { "no" };
        let mut out = Vec::new();
        if let Some(loss) = i.loss_percent {
            out.push(
                Message::new("impaired-loss")
                    .text("machine", i.machine.clone())
                    .text("loss", format!("{loss}"))
                    .text("both", both),
            );
        }
        if let Some(delay) = i.delay_ms {
            out.push(
                Message::new("impaired-delay")
                    .text("machine", i.machine.clone())
                    .text("delay", format!("{delay}"))
                    .text(
                        "jitter",
                        i.jitter_ms.map_or("none".into(), |j| format!("{j}")),
                    ),
            );
        }
        if let Some(rate) = &i.rate {
            out.push(
                Message::new("impaired-rate")
                    .text("machine", i.machine.clone())
                    .text("rate", rate.clone()),
            );
        }
        out
    }

    /// Findings about the run in general, said after the experiment's own.
    pub fn findings(&self) -> Vec<Message> {
        let mut out = Vec::new();
        for r in self.resent.iter().filter(|r| r.retransmissions > 0) {
            out.push(
                Message::new("resent")
                    .count("conversation", r.conversation as u64)
                    .text("client", r.client.clone())
                    .count("segments", r.retransmissions)
                    .count("bytes", r.bytes_resent),
            );
        }
        if self.resent.iter().any(|r| r.retransmissions > 0) {
            out.push(Message::new("stream-bytes-note"));
        }
        for r in self.resent.iter().filter(|r| r.out_of_order > 0) {
            out.push(
                Message::new("out-of-order")
                    .count("conversation", r.conversation as u64)
                    .text("client", r.client.clone())
                    .count("segments", r.out_of_order),
            );
        }
        for r in &self.resets {
            let id = match r.kind {
                ResetKind::Refused => "refused",
                ResetKind::AfterFin => "reset-after-fin",
                ResetKind::Aborted => "reset",
            };
            out.push(
                Message::new(id)
                    .count("conversation", r.conversation as u64)
                    .text("client", r.client.clone())
                    .text("sender", r.sender.clone())
                    .seconds("time", r.time),
            );
        }
        let c = &self.capture;
        out.push(if c.packets == 0 {
            Message::new("capture-empty")
        } else {
            Message::new("capture-holds")
                .count("packets", c.packets)
                .count("tcp", c.tcp_packets)
                .count("conversations", c.conversations as u64)
                .count("most", c.max_concurrent as u64)
        });
        if let Some(dropped) = self.capture_dropped.filter(|n| *n > 0) {
            out.push(Message::new("capture-dropped").count("dropped", dropped));
        }
        for error in &c.errors {
            let error = error.trim_end_matches('.').to_string();
            out.push(Message::new("capture-problem").text("error", error));
        }
        for problem in &self.problems {
            out.push(Message::new("folder-problem").text("problem", problem.clone()));
        }
        for command in &self.missing_results {
            out.push(Message::new("result-missing").text("command", command.clone()));
        }
        for f in &self.failures {
            out.push(match f.exit {
                Some(exit) => Message::new("program-failed")
                    .text("command", f.command.clone())
                    .text("machine", f.machine)
                    .text("exit", exit.to_string()),
                None => Message::new("program-unfinished")
                    .text("command", f.command.clone())
                    .text("machine", f.machine),
            });
        }
        out
    }
}
