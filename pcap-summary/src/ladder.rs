//! Ladder (sequence) diagrams: the picture a textbook draws for TCP, made
//! from the capture.
//!
//! One vertical line per host, time running down, one arrow per TCP segment
//! from its sender's line to its receiver's, labelled with its flags,
//! relative `seq=`, `ack=`, `len=` and, for data, the payload (escaped and
//! cut). The handshake, the data and the teardown are bracketed and named;
//! a RST and every segment the expert analysis flagged are drawn in another
//! colour with the reason in words. A long conversation keeps its first and
//! last segments ([`LadderLog`]) and says how many were left out between.
//!
//! Arrows slope down a little: the capture saw each segment at one point,
//! so the slope only shows the direction of travel, not its duration. Where
//! a long time passed between two segments (a client waiting for an
//! iterative server), the ladder leaves a gap and says how long.
//!
//! [`overview`] draws several conversations on one picture: one line per
//! host, one colour per conversation.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use crate::conversation::{Conversation, Dir, Segment};
use crate::segment::Flags;
use crate::timeline::xml_escape;

/// Segments a ladder keeps per conversation when asked to: the first half
/// and the last half of this many.
pub const LADDER_SEGMENTS: usize = 60;

/// Payload characters shown in a label (escaped), before "...".
const PAYLOAD_SHOWN: usize = 16;

/// Every segment of a conversation, as far as a ladder shows them: the
/// first ones and the last ones, with a count of those in between.
#[derive(Debug, Clone, Default)]
pub struct LadderLog {
    /// The first segments.
    pub first: Vec<Segment>,
    /// The last segments.
    pub last: VecDeque<Segment>,
    /// Segments between the two, left out.
    pub left_out: u64,
    half: usize,
}

impl LadderLog {
    /// A log keeping `segments` in all (half first, half last).
    pub fn new(segments: usize) -> Self {
        LadderLog {
            half: segments.div_ceil(2).max(1),
            ..LadderLog::default()
        }
    }

    /// Adds the next segment.
    pub fn push(&mut self, segment: Segment) {
        if self.first.len() < self.half {
            self.first.push(segment);
            return;
        }
        if self.last.len() == self.half {
            self.last.pop_front();
            self.left_out += 1;
        }
        self.last.push_back(segment);
    }

    /// The rows of the ladder: segments, and the place where some were left out.
    pub fn rows(&self) -> Vec<Row<'_>> {
        let mut rows: Vec<Row<'_>> = self.first.iter().map(Row::Segment).collect();
        if self.left_out > 0 {
            rows.push(Row::LeftOut(self.left_out));
        }
        rows.extend(self.last.iter().map(Row::Segment));
        rows
    }

    /// Segments drawn.
    pub fn shown(&self) -> usize {
        self.first.len() + self.last.len()
    }
}

/// One row of a ladder.
#[derive(Debug, Clone, Copy)]
pub enum Row<'a> {
    /// A segment, as an arrow.
    Segment(&'a Segment),
    /// This many segments left out here.
    LeftOut(u64),
}

/// A segment's label, with the fields the text summary shows:
/// `PSH,ACK seq=1 ack=1 len=6 "TIME\r\n"`.
pub fn label(segment: &Segment) -> String {
    let step = &segment.step;
    let mut text = format!("{} seq={} ack={}", step.flags, step.seq, step.ack);
    if segment.len > 0 || !segment.payload.is_empty() {
        let _ = write!(text, " len={}", segment.len);
    }
    if !segment.payload.is_empty() {
        let shown = segment.payload_text();
        let cut = shown.chars().count() > PAYLOAD_SHOWN
            || (segment.payload.len() as u64) < u64::from(segment.len);
        let shown: String = shown.chars().take(PAYLOAD_SHOWN).collect();
        let _ = write!(text, " \"{shown}\"{}", if cut { "..." } else { "" });
    }
    text
}

/// Why a segment stands out, in words, or None: the analysis's flags, or a reset.
pub fn reason(segment: &Segment) -> Option<String> {
    let mut words = segment.expert_words();
    if segment.step.flags.has(Flags::RST) {
        words.insert(0, "reset: the connection is aborted".to_string());
    }
    (!words.is_empty()).then(|| words.join("; "))
}

/// A host as the ladder names it: `mesin-1 (172.16.16.101)` for a lab
/// machine, else its address.
pub fn host_name(ip: IpAddr, lab_net: &str) -> String {
    match progjar_common::lab::machine_at(ip, lab_net) {
        Some(name) => format!("{name} ({ip})"),
        None => ip.to_string(),
    }
}

