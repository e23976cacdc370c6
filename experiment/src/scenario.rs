//! What every experiment is: a plan, and an analysis of what a run showed.

use serde::Serialize;

use crate::evidence::Evidence;
use crate::lang::Message;
use crate::plan::{Param, Plan, Settings};
use crate::Error;

/// One experiment of the course. Each lives in its own file under
/// `scenarios/` and is listed once in [`crate::registry`].
pub trait Scenario: Sync {
    /// Its name on the command line: `t2-concurrent`.
    fn name(&self) -> &'static str;

    /// One line on what it shows (for `experiment list` and the README).
    fn about(&self) -> &'static str;

    /// The settings it takes, as environment variables with defaults.
    fn params(&self) -> &'static [Param];

    /// What runs where, for these settings.
    fn plan(&self, settings: &Settings) -> Result<Plan, Error>;

    /// The facts of one run and the findings they make.
    fn analyse(&self, evidence: &Evidence) -> Analysis;
}

/// What one run of an experiment showed.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The experiment's own facts, as written to `findings.json`.
    pub facts: serde_json::Value,
    /// Its findings, in order, to be said in the report's language.
    pub findings: Vec<Message>,
    /// Whether the run showed what the experiment is about.
    pub as_expected: bool,
}

impl Analysis {
    /// The analysis of typed `facts`.
    pub fn of<F: Serialize>(facts: &F, findings: Vec<Message>, as_expected: bool) -> Analysis {
        Analysis {
            // Plain structs of numbers and strings always serialize.
            facts: serde_json::to_value(facts).unwrap_or(serde_json::Value::Null),
            findings,
            as_expected,
        }
    }
}
