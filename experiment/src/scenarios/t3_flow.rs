//! t3-flow: a receiver that reads slowly. echo-client reads the file's
//! echo 16 bytes at a time with a pause, into a small receive buffer; the
//! buffer fills, its window shrinks to zero, and the server has to wait,
//! probing the closed window until the reader makes room. That is flow
//! control (the receiver protecting its buffer), not congestion control.

use serde::Serialize;

use crate::evidence::Evidence;
use crate::lang::Message;
use crate::plan::{LabServer, Machine, Param, Plan, Settings};
use crate::scenario::{Analysis, Scenario};
use crate::scenarios::echo::{file_echo_command, EchoFacts};
use crate::scenarios::t1_file::FILE;
use crate::scenarios::t3_loss::example;
use crate::scenarios::tcp_analysis::TcpAnalysis;
use crate::Error;

/// The experiment.
pub struct Flow;

/// The pause after each piece the reader reads.
pub const PAUSE: Param = Param {
    env: "T3_PAUSE",
    default: "0.002",
    help: "seconds echo-client pauses after each 16-byte read",
};

/// Its receive buffer.
pub const BUFFER: Param = Param {
    env: "T3_BUFFER",
    default: "4096",
    help: "echo-client's receive buffer in bytes (SO_RCVBUF; the kernel doubles it)",
};

/// The facts of a slow reader.
#[derive(Debug, Clone, Serialize)]
pub struct FlowFacts {
    /// The echo itself.
    pub echo: EchoFacts,
    /// What the window did.
    pub tcp: TcpAnalysis,
    /// The reader's pause, in seconds, and its buffer.
    pub pause: String,
    /// The receive buffer asked for.
    pub buffer: String,
}

impl Scenario for Flow {
    fn name(&self) -> &'static str {
        "t3-flow"
    }

    fn about(&self) -> &'static str {
        "TCP flow control: a reader that reads slowly; its window shrinks to zero and the sender waits and probes"
    }

    fn params(&self) -> &'static [Param] {
        &[FILE, PAUSE, BUFFER]
    }

    fn plan(&self, settings: &Settings) -> Result<Plan, Error> {
        let file = settings.word(&FILE)?;
        let pause = settings.word(&PAUSE)?;
        let buffer = settings.word(&BUFFER)?;
        let plan = Plan::new(self.name(), settings).with_server(LabServer::EchoFile, settings);
        let command = format!(
            "{} --read-pause {pause} --receive-buffer {buffer}",
            file_echo_command(&plan, &file)
        );
        Ok(plan.step(&[(Machine::Mesin2, command)]))
    }

    fn analyse(&self, evidence: &Evidence) -> Analysis {
        let pause = evidence
            .plan
            .commands()
            .next()
            .map_or(String::new(), |c| word_after(&c.command, "--read-pause"));
        let buffer = evidence.plan.commands().next().map_or(String::new(), |c| {
            word_after(&c.command, "--receive-buffer")
        });
        let facts = FlowFacts {
            echo: EchoFacts::gather(evidence, LabServer::EchoFile.port()),
            tcp: TcpAnalysis::of(&evidence.relevant()),
            pause,
            buffer,
        };
        let shown = facts.tcp.counts.zero_window > 0 && facts.echo.as_expected();
        Analysis::of(&facts, facts.findings(), shown)
    }
}

/// The word after `flag` in `command`.
fn word_after(command: &str, flag: &str) -> String {
    let mut words = command.split_whitespace();
    words.find(|w| *w == flag);
    words.next().unwrap_or_default().to_string()
}

impl FlowFacts {
    fn findings(&self) -> Vec<Message> {
        let mut out = Vec::new();
        let tcp = &self.tcp;
        let c = &tcp.counts;
        out.push(
            Message::new("flow-reader")
                .text("pause", self.pause.clone())
                .text("buffer", self.buffer.clone()),
        );
        if c.zero_window == 0 {
            out.push(Message::new("flow-no-zero-window"));
        } else {
            out.push(Message::new("flow-zero-window").count("n", u64::from(c.zero_window)));
            if let Some(e) = &tcp.first_zero_window {
                out.push(example("flow-example-zero", e));
            }
        }
        if c.window_full > 0 {
            out.push(Message::new("flow-window-full").count("n", u64::from(c.window_full)));
        }
        if tcp.window_probes() > 0 {
            out.push(
                Message::new("flow-probes")
                    .count("n", tcp.window_probes())
                    .count("keepalive", u64::from(c.keep_alive)),
            );
        }
        if c.window_update > 0 {
            out.push(Message::new("flow-updates").count("n", u64::from(c.window_update)));
            if let Some(e) = &tcp.first_window_update {
                out.push(example("flow-example-update", e));
            }
        }
        // Why, only when the run showed the window closing.
        if c.zero_window > 0 {
            out.push(Message::new("flow-why"));
        }
        if c.retransmission > 0 {
            out.push(Message::new("flow-resent").count("n", u64::from(c.retransmission)));
        }
        out.extend(self.echo.findings());
        out
    }
}
