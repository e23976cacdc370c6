//! t1-iterative: two clients at once against the iterative echo server;
//! the second one waits until the first one's connection ends.

use pcap_summary::conversation::{Conversation, Dir};
use pcap_summary::segment::Flags;
use serde::Serialize;

use crate::evidence::Evidence;
use crate::facts::client_of;
use crate::lang::Message;
use crate::plan::{LabServer, Machine, Param, Plan, Settings};
use crate::scenario::{Analysis, Scenario};
use crate::scenarios::echo::EchoFacts;
use crate::Error;

/// The experiment.
pub struct Iterative;

/// Seconds between a client's sends.
pub const INTERVAL: Param = Param {
    env: "T1_INTERVAL",
    default: "3",
    help: "seconds between one send of a client and its next",
};

/// Sends per client.
pub const REPEAT: Param = Param {
    env: "T1_REPEAT",
    default: "3",
    help: "how many times each client sends the message",
};

/// One served connection, as the capture shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Served {
    /// Its number in the capture.
    pub conversation: usize,
    /// The client machine.
    pub client: String,
    /// When its handshake was done (or its first packet).
    pub connected: f64,
    /// When the server's first echo byte went to it.
    pub first_echo: f64,
    /// When its first FIN went (or its last packet).
    pub ended: f64,
}

/// The facts of t1-iterative.
#[derive(Debug, Clone, Serialize)]
pub struct IterativeFacts {
    /// Connections that got an echo, by the time of their first echo byte.
    pub served: Vec<Served>,
    /// Whether the second one, connected while the first was still open,
    /// got its first echo only after the first one ended (`None`: fewer
    /// than two connections were served, or they did not overlap).
    pub second_waited: Option<bool>,
    /// Whether the second connected while the first was still open.
    pub overlapped: Option<bool>,
}

fn served(c: &Conversation) -> Option<Served> {
    let first_echo = c.first_data[Dir::ServerToClient]?;
    let connected = c.handshake.ack.as_ref().map_or(c.start, |step| step.time);
    let ended = c
        .teardown
        .steps
        .iter()
        .find(|s| s.flags.has(Flags::FIN) || s.flags.has(Flags::RST))
        .map_or(c.end, |s| s.time);
    Some(Served {
        conversation: c.id,
        client: client_of(c),
        connected,
        first_echo,
        ended,
    })
}

impl IterativeFacts {
    /// The facts of one run.
    pub fn gather(evidence: &Evidence) -> IterativeFacts {
        let mut served: Vec<Served> = evidence.relevant().into_iter().filter_map(served).collect();
        served.sort_by(|a, b| a.first_echo.total_cmp(&b.first_echo));
        let overlapped = match served.as_slice() {
            [first, second, ..] => Some(second.connected < first.ended),
            _ => None,
        };
        let second_waited = match served.as_slice() {
            [first, second, ..] if overlapped == Some(true) => {
                Some(second.first_echo >= first.ended)
            }
            _ => None,
        };
        IterativeFacts {
            served,
            second_waited,
            overlapped,
        }
    }

    /// The findings.
    pub fn findings(&self) -> Vec<Message> {
        match self.served.as_slice() {
            [first, second, ..] => {
                let id = match self.second_waited {
                    Some(true) => "iterative-waited",
                    Some(false) => "iterative-overlapped",
                    None => "iterative-no-overlap",
                };
                vec![Message::new(id)
                    .text("second", second.client.clone())
                    .seconds("connected", second.connected)
                    .seconds("echo", second.first_echo)
                    .text(
                        "waited",
                        format!("{:.1}", second.first_echo - second.connected),
                    )
                    .text("first", first.client.clone())
                    .seconds("ended", first.ended)]
            }
            _ => vec![Message::new("iterative-not-two").count("served", self.served.len() as u64)],
        }
    }
}

impl Scenario for Iterative {
    fn name(&self) -> &'static str {
        "t1-iterative"
    }

    fn about(&self) -> &'static str {
        "Tugas 1: two clients at once against the iterative echo server; the second waits"
    }

    fn params(&self) -> &'static [Param] {
        &[INTERVAL, REPEAT]
    }

    fn plan(&self, settings: &Settings) -> Result<Plan, Error> {
        let interval = settings.seconds(&INTERVAL)?;
        let repeat = settings.count(&REPEAT)?;
        let plan = Plan::new(self.name(), settings).with_server(LabServer::Echo, settings);
        let command = format!(
            "echo-client {} {} --repeat {repeat} --interval {interval}",
            plan.server_address(),
            LabServer::Echo.port()
        );
        Ok(plan.step(&[
            (Machine::Mesin2, command.clone()),
            (Machine::Mesin3, command),
        ]))
    }

    fn analyse(&self, evidence: &Evidence) -> Analysis {
        let facts = IterativeFacts::gather(evidence);
        let echo = EchoFacts::gather(evidence, LabServer::Echo.port());
        let mut findings = facts.findings();
        findings.extend(echo.client_findings());
        let expected = facts.second_waited == Some(true) && echo.as_expected();
        Analysis::of(&facts, findings, expected)
    }
}
