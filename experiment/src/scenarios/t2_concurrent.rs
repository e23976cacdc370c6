//! t2-concurrent: clients on mesin-2 and mesin-3, several each, one second
//! apart, against the concurrent time server: their connections overlap.

use std::collections::BTreeSet;

use pcap_summary::conversation::{max_concurrent, Dir};
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
    /// Most of them open at once (a client waiting in a backlog counts).
    pub most_open: usize,
    /// Most of them being answered at once: from a connection's first reply
    /// to its end, while another's had begun and not ended.
    pub most_served: usize,
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
        let clients = settings.count(&CLIENTS)?;
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
        let served: Vec<(f64, f64)> = relevant
            .iter()
            .filter_map(|c| Some((c.first_data[Dir::ServerToClient]?, c.end)))
            .collect();
        let facts = ConcurrentFacts {
            connections: relevant.len(),
            most_open: max_concurrent(relevant.iter().copied()),
            most_served: most_at_once(&served),
            clients: clients.into_iter().collect(),
            reports: TimeClientReport::all(evidence),
        };
        if facts.connections == 0 {
            let mut findings = vec![Message::new("time-no-conversation")
                .count("port", u64::from(LabServer::Time.port()))];
            findings.extend(facts.reports.iter().map(TimeClientReport::finding));
            return Analysis::of(&facts, findings, false);
        }
        let mut findings = vec![Message::new(if facts.most_served >= 2 {
            "concurrent-overlap"
        } else {
            "concurrent-one-at-a-time"
        })
        .count("most", facts.most_served as u64)
        .count("open", facts.most_open as u64)
        .count("connections", facts.connections as u64)
        .count("port", u64::from(LabServer::Time.port()))
        .text("clients", facts.clients.join(", "))];
        findings.extend(facts.reports.iter().map(TimeClientReport::finding));
        let expected = facts.most_served >= 2
            && !facts.reports.is_empty()
            && facts.reports.iter().all(TimeClientReport::all_good);
        Analysis::of(&facts, findings, expected)
    }
}

/// The most intervals `(from, to)` that overlap at one moment; one that
/// ends exactly when another begins does not overlap it.
pub fn most_at_once(intervals: &[(f64, f64)]) -> usize {
    let mut events: Vec<(f64, i32)> = intervals
        .iter()
        // A reply that is the last packet still counts for an instant.
        .flat_map(|&(from, to)| [(from, 1), (to.max(from + 1e-9), -1)])
        .collect();
    // Ends before starts at the same moment.
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut open, mut most) = (0i32, 0i32);
    for (_, change) in events {
        open += change;
        most = most.max(open);
    }
    most.max(0) as usize
}

#[cfg(test)]
mod tests {
    use super::most_at_once;

    #[test]
    fn intervals_that_touch_do_not_overlap() {
        assert_eq!(most_at_once(&[]), 0);
        assert_eq!(most_at_once(&[(0.0, 1.0), (1.0, 2.0)]), 1);
        assert_eq!(most_at_once(&[(0.0, 1.0), (0.5, 2.0), (0.6, 0.7)]), 3);
        assert_eq!(most_at_once(&[(2.0, 1.0)]), 1);
    }
}
