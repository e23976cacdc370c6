//! One row per conversation across time: overlap or waiting at a glance.
//!
//! Each row spans the capture. A conversation is drawn from its earliest
//! packet to its latest: open (`=` in text), and in its own colour (`~` in
//! text) the stretch when the client had sent data and the server had not
//! answered yet ([`Conversation::waiting_for_server`]); data segments are
//! marks (`#`). Concurrent clients show as rows that overlap; a client of an
//! iterative server shows a long wait, ending when the server gets to it.

use std::fmt::Write as _;

use crate::conversation::{Conversation, Dir};

/// Columns of the text timeline.
pub const WIDTH: usize = 60;

/// Text timeline: the open part of a conversation.
const OPEN: char = '=';
/// Text timeline: open, the client has sent, the server has not answered.
const WAITING: char = '~';
/// Text timeline: a data segment.
const DATA: char = '#';

/// What the waiting colour and character stand for (the legend's words).
pub const WAITING_MEANS: &str = "open, waiting for the server's first byte";

/// SVG colours: open, waiting, data client to server, data server to client.
const OPEN_FILL: &str = "#9ecae1";
const WAITING_FILL: &str = "#fdd835";
const C2S_FILL: &str = "#08519c";
const S2C_FILL: &str = "#a63603";

/// The column (0 to `width - 1`) that `time` falls into. Any input, even
/// NaN or a time outside the capture, gives a column in range.
fn column(time: f64, duration: f64, width: usize) -> usize {
    if duration <= 0.0 || width == 0 {
        return 0;
    }
    // Truncation is the intent: which column a moment falls into (a NaN
    // becomes column 0).
    let col = (time / duration * (width as f64 - 1.0)).round();
    (col.max(0.0) as usize).min(width - 1)
}

/// The columns from `a` to `b`, whichever comes first.
fn columns_between(a: f64, b: f64, duration: f64) -> std::ops::RangeInclusive<usize> {
    let (a, b) = (column(a, duration, WIDTH), column(b, duration, WIDTH));
    a.min(b)..=a.max(b)
}

/// A length of time in the unit that shows it with a non-zero figure:
/// `1.088 s`, `18.441 ms`, `40.000 µs`, `250 ns`, or `0 s`.
pub fn readable_duration(seconds: f64) -> String {
    let size = seconds.abs();
    if seconds == 0.0 || !seconds.is_finite() {
        format!("{seconds} s")
    } else if size >= 1.0 {
        format!("{seconds:.3} s")
    } else if size >= 1e-3 {
        format!("{:.3} ms", seconds * 1e3)
    } else if size >= 1e-6 {
        format!("{:.3} µs", seconds * 1e6)
    } else {
        format!("{:.0} ns", seconds * 1e9)
    }
}

/// A short name for a conversation: `#3 172.16.16.102:51234>:45000`.
pub fn label(c: &Conversation) -> String {
    format!("#{} {}>:{}", c.id, c.client, c.server.port())
}

/// The text timeline of `conversations` over `duration` seconds: a header
/// with the scale, a legend line, one row per conversation.
pub fn text(conversations: &[&Conversation], duration: f64) -> String {
    let mut out = String::new();
    let label_width = conversations
        .iter()
        .map(|c| label(c).len())
        .max()
        .unwrap_or(0);
    if duration > 0.0 {
        let _ = writeln!(
            out,
            "timeline: 0 to {}, one column = {}",
            readable_duration(duration),
            readable_duration(duration / (WIDTH as f64 - 1.0))
        );
    } else {
        let _ = writeln!(out, "timeline: every packet at the same instant");
    }
    let _ = writeln!(
        out,
        "  '{OPEN}' open, '{WAITING}' {WAITING_MEANS} (the client has sent), '{DATA}' data segment"
    );
    for c in conversations {
        let mut row = vec![' '; WIDTH];
        for cell in &mut row[columns_between(c.start, c.end, duration)] {
            *cell = OPEN;
        }
        if let Some((from, to)) = c.waiting_for_server() {
            for cell in &mut row[columns_between(from, to, duration)] {
                *cell = WAITING;
            }
        }
        for segment in &c.segments {
            row[column(segment.step.time, duration, WIDTH)] = DATA;
        }
        let _ = writeln!(
            out,
            "  {:<label_width$} |{}|",
            label(c),
            row.into_iter().collect::<String>()
        );
    }
    out
}

