//! t2-time: one client asks mesin-1's time server for the time twice, then
//! QUIT: the handshake, the PSH/ACK data and the FIN teardown of Tugas 2.

use pcap_summary::conversation::Dir;
use pcap_summary::segment::Flags;
use progjar_client::results::TimeRun;
use serde::Serialize;

use crate::evidence::Evidence;
use crate::facts::{client_of, sender_of};
use crate::lang::Message;
use crate::plan::{LabServer, Machine, Param, Plan, Settings};
use crate::scenario::{Analysis, Scenario};
use crate::scenarios::time_lines::Lines;
use crate::Error;

/// The experiment.
pub struct Time;

/// TIME requests on the connection.
pub const COUNT: Param = Param {
    env: "T2_COUNT",
    default: "2",
    help: "TIME requests before QUIT",
};

/// One time session, as the capture shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TimeConversation {
    /// Its number in the capture.
    pub conversation: usize,
    /// The client machine.
    pub client: String,
    /// Lines beginning with TIME the client sent.
    pub time_requests: usize,
    /// Lines beginning with JAM the server sent (escaped).
    pub jam_replies: Vec<String>,
    /// Other lines the server sent (escaped).
    pub other_replies: Vec<String>,
    /// Whether the client sent QUIT.
    pub quit: bool,
    /// Who sent the first FIN: `client`, `server`, or `nobody`.
    pub first_fin_by: &'static str,
    /// Whether the capture kept every data segment of it (if not, the
    /// counts are of its first segments only).
    pub complete: bool,
    /// Who sent an RST, if anyone.
    pub reset_by: Option<String>,
}

impl TimeConversation {
    /// The time session of conversation `c`.
    pub fn of(c: &pcap_summary::conversation::Conversation) -> TimeConversation {
        let asked = Lines::of(c, Dir::ClientToServer);
        let answered = Lines::of(c, Dir::ServerToClient);
        let first_fin_by = match c.teardown.steps.iter().find(|s| s.flags.has(Flags::FIN)) {
            Some(s) if s.dir == Dir::ClientToServer => "client",
            Some(_) => "server",
            None => "nobody",
        };
        let quit = asked.starting_with("QUIT").next().is_some();
        let complete = !asked.incomplete && !answered.incomplete;
        TimeConversation {
            conversation: c.id,
            client: client_of(c),
            time_requests: asked.starting_with("TIME").count(),
            jam_replies: answered.starting_with("JAM ").cloned().collect(),
            other_replies: answered
                .lines
                .iter()
                .filter(|l| !l.starts_with("JAM "))
                .cloned()
                .collect(),
            quit,
            first_fin_by,
            complete,
            reset_by: c
                .teardown
                .steps
                .iter()
                .find(|s| s.flags.has(Flags::RST))
                .map(|s| sender_of(c, s.dir)),
        }
    }

    /// The findings about this conversation.
    pub fn findings(&self) -> Vec<Message> {
        let quoted = |lines: &[String]| {
            lines
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = vec![Message::new("time-exchange")
            .text("client", self.client.clone())
            .text("complete", if self.complete { "yes" } else { "no" })
            .count("times", self.time_requests as u64)
            .count("jams", self.jam_replies.len() as u64)
            .text("replies", quoted(&self.jam_replies))
            .text("quit", if self.quit { "yes" } else { "no" })
            .text("closer", self.first_fin_by)];
        if !self.other_replies.is_empty() {
            out.push(
                Message::new("time-other-replies")
                    .text("client", self.client.clone())
                    .count("n", self.other_replies.len() as u64)
                    .text("lines", quoted(&self.other_replies)),
            );
        }
        out
    }
}

/// What each time-client reported (`--json`): sessions and how many were right.
#[derive(Debug, Clone, Serialize)]
pub struct TimeClientReport {
    /// Where it ran.
    pub machine: &'static str,
    /// Sessions it ran.
    pub sessions: usize,
    /// Sessions in which every reply was right and the server closed after QUIT.
    pub good_sessions: usize,
    /// Replies it checked in all.
    pub replies: usize,
    /// The first error it reported, if any.
    pub first_error: Option<String>,
}

impl TimeClientReport {
    /// The report of every time-client run of `evidence`.
    pub fn all(evidence: &Evidence) -> Vec<TimeClientReport> {
        evidence
            .runs
            .iter()
            .filter(|r| r.planned.program() == "time-client")
            .filter_map(|r| {
                let run: TimeRun = r.result_as()?;
                Some(TimeClientReport {
                    machine: r.planned.machine.name(),
                    sessions: run.sessions.len(),
                    good_sessions: run
                        .sessions
                        .iter()
                        .filter(|s| s.error.is_none() && s.closed_by_server)
                        .count(),
                    replies: run.sessions.iter().map(|s| s.replies.len()).sum(),
                    first_error: run.sessions.iter().find_map(|s| s.error.clone()),
                })
            })
            .collect()
    }

