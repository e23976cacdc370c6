//! `report.html`: the whole report as one page that opens offline (from a
//! USB stick): the run table, the findings, the ladder diagram, the
//! timeline, every conversation with its byte stream, and the logs.
//!
//! Self-contained by construction: the pictures are inline SVG, the style
//! is inline CSS, and there is no script and no link to anywhere else, so
//! nothing is ever fetched; its Content-Security-Policy forbids the browser
//! to fetch anything, should a later change add a reference by mistake. Every sentence comes from the same catalogue as
//! REPORT.md, in the same language.

use std::fmt::Write as _;

use pcap_summary::conversation::Conversation;
use pcap_summary::{ladder, text, timeline};

use crate::evidence::Evidence;
use crate::facts::CommonFacts;
use crate::lang::{Catalogue, Lang, Message};
use crate::report::Findings;
use crate::walkthrough;

/// Lines of a log shown (its last ones).
const LOG_LINES: usize = 200;

/// Text made safe inside HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One line of the catalogue's Markdown (`code`, **bold**) as HTML.
fn inline(markdown: &str) -> String {
    let mut out = String::new();
    for (i, part) in escape(markdown).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            for (j, piece) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    let _ = write!(out, "<strong>{piece}</strong>");
                } else {
                    out.push_str(piece);
                }
            }
        }
    }
    out
}

/// The walk-through's Markdown (paragraphs, bold lines, numbered steps) as HTML.
fn blocks(markdown: &str) -> String {
    let mut out = String::new();
    let mut in_list = false;
    for line in markdown.lines() {
        let numbered = line
            .split_once(". ")
            .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        match numbered {
            Some((_, rest)) => {
                if !in_list {
                    out.push_str("<ol>\n");
                    in_list = true;
                }
                let _ = writeln!(out, "<li>{}</li>", inline(rest));
            }
            None => {
                if in_list {
                    out.push_str("</ol>\n");
                    in_list = false;
                }
                if !line.trim().is_empty() {
                    let _ = writeln!(out, "<p>{}</p>", inline(line));
                }
            }
        }
    }
    if in_list {
        out.push_str("</ol>\n");
    }
    out
}

/// A `<pre>` of at most `max` last lines of `text`.
fn pre_tail(text: &str, max: usize, say: &Catalogue) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let skip = lines.len().saturating_sub(max);
    let mut out = String::new();
    if skip > 0 {
        let _ = writeln!(
            out,
            "<p class=\"note\">{}</p>",
            inline(&say.say(&Message::new("report-more-lines").count("n", skip as u64)))
        );
    }
    let _ = writeln!(out, "<pre>{}</pre>", escape(&lines[skip..].join("\n")));
    out
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:60em;margin:1em auto;padding:0 1em;color:#212121;line-height:1.4}\
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}\
pre{background:#f5f5f5;padding:.5em;overflow-x:auto;font-size:.85em}code{background:#f0f0f0;padding:0 .2em}\
details{margin:.4em 0}summary{cursor:pointer;font-family:'DejaVu Sans Mono',monospace}\
.verdict{font-weight:bold}.unexpected{color:#b71c1c}.note{color:#616161}figure{margin:0;overflow-x:auto}";

/// The page, from the same facts and findings as REPORT.md.
pub fn page(
    evidence: &Evidence,
    common: &CommonFacts,
    findings: &Findings<'_>,
    say: &Catalogue,
    lang: Lang,
    lab_net: &str,
) -> String {
    let title = say.say(&Message::new("report-title").text("name", findings.scenario));
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>",
        lang.tag(),
        escape(&title),
        escape(&title)
    );
    runs_table(&mut h, evidence, common, say);
    let _ = writeln!(
        h,
        "<h2 id=\"findings\">{}</h2>",
        escape(&say.word("report-findings"))
    );
    let (verdict, class) = if findings.as_expected {
        ("report-expected", "verdict")
    } else {
        ("report-unexpected", "verdict unexpected")
    };
    let _ = writeln!(
        h,
        "<p class=\"{class}\">{}</p>\n<ul>",
        escape(&say.word(verdict))
    );
    for sentence in &findings.sentences {
        let _ = writeln!(h, "<li>{}</li>", inline(sentence));
    }
    h.push_str("</ul>\n");
    for failure in &common.failures {
        let _ = writeln!(
            h,
            "<p>{}</p>",
            inline(
                &say.say(
                    &Message::new("report-last-lines")
                        .text("command", failure.command.clone())
                        .text("machine", failure.machine)
                )
            )
        );
        h.push_str(&pre_tail(&failure.last_lines.join("\n"), LOG_LINES, say));
    }
    let relevant = evidence.relevant();
    if let Some(first) = relevant.first() {
        let _ = writeln!(
            h,
            "<h2 id=\"walk\">{}</h2>",
            escape(&say.word("report-walk"))
        );
        h.push_str(&blocks(&walkthrough::walk(first, say)));
        let _ = writeln!(
            h,
            "<h2 id=\"ladder\">{}</h2>\n<figure class=\"ladder\">{}</figure>",
            escape(&say.word("report-ladder")),
            ladder::svg(first, lab_net)
        );
    }
    if relevant.len() > 1 {
        let _ = writeln!(
            h,
            "<h2 id=\"overview\">{}</h2>\n<figure class=\"overview\">{}</figure>",
            escape(&say.word("report-overview")),
            ladder::overview(&relevant, lab_net)
        );
    }
    if !relevant.is_empty() {
        let duration = evidence.summary.duration;
        let _ = writeln!(
            h,
            "<h2 id=\"timeline\">{}</h2>\n<figure class=\"timeline\">{}</figure>\n<pre>{}</pre>",
            escape(&say.word("report-timeline")),
            timeline::svg(&relevant, duration),
            escape(&timeline::text(&relevant, duration))
        );
        conversations(&mut h, evidence, &relevant, say);
    }
    logs(&mut h, evidence, say);
    h.push_str("</body>\n</html>\n");
    h
}

fn runs_table(h: &mut String, evidence: &Evidence, common: &CommonFacts, say: &Catalogue) {
    let _ = writeln!(
        h,
        "<h2 id=\"ran\">{}</h2>\n<table>\n<tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        escape(&say.word("report-ran")),
        escape(&say.word("col-machine")),
        escape(&say.word("col-command")),
        escape(&say.word("col-exit"))
    );
    if let Some(server) = &common.server {
        let who = server.who.word();
        let _ = writeln!(
            h,
            "<tr><td>mesin-1</td><td><code>{}</code> ({})</td><td>-</td></tr>",
            escape(server.command.as_deref().unwrap_or("?")),
            escape(&say.word(who))
        );
    }
    for run in &evidence.runs {
        let exit = run
            .exit()
            .map_or_else(|| say.word("not-finished"), |e| e.to_string());
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            run.planned.machine.name(),
            escape(&run.planned.command),
            escape(&exit)
        );
    }
    h.push_str("</table>\n");
}

