//! t1-socket-info: `socket-info` on mesin-1 and mesin-2: a fresh socket's
//! timeout, and what getaddrinfo answers for a lab machine's name.

use progjar_client::results::SocketInfoResult;
use serde::Serialize;

use crate::evidence::Evidence;
use crate::lang::Message;
use crate::plan::{Machine, Param, Plan, Settings};
use crate::scenario::{Analysis, Scenario};
use crate::Error;

/// The experiment.
pub struct SocketInfo;

/// The name looked up. Lab names only by default: an offline lab has no
/// DNS for internet names (`SOCKET_INFO_HOST=www.its.ac.id` on a connected one).
pub const HOST: Param = Param {
    env: "SOCKET_INFO_HOST",
    default: "mesin-1",
    help: "the name to look up",
};

/// The port looked up with it.
pub const PORT: Param = Param {
    env: "SOCKET_INFO_PORT",
    default: "45000",
    help: "the port to look up",
};

/// What one socket-info run reported.
#[derive(Debug, Clone, Serialize)]
pub struct Lookup {
    /// Where it ran.
    pub machine: &'static str,
    /// What ran.
    pub command: String,
    /// Its result, when it wrote one.
    pub result: Option<SocketInfoResult>,
}

/// The facts of t1-socket-info.
#[derive(Debug, Clone, Serialize)]
pub struct SocketInfoFacts {
    /// Each run.
    pub lookups: Vec<Lookup>,
    /// Packets in the capture.
    pub packets: u64,
    /// The resolvers the machines use (from their /etc/resolv.conf).
    pub resolvers: Vec<String>,
    /// Whether every resolver is a loopback address, inside the machine.
    pub resolvers_inside: bool,
}

fn is_loopback(address: &str) -> bool {
    address
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

impl SocketInfoFacts {
    fn gather(evidence: &Evidence) -> SocketInfoFacts {
        let lookups: Vec<Lookup> = evidence
            .runs
            .iter()
            .filter(|r| r.planned.program() == "socket-info")
            .map(|r| Lookup {
                machine: r.planned.machine.name(),
                command: r.planned.command.clone(),
                result: r.result_as(),
            })
            .collect();
        let mut resolvers: Vec<String> = lookups
            .iter()
            .filter_map(|l| l.result.as_ref())
            .flat_map(|r| r.resolvers.iter().cloned())
            .collect();
        resolvers.sort();
        resolvers.dedup();
        SocketInfoFacts {
            resolvers_inside: !resolvers.is_empty() && resolvers.iter().all(|r| is_loopback(r)),
            resolvers,
            lookups,
            packets: evidence.summary.packets,
        }
    }

    fn findings(&self) -> Vec<Message> {
        let mut out = Vec::new();
        for lookup in &self.lookups {
            let Some(r) = &lookup.result else { continue };
            if let Some(error) = &r.error {
                out.push(
                    Message::new("socket-info-error")
                        .text("machine", lookup.machine)
                        .text("command", lookup.command.clone())
                        .text("error", error.clone()),
                );
                continue;
            }
            let types: std::collections::BTreeSet<&str> =
                r.entries.iter().map(|e| e.socket_type.as_str()).collect();
            let addresses: std::collections::BTreeSet<&str> =
                r.entries.iter().map(|e| e.address.as_str()).collect();
            out.push(
                Message::new("socket-info-entries")
                    .text("machine", lookup.machine)
                    .text("command", lookup.command.clone())
                    .count("entries", r.entries.len() as u64)
                    .text(
                        "addresses",
                        addresses.into_iter().collect::<Vec<_>>().join(", "),
                    )
                    .text("types", types.into_iter().collect::<Vec<_>>().join(", ")),
            );
            out.push(
                Message::new("socket-info-timeouts")
                    .text("machine", lookup.machine)
                    .text(
                        "before",
                        r.default_timeout_secs
                            .map_or("none".into(), |s| format!("{s}")),
                    )
                    .text(
                        "after",
                        r.timeout_after_set_secs
                            .map_or("none".into(), |s| format!("{s}")),
                    )
                    .text("requested", format!("{}", r.timeout_requested_secs)),
            );
        }
        if self.packets == 0 {
            let resolvers = if self.resolvers.is_empty() {
                "?".to_string()
            } else {
                self.resolvers.join(", ")
            };
            out.push(
                Message::new(if self.resolvers_inside {
                    "socket-info-no-packets-inside"
                } else {
                    "socket-info-no-packets"
                })
                .text("resolvers", resolvers),
            );
        }
        out
    }
}

impl Scenario for SocketInfo {
    fn name(&self) -> &'static str {
        "t1-socket-info"
    }

    fn about(&self) -> &'static str {
        "Tugas 1: socket timeouts and getaddrinfo, on mesin-1 and mesin-2"
    }

    fn params(&self) -> &'static [Param] {
        &[HOST, PORT]
    }

    fn plan(&self, settings: &Settings) -> Result<Plan, Error> {
        let host = settings.word(&HOST)?;
        let port = settings.word(&PORT)?;
        let command = format!("socket-info {host} {port}");
        Ok(Plan::new(self.name(), settings)
            .step(&[(Machine::Mesin1, command.clone())])
            .step(&[(Machine::Mesin2, command)]))
    }

    fn analyse(&self, evidence: &Evidence) -> Analysis {
        let facts = SocketInfoFacts::gather(evidence);
        let expected = !facts.lookups.is_empty()
            && facts.lookups.iter().all(|l| {
                l.result
                    .as_ref()
                    .is_some_and(|r| r.error.is_none() && !r.entries.is_empty())
            });
        Analysis::of(&facts, facts.findings(), expected)
    }
}
