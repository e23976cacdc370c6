//! experiment: the lab's experiments — list them, print a plan for the
//! runner, write the report of a run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use progjar_experiment::lang::Lang;
use progjar_experiment::plan::{Settings, NET_ENV, PLAN_FILE, SERVER_ENV};
use progjar_experiment::registry::{self, SCENARIOS};
use progjar_experiment::report::write_report;

/// The lab's experiments: what each runs, and the report of a run.
///
/// `make scenario S=NAME` calls `experiment plan`, runs the plan in the lab
/// while capturing, then calls `experiment report` on the folder.
#[derive(Debug, Parser)]
#[command(name = "experiment", version = progjar_common::build_info::version(env!("CARGO_PKG_VERSION")))]
#[command(
    after_help = "Exit codes: 0 done, 1 the folder or a setting is not usable (the message says which and what to do), 2 bad command line."
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the experiments with what each shows and the settings it takes.
    List,
    /// Print every experiment's name, one per line, in the order S=all runs them.
    Names,
    /// Print every setting's environment variable, one per line (for the runner).
    Params,
    /// Print the plan of one experiment as lines for lab/lab.sh; settings come
    /// from the environment (LAB_NET, SERVER and the experiment's own).
    Plan {
        /// The experiment, e.g. t2-concurrent.
        name: String,
        /// Also write the plan as plan.json into this folder.
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
    },
    /// Write index.html into a folder of runs (captures/), linking each run's
    /// report.html with its verdict, newest first.
    Index {
        /// The folder holding the runs' folders.
        dir: PathBuf,
        /// Language of the page.
        #[arg(long, value_enum, env = "REPORT_LANG", default_value = "en")]
        lang: Lang,
    },
    /// Write REPORT.md and findings.json for a run's folder (captures/<time>-<name>/),
    /// and print its findings.
    Report {
        /// The run's folder.
        dir: PathBuf,
        /// Language of the report.
        #[arg(long, value_enum, env = "REPORT_LANG", default_value = "en")]
        lang: Lang,
    },
}

fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::List => {
            for s in SCENARIOS {
                println!("{:<16} {}", s.name(), s.about());
                for p in s.params() {
                    println!("{:<16}   {}={} ({})", "", p.env, p.default, p.help);
                }
            }
        }
        Command::Names => {
            for name in registry::names() {
                println!("{name}");
            }
        }
        Command::Params => {
            println!("{NET_ENV}\n{SERVER_ENV}");
            let mut seen = std::collections::BTreeSet::new();
            for p in SCENARIOS.iter().flat_map(|s| s.params()) {
                if seen.insert(p.env) {
                    println!("{}", p.env);
                }
            }
        }
        Command::Plan { name, write } => {
            let scenario = registry::find(&name)?;
            let settings = Settings::from_env(scenario.params());
            settings.validate()?;
            let plan = scenario.plan(&settings)?;
            if let Some(dir) = write {
                let path = dir.join(PLAN_FILE);
                std::fs::write(&path, serde_json::to_string_pretty(&plan)?)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            }
            print!("{}", plan.shell_lines());
        }
        Command::Index { dir, lang } => {
            let runs = progjar_experiment::index::runs_in(&dir);
            let path = dir.join(progjar_experiment::index::INDEX_FILE);
            std::fs::write(&path, progjar_experiment::index::page(&runs, lang))
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            println!("{} ({} runs)", path.display(), runs.len());
        }
        Command::Report { dir, lang } => {
            let written =
                write_report(&dir, lang).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
            for sentence in &written.sentences {
                println!("- {sentence}");
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("experiment: {e:#}");
            ExitCode::FAILURE
        }
    }
}
