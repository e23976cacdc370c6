//! Writing an experiment's folder: `summary.txt`, `summary.json`,
//! `timeline.svg`, the ladder diagrams (`ladder.svg`/`.png`, and
//! `overview.svg`/`.png` when there are several conversations),
//! `findings.json`, `REPORT.md` and `report.html`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use pcap_summary::{ladder, text, timeline};
use serde::Serialize;

use crate::evidence::Evidence;
use crate::facts::CommonFacts;
use crate::lang::{Catalogue, Lang, Message};
use crate::plan::{
    ServerUnderTest, CAPTURE_FILE, FINDINGS_FILE, HTML_FILE, LADDER_FILE, LADDER_PNG_FILE,
    OVERVIEW_FILE, OVERVIEW_PNG_FILE, REPORT_FILE, SUMMARY_JSON_FILE, SUMMARY_TEXT_FILE,
    TIMELINE_FILE,
};
use crate::registry;
use crate::walkthrough;
use crate::Error;

/// Lines of a program's log shown in the report.
const LOG_LINES: usize = 120;
/// Rows of the text timeline shown in the report.
const TIMELINE_ROWS: usize = 200;

/// `findings.json`: the facts of one run and the sentences they made.
#[derive(Debug, Serialize)]
pub struct Findings<'a> {
    /// The experiment.
    pub scenario: &'a str,
    /// Whether the run showed what the experiment is about.
    pub as_expected: bool,
    /// Facts every experiment reports.
    pub common: &'a CommonFacts,
    /// The experiment's own facts.
    pub facts: &'a serde_json::Value,
    /// The findings, as messages (id and arguments).
    pub messages: &'a [Message],
    /// The same, said in the report's language.
    pub sentences: Vec<String>,
}

fn fenced(text: &str, max_lines: usize, say: &Catalogue) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::from("```text\n");
    for line in lines.iter().take(max_lines) {
        // A line of backticks must not end the fence early.
        out.push_str(&line.replace("```", "'''"));
        out.push('\n');
    }
    if lines.len() > max_lines {
        let _ = writeln!(
            out,
            "{}",
            say.say(
                &Message::new("report-more-lines").count("n", (lines.len() - max_lines) as u64)
            )
        );
    }
    out.push_str("```\n");
    out
}

fn write(dir: &Path, file: &str, contents: impl AsRef<[u8]>) -> Result<(), Error> {
    fs::write(dir.join(file), contents).map_err(|source| Error::Write {
        file: file.to_string(),
        source,
    })
}

/// What `experiment report` made of a folder.
#[derive(Debug)]
pub struct Written {
    /// Whether the run showed what the experiment is about.
    pub as_expected: bool,
    /// The findings, said.
    pub sentences: Vec<String>,
}

/// Reads the folder `dir` and writes its report in `lang`.
pub fn write_report(dir: &Path, lang: Lang) -> Result<Written, Error> {
    let evidence = Evidence::read(dir)?;
    let scenario = registry::find(&evidence.plan.scenario)?;
    let analysis = scenario.analyse(&evidence);
    let common = CommonFacts::gather(&evidence);
    let say = Catalogue::new(lang);

    let summary = &evidence.summary;
    let all: Vec<_> = summary.conversations.iter().collect();
    write(
        dir,
        SUMMARY_TEXT_FILE,
        text::render(summary, CAPTURE_FILE, &all, false),
    )?;
    let json = serde_json::to_string_pretty(&summary.json_view(&all)).unwrap_or_default();
    write(dir, SUMMARY_JSON_FILE, json)?;
    let relevant = evidence.relevant();
    write(
        dir,
        TIMELINE_FILE,
        timeline::svg(&relevant, summary.duration),
    )?;
    let lab_net = evidence.plan.net.clone();
    let mut picture_problems = Vec::new();
    let mut pictures = Vec::new();
    if let Some(first) = relevant.first() {
        pictures.push((LADDER_FILE, LADDER_PNG_FILE, ladder::svg(first, &lab_net)));
    }
    if relevant.len() > 1 {
        pictures.push((
            OVERVIEW_FILE,
            OVERVIEW_PNG_FILE,
            ladder::overview(&relevant, &lab_net),
        ));
    }
    for (svg_file, png_file, svg) in &pictures {
        write(dir, svg_file, svg)?;
        // A PNG needs fonts; without them the SVG is still there.
        match ladder::png(svg) {
            Ok(png) => write(dir, png_file, png)?,
            Err(reason) => picture_problems.push(reason),
        }
    }

    let mut messages = common.server_findings();
    messages.extend(analysis.findings.iter().cloned());
    messages.extend(common.findings());
    let sentences: Vec<String> = messages.iter().map(|m| say.say(m)).collect();
    let findings = Findings {
        scenario: scenario.name(),
        as_expected: analysis.as_expected && common.programs_ok(),
        common: &common,
        facts: &analysis.facts,
        messages: &messages,
        sentences: sentences.clone(),
    };
    write(
        dir,
        FINDINGS_FILE,
        serde_json::to_string_pretty(&findings).unwrap_or_default(),
    )?;
    let markdown = markdown(&evidence, &common, &findings, &say, &picture_problems);
    write(dir, REPORT_FILE, markdown)?;
    let page = crate::html::page(&evidence, &common, &findings, &say, lang, &lab_net);
    write(dir, HTML_FILE, page)?;
    Ok(Written {
        as_expected: findings.as_expected,
        sentences,
    })
}

