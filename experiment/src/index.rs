//! `index.html`: one page linking every experiment run in a folder (what
//! `make scenario S=all` leaves in `captures/`), each with its verdict, from
//! the runs' own `findings.json`. Like `report.html`, it opens offline.

use std::fmt::Write as _;
use std::path::Path;

use crate::html::escape;
use crate::lang::{Catalogue, Lang, Message};
use crate::plan::{FINDINGS_FILE, HTML_FILE, REPORT_FILE};

/// The index file's name, in the folder of runs.
pub const INDEX_FILE: &str = "index.html";

/// One run found in the folder.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEntry {
    /// Its folder's name: `20261204T040000Z-t2-time`.
    pub folder: String,
    /// The experiment.
    pub scenario: String,
    /// Whether it showed what the experiment is about.
    pub as_expected: bool,
    /// Its findings, said.
    pub sentences: Vec<String>,
}

/// The runs in `dir` (folders with a readable findings.json), newest first.
pub fn runs_in(dir: &Path) -> Vec<RunEntry> {
    let mut runs: Vec<RunEntry> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let folder = entry.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(entry.path().join(FINDINGS_FILE)).ok()?;
            // A findings.json is small; one that is not JSON is left out.
            let json: serde_json::Value = serde_json::from_str(&text).ok()?;
            Some(RunEntry {
                folder,
                scenario: json["scenario"].as_str()?.to_string(),
                as_expected: json["as_expected"].as_bool().unwrap_or(false),
                sentences: json["sentences"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect(),
            })
        })
        .collect();
    runs.sort_by(|a, b| b.folder.cmp(&a.folder));
    runs
}

/// The page.
pub fn page(runs: &[RunEntry], lang: Lang) -> String {
    let say = Catalogue::new(lang);
    let title = say.word("index-title");
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<title>{t}</title>\n<style>body{{font-family:'DejaVu Sans',Arial,sans-serif;max-width:60em;margin:1em auto;padding:0 1em}}td,th{{border:1px solid #ccc;padding:.2em .5em;vertical-align:top}}table{{border-collapse:collapse}}.no{{color:#b71c1c}}</style>\n</head>\n<body>\n<h1>{t}</h1>",
        lang.tag(),
        t = escape(&title)
    );
    if runs.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", escape(&say.word("index-none")));
    } else {
        let _ = writeln!(
            h,
            "<table>\n<tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            escape(&say.word("index-run")),
            escape(&say.word("index-verdict")),
            escape(&say.word("index-first-finding"))
        );
        for run in runs {
            let (verdict, class) = if run.as_expected {
                ("report-expected", "yes")
            } else {
                ("report-unexpected", "no")
            };
            let _ = writeln!(
                h,
                "<tr><td><a href=\"{f}/{HTML_FILE}\">{s}</a><br><small>{f} (<a href=\"{f}/{REPORT_FILE}\">REPORT.md</a>)</small></td><td class=\"{class}\">{}</td><td>{}</td></tr>",
                escape(&say.word(verdict)),
                escape(run.sentences.first().map_or("", String::as_str)),
                f = escape(&run.folder),
                s = escape(&run.scenario),
            );
        }
        h.push_str("</table>\n");
    }
    let _ = writeln!(
        h,
        "<p>{}</p>\n</body>\n</html>",
        escape(&say.say(&Message::new("index-count").count("n", runs.len() as u64)))
    );
    h
}