// ---- drawing ---------------------------------------------------------------

/// A4 width at 96 dots per inch: a picture that fits a report page.
const WIDTH: f64 = 794.0;
const TOP: f64 = 104.0;
const ROW: f64 = 34.0;
const REASON_LINE: f64 = 13.0;
const GAP: f64 = 26.0;
const TIME_X: f64 = 8.0;
const CLIENT_X: f64 = 190.0;
const SERVER_X: f64 = 610.0;
const BRACKET_X: f64 = 690.0;
const SLOPE: f64 = 12.0;

const PLAIN_STROKE: &str = "#424242";
const C2S_STROKE: &str = "#08519c";
const S2C_STROKE: &str = "#a63603";
const FLAGGED_STROKE: &str = "#d32f2f";
const RST_STROKE: &str = "#6a1b9a";
/// Flagged segments are dashed as well as red: told apart from the
/// server's data (dark orange) without colour too, as on a page printed in
/// black and white.
const FLAGGED_DASH: &str = r#" stroke-dasharray="7 3""#;

fn svg_header(out: &mut String, height: f64) {
    let _ = writeln!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="DejaVu Sans Mono, monospace" font-size="11">"##
    );
    // A white halo behind text, so a host's line crossing a label leaves it readable.
    let _ = writeln!(
        out,
        r##"<style>text {{ paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }}</style>"##
    );
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        out,
        r##"<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>"##
    );
}

/// Whether the time between two rows deserves a gap: long against the
/// conversation's own pace.
fn long_pause(dt: f64, span: f64, rows: usize) -> bool {
    dt > 0.05 && dt > 4.0 * span / rows.max(1) as f64
}

