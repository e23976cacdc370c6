//! t2-concurrent: clients on mesin-2 and mesin-3, several each, one second
//! apart, against the concurrent time server: their connections overlap.

use std::collections::BTreeSet;

use pcap_summary::conversation::max_concurrent;
use serde::Serialize;

use crate::evidence::Evidence;
use crate::facts::client_of;
use crate::lang::Message;
use crate::plan::{LabServer, Machine, Param, Plan, Settings};
use crate::scenario::{Analysis, Scenario};
use crate::scenarios::t2_time::TimeClientReport;
use crate::Error;

/// The experiment.
pub struct Concurrent;

/// Clients per client machine (the course has nine).
pub const CLIENTS: Param = Param {
    env: "T2_CLIENTS",
    default: "9",
    help: "clients on each of mesin-2 and mesin-3, started one second apart",
};

/// The facts of t2-concurrent.
#[derive(Debug, Clone, Serialize)]
pub struct ConcurrentFacts {
    /// Connections to port 45000.
    pub connections: usize,
    /// Most of them open at once.
    pub most_at_once: usize,
    /// The client machines they came from.
    pub clients: Vec<String>,
    /// What each time-client checked.
    pub reports: Vec<TimeClientReport>,
}

impl Scenario for Concurrent {
    fn name(&self) -> &'static str {
        "t2-concurrent"
    }

    fn about(&self) -> &'static str {
        "Tugas 2: many clients from two machines at once; the connections overlap"
    }

    fn params(&self) -> &'static [Param] {
        &[CLIENTS]
    }

    fn plan(&self, settings: &Settings) -> Result<Plan, Error> {
        let clients = settings.count(&CLIENTS, 1)?;
        let plan = Plan::new(self.name(), settings).with_server(LabServer::Time, settings);
        let command = format!(
            "time-client {} {} --clients {clients} --stagger 1 --count 3 --interval 1",
            plan.server_address(),
            LabServer::Time.port()
        );
        Ok(plan.step(&[
            (Machine::Mesin2, command.clone()),
            (Machine::Mesin3, command),
        ]))
    }

    fn analyse(&self, evidence: &Evidence) -> Analysis {
        let relevant = evidence.relevant();
        let clients: BTreeSet<String> = relevant.iter().map(|c| client_of(c)).collect();
        let facts = ConcurrentFacts {
            connections: relevant.len(),
            most_at_once: max_concurrent(relevant.iter().copied()),
            clients: clients.into_iter().collect(),
            reports: TimeClientReport::all(evidence),
        };
        let mut findings = vec![Message::new(if facts.most_at_once >= 2 {
            "concurrent-overlap"
        } else {
            "concurrent-no-overlap"
        })
        .count("most", facts.most_at_once as u64)
        .count("connections", facts.connections as u64)
        .count("port", u64::from(LabServer::Time.port()))
        .text("clients", facts.clients.join(", "))];
        findings.extend(facts.reports.iter().map(TimeClientReport::finding));
        let expected = facts.most_at_once >= 2
            && !facts.reports.is_empty()
            && facts.reports.iter().all(|r| r.first_error.is_none());
        Analysis::of(&facts, findings, expected)
    }
}
