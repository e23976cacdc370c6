//! Any bytes at all, read as a capture: errors are fine, panics are bugs,
//! and so is a conversation that ends before it starts.
//!
//! Seeds: `corpus/summarize/` holds the damaged pcapng shapes of the tests
//! (block lengths 0, 13, 0xFFFFFFFF, an unknown interface id, no interface
//! block, bad if_tsresol); add the shared captures too:
//! `cp ../../shared/pcaps/*.pcap* corpus/summarize/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_summary::conversation::Limits;
use pcap_summary::{text, timeline, Options};

fuzz_target!(|data: &[u8]| {
    // Small limits, so that the counted-only paths are taken too.
    let options = Options {
        limits: Limits {
            conversations: 4,
            segments: 3,
            ..Limits::default()
        },
    };
    for options in [Options::default(), options] {
        if let Ok(summary) = pcap_summary::summarize(data, &options) {
            let _ = summary.to_json();
            let selected: Vec<_> = summary.conversations.iter().collect();
            let _ = text::render(&summary, "fuzz", &selected, true);
            let _ = text::render(&summary, "fuzz", &selected, false);
            let _ = timeline::svg(&selected, summary.duration);
            for c in &selected {
                assert!(c.start <= c.end, "#{}: {} > {}", c.id, c.start, c.end);
            }
        }
    }
});