/// The ladder of one conversation (which must carry a [`LadderLog`]).
pub fn svg(c: &Conversation, lab_net: &str) -> String {
    let empty = LadderLog::new(2);
    let log = c.ladder.as_deref().unwrap_or(&empty);
    let rows = log.rows();
    let span = c.end - c.start;
    // Where each row starts, leaving gaps where time stood still a while.
    let mut ys = Vec::with_capacity(rows.len());
    let mut y = TOP;
    let mut last_time: Option<f64> = None;
    let mut pauses = Vec::new();
    for row in &rows {
        if let Row::Segment(s) = row {
            if let Some(before) = last_time {
                let dt = s.step.time - before;
                if long_pause(dt, span, rows.len()) {
                    pauses.push((y, dt));
                    y += GAP;
                }
            }
            last_time = Some(s.step.time);
        }
        ys.push(y);
        y += match row {
            Row::Segment(s) if reason(s).is_some() => ROW + REASON_LINE,
            Row::Segment(_) => ROW,
            Row::LeftOut(_) => GAP,
        };
    }
    let bottom = y + 8.0;
    let height = bottom + 64.0;
    let mut out = String::new();
    svg_header(&mut out, height);
    let title = format!(
        "TCP conversation #{}: {} -> {} ({} segments{})",
        c.id,
        c.client,
        c.server,
        c.packets.total(),
        if log.left_out > 0 {
            format!(", {} shown", log.shown())
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        r##"<text x="{TIME_X}" y="20" font-size="13" font-weight="bold">{}</text>"##,
        xml_escape(&title)
    );
    for (x, addr, role) in [
        (CLIENT_X, c.client, "client"),
        (SERVER_X, c.server, "server"),
    ] {
        host_header(&mut out, x, addr, role, lab_net);
    }
    let _ = writeln!(
        out,
        r##"<text x="{TIME_X}" y="{:.0}" fill="#616161">time (s)</text>"##,
        TOP - 14.0
    );
    for x in [CLIENT_X, SERVER_X] {
        let _ = writeln!(
            out,
            r##"<line x1="{x}" y1="{:.0}" x2="{x}" y2="{bottom:.0}" stroke="#9e9e9e" stroke-width="2"/>"##,
            TOP - 24.0
        );
    }
    for (y, dt) in &pauses {
        let _ = writeln!(
            out,
            r##"<text x="{:.0}" y="{:.0}" text-anchor="middle" fill="#616161">... {} pass ...</text>"##,
            (CLIENT_X + SERVER_X) / 2.0,
            y + GAP / 2.0 + 4.0,
            xml_escape(&crate::timeline::readable_duration(*dt))
        );
    }
    for (row, y) in rows.iter().zip(&ys) {
        match row {
            Row::Segment(s) => arrow(&mut out, s, *y),
            Row::LeftOut(n) => {
                let _ = writeln!(
                    out,
                    r##"<text class="left-out" x="{:.0}" y="{:.0}" text-anchor="middle" fill="#616161">... {n} segments left out (see the text summary or the capture) ...</text>"##,
                    (CLIENT_X + SERVER_X) / 2.0,
                    y + GAP / 2.0 + 4.0
                );
            }
        }
    }
    brackets(&mut out, &rows, &ys);
    legend(&mut out, bottom + 16.0);
    out.push_str("</svg>\n");
    out
}

fn host_header(out: &mut String, x: f64, addr: SocketAddr, role: &str, lab_net: &str) {
    let _ = writeln!(
        out,
        r##"<text class="host" x="{x}" y="48" text-anchor="middle" font-weight="bold">{}</text>"##,
        xml_escape(&host_name(addr.ip(), lab_net))
    );
    let _ = writeln!(
        out,
        r##"<text x="{x}" y="63" text-anchor="middle" fill="#616161">{role}, port {}</text>"##,
        addr.port()
    );
}

/// One segment's arrow and label; the label's first line is the text
/// summary's, the second (when it stands out) says why.
fn arrow(out: &mut String, s: &Segment, y: f64) {
    let (from, to) = match s.step.dir {
        Dir::ClientToServer => (CLIENT_X, SERVER_X),
        Dir::ServerToClient => (SERVER_X, CLIENT_X),
    };
    let why = reason(s);
    let stroke = if s.step.flags.has(Flags::RST) {
        RST_STROKE
    } else if s.expert.any() {
        FLAGGED_STROKE
    } else if s.len > 0 {
        match s.step.dir {
            Dir::ClientToServer => C2S_STROKE,
            Dir::ServerToClient => S2C_STROKE,
        }
    } else {
        PLAIN_STROKE
    };
    let arrow_y = y + 16.0;
    let class = if why.is_some() {
        "segment flagged"
    } else {
        "segment"
    };
    let _ = writeln!(
        out,
        r##"<g class="{class}" data-dir="{}" data-seq="{}" data-ack="{}" data-len="{}" data-flags="{}">"##,
        s.step.dir.short(),
        s.step.seq,
        s.step.ack,
        s.len,
        s.step.flags
    );
    let _ = writeln!(
        out,
        r##"<text x="{TIME_X}" y="{:.1}" fill="#616161">{:.6}</text>"##,
        arrow_y + 4.0,
        s.step.time
    );
    let _ = writeln!(
        out,
        r##"<line x1="{from}" y1="{arrow_y:.1}" x2="{to}" y2="{:.1}" stroke="{stroke}" stroke-width="{}"{} marker-end="url(#head)"/>"##,
        arrow_y + SLOPE,
        if s.len > 0 { 2.0 } else { 1.2 },
        if why.is_some() { FLAGGED_DASH } else { "" }
    );
    let middle = (CLIENT_X + SERVER_X) / 2.0;
    let _ = writeln!(
        out,
        r##"<text class="label" x="{middle}" y="{:.1}" text-anchor="middle" fill="{}">{}</text>"##,
        arrow_y - 3.0,
        if why.is_some() { stroke } else { "#212121" },
        xml_escape(&label(s))
    );
    if let Some(why) = why {
        let _ = writeln!(
            out,
            r##"<text class="reason" x="{middle}" y="{:.1}" text-anchor="middle" fill="{stroke}">[{}]</text>"##,
            arrow_y + SLOPE + 12.0,
            xml_escape(&why)
        );
    }
    out.push_str("</g>\n");
}

/// The phase each row belongs to: handshake, data, teardown.
fn phase(segment: &Segment, teardown_started: bool) -> &'static str {
    let flags = segment.step.flags;
    if teardown_started || flags.has(Flags::FIN) || flags.has(Flags::RST) {
        "teardown"
    } else if flags.has(Flags::SYN)
        || (segment.len == 0 && segment.step.seq <= 1 && segment.step.ack <= 1)
    {
        "handshake"
    } else {
        "data"
    }
}

