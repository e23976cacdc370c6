//! The summary for people: a few lines per conversation, in the words a
//! lab report uses (handshake, PSH/ACK segments, FIN teardown).

use std::fmt::Write as _;

use crate::conversation::{Conversation, Dir, Segment, Step};
use crate::report::Summary;
use crate::timeline;

/// Above this many conversations, each gets one line unless asked for in full.
pub const COMPACT_ABOVE: usize = 10;

fn arrow(dir: Dir) -> &'static str {
    match dir {
        Dir::ClientToServer => "c->s",
        Dir::ServerToClient => "s->c",
    }
}

fn millis(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.3} ms", seconds * 1000.0)
    } else {
        format!("{seconds:.3} s")
    }
}

fn step_line(step: &Step) -> String {
    format!(
        "{:>11.6}  {}  {:<8} seq={} ack={}",
        step.time,
        arrow(step.dir),
        step.flags.to_string(),
        step.seq,
        step.ack
    )
}

/// Payload bytes that are text (printable ASCII, CR, LF, TAB) show escaped;
/// anything else as a hex dump, like `tshark -z follow,tcp,hex`.
pub(crate) fn is_text(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) || matches!(b, b'\r' | b'\n' | b'\t'))
}

pub(crate) fn hex_dump(bytes: &[u8], indent: &str) -> String {
    let mut out = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "{indent}{:08x}  {:<47}  {ascii}",
            i * 16,
            hex.join(" ")
        );
    }
    out
}

fn segment_lines(segment: &Segment, out: &mut String) {
    let anomaly = if segment.expert.any() {
        format!("  [{}]", segment.expert_words().join("; "))
    } else {
        String::new()
    };
    let cut = if (segment.payload.len() as u64) < u64::from(segment.len) {
        "..."
    } else {
        ""
    };
    if segment.len == 0 {
        let _ = writeln!(
            out,
            "    {} len=0 win={}{anomaly}",
            step_line(&segment.step),
            segment.window
        );
    } else if is_text(&segment.payload) {
        let _ = writeln!(
            out,
            "    {} len={:<5} \"{}\"{cut}{anomaly}",
            step_line(&segment.step),
            segment.len,
            segment.payload_text()
        );
    } else {
        let _ = writeln!(
            out,
            "    {} len={}{anomaly}",
            step_line(&segment.step),
            segment.len
        );
        out.push_str(&hex_dump(&segment.payload, "                 "));
    }
}

/// One line: enough to tell conversations apart and see their shape.
pub fn compact(c: &Conversation) -> String {
    format!(
        "#{:<4} {} -> {}  {:.6}..{:.6} s  pkts {}/{}  bytes {}/{}{}  handshake {}  close {}{}",
        c.id,
        c.client,
        c.server,
        c.start,
        c.end,
        c.packets[Dir::ClientToServer],
        c.packets[Dir::ServerToClient],
        c.payload_bytes[Dir::ClientToServer],
        c.payload_bytes[Dir::ServerToClient],
        if c.stream_bytes == c.payload_bytes {
            String::new()
        } else {
            format!(
                " (stream {}/{})",
                c.stream_bytes[Dir::ClientToServer],
                c.stream_bytes[Dir::ServerToClient]
            )
        },
        c.handshake.status(),
        c.close_kind(),
        c.first_server_byte_delay()
            .map(|d| format!("  first server byte +{}", millis(d)))
            .unwrap_or_default()
    )
}

/// Everything about one conversation.
pub fn full(c: &Conversation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "#{} {} -> {}  (client -> server)",
        c.id, c.client, c.server
    );
    let _ = writeln!(
        out,
        "  {:.6} .. {:.6} s; packets c->s {}, s->c {}; payload bytes c->s {}, s->c {}",
        c.start,
        c.end,
        c.packets[Dir::ClientToServer],
        c.packets[Dir::ServerToClient],
        c.payload_bytes[Dir::ClientToServer],
        c.payload_bytes[Dir::ServerToClient]
    );
    if c.stream_bytes != c.payload_bytes {
        // The wire figure counts resent bytes again; a report wants the stream's.
        let resent = c.retransmitted_bytes();
        let _ = writeln!(
            out,
            "  stream bytes (each byte once) c->s {}, s->c {}; resent on the wire c->s {}, s->c {}",
            c.stream_bytes[Dir::ClientToServer],
            c.stream_bytes[Dir::ServerToClient],
            resent[Dir::ClientToServer],
            resent[Dir::ServerToClient]
        );
    }
    let hs = &c.handshake;
    let rtt = hs
        .rtt()
        .map(|r| format!(", RTT {}", millis(r)))
        .unwrap_or_default();
    let _ = writeln!(out, "  handshake: {}{rtt}", hs.status());
    let mut missing = Vec::new();
    for (name, step) in [("SYN", &hs.syn), ("SYN,ACK", &hs.syn_ack), ("ACK", &hs.ack)] {
        match step {
            Some(step) => {
                let _ = writeln!(out, "    {}", step_line(step));
            }
            None => missing.push(name),
        }
    }
    if !missing.is_empty() {
        let _ = writeln!(out, "    not captured: {}", missing.join(", "));
    }
    if c.segments.is_empty() {
        let _ = writeln!(out, "  data: none");
    } else {
        let _ = writeln!(out, "  segments (data, and those the analysis flagged):");
        for segment in &c.segments {
            segment_lines(segment, &mut out);
        }
        if c.segments_not_shown > 0 {
            let _ = writeln!(
                out,
                "    ... and {} more (raise --max-segments)",
                c.segments_not_shown
            );
        }
    }
    let _ = writeln!(out, "  teardown: {}", teardown_story(c));
    for step in &c.teardown.steps {
        let _ = writeln!(out, "    {}", step_line(step));
    }
    if let Some(delay) = c.first_server_byte_delay() {
        let reply = c
            .first_reply_delay()
            .map(|r| format!(", {} after the client's first byte", millis(r)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  first server byte: {} after the handshake{reply}",
            millis(delay)
        );
    }
    out.push_str(&analysis_lines(c));
    out
}