fn markdown(
    evidence: &Evidence,
    common: &CommonFacts,
    findings: &Findings<'_>,
    say: &Catalogue,
    picture_problems: &[String],
) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# {}\n",
        say.say(&Message::new("report-title").text("name", findings.scenario))
    );
    let _ = writeln!(md, "## {}\n", say.word("report-ran"));
    let _ = writeln!(
        md,
        "| {} | {} | {} | log |\n|---|---|---|---|",
        say.word("col-machine"),
        say.word("col-command"),
        say.word("col-exit")
    );
    if let Some(server) = &common.server {
        let command = server.command.clone().unwrap_or_else(|| "?".into());
        // No link to a log that is not the answering program's.
        let log = match evidence
            .server
            .as_ref()
            .and_then(|s| s.log_of_who_answered())
        {
            Some(_) => format!("[{0}]({0})", ServerUnderTest::LOG_FILE),
            None => "-".to_string(),
        };
        let _ = writeln!(
            md,
            "| mesin-1 | `{}` ({}) | - | {log} |",
            command.replace('|', "\\|"),
            say.word(server.who.word()),
        );
    }
    for run in &evidence.runs {
        let exit = run
            .exit()
            .map_or_else(|| say.word("not-finished"), |e| e.to_string());
        let log = run.planned.log_file();
        let _ = writeln!(
            md,
            "| {} | `{}` | {exit} | [{log}]({log}) |",
            run.planned.machine.name(),
            run.planned.command.replace('|', "\\|"),
        );
    }
    let _ = writeln!(md, "\n## {}\n", say.word("report-findings"));
    let verdict = if findings.as_expected {
        "report-expected"
    } else {
        "report-unexpected"
    };
    let _ = writeln!(md, "**{}**\n", say.word(verdict));
    for sentence in &findings.sentences {
        let _ = writeln!(md, "- {sentence}");
    }
    for failure in &common.failures {
        let _ = writeln!(
            md,
            "\n{}\n",
            say.say(
                &Message::new("report-last-lines")
                    .text("command", failure.command.clone())
                    .text("machine", failure.machine)
            )
        );
        md.push_str(&fenced(&failure.last_lines.join("\n"), LOG_LINES, say));
    }
    let relevant = evidence.relevant();
    if let Some(first) = relevant.first() {
        let _ = writeln!(md, "\n## {}\n", say.word("report-walk"));
        md.push_str(&walkthrough::walk(first, say));
        let _ = writeln!(md, "\n## {}\n", say.word("report-ladder"));
        let _ = writeln!(md, "![ladder]({LADDER_FILE})");
    }
    if relevant.len() > 1 {
        let _ = writeln!(md, "\n## {}\n", say.word("report-overview"));
        let _ = writeln!(md, "![overview]({OVERVIEW_FILE})");
    }
    for reason in picture_problems {
        let _ = writeln!(
            md,
            "\n{}",
            say.say(&Message::new("report-picture-failed").text("reason", reason.clone()))
        );
    }
    if !relevant.is_empty() {
        let _ = writeln!(md, "\n## {}\n", say.word("report-timeline"));
        md.push_str(&fenced(
            &timeline::text(&relevant, evidence.summary.duration),
            TIMELINE_ROWS,
            say,
        ));
        let _ = writeln!(md, "\n![timeline]({TIMELINE_FILE})");
    }
    let _ = writeln!(md, "\n## {}\n", say.word("report-logs"));
    if let Some(log) = evidence
        .server
        .as_ref()
        .and_then(|s| s.log_of_who_answered())
    {
        let _ = writeln!(md, "### mesin-1 — {}\n", say.word("server-log"));
        md.push_str(&fenced(log, LOG_LINES, say));
        md.push('\n');
    }
    for run in &evidence.runs {
        let _ = writeln!(
            md,
            "### {} — `{}`\n",
            run.planned.machine.name(),
            run.planned.command
        );
        md.push_str(&fenced(&run.log, LOG_LINES, say));
        md.push('\n');
    }
    let _ = writeln!(md, "{}", say.word("report-files"));
    let _ = writeln!(md, "\n{}", say.word("report-html"));
    md
}