/// Brackets on the right naming each phase, over the rows it spans.
fn brackets(out: &mut String, rows: &[Row<'_>], ys: &[f64]) {
    let mut spans: Vec<(&'static str, f64, f64)> = Vec::new();
    let mut teardown_started = false;
    for (row, &y) in rows.iter().zip(ys) {
        let Row::Segment(s) = row else { continue };
        let name = phase(s, teardown_started);
        teardown_started |= name == "teardown";
        let bottom = y + ROW;
        match spans.last_mut() {
            Some((last, _, end)) if *last == name => *end = bottom,
            _ => spans.push((name, y + 6.0, bottom)),
        }
    }
    for (name, from, to) in spans {
        let _ = writeln!(
            out,
            r##"<path class="bracket" d="M{BRACKET_X},{from:.1} h8 V{to:.1} h-8" fill="none" stroke="#757575"/>"##
        );
        let _ = writeln!(
            out,
            r##"<text class="phase" x="{:.0}" y="{:.1}" fill="#424242">{name}</text>"##,
            BRACKET_X + 14.0,
            (from + to) / 2.0 + 4.0
        );
    }
}

fn legend(out: &mut String, y: f64) {
    let items = [
        (C2S_STROKE, "", "data, client -> server"),
        (S2C_STROKE, "", "data, server -> client"),
        (PLAIN_STROKE, "", "no data (SYN, ACK, FIN)"),
        (
            FLAGGED_STROKE,
            FLAGGED_DASH,
            "flagged by the analysis (why: in brackets)",
        ),
        (RST_STROKE, FLAGGED_DASH, "reset (RST)"),
    ];
    for (i, (stroke, dash, words)) in items.iter().enumerate() {
        let (x, row) = (TIME_X + (i % 2) as f64 * 390.0, (i / 2) as f64);
        let ly = y + row * 16.0;
        let _ = writeln!(
            out,
            r##"<line x1="{x}" y1="{ly:.0}" x2="{:.0}" y2="{ly:.0}" stroke="{stroke}" stroke-width="2"{dash}/><text x="{:.0}" y="{:.0}">{}</text>"##,
            x + 28.0,
            x + 34.0,
            ly + 4.0,
            xml_escape(words)
        );
    }
}

/// Colours for the conversations of an overview, one each, in turn.
const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// Most arrows an overview draws: the first half and the last half.
pub const OVERVIEW_ARROWS: usize = 80;

/// One picture for several conversations: a line per host, an arrow per
/// segment in time order, a colour per conversation.
pub fn overview(conversations: &[&Conversation], lab_net: &str) -> String {
    let mut hosts: Vec<IpAddr> = Vec::new();
    for c in conversations {
        for ip in [c.client.ip(), c.server.ip()] {
            if !hosts.contains(&ip) {
                hosts.push(ip);
            }
        }
    }
    // A server's machine first, as the course draws it.
    hosts.sort_by_key(|ip| {
        let serves = conversations.iter().any(|c| c.server.ip() == *ip);
        (!serves, *ip)
    });
    let mut all: Vec<(&Conversation, &Segment)> = conversations
        .iter()
        .filter_map(|c| c.ladder.as_deref().map(|log| (c, log)))
        .flat_map(|(c, log)| {
            log.first
                .iter()
                .chain(log.last.iter())
                .map(move |s| (*c, s))
        })
        .collect();
    all.sort_by(|a, b| a.1.step.time.total_cmp(&b.1.step.time));
    let left_in_logs: u64 = conversations
        .iter()
        .filter_map(|c| c.ladder.as_deref())
        .map(|l| l.left_out)
        .sum();
    let half = OVERVIEW_ARROWS / 2;
    let cut = all.len().saturating_sub(OVERVIEW_ARROWS) as u64;
    let shown: Vec<(&Conversation, &Segment)> = if cut > 0 {
        all[..half]
            .iter()
            .chain(all[all.len() - half..].iter())
            .copied()
            .collect()
    } else {
        all
    };
    let column = |ip: IpAddr| {
        let i = hosts.iter().position(|h| *h == ip).unwrap_or(0);
        // From the first column to the last, room for a label either side.
        let (first, last) = (170.0, WIDTH - 110.0);
        first + (last - first) * i as f64 / (hosts.len().max(2) - 1) as f64
    };
    let rows = shown.len() + usize::from(cut > 0);
    let row = 22.0;
    let bottom = TOP + rows as f64 * row + 10.0;
    let legend_rows = conversations.len().div_ceil(3);
    let height = bottom + 30.0 + legend_rows as f64 * 16.0;
    let mut out = String::new();
    svg_header(&mut out, height);
    let _ = writeln!(
        out,
        r##"<text x="{TIME_X}" y="20" font-size="13" font-weight="bold">{} TCP conversations, {} segments{}</text>"##,
        conversations.len(),
        conversations.iter().map(|c| c.packets.total()).sum::<u64>(),
        if cut > 0 || left_in_logs > 0 {
            " (the first and the last shown)"
        } else {
            ""
        }
    );
    for ip in &hosts {
        let x = column(*ip);
        // The name and the address on two lines: three columns fit the page.
        let (name, address) = match progjar_common::lab::machine_at(*ip, lab_net) {
            Some(name) => (name.to_string(), ip.to_string()),
            None => (ip.to_string(), String::new()),
        };
        let _ = writeln!(
            out,
            r##"<text class="host" x="{x:.0}" y="48" text-anchor="middle" font-weight="bold">{}</text><text x="{x:.0}" y="62" text-anchor="middle" fill="#616161">{}</text>"##,
            xml_escape(&name),
            xml_escape(&address)
        );
        let _ = writeln!(
            out,
            r##"<line x1="{x:.0}" y1="{:.0}" x2="{x:.0}" y2="{bottom:.0}" stroke="#9e9e9e" stroke-width="2"/>"##,
            TOP - 30.0
        );
    }
    let mut y = TOP;
    for (i, (c, s)) in shown.iter().enumerate() {
        if cut > 0 && i == half {
            let _ = writeln!(
                out,
                r##"<text class="left-out" x="{:.0}" y="{:.0}" text-anchor="middle" fill="#616161">... {cut} segments left out ...</text>"##,
                WIDTH / 2.0,
                y + 14.0
            );
            y += row;
        }
        let (from, to) = match s.step.dir {
            Dir::ClientToServer => (column(c.client.ip()), column(c.server.ip())),
            Dir::ServerToClient => (column(c.server.ip()), column(c.client.ip())),
        };
        let colour = PALETTE[c.id % PALETTE.len()];
        let flagged = s.expert.any() || s.step.flags.has(Flags::RST);
        let _ = writeln!(
            out,
            r##"<g class="segment{}" data-conversation="{}"><text x="{TIME_X}" y="{:.1}" fill="#616161">{:.6}</text><line x1="{from:.0}" y1="{:.1}" x2="{to:.0}" y2="{:.1}" stroke="{colour}" stroke-width="{}"{} marker-end="url(#head)"/><text x="{:.0}" y="{:.1}" text-anchor="middle" fill="{}">{}</text></g>"##,
            if flagged { " flagged" } else { "" },
            c.id,
            y + 14.0,
            s.step.time,
            y + 12.0,
            y + 18.0,
            if flagged { 2.5 } else { 1.5 },
            if flagged { FLAGGED_DASH } else { "" },
            (from + to) / 2.0,
            y + 9.0,
            if flagged { FLAGGED_STROKE } else { "#212121" },
            xml_escape(&format!(
                "#{} {}{}",
                c.id,
                short_label(s),
                if s.expert.any() {
                    format!(
                        " [{}]",
                        s.expert
                            .kinds()
                            .map(|k| k.words)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } else {
                    String::new()
                }
            ))
        );
        y += row;
    }
    for (i, c) in conversations.iter().enumerate() {
        let (x, ly) = (
            TIME_X + (i % 3) as f64 * 262.0,
            bottom + 20.0 + (i / 3) as f64 * 16.0,
        );
        let _ = writeln!(
            out,
            r##"<line x1="{x:.0}" y1="{ly:.0}" x2="{:.0}" y2="{ly:.0}" stroke="{}" stroke-width="3"/><text x="{:.0}" y="{:.0}" font-size="10">#{} {} -> :{}</text>"##,
            x + 20.0,
            PALETTE[c.id % PALETTE.len()],
            x + 26.0,
            ly + 4.0,
            c.id,
            xml_escape(&host_name(c.client.ip(), lab_net)),
            c.server.port()
        );
    }
    out.push_str("</svg>\n");
    out
}

/// A shorter label for the overview: flags, length and payload.
fn short_label(s: &Segment) -> String {
    let mut text = s.step.flags.to_string();
    if s.len > 0 {
        let shown: String = s.payload_text().chars().take(16).collect();
        let _ = write!(text, " len={} \"{shown}\"", s.len);
    }
    text
}

/// Renders an SVG made here to a PNG twice its size (192 dots per inch, for
/// printing), with the system's fonts. Errors say what went wrong.
pub fn png(svg: &str) -> Result<Vec<u8>, String> {
    use resvg::{tiny_skia, usvg};
    let mut options = usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    if options.fontdb.is_empty() {
        return Err(
            "no fonts found on this system for the labels (install fonts-dejavu-core)".into(),
        );
    }
    let tree =
        usvg::Tree::from_str(svg, &options).map_err(|e| format!("the SVG does not parse: {e}"))?;
    let scale = 2.0;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap =
        tiny_skia::Pixmap::new(w.max(1), h.max(1)).ok_or("the picture is too large to render")?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| format!("PNG encoding failed: {e}"))
}
