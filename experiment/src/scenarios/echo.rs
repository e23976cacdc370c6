//! What an echo experiment measures: the bytes each way in the capture
//! (stream bytes, and bytes on the wire when they differ) and what the
//! client itself checked.

use pcap_summary::conversation::Dir;
use progjar_client::results::EchoResult;
use serde::Serialize;

use crate::evidence::Evidence;
use crate::facts::client_of;
use crate::lang::Message;
use crate::plan::{LabServer, Plan};

/// The command that sends `file` to the file echo server (port 32444) from
/// a client machine, as t1-file, t3-loss and t3-flow run it.
pub fn file_echo_command(plan: &Plan, file: &str) -> String {
    format!(
        "echo-client {} {} --file {file}",
        plan.server_address(),
        LabServer::EchoFile.port()
    )
}

/// One echo conversation as the capture shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EchoConversation {
    /// Its number in the capture.
    pub conversation: usize,
    /// The client machine.
    pub client: String,
    /// Stream bytes to the server: each byte once, as captured.
    pub stream_sent: u64,
    /// Stream bytes back to the client.
    pub stream_back: u64,
    /// Payload bytes to the server on the wire, retransmissions included.
    pub wire_sent: u64,
    /// Payload bytes back on the wire.
    pub wire_back: u64,
    /// Segments sent again (retransmitted), both ways.
    pub resent_segments: u64,
    /// Whether the server answered the SYN (SYN,ACK seen).
    pub handshake_done: bool,
}

/// What an echo-client reported of its own run (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct EchoClientReport {
    /// Where it ran.
    pub machine: &'static str,
    /// Its result, when it wrote one.
    pub result: Option<EchoResult>,
}

/// The facts of an echo experiment.
#[derive(Debug, Clone, Serialize)]
pub struct EchoFacts {
    /// The server port.
    pub port: u16,
    /// Conversations with that port.
    pub conversations: Vec<EchoConversation>,
    /// What each echo-client said.
    pub clients: Vec<EchoClientReport>,
}

impl EchoFacts {
    /// The facts of one run.
    pub fn gather(evidence: &Evidence, port: u16) -> EchoFacts {
        let conversations = evidence
            .relevant()
            .iter()
            .map(|c| EchoConversation {
                conversation: c.id,
                client: client_of(c),
                stream_sent: c.stream_bytes[Dir::ClientToServer],
                stream_back: c.stream_bytes[Dir::ServerToClient],
                wire_sent: c.payload_bytes[Dir::ClientToServer],
                wire_back: c.payload_bytes[Dir::ServerToClient],
                resent_segments: c.retransmissions(),
                handshake_done: c.handshake.syn_ack.is_some(),
            })
            .collect();
        let clients = evidence
            .runs
            .iter()
            .filter(|r| r.planned.program() == "echo-client")
            .map(|r| EchoClientReport {
                machine: r.planned.machine.name(),
                result: r.result_as(),
            })
            .collect();
        EchoFacts {
            port,
            conversations,
            clients,
        }
    }

    /// Whether the echo came back whole and every client checked it.
    pub fn as_expected(&self) -> bool {
        !self.conversations.is_empty()
            && !self.clients.is_empty()
            && self
                .clients
                .iter()
                .all(|c| c.result.as_ref().is_some_and(|r| r.identical))
    }

    /// The findings.
    pub fn findings(&self) -> Vec<Message> {
        let mut out = Vec::new();
        if self.conversations.is_empty() {
            out.push(Message::new("echo-no-conversation").count("port", u64::from(self.port)));
        }
        // A refused connection carried no data: the reset finding says it.
        for c in self.conversations.iter().filter(|c| c.handshake_done) {
            let same = match c.stream_back.cmp(&c.stream_sent) {
                std::cmp::Ordering::Equal => "same",
                std::cmp::Ordering::Less => "less",
                std::cmp::Ordering::Greater => "more",
            };
            out.push(
                Message::new("echo-bytes")
                    .text("client", c.client.clone())
                    .count("sent", c.stream_sent)
                    .count("port", u64::from(self.port))
                    .count("back", c.stream_back)
                    .text("same", same),
            );
            if c.wire_sent != c.stream_sent || c.wire_back != c.stream_back {
                out.push(
                    Message::new("echo-wire")
                        .count("wiresent", c.wire_sent)
                        .count("wireback", c.wire_back)
                        .count("segments", c.resent_segments),
                );
            }
        }
        out.extend(self.client_findings());
        out
    }

    /// What each echo-client said of its own run.
    pub fn client_findings(&self) -> Vec<Message> {
        let mut out = Vec::new();
        for client in &self.clients {
            let Some(r) = &client.result else { continue };
            let message = if r.identical {
                Message::new("echo-client-identical")
                    .text("machine", client.machine)
                    .count("pieces", r.pieces)
                    .count("chunk", r.chunk as u64)
                    .count("bytes", r.bytes_received)
                    .count("rounds", r.rounds_sent)
            } else {
                Message::new("echo-client-different")
                    .text("machine", client.machine)
                    .count("sent", r.bytes_sent)
                    .count("received", r.bytes_received)
                    .text("error", r.error.clone().unwrap_or_default())
            };
            out.push(message);
        }
        out
    }
}