/// Round steps for a time axis over `duration` seconds: 1, 2 or 5 times a
/// power of ten, 4 to 10 of them (so that labels like `0.0005 s` have room). Returns the step and how many decimals
/// its labels need.
fn tick_step(duration: f64) -> (f64, usize) {
    if !duration.is_finite() || duration <= 0.0 {
        return (1.0, 0);
    }
    let raw = duration / 6.0;
    // Between 10^-324 and 10^308: the exponent fits an i32.
    let magnitude = 10f64.powi(raw.log10().floor() as i32);
    let step = match raw / magnitude {
        n if n < 1.5 => 1.0,
        n if n < 3.5 => 2.0,
        n if n < 7.5 => 5.0,
        _ => 10.0,
    } * magnitude;
    // A step of 0.005 needs 3 decimals; 2 or 20 need none.
    // (The nudge keeps log10(0.1) = -0.99999... from asking for 2.)
    let decimals = (-(step.log10() + 1e-9).floor()).clamp(0.0, 12.0) as usize;
    (step, decimals)
}

/// The tick values of the time axis, from 0 to at most `duration`.
fn ticks(duration: f64) -> (Vec<f64>, usize) {
    let (step, decimals) = tick_step(duration);
    let count = if duration > 0.0 && duration.is_finite() {
        // A tiny margin so that a tick exactly at the end is kept.
        ((duration / step) * (1.0 + 1e-9)).floor() as usize
    } else {
        0
    };
    // At most 11 ticks by construction; the bound keeps it so.
    let values = (0..=count.min(32)).map(|i| i as f64 * step).collect();
    (values, decimals)
}

