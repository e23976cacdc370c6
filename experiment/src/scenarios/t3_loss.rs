//! t3-loss: the file echo over a link that loses a few percent of its
//! packets. TCP notices the holes (duplicate ACKs, timeouts), sends the
//! missing segments again, and the file still arrives intact.

use serde::Serialize;

use crate::evidence::Evidence;
use crate::lang::Message;
use crate::plan::{LabServer, Machine, Param, Plan, Settings};
use crate::scenario::{Analysis, Scenario};
use crate::scenarios::echo::{file_echo_command, EchoFacts};
use crate::scenarios::t1_file::FILE;
use crate::scenarios::tcp_analysis::TcpAnalysis;
use crate::Error;

/// The experiment.
pub struct Loss;

/// The least time Linux's retransmission timer waits (`TCP_RTO_MIN`,
/// 200 ms), in seconds: the lab's machines run Linux.
const LINUX_MIN_RTO: f64 = 0.2;

/// How lossy mesin-2's link is made for the run.
pub const LOSS: Param = Param {
    env: "T3_LOSS",
    default: "5",
    help: "the percentage of packets mesin-2's link loses each way",
};

/// The facts of a lossy file echo.
#[derive(Debug, Clone, Serialize)]
pub struct LossFacts {
    /// The echo itself (bytes each way, what echo-client checked).
    pub echo: EchoFacts,
    /// What TCP did about the losses.
    pub tcp: TcpAnalysis,
    /// The loss the link had, in percent, as the runner recorded it.
    pub loss_percent: Option<f64>,
    /// Whose link.
    pub lossy_machine: Option<String>,
}

impl Scenario for Loss {
    fn name(&self) -> &'static str {
        "t3-loss"
    }

    fn about(&self) -> &'static str {
        "TCP over a lossy link: the file echo while mesin-2 loses packets; retransmissions, duplicate ACKs, and the file still intact"
    }

    fn params(&self) -> &'static [Param] {
        &[FILE, LOSS]
    }

    fn plan(&self, settings: &Settings) -> Result<Plan, Error> {
        let file = settings.word(&FILE)?;
        let loss = settings.word(&LOSS)?;
        let plan = Plan::new(self.name(), settings)
            .with_server(LabServer::EchoFile, settings)
            .with_lossy_link(Machine::Mesin2, &format!("{loss}%"));
        let command = file_echo_command(&plan, &file);
        Ok(plan.step(&[(Machine::Mesin2, command)]))
    }

    fn analyse(&self, evidence: &Evidence) -> Analysis {
        let facts = LossFacts {
            echo: EchoFacts::gather(evidence, LabServer::EchoFile.port()),
            tcp: TcpAnalysis::of(&evidence.relevant()),
            loss_percent: evidence.impairment.as_ref().and_then(|i| i.loss_percent),
            lossy_machine: evidence.impairment.as_ref().map(|i| i.machine.clone()),
        };
        let intact = facts.echo.as_expected();
        let resent = facts.tcp.counts.retransmission > 0;
        Analysis::of(&facts, facts.findings(), intact && resent)
    }
}

impl LossFacts {
    fn findings(&self) -> Vec<Message> {
        let mut out = Vec::new();
        // The lossy link itself is said with every experiment's facts.
        if self.loss_percent.is_none() {
            out.push(Message::new("loss-no-link"));
        }
        let tcp = &self.tcp;
        let c = &tcp.counts;
        if c.retransmission == 0 {
            out.push(Message::new("loss-nothing-resent"));
            // Advice to lose more only where the run did make the link lossy.
            if self.loss_percent.is_some() {
                out.push(Message::new("loss-try-again"));
            }
        } else {
            out.push(
                Message::new("loss-resent")
                    .count("n", u64::from(c.retransmission))
                    .count("fast", u64::from(c.fast_retransmission))
                    .count("timeout", tcp.timeout_resends())
                    .count("spurious", u64::from(c.spurious_retransmission)),
            );
        }
        if c.duplicate_ack > 0 {
            out.push(Message::new("loss-dupacks").count("n", u64::from(c.duplicate_ack)));
        }
        if let Some(e) = &tcp.first_fast_resend {
            out.push(example("loss-example-fast", e));
        }
        if let Some(e) = &tcp.first_timeout_resend {
            // Linux's retransmission timer waits at least this long: a plain
            // retransmission sooner than that is not the timer's.
            let id = match e.after {
                Some(after) if after < LINUX_MIN_RTO => "loss-example-recovery",
                Some(_) => "loss-example-timer",
                None => "loss-example-timeout",
            };
            out.push(example(id, e));
        }
        if c.out_of_order > 0 || c.lost_segment > 0 {
            out.push(
                Message::new("loss-holes")
                    .count("lost", u64::from(c.lost_segment))
                    .count("ooo", u64::from(c.out_of_order)),
            );
        }
        out.extend(self.echo.findings());
        // "Still intact" only says something when there was a loss to hide.
        if self.echo.as_expected() && c.retransmission > 0 {
            out.push(Message::new("loss-intact"));
        }
        out
    }
}

/// A finding quoting one flagged segment.
pub fn example(id: &'static str, e: &crate::scenarios::tcp_analysis::Example) -> Message {
    Message::new(id)
        .count("conversation", e.conversation as u64)
        .text("time", format!("{:.6}", e.time))
        .text("words", e.words.clone())
}
