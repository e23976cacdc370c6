//! t1-echo: mesin-2 sends the course's message to the echo server on
//! mesin-1 (port 10000) and reads the echo in 16-byte pieces.

use crate::evidence::Evidence;
use crate::plan::{LabServer, Machine, Param, Plan, Settings};
use crate::scenario::{Analysis, Scenario};
use crate::scenarios::echo::EchoFacts;
use crate::Error;

/// The experiment.
pub struct Echo;

impl Scenario for Echo {
    fn name(&self) -> &'static str {
        "t1-echo"
    }

    fn about(&self) -> &'static str {
        "Tugas 1: echo of the course's message on port 10000, read in 16-byte pieces"
    }

    fn params(&self) -> &'static [Param] {
        &[]
    }

    fn plan(&self, settings: &Settings) -> Result<Plan, Error> {
        let plan = Plan::new(self.name(), settings).with_server(LabServer::Echo, settings);
        let command = format!(
            "echo-client {} {}",
            plan.server_address(),
            LabServer::Echo.port()
        );
        Ok(plan.step(&[(Machine::Mesin2, command)]))
    }

    fn analyse(&self, evidence: &Evidence) -> Analysis {
        let facts = EchoFacts::gather(evidence, LabServer::Echo.port());
        Analysis::of(&facts, facts.findings(), facts.as_expected())
    }
}
