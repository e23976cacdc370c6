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
//! - [`report`], [`walkthrough`], [`machines`]: writing REPORT.md; [`html`]:
//!   the same as one self-contained page, `report.html`; [`index`]: a page
//!   linking every run in `captures/`.
//! - [`Error`]: what can go wrong, in words a student can act on.

mod error;
pub mod evidence;
pub mod facts;
pub mod html;
pub mod index;
pub mod lang;
pub mod machines;
pub mod plan;
pub mod registry;
pub mod report;
pub mod runs;
pub mod scenario;
pub mod scenarios;
pub mod walkthrough;

pub use error::Error;
