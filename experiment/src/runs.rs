//! What the runner recorded of each command, joined with the plan.
//!
//! `lab/lab.sh` appends one line to `runs.jsonl` when a command ends:
//! `{"id":3,"exit":0,"started":1700000000.12,"ended":1700000001.50}`. It
//! writes only numbers: the command, machine and file names come from the
//! plan, by id, so nothing is parsed by position and nothing is escaped in
//! shell.

use serde::{Deserialize, Serialize};

use crate::plan::PlannedCommand;

/// One line of `runs.jsonl`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// The planned command's id.
    pub id: u32,
    /// Its exit code (`docker exec` passes the program's own).
    pub exit: i32,
    /// When it started, in seconds since 1970 (the host's clock).
    pub started: f64,
    /// When it ended.
    pub ended: f64,
}

/// Reads `runs.jsonl`; a line that is not a record is reported, not fatal.
pub fn parse_records(text: &str) -> (Vec<RunRecord>, Vec<String>) {
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<RunRecord>(line) {
            Ok(record) => records.push(record),
            Err(e) => problems.push(format!("runs.jsonl line {}: {e}", n + 1)),
        }
    }
    (records, problems)
}

/// A planned command with what became of it.
#[derive(Debug, Clone)]
pub struct Run {
    /// What was planned.
    pub planned: PlannedCommand,
    /// What the runner recorded; `None` when the command never ended (the
    /// run was interrupted) or never started.
    pub record: Option<RunRecord>,
    /// Its output, as far as it was saved.
    pub log: String,
    /// Its `--json` result document, when the program wrote one.
    pub result: Option<serde_json::Value>,
    /// Why a result file that exists could not be read.
    pub result_problem: Option<String>,
}

impl Run {
    /// Its exit code, if it ended.
    pub fn exit(&self) -> Option<i32> {
        self.record.map(|r| r.exit)
    }

    /// Whether it ended with exit code 0.
    pub fn succeeded(&self) -> bool {
        self.exit() == Some(0)
    }

    /// The result, as the program's own type.
    pub fn result_as<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.result.clone()?).ok()
    }

    /// The last `n` non-empty lines of its output.
    pub fn last_lines(&self, n: usize) -> Vec<String> {
        let lines: Vec<&str> = self.log.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(n)..]
            .iter()
            .map(|l| l.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_and_broken_lines_reported() {
        let text = "{\"id\":1,\"exit\":0,\"started\":1.5,\"ended\":2.0}\n\nnot json\n{\"id\":2,\"exit\":137,\"started\":2,\"ended\":3}\n";
        let (records, problems) = parse_records(text);
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].exit, 137);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("runs.jsonl line 3:"),
            "{problems:?}"
        );
    }

    #[test]
    fn last_lines_skip_blank_ones() {
        let run = Run {
            planned: PlannedCommand {
                id: 1,
                machine: crate::plan::Machine::Mesin2,
                command: "x".into(),
            },
            record: None,
            log: "a\nb\n\nc\n\n".into(),
            result: None,
            result_problem: None,
        };
        assert_eq!(run.last_lines(2), ["b", "c"]);
        assert_eq!(run.last_lines(10), ["a", "b", "c"]);
    }
}
