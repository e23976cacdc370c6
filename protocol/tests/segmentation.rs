//! Properties of the time protocol that must hold for any input.
//!
//! TCP may cut the byte stream anywhere. Whatever the cut points, a session
//! must produce the same actions, in the same order, and keep its memory
//! bounded however much a client sends.

use chrono::NaiveTime;
use progjar_protocol::line::LineFramer;
use progjar_protocol::time::TimeSession;
use progjar_protocol::{Action, Session};
use proptest::prelude::*;

fn fixed_clock() -> NaiveTime {
    NaiveTime::from_hms_opt(13, 37, 0).expect("valid time")
}

/// Feeds `input` to a fresh session cut at `cuts` and returns every action.
fn run_segmented(input: &[u8], cuts: &[usize], max_line: usize) -> Vec<Action> {
    let mut session = TimeSession::new(max_line, fixed_clock);
    let mut actions = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.sort_unstable();
    let mut start = 0;
    for point in points.into_iter().chain([input.len()]) {
        session.on_bytes(&input[start..point], &mut actions);
        start = point;
    }
    session.on_eof(&mut actions);
    actions
}

/// Lines a client might send: valid requests, mistakes and noise.
fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"TIME\r\n".to_vec()),
        Just(b"QUIT\r\n".to_vec()),
        Just(b"TIME\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"time\r\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|mut v| {
            v.extend_from_slice(b"\r\n");
            v
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_segmentation_of_any_lines_gives_the_same_actions(
        lines in proptest::collection::vec(line(), 0..20),
        cuts in proptest::collection::vec(any::<usize>(), 0..30),
        max_line in prop_oneof![Just(16usize), Just(1024usize)],
    ) {
        let input = lines.concat();
        let whole = run_segmented(&input, &[], max_line);
        let cut = run_segmented(&input, &cuts, max_line);
        prop_assert_eq!(&whole, &cut);
        // Byte by byte is the most extreme segmentation of all.
        let every_byte: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(&whole, &run_segmented(&input, &every_byte, max_line));
    }

    #[test]
    fn without_a_transcript_the_same_bytes_are_sent_in_the_same_order(
        lines in proptest::collection::vec(line(), 0..20),
        cuts in proptest::collection::vec(any::<usize>(), 0..30),
    ) {
        // With the transcript each reply is its own send; without it,
        // replies in a row are gathered. The bytes on the wire must not change.
        let input = lines.concat();
        let sent_bytes = |actions: Vec<Action>| -> Vec<u8> {
            actions.into_iter().filter_map(|a| match a {
                Action::Send(bytes) => Some(bytes),
                _ => None,
            }).flatten().collect()
        };
        let with = sent_bytes(run_segmented(&input, &cuts, 1024));
        let mut session = TimeSession::new(1024, fixed_clock).with_transcript(false);
        let mut actions = Vec::new();
        session.on_bytes(&input, &mut actions);
        session.on_eof(&mut actions);
        prop_assert_eq!(with, sent_bytes(actions));
    }

    #[test]
    fn every_reply_is_jam_or_error_and_ends_in_crlf(
        lines in proptest::collection::vec(line(), 0..20),
    ) {
        for action in run_segmented(&lines.concat(), &[], 1024) {
            if let Action::Send(reply) = action {
                prop_assert!(reply.ends_with(b"\r\n"));
                prop_assert!(reply.starts_with(b"JAM ") || reply.starts_with(b"ERROR "));
                if reply.starts_with(b"JAM ") {
                    prop_assert_eq!(reply.len(), 14);
                }
            }
        }
    }

    #[test]
    fn framer_never_holds_more_than_the_limit(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..50),
        max_line in 1usize..512,
    ) {
        let mut framer = LineFramer::new(max_line);
        for chunk in &chunks {
            let mut input = chunk.as_slice();
            while let Ok(Some(_)) = framer.next_frame(&mut input) {}
            prop_assert!(framer.pending().len() <= max_line);
        }
    }
}

#[test]
fn a_megabyte_without_lf_is_refused_and_memory_stays_bounded() {
    let mut session = TimeSession::new(1024, fixed_clock);
    let mut actions = Vec::new();
    let chunk = vec![b'A'; 4096];
    for _ in 0..256 {
        session.on_bytes(&chunk, &mut actions);
        // One error reply and one close, never an ever-growing list.
        assert!(actions.len() <= 2);
    }
    assert_eq!(
        actions.last(),
        Some(&Action::Close(progjar_protocol::CloseReason::LineTooLong))
    );
}
