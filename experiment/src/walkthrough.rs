//! One conversation told in plain words: the handshake with its sequence
//! numbers, each PSH/ACK segment with its payload, and the FIN teardown.

use std::fmt::Write as _;

use pcap_summary::conversation::{Conversation, Dir, Step};
use pcap_summary::segment::Flags;

use crate::lang::{Catalogue, Message};
use crate::machines::name_of;

fn who(c: &Conversation, dir: Dir) -> String {
    match dir {
        Dir::ClientToServer => format!("{} ({})", name_of(&c.client.ip()), c.client),
        Dir::ServerToClient => format!("{} ({})", name_of(&c.server.ip()), c.server),
    }
}

fn step_words(c: &Conversation, step: &Step, say: &Catalogue) -> String {
    let message = if step.flags.has(Flags::ACK) {
        Message::new("walk-step-ack").count("ack", u64::from(step.ack))
    } else {
        Message::new("walk-step")
    };
    say.say(
        &message
            .text("time", format!("{:.6}", step.time))
            .text("sender", who(c, step.dir))
            .text("flags", step.flags.to_string())
            .count("seq", u64::from(step.seq)),
    )
}

/// The walk-through of `c`, as Markdown.
pub fn walk(c: &Conversation, say: &Catalogue) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}\n",
        say.say(
            &Message::new("walk-title")
                .count("id", c.id as u64)
                .text("client", who(c, Dir::ClientToServer))
                .text("server", who(c, Dir::ServerToClient))
        )
    );
    let _ = writeln!(out, "**{}**", say.word("walk-handshake"));
    let hs = &c.handshake;
    match (&hs.syn, &hs.syn_ack, &hs.ack) {
        (Some(syn), Some(syn_ack), Some(ack)) => {
            let rtt = hs
                .rtt()
                .map_or(String::new(), |s| format!("{:.3}", s * 1000.0));
            let _ = writeln!(
                out,
                "1. {}. {}\n2. {}: {}\n3. {}: {}",
                step_words(c, syn, say),
                say.word("walk-syn"),
                step_words(c, syn_ack, say),
                say.word("walk-syn-ack"),
                step_words(c, ack, say),
                say.say(&Message::new("walk-ack").text("rtt", rtt)),
            );
        }
        _ => {
            let _ = writeln!(out, "{}", say.word("walk-no-handshake"));
        }
    }
    let _ = writeln!(out, "\n**{}**", say.word("walk-data"));
    for (i, segment) in c.segments.iter().enumerate() {
        // The expert analysis's flags (tshark's), each in the report's language.
        let flags: Vec<String> = segment
            .expert
            .kinds()
            .map(|kind| say.word(expert_message(kind.name)))
            .collect();
        let marker = if flags.is_empty() {
            String::new()
        } else {
            format!(" **({})**", flags.join(", "))
        };
        let _ = writeln!(
            out,
            "{}. {}, len={}: `\"{}\"`{marker}",
            i + 1,
            step_words(c, &segment.step, say),
            segment.len,
            segment.payload_text()
        );
    }
    if c.segments_not_shown > 0 {
        let _ = writeln!(
            out,
            "\n{}",
            say.say(&Message::new("walk-more-segments").count("n", c.segments_not_shown))
        );
    }
    if c.segments.is_empty() {
        let _ = writeln!(out, "{}", say.word("walk-no-data"));
    } else {
        let _ = writeln!(out, "\n{}", say.word("walk-data-explained"));
    }
    let _ = writeln!(out, "\n**{}**", say.word("walk-teardown"));
    if c.teardown.steps.is_empty() {
        let _ = writeln!(out, "{}", say.word("walk-still-open"));
    }
    for (i, step) in c.teardown.steps.iter().enumerate() {
        let meaning = if step.flags.has(Flags::RST) {
            say.word("walk-rst")
        } else if step.flags.has(Flags::FIN) {
            say.word("walk-fin")
        } else {
            say.word("walk-last-ack")
        };
        let _ = writeln!(out, "{}. {}: {meaning}", i + 1, step_words(c, step, say));
    }
    out
}

/// The catalogue's message for one of the expert analysis's flags.
fn expert_message(flag: &str) -> &'static str {
    match flag {
        "retransmission" => "expert-retransmission",
        "fast_retransmission" => "expert-fast-retransmission",
        "spurious_retransmission" => "expert-spurious-retransmission",
        "out_of_order" => "expert-out-of-order",
        "duplicate_ack" => "expert-duplicate-ack",
        "lost_segment" => "expert-lost-segment",
        "ack_lost_segment" => "expert-ack-lost-segment",
        "zero_window" => "expert-zero-window",
        "window_full" => "expert-window-full",
        "window_update" => "expert-window-update",
        "keep_alive" => "expert-keep-alive",
        "keep_alive_ack" => "expert-keep-alive-ack",
        "zero_window_probe" => "expert-zero-window-probe",
        _ => "expert-zero-window-probe-ack",
    }
}

#[cfg(test)]
mod expert_message_tests {
    use super::expert_message;
    use pcap_summary::expert::Expert;

    #[test]
    fn every_expert_flag_has_its_own_message() {
        let ids: std::collections::BTreeSet<&str> = Expert::KINDS
            .iter()
            .map(|k| expert_message(k.name))
            .collect();
        assert_eq!(ids.len(), Expert::KINDS.len());
        for kind in Expert::KINDS {
            assert_eq!(
                expert_message(kind.name),
                format!("expert-{}", kind.name.replace('_', "-"))
            );
        }
    }
}
