//! Any bytes at all, read as a capture: errors are fine, panics are bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(summary) = pcap_summary::summarize(data, &pcap_summary::Options::default()) {
        let _ = summary.to_json();
        let selected: Vec<_> = summary.conversations.iter().collect();
        let _ = pcap_summary::text::render(&summary, "fuzz", &selected, true);
    }
});
