//! One row per conversation across time: overlap or waiting at a glance.
//!
//! Each row spans the capture; `=` marks where the conversation was open and
//! `#` where it carried data. Concurrent clients show as rows that overlap;
//! clients of an iterative server show long `=` stretches before their `#`.

use std::fmt::Write as _;

use crate::conversation::Conversation;

/// Columns of the text timeline.
pub const WIDTH: usize = 60;

fn column(time: f64, duration: f64, width: usize) -> usize {
    if duration <= 0.0 {
        return 0;
    }
    // Truncation is the intent: which column a moment falls into.
    let col = (time / duration * (width as f64 - 1.0)).round();
    (col.max(0.0) as usize).min(width - 1)
}

/// A short name for a conversation: `#3 172.16.16.102:51234>:45000`.
pub fn label(c: &Conversation) -> String {
    format!("#{} {}>:{}", c.id, c.client, c.server.port())
}

/// The text timeline of `conversations` over `duration` seconds.
pub fn text(conversations: &[&Conversation], duration: f64) -> String {
    let mut out = String::new();
    let label_width = conversations
        .iter()
        .map(|c| label(c).len())
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "timeline: 0 to {duration:.3} s, one column = {:.3} s; '=' open, '#' data",
        duration / WIDTH as f64
    );
    for c in conversations {
        let mut row = vec![' '; WIDTH];
        let (from, to) = (
            column(c.start, duration, WIDTH),
            column(c.end, duration, WIDTH),
        );
        for cell in &mut row[from..=to] {
            *cell = '=';
        }
        for segment in &c.segments {
            row[column(segment.step.time, duration, WIDTH)] = '#';
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

/// The same timeline as an SVG picture.
pub fn svg(conversations: &[&Conversation], duration: f64) -> String {
    let (left, width, row_height, top) = (260.0, 640.0, 22.0, 40.0);
    let height = top + row_height * conversations.len() as f64 + 30.0;
    let x = |t: f64| {
        if duration <= 0.0 {
            left
        } else {
            left + t / duration * width
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" font-family="monospace" font-size="12">"#,
        left + width + 20.0
    );
    let _ = writeln!(
        out,
        r#"<text x="10" y="20">TCP conversations over time (0 to {duration:.3} s); dark marks: data segments</text>"#
    );
    for (row, c) in conversations.iter().enumerate() {
        let y = top + row_height * row as f64;
        let _ = writeln!(
            out,
            r#"<text x="10" y="{}">{}</text>"#,
            y + 14.0,
            xml_escape(&label(c))
        );
        let _ = writeln!(
            out,
            r##"<rect x="{:.2}" y="{y}" width="{:.2}" height="16" fill="#9ecae1"/>"##,
            x(c.start),
            (x(c.end) - x(c.start)).max(1.0)
        );
        for segment in &c.segments {
            let color = if segment.step.dir as usize == 0 {
                "#08519c"
            } else {
                "#a63603"
            };
            let _ = writeln!(
                out,
                r#"<rect x="{:.2}" y="{y}" width="2" height="16" fill="{color}"/>"#,
                x(segment.step.time)
            );
        }
    }
    let axis_y = top + row_height * conversations.len() as f64 + 10.0;
    let _ = writeln!(
        out,
        r#"<line x1="{left}" y1="{axis_y}" x2="{}" y2="{axis_y}" stroke="black"/><text x="{left}" y="{}">0 s</text><text x="{}" y="{}" text-anchor="end">{duration:.3} s</text>"#,
        left + width,
        axis_y + 14.0,
        left + width,
        axis_y + 14.0
    );
    out.push_str("</svg>\n");
    out
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
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
    }
}
