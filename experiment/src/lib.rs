//! The lab's experiments, each with one home.
//!
//! An experiment (a *scenario*) is one file in [`scenarios`] and one line in
//! [`registry`]. The file says three things:
//!
//! 1. its **plan**: which machine runs which command, in which steps, with
//!    its defaults (ports, files, counts) as [`plan::Param`]s;
//! 2. the **facts** it measures, computed from this run's capture and from
//!    the programs' structured results (`--json`), never from log text;
//! 3. its **findings**: sentences rendered from those facts through a
//!    language catalogue ([`lang`]), so every sentence is true of the run it
//!    describes, and says what did happen when the run did not show what the
//!    experiment is about.
//!
//! `lab/lab.sh` only brings the lab up, captures, and runs the plan that
//! `experiment plan` prints; `experiment report` then writes the folder's
//! `REPORT.md` and `findings.json`.
//!
//! Layout:
//! - [`plan`]: machines, commands, steps, parameters, and the plan's two forms
//!   (`plan.json` for the reporter, tab-separated lines for the runner).
//! - [`runs`]: what the runner recorded (`runs.jsonl`) joined with the plan.
//! - [`evidence`]: everything one run left behind, read back safely.
//! - [`facts`]: facts every experiment reports (capture, failures, resets).
//! - [`scenario`]: the trait each experiment implements; [`registry`]: the list.
//! - [`lang`]: the sentence catalogues (`lang/en.ftl`, `lang/id.ftl`).
//! - [`report`], [`walkthrough`], [`machines`]: writing REPORT.md.

pub mod evidence;
pub mod facts;
pub mod lang;
pub mod machines;
pub mod plan;
pub mod registry;
pub mod report;
pub mod runs;
pub mod scenario;
pub mod scenarios;
pub mod walkthrough;

/// What can go wrong in this crate, in words a student can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No experiment has that name.
    #[error("unknown experiment '{name}': one of {known}")]
    UnknownScenario {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
    /// A parameter's value does not fit.
    #[error("{param}={value}: {reason}")]
    BadParam {
        /// The environment variable.
        param: &'static str,
        /// What it was set to.
        value: String,
        /// What it must be.
        reason: &'static str,
    },
    /// A file of the experiment's folder is missing or unreadable.
    #[error("{file}: {reason}")]
    Folder {
        /// The file, relative to the folder.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// The capture could not be read.
    #[error("capture.pcap: {0}")]
    Capture(#[from] pcap_summary::input::InputError),
    /// Writing a file of the report failed.
    #[error("writing {file}: {source}")]
    Write {
        /// The file.
        file: String,
        /// What the system said.
        source: std::io::Error,
    },
}