/// The expert analysis's counts, in words, or that it found nothing.
fn analysis_lines(c: &Conversation) -> String {
    let found: Vec<String> = c
        .analysis
        .by_name()
        .iter()
        .zip(crate::expert::Expert::KINDS)
        .filter(|((_, n), _)| *n > 0)
        .map(|((_, n), kind)| format!("{n} {}", kind.words))
        .collect();
    if found.is_empty() {
        "  analysis (as tshark's expert info): nothing unusual\n".to_string()
    } else {
        format!(
            "  analysis (as tshark's expert info): {}\n",
            found.join(", ")
        )
    }
}

fn teardown_story(c: &Conversation) -> String {
    let who = |dir: Dir| match dir {
        Dir::ClientToServer => "client",
        Dir::ServerToClient => "server",
    };
    if let Some(rst) = c
        .teardown
        .steps
        .iter()
        .find(|s| s.flags.has(crate::segment::Flags::RST))
    {
        return format!("reset (RST) by the {} at {:.6} s", who(rst.dir), rst.time);
    }
    match c
        .teardown
        .steps
        .iter()
        .find(|s| s.flags.has(crate::segment::Flags::FIN))
    {
        Some(first) => {
            let other = c
                .teardown
                .steps
                .iter()
                .any(|s| s.dir != first.dir && s.flags.has(crate::segment::Flags::FIN));
            format!(
                "the {} sent FIN first at {:.6} s; {}",
                who(first.dir),
                first.time,
                if other {
                    "the other side answered with its own FIN"
                } else {
                    "no FIN from the other side captured"
                }
            )
        }
        None => "still open at the end of the capture".to_string(),
    }
}

/// The whole report: totals, each conversation, the timeline.
pub fn render(
    summary: &Summary,
    name: &str,
    selected: &[&Conversation],
    force_full: bool,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "capture: {name}");
    let counted = &summary.counted_only;
    let _ = writeln!(
        out,
        "  {} packets: {} TCP, {} other (skipped); {}{} TCP conversation(s), at most {} open at once; {:.6} s",
        summary.packets,
        summary.tcp_packets,
        summary.skipped(),
        if counted.packets_not_told_apart > 0 {
            "at least "
        } else {
            ""
        },
        summary.conversation_count(),
        summary.max_concurrent,
        summary.duration
    );
    if counted.packets > 0 {
        let untold = if counted.packets_not_told_apart > 0 {
            format!(
                ", then {} packets that could not be told apart into conversations (no room to count more)",
                counted.packets_not_told_apart
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  only the first {} conversations are kept in full (--max-conversations {}); {} more are counted only{untold}: together {} packets, {} payload bytes, {} SYN, {} SYN,ACK, {} FIN, {} RST",
            summary.conversations.len(),
            summary.max_conversations,
            counted.conversations,
            counted.packets,
            counted.payload_bytes,
            counted.syn,
            counted.syn_ack,
            counted.fin,
            counted.rst
        );
    }
    for error in summary.errors() {
        let _ = writeln!(out, "  error: {error}");
    }
    out.push('\n');
    let full_detail = force_full || selected.len() <= COMPACT_ABOVE;
    for c in selected {
        if full_detail {
            out.push_str(&full(c));
            out.push('\n');
        } else {
            let _ = writeln!(out, "{}", compact(c));
        }
    }
    if !full_detail {
        let _ = writeln!(
            out,
            "\n(one line each; --conversation N shows one in full)\n"
        );
    }
    if !selected.is_empty() {
        out.push_str(&timeline::text(selected, summary.duration));
    }
    out
}