/// Every conversation, folded: its summary and its byte stream.
fn conversations(h: &mut String, evidence: &Evidence, relevant: &[&Conversation], say: &Catalogue) {
    let _ = writeln!(
        h,
        "<h2 id=\"conversations\">{}</h2>",
        escape(&say.word("report-conversations"))
    );
    for c in relevant {
        let _ = writeln!(
            h,
            "<details class=\"conversation\" id=\"conversation-{}\">\n<summary>{}</summary>\n<pre>{}</pre>",
            c.id,
            escape(&text::compact(c)),
            escape(&text::full(c))
        );
        let _ = writeln!(h, "<h4>{}</h4>", escape(&say.word("report-stream")));
        match evidence.summary.followed.get(c.id) {
            Some(stream) if stream.bytes.total() > 0 => {
                let rendered = stream.render(&c.client.to_string(), &c.server.to_string());
                let _ = writeln!(h, "<pre class=\"stream\">{}</pre>", escape(&rendered));
            }
            _ => {
                let _ = writeln!(
                    h,
                    "<p class=\"note\">{}</p>",
                    escape(&say.word("report-no-stream"))
                );
            }
        }
        h.push_str("</details>\n");
    }
}

fn logs(h: &mut String, evidence: &Evidence, say: &Catalogue) {
    let _ = writeln!(
        h,
        "<h2 id=\"logs\">{}</h2>",
        escape(&say.word("report-logs"))
    );
    if let Some(log) = evidence
        .server
        .as_ref()
        .and_then(|s| s.log_of_who_answered())
    {
        let _ = writeln!(
            h,
            "<details class=\"log\"><summary>mesin-1 — {}</summary>",
            escape(&say.word("server-log"))
        );
        h.push_str(&pre_tail(log, LOG_LINES, say));
        h.push_str("</details>\n");
    }
    for run in &evidence.runs {
        let _ = writeln!(
            h,
            "<details class=\"log\"><summary>{} — <code>{}</code></summary>",
            run.planned.machine.name(),
            escape(&run.planned.command)
        );
        h.push_str(&pre_tail(&run.log, LOG_LINES, say));
        h.push_str("</details>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_code_and_bold_become_html_and_text_is_escaped() {
        assert_eq!(
            inline("`TIME\\r\\n` got **no** <reply> & more"),
            "<code>TIME\\r\\n</code> got <strong>no</strong> &lt;reply&gt; &amp; more"
        );
        let html = blocks("**Handshake**\n1. SYN\n2. SYN,ACK\n\nDone.");
        assert_eq!(
            html,
            "<p><strong>Handshake</strong></p>\n<ol>\n<li>SYN</li>\n<li>SYN,ACK</li>\n</ol>\n<p>Done.</p>\n"
        );
    }
}
