//! t1-file: mesin-2 sends a file's contents to the echo server on mesin-1
//! (port 32444) and checks the echo byte for byte.

use crate::evidence::Evidence;
use crate::plan::{LabServer, Machine, Param, Plan, Settings};
use crate::scenario::{Analysis, Scenario};
use crate::scenarios::echo::{file_echo_command, EchoFacts};
use crate::Error;

/// The experiment.
pub struct File;

/// The file sent (a path on mesin-2).
pub const FILE: Param = Param {
    env: "T1_FILE",
    default: "/usr/share/common-licenses/GPL-3",
    help: "the file mesin-2 sends",
};

impl Scenario for File {
    fn name(&self) -> &'static str {
        "t1-file"
    }

    fn about(&self) -> &'static str {
        "Tugas 1: a file's contents echoed on port 32444, checked byte for byte"
    }

    fn params(&self) -> &'static [Param] {
        &[FILE]
    }

    fn plan(&self, settings: &Settings) -> Result<Plan, Error> {
        let file = settings.word(&FILE)?;
        let plan = Plan::new(self.name(), settings).with_server(LabServer::EchoFile, settings);
        let command = file_echo_command(&plan, &file);
        Ok(plan.step(&[(Machine::Mesin2, command)]))
    }

    fn analyse(&self, evidence: &Evidence) -> Analysis {
        let facts = EchoFacts::gather(evidence, LabServer::EchoFile.port());
        Analysis::of(&facts, facts.findings(), facts.as_expected())
    }
}