    /// Whether it ran at least one session and every one was right.
    pub fn all_good(&self) -> bool {
        self.sessions > 0 && self.good_sessions == self.sessions && self.first_error.is_none()
    }

    /// The finding about this client's own check.
    pub fn finding(&self) -> Message {
        match &self.first_error {
            None if self.sessions == 0 => {
                Message::new("time-client-no-session").text("machine", self.machine)
            }
            None => Message::new("time-client-good")
                .text("machine", self.machine)
                .count("sessions", self.sessions as u64)
                .count("replies", self.replies as u64),
            Some(error) => Message::new("time-client-bad")
                .text("machine", self.machine)
                .count("bad", (self.sessions - self.good_sessions) as u64)
                .count("sessions", self.sessions as u64)
                .text("error", error.clone()),
        }
    }
}

/// The facts of t2-time.
#[derive(Debug, Clone, Serialize)]
pub struct TimeFacts {
    /// Conversations with port 45000.
    pub conversations: Vec<TimeConversation>,
    /// What the client checked.
    pub clients: Vec<TimeClientReport>,
}

impl Scenario for Time {
    fn name(&self) -> &'static str {
        "t2-time"
    }

    fn about(&self) -> &'static str {
        "Tugas 2: TIME requests, then QUIT, on one connection: handshake, PSH/ACK data, FIN teardown"
    }

    fn params(&self) -> &'static [Param] {
        &[COUNT]
    }

    fn plan(&self, settings: &Settings) -> Result<Plan, Error> {
        let count = settings.count(&COUNT)?;
        let plan = Plan::new(self.name(), settings).with_server(LabServer::Time, settings);
        let command = format!(
            "time-client {} {} --count {count} --interval 1",
            plan.server_address(),
            LabServer::Time.port()
        );
        Ok(plan.step(&[(Machine::Mesin2, command)]))
    }

    fn analyse(&self, evidence: &Evidence) -> Analysis {
        let facts = TimeFacts {
            conversations: evidence
                .relevant()
                .into_iter()
                .map(TimeConversation::of)
                .collect(),
            clients: TimeClientReport::all(evidence),
        };
        let mut findings: Vec<Message> = facts
            .conversations
            .iter()
            .flat_map(TimeConversation::findings)
            .collect();
        if facts.conversations.is_empty() {
            findings.push(
                Message::new("time-no-conversation")
                    .count("port", u64::from(LabServer::Time.port())),
            );
        }
        findings.extend(facts.clients.iter().map(TimeClientReport::finding));
        let expected = !facts.conversations.is_empty()
            && facts
                .conversations
                .iter()
                // A conversation the summary kept only in part is judged by the client.
                .all(|c| {
                    !c.complete
                        || (c.jam_replies.len() == c.time_requests && c.time_requests > 0 && c.quit)
                })
            && !facts.clients.is_empty()
            && facts.clients.iter().all(TimeClientReport::all_good);
        Analysis::of(&facts, findings, expected)
    }
}