/// The same timeline as an SVG picture: a legend of its colours, one row
/// per conversation, and a time axis in seconds.
pub fn svg(conversations: &[&Conversation], duration: f64) -> String {
    let (left, width, row_height, top) = (260.0, 640.0, 22.0, 80.0);
    let rows_bottom = top + row_height * conversations.len() as f64;
    let axis_y = rows_bottom + 6.0;
    let height = axis_y + 48.0;
    let x = |t: f64| {
        if duration <= 0.0 || !t.is_finite() {
            left
        } else {
            left + (t / duration).clamp(0.0, 1.0) * width
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" font-family="monospace" font-size="12">"#,
        left + width + 40.0
    );
    let _ = writeln!(
        out,
        r#"<text x="10" y="20">TCP conversations over time (0 to {})</text>"#,
        xml_escape(&readable_duration(duration))
    );
    // The legend: what each colour means.
    let legend = [
        (10.0, 36.0, OPEN_FILL, "open (earliest to latest packet)"),
        (330.0, 36.0, WAITING_FILL, WAITING_MEANS),
        (10.0, 56.0, C2S_FILL, "data segment, client -> server"),
        (330.0, 56.0, S2C_FILL, "data segment, server -> client"),
    ];
    for (lx, ly, fill, words) in legend {
        let _ = writeln!(
            out,
            r#"<g class="legend"><rect x="{lx}" y="{ly}" width="14" height="12" fill="{fill}"/><text x="{}" y="{}">{}</text></g>"#,
            lx + 20.0,
            ly + 11.0,
            xml_escape(words)
        );
    }
    let (tick_values, decimals) = ticks(duration);
    // Light grid lines at each tick, behind the rows.
    for &t in &tick_values {
        let _ = writeln!(
            out,
            r##"<line class="grid" x1="{0:.2}" y1="{top}" x2="{0:.2}" y2="{axis_y}" stroke="#e0e0e0"/>"##,
            x(t)
        );
    }
    for (row, c) in conversations.iter().enumerate() {
        let y = top + row_height * row as f64;
        let _ = writeln!(
            out,
            r#"<text x="10" y="{}">{}</text>"#,
            y + 14.0,
            xml_escape(&label(c))
        );
        let (start, end) = (x(c.start.min(c.end)), x(c.end.max(c.start)));
        let _ = writeln!(
            out,
            r#"<rect class="open" x="{start:.2}" y="{y}" width="{:.2}" height="16" fill="{OPEN_FILL}"/>"#,
            (end - start).max(1.0)
        );
        if let Some((from, to)) = c.waiting_for_server() {
            let (from, to) = (x(from.min(to)), x(to.max(from)));
            let _ = writeln!(
                out,
                r#"<rect class="waiting" x="{from:.2}" y="{y}" width="{:.2}" height="16" fill="{WAITING_FILL}"><title>{}</title></rect>"#,
                (to - from).max(1.0),
                xml_escape(WAITING_MEANS)
            );
        }
        for segment in &c.segments {
            let (class, color) = match segment.step.dir {
                Dir::ClientToServer => ("c2s", C2S_FILL),
                Dir::ServerToClient => ("s2c", S2C_FILL),
            };
            let _ = writeln!(
                out,
                r#"<rect class="data {class}" x="{:.2}" y="{y}" width="2" height="16" fill="{color}"/>"#,
                x(segment.step.time)
            );
        }
    }
    // The time axis: a line, round ticks labelled in seconds, its name.
    let _ = writeln!(
        out,
        r#"<line class="axis" x1="{left}" y1="{axis_y}" x2="{}" y2="{axis_y}" stroke="black"/>"#,
        left + width
    );
    for &t in &tick_values {
        let label = if t == 0.0 {
            "0 s".to_string()
        } else {
            format!("{t:.decimals$} s")
        };
        let _ = writeln!(
            out,
            r#"<g class="tick"><line x1="{0:.2}" y1="{axis_y}" x2="{0:.2}" y2="{1}" stroke="black"/><text x="{0:.2}" y="{2}" text-anchor="middle">{label}</text></g>"#,
            x(t),
            axis_y + 5.0,
            axis_y + 18.0
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">time since the capture's first packet (s)</text>"#,
        left + width / 2.0,
        axis_y + 38.0
    );
    out.push_str("</svg>\n");
    out
}

pub(crate) fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_span_the_capture_and_stay_in_range() {
        assert_eq!(column(0.0, 10.0, 60), 0);
        assert_eq!(column(10.0, 10.0, 60), 59);
        assert_eq!(column(20.0, 10.0, 60), 59);
        assert_eq!(column(1.0, 0.0, 60), 0);
        assert_eq!(column(f64::NAN, 10.0, 60), 0);
        assert_eq!(column(-3.0, 10.0, 60), 0);
        assert_eq!(columns_between(8.0, 2.0, 10.0), 12..=47);
    }

    #[test]
    fn durations_are_shown_in_a_unit_with_a_non_zero_figure() {
        assert_eq!(readable_duration(1.088), "1.088 s");
        assert_eq!(readable_duration(0.0184), "18.400 ms");
        assert_eq!(readable_duration(0.000_04), "40.000 µs");
        assert_eq!(readable_duration(2.5e-7), "250 ns");
        assert_eq!(readable_duration(0.0), "0 s");
    }

    #[test]
    fn ticks_are_round_steps_covering_the_capture() {
        assert_eq!(tick_step(10.0), (2.0, 0));
        assert_eq!(tick_step(20.0), (2.0, 0));
        assert_eq!(tick_step(40.0), (5.0, 0));
        let (step, decimals) = tick_step(1.088);
        assert!(
            (step - 0.2).abs() < 1e-12 && decimals == 1,
            "{step} {decimals}"
        );
        let (step, decimals) = tick_step(0.05);
        assert!(
            (step - 0.01).abs() < 1e-12 && decimals == 2,
            "{step} {decimals}"
        );
        assert_eq!(ticks(10.0).0, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(0.0).0, [0.0]);
        assert_eq!(ticks(f64::NAN).0, [0.0]);
        assert_eq!(ticks(f64::INFINITY).0, [0.0]);
        for d in [1e-7, 0.003, 0.7, 3.3, 3.49, 99.0, 86_400.0] {
            let (values, _) = ticks(d);
            assert!((4..=11).contains(&values.len()), "{d}: {values:?}");
            assert!(*values.last().expect("a tick") <= d * (1.0 + 1e-6), "{d}");
        }
    }
}
