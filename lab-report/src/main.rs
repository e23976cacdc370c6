//! lab-report: REPORT.md for one experiment of the lab.
//!
//! `make scenario` runs an experiment, capturing everything, and leaves in
//! its folder the capture (`capture.pcap`), the list of what ran where
//! (`runs.tsv`: machine, command, exit code, log file) and each program's
//! log. This program summarizes the capture (`summary.txt`, `summary.json`,
//! `timeline.svg`) and writes `REPORT.md`: what ran where, the finding the
//! experiment is about, one conversation walked through, the timeline and
//! the logs. `--lang id` (or REPORT_LANG=id) writes it in Indonesian.

mod findings;
mod lang;
mod machines;
mod walkthrough;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use pcap_summary::{summarize, text, timeline, Options};

use crate::lang::Lang;

/// Write REPORT.md for one lab experiment from its capture and logs.
#[derive(Debug, Parser)]
#[command(name = "lab-report", version)]
#[command(
    after_help = "Exit codes: 0 written, 1 the folder lacks capture.pcap or runs.tsv (the message says which), 2 bad command line."
)]
struct Args {
    /// The experiment's folder (captures/<time>-<name>/).
    dir: PathBuf,

    /// The experiment: t1-socket-info, t1-echo, t1-file, t1-iterative, t2-time, t2-concurrent, t2-crlf.
    #[arg(long)]
    scenario: String,

    /// Language of the report.
    #[arg(long, value_enum, env = "REPORT_LANG", default_value = "en")]
    lang: Lang,
}

/// One program that ran during the experiment.
#[derive(Debug, Clone)]
pub struct Run {
    /// The lab machine it ran on.
    pub machine: String,
    /// The exact command.
    pub command: String,
    /// Its exit code.
    pub exit: i32,
    /// Its log file, relative to the folder.
    pub log_file: String,
    /// The log's text.
    pub log: String,
}

fn read_runs(dir: &Path) -> anyhow::Result<Vec<Run>> {
    let table = fs::read_to_string(dir.join("runs.tsv")).context("cannot read runs.tsv")?;
    let mut runs = Vec::new();
    for line in table.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [machine, command, exit, log_file] = fields.as_slice() else {
            anyhow::bail!("runs.tsv: expected 4 tab-separated fields in {line:?}");
        };
        runs.push(Run {
            machine: machine.to_string(),
            command: command.to_string(),
            exit: exit.parse().unwrap_or(-1),
            log_file: log_file.to_string(),
            log: fs::read_to_string(dir.join(log_file)).unwrap_or_default(),
        });
    }
    Ok(runs)
}

fn fenced(text: &str, max_lines: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::from("```text\n");
    for line in lines.iter().take(max_lines) {
        out.push_str(line);
        out.push('\n');
    }
    if lines.len() > max_lines {
        let _ = writeln!(out, "... ({} more lines)", lines.len() - max_lines);
    }
    out.push_str("```\n");
    out
}

fn write_report(args: &Args) -> anyhow::Result<()> {
    let dir = &args.dir;
    let lang = args.lang;
    let pcap = dir.join("capture.pcap");
    let file = fs::File::open(&pcap).with_context(|| format!("cannot open {}", pcap.display()))?;
    let summary = summarize(std::io::BufReader::new(file), &Options::default())?;
    let all: Vec<_> = summary.conversations.iter().collect();
    fs::write(
        dir.join("summary.txt"),
        text::render(&summary, "capture.pcap", &all, false),
    )?;
    fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(&summary.json_view(&all))?,
    )?;
    let relevant = findings::relevant(&args.scenario, &summary);
    fs::write(
        dir.join("timeline.svg"),
        timeline::svg(&relevant, summary.duration),
    )?;
    let runs = read_runs(dir)?;

    let mut md = String::new();
    let _ = writeln!(
        md,
        "# {}: {}\n",
        lang.pick("Experiment", "Percobaan"),
        args.scenario
    );
    let _ = writeln!(
        md,
        "## {}\n",
        lang.pick("What ran where", "Apa yang dijalankan di mana")
    );
    let _ = writeln!(
        md,
        "| {} | {} | {} | log |\n|---|---|---|---|",
        lang.pick("machine", "mesin"),
        lang.pick("command", "perintah"),
        lang.pick("exit", "kode keluar")
    );
    for run in &runs {
        let _ = writeln!(
            md,
            "| {} | `{}` | {} | [{}]({}) |",
            run.machine, run.command, run.exit, run.log_file, run.log_file
        );
    }
    let _ = writeln!(md, "\n## {}\n", lang.pick("Finding", "Temuan"));
    for finding in findings::findings(&args.scenario, &summary, &runs, lang) {
        let _ = writeln!(md, "- {finding}");
    }
    let _ = writeln!(
        md,
        "- {}",
        lang.pick(
            format!("The capture holds {} packets ({} TCP) in {} TCP conversation(s); at most {} were open at once.", summary.packets, summary.tcp_packets, summary.conversations.len(), summary.max_concurrent),
            format!("Tangkapan memuat {} paket ({} TCP) dalam {} percakapan TCP; paling banyak {} terbuka bersamaan.", summary.packets, summary.tcp_packets, summary.conversations.len(), summary.max_concurrent),
        )
    );
    if let Some(first) = relevant.first() {
        let _ = writeln!(
            md,
            "\n## {}\n",
            lang.pick(
                "One conversation, step by step",
                "Satu percakapan, langkah demi langkah"
            )
        );
        md.push_str(&walkthrough::walk(first, lang));
    }
    if !relevant.is_empty() {
        let _ = writeln!(md, "\n## {}\n", lang.pick("Timeline", "Garis waktu"));
        md.push_str(&fenced(&timeline::text(&relevant, summary.duration), 200));
        let _ = writeln!(md, "\n![timeline](timeline.svg)");
    }
    let _ = writeln!(md, "\n## {}\n", lang.pick("Logs", "Log"));
    for run in &runs {
        let _ = writeln!(md, "### {} — `{}`\n", run.machine, run.command);
        md.push_str(&fenced(&run.log, 120));
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "{}",
        lang.pick(
            "Files here: `capture.pcap` (open it in Wireshark), `summary.txt` and `summary.json` (pcap-summary), `timeline.svg`, and the logs above.",
            "Berkas di sini: `capture.pcap` (buka di Wireshark), `summary.txt` dan `summary.json` (pcap-summary), `timeline.svg`, dan log di atas.",
        )
    );
    fs::write(dir.join("REPORT.md"), md)?;
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match write_report(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lab-report: {}: {e:#}", args.dir.display());
            ExitCode::FAILURE
        }
    }
}
