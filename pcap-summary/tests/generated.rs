//! Captures written here with the test kit (pcapng with pcap-file), for what
//! the public ones lack:
//! port reuse, IPv6, Linux cooked headers, pcapng with two interfaces, cuts,
//! and a bounded run of damaged inputs that must never panic.

mod shapes;

use pcap_summary::direction::PerDir;
use std::borrow::Cow;
use std::time::Duration;

use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_summary::conversation::Conversation;
use pcap_summary::input::{Chunks, CutKind, ReadAhead};
use pcap_summary::{summarize, summarize_from, text, timeline, Options, Summary};
use progjar_testkit::{CaptureBuilder, Direction::*, Link, TcpSession};

/// A TIME/QUIT session between `c` and `s` starting at `t0` seconds; the
/// server closes first, at `t0 + 0.021`. Each start time gets its own
/// initial sequence numbers, as a real TCP picks new ones per connection
/// (a SYN with the same one would be the old SYN sent again).
fn time_session(c: &str, s: &str, t0: f64) -> TcpSession {
    let isn = ((t0 * 1000.0) as u32).wrapping_mul(2_654_435_761);
    let mut session =
        TcpSession::new(c, s).with_initial_sequence_numbers(isn ^ 0x1000, isn ^ 0x5000_0000);
    session.handshake(t0);
    session.send(ClientToServer, t0 + 0.010, b"TIME\r\n");
    session.send(ServerToClient, t0 + 0.011, b"JAM 10:00:00\r\n");
    session.send(ClientToServer, t0 + 0.020, b"QUIT\r\n");
    session.close(ServerToClient, t0 + 0.021);
    session
}

/// The pcap file of `sessions` with `link` frames.
fn pcap_of(link: Link, sessions: &[TcpSession]) -> Vec<u8> {
    let mut capture = CaptureBuilder::with_link(link);
    for session in sessions {
        capture.add_session(session);
    }
    capture.to_pcap_bytes()
}

fn summary_of(bytes: &[u8]) -> Summary {
    summarize(bytes, &Options::default()).expect("a readable capture")
}

#[test]
fn port_reuse_gives_two_conversations_on_one_four_tuple() {
    let summary = summary_of(&pcap_of(
        Link::Ethernet,
        &[
            time_session("10.0.0.2:40000", "10.0.0.1:45000", 0.0),
            time_session("10.0.0.2:40000", "10.0.0.1:45000", 2.0),
        ],
    ));
    assert_eq!(summary.conversations.len(), 2);
    assert_eq!(summary.max_concurrent, 1);
    for c in &summary.conversations {
        assert_eq!(c.handshake.status(), "complete");
        assert_eq!(c.close_kind(), "fin");
        assert_eq!(&*c.segments[0].payload, b"TIME\r\n");
    }
    assert!((summary.conversations[1].start - 2.0).abs() < 1e-6);
}

#[test]
fn ipv6_conversations_print_bracketed_endpoints() {
    let session = time_session("[fd00::2]:40000", "[fd00::1]:45000", 0.0);
    let summary = summary_of(&pcap_of(Link::RawIp, &[session]));
    assert_eq!(summary.conversations.len(), 1);
    let json = summary.to_json();
    assert_eq!(json["conversations"][0]["client"], "[fd00::2]:40000");
    assert_eq!(json["conversations"][0]["server"], "[fd00::1]:45000");
    assert_eq!(
        json["conversations"][0]["segments"][1]["payload"],
        "JAM 10:00:00\\r\\n"
    );
}

#[test]
fn linux_cooked_sll_and_sll2_captures_are_read() {
    let session = time_session("127.0.0.1:40000", "127.0.0.1:45000", 0.0);
    for link in [Link::LinuxSll, Link::LinuxSll2] {
        let summary = summary_of(&pcap_of(link, std::slice::from_ref(&session)));
        assert_eq!(summary.tcp_packets, 9, "{link:?}");
        assert_eq!(summary.conversations.len(), 1, "{link:?}");
        assert_eq!(
            summary.conversations[0].payload_bytes,
            PerDir::new(12, 14),
            "{link:?}"
        );
    }
}

/// A pcapng file with an Ethernet and a raw-IP interface, a TIME session on each.
fn two_interface_pcapng() -> Vec<u8> {
    let mut writer = PcapNgWriter::new(Vec::new()).expect("section");
    writer
        .write_pcapng_block(InterfaceDescriptionBlock::new(
            Link::Ethernet.data_link(),
            65535,
        ))
        .expect("interface 0");
    writer
        .write_pcapng_block(InterfaceDescriptionBlock::new(
            Link::RawIp.data_link(),
            65535,
        ))
        .expect("interface 1");
    let v4 = time_session("10.0.0.2:40000", "10.0.0.1:45000", 0.0);
    let v6 = time_session("[fd00::2]:40001", "[fd00::1]:45000", 0.005);
    let mut all: Vec<(f64, u32, Vec<u8>)> = v4
        .packets()
        .iter()
        .map(|p| (p.time, 0, Link::Ethernet.frame(&p.ip)))
        .collect();
    all.extend(
        v6.packets()
            .iter()
            .map(|p| (p.time, 1, Link::RawIp.frame(&p.ip))),
    );
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (t, interface_id, data) in &all {
        writer
            .write_pcapng_block(EnhancedPacketBlock {
                interface_id: *interface_id,
                timestamp: Duration::from_secs_f64(1_700_000_000.0 + t),
                original_len: data.len() as u32,
                data: Cow::Borrowed(data),
                options: vec![],
            })
            .expect("packet");
    }
    writer.into_inner()
}

#[test]
fn pcapng_with_two_interfaces_of_different_link_types_is_read() {
    let summary = summary_of(&two_interface_pcapng());
    assert_eq!(summary.conversations.len(), 2);
    assert_eq!(
        summary.max_concurrent, 2,
        "the two sessions overlap in time"
    );
    assert!((summary.conversations[1].start - 0.005).abs() < 1e-6);
    // The IPv6 session's last ACK: 0.005 + 0.021 + 2 steps.
    assert!((summary.duration - (0.026 + 2.0 * TcpSession::STEP)).abs() < 1e-6);
}

#[test]
fn a_cut_file_keeps_every_whole_packet_and_reports_the_offset() {
    let session = time_session("10.0.0.2:40000", "10.0.0.1:45000", 0.0);
    let bytes = pcap_of(Link::Ethernet, std::slice::from_ref(&session));
    let last_frame = session.packets().last().expect("packets").ip.len() + 14;
    let last_record = 16 + last_frame;
    let cut = &bytes[..bytes.len() - last_record + 20];
    let summary = summary_of(cut);
    assert_eq!(summary.packets, 8);
    let reported = summary.cut.as_ref().expect("a cut");
    assert_eq!(reported.offset as usize, bytes.len() - last_record);
}

/// A small, fixed pseudo-random sequence, so every run tests the same inputs.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Every output of a summary (JSON, text in full and compact, both
/// timelines) is made, and every conversation spans a time that does not run
/// backwards: a damaged capture may say odd things, never impossible ones.
fn check_every_output(summary: &Summary) {
    let _ = summary.to_json();
    let all: Vec<&Conversation> = summary.conversations.iter().collect();
    let _ = text::render(summary, "damaged", &all, true);
    let _ = text::render(summary, "damaged", &all, false);
    let _ = timeline::svg(&all, summary.duration);
    for c in &all {
        assert!(
            c.start <= c.end,
            "#{}: start {} after end {}",
            c.id,
            c.start,
            c.end
        );
    }
}

#[test]
fn thousands_of_damaged_inputs_never_panic() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcaps");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&shared)
        .expect("shared captures")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .map(|p| std::fs::read(p).expect("readable"))
        .collect();
    seeds.sort();
    seeds.push(pcap_of(
        Link::LinuxSll2,
        &[time_session("127.0.0.1:1", "127.0.0.1:2", 0.0)],
    ));
    seeds.push(two_interface_pcapng());
    // The damaged shapes (block lengths, interfaces, if_tsresol) are seeds too.
    seeds.extend(shapes::all().into_iter().map(|shape| shape.bytes));
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut runs = 0;
    let mut damaged_blocks = 0;
    for seed in &seeds {
        let blocks = pcapng_blocks(seed);
        for _ in 0..400 {
            let mut input = seed.clone();
            if let Some(blocks) = blocks.as_ref().filter(|_| rng.next().is_multiple_of(2)) {
                damaged_blocks += damage_a_block(&mut input, blocks, &mut rng);
                runs += 1;
                continue;
            }
            match rng.next() % 4 {
                0 => input.truncate((rng.next() as usize) % (input.len() + 1)),
                1 => {
                    for _ in 0..1 + rng.next() % 8 {
                        let i = (rng.next() as usize) % input.len();
                        input[i] = rng.next() as u8;
                    }
                }
                2 => {
                    // Damage a length field: record and block headers live here.
                    let i = 24 + (rng.next() as usize) % input.len().saturating_sub(28).max(1);
                    if i + 4 <= input.len() {
                        input[i..i + 4].copy_from_slice(&(rng.next() as u32).to_le_bytes());
                    }
                }
                _ => {
                    let i = (rng.next() as usize) % input.len();
                    let tail: Vec<u8> = (0..(rng.next() % 64)).map(|_| rng.next() as u8).collect();
                    input.splice(i..i, tail);
                }
            }
            // Any outcome is fine except a panic; errors must be values.
            if let Ok(summary) = summarize(input.as_slice(), &Options::default()) {
                check_every_output(&summary);
            }
            runs += 1;
        }
    }
    eprintln!("{runs} damaged inputs, {damaged_blocks} with one pcapng block damaged");
    assert!(runs >= 7000, "{runs}");
    assert!(damaged_blocks >= 300, "{damaged_blocks}");
}

/// Whether a pcapng file is big-endian, and its blocks: offset, type, length.
type Blocks = (bool, Vec<(usize, u32, u32)>);

/// A pcapng file's blocks while their framing holds. None for anything
/// else, or for a file that does not read to its end as it is.
fn pcapng_blocks(bytes: &[u8]) -> Option<Blocks> {
    let big = match bytes.get(8..12)? {
        [0x1A, 0x2B, 0x3C, 0x4D] => true,
        [0x4D, 0x3C, 0x2B, 0x1A] => false,
        _ => return None,
    };
    if bytes.get(..4)? != [0x0A, 0x0D, 0x0D, 0x0A] {
        return None;
    }
    let word = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let mut blocks = Vec::new();
    let mut at = 0;
    while let (Some(type_), Some(length)) = (word(at), word(at + 4)) {
        if length < 12
            || length % 4 != 0
            || at + length as usize > bytes.len()
            || word(at + length as usize - 4) != Some(length)
        {
            break;
        }
        blocks.push((at, type_, length));
        at += length as usize;
    }
    // Only a file read to its end: the damage is to be the first one.
    let whole =
        blocks.len() > 1 && summarize(bytes, &Options::default()).is_ok_and(|s| s.cut.is_none());
    whole.then_some((big, blocks))
}

/// Damages one block of a pcapng file in one of the shapes real damage
/// takes, and checks that the summary names it as damage, at its offset,
/// never as a cut. Returns 1 when it damaged a block.
fn damage_a_block(input: &mut Vec<u8>, (big, blocks): &Blocks, rng: &mut XorShift) -> usize {
    let to_bytes = |n: u32| {
        if *big {
            n.to_be_bytes()
        } else {
            n.to_le_bytes()
        }
    };
    let pick = 1 + (rng.next() as usize) % (blocks.len() - 1);
    let (offset, type_, _) = blocks[pick];
    let interfaces_before = blocks[..pick].iter().filter(|b| b.1 == 1).count() as u32;
    let what = match rng.next() % 3 {
        0 => {
            let length = [0, 13, u32::MAX][(rng.next() % 3) as usize];
            input[offset + 4..offset + 8].copy_from_slice(&to_bytes(length));
            format!("block length {length}")
        }
        1 if type_ == 6 => {
            let interface = interfaces_before + (rng.next() % 5) as u32;
            input[offset + 8..offset + 12].copy_from_slice(&to_bytes(interface));
            format!("interface {interface}")
        }
        _ => {
            // Every Interface Description Block taken out: the first packet
            // block then names an interface never described.
            let mut kept = Vec::with_capacity(input.len());
            let mut first_packet = None;
            let mut from = 0;
            for &(at, type_, length) in blocks {
                kept.extend_from_slice(&input[from..at]);
                if type_ != 1 {
                    if first_packet.is_none() && matches!(type_, 2 | 3 | 6) {
                        first_packet = Some(kept.len());
                    }
                    kept.extend_from_slice(&input[at..at + length as usize]);
                }
                from = at + length as usize;
            }
            kept.extend_from_slice(&input[from..]);
            *input = kept;
            let Some(first) = first_packet else {
                return 0;
            };
            let summary = summarize(input.as_slice(), &Options::default()).expect("a capture");
            check_every_output(&summary);
            let cut = summary.cut.as_ref().expect("no interfaces is damage");
            assert_eq!((cut.kind, cut.offset), (CutKind::Damaged, first as u64));
            return 1;
        }
    };
    let summary = summarize(input.as_slice(), &Options::default()).expect("a capture");
    check_every_output(&summary);
    let cut = summary.cut.as_ref().expect("the damage is reported");
    assert_eq!(
        (cut.kind, cut.offset),
        (CutKind::Damaged, offset as u64),
        "{what} at byte {offset}: {cut}"
    );
    1
}

/// Many TIME sessions over Ethernet, some overlapping, in one pcap file.
fn many_sessions(count: u16) -> Vec<u8> {
    let sessions: Vec<TcpSession> = (0..count)
        .map(|i| {
            let client = format!("10.0.{}.{}:{}", i / 200, 2 + i % 200, 40000 + i);
            time_session(&client, "10.0.0.1:45000", f64::from(i) * 0.004)
        })
        .collect();
    pcap_of(Link::Ethernet, &sessions)
}

fn shared_captures() -> Vec<(String, Vec<u8>)> {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcaps");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&shared)
        .expect("shared captures")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read(&p).expect("readable"),
            )
        })
        .collect();
    files.sort();
    files
}

/// The whole outcome of reading a capture, as text: its JSON, or the error.
fn outcome(result: Result<Summary, pcap_summary::input::InputError>) -> String {
    match result {
        Ok(summary) => summary.to_json().to_string(),
        Err(e) => format!("error: {e}"),
    }
}

/// Says where two outcomes part, without printing megabytes.
fn assert_same(got: &str, want: &str, what: &str) {
    if got != want {
        let at = got
            .bytes()
            .zip(want.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        let around = |s: &str| {
            s.get(at.saturating_sub(60)..(at + 60).min(s.len()))
                .unwrap_or("")
                .to_string()
        };
        panic!(
            "{what}: differs at byte {at}:\n got  ...{}\n want ...{}",
            around(got),
            around(want)
        );
    }
}

#[test]
fn records_split_across_chunks_of_any_size_read_the_same() {
    let mut inputs = shared_captures();
    inputs.push(("two-interface pcapng".into(), two_interface_pcapng()));
    inputs.push(("many sessions".into(), many_sessions(50)));
    for (name, bytes) in &inputs {
        let whole = outcome(summarize(bytes.as_slice(), &Options::default()));
        // Sizes that put chunk ends inside record headers, inside packet
        // data and inside the file header.
        for size in [1, 3, 7, 16, 25, 100, 1500, 4096] {
            let split = outcome(summarize_from(
                Chunks::with_chunk_size(bytes.as_slice(), size),
                &Options::default(),
            ));
            assert_same(&split, &whole, &format!("{name} in chunks of {size}"));
        }
    }
}

#[test]
fn reading_ahead_on_a_helper_thread_gives_the_same_summary() {
    for (name, bytes) in shared_captures() {
        let whole = outcome(summarize(bytes.as_slice(), &Options::default()));
        for size in [5, 1 << 20] {
            let ahead = ReadAhead::spawn_with_chunk_size(std::io::Cursor::new(bytes.clone()), size)
                .expect("thread starts");
            let read_ahead = outcome(summarize_from(ahead, &Options::default()));
            assert_same(
                &read_ahead,
                &whole,
                &format!("{name} read ahead in chunks of {size}"),
            );
        }
    }
}

#[test]
fn a_cut_inside_a_record_split_across_chunks_reports_the_records_offset() {
    let bytes = many_sessions(3);
    let whole = summary_of(&bytes);
    // Cut in the middle of the last record: 24-byte header, then records.
    let cut_bytes = &bytes[..bytes.len() - 10];
    for size in [7, 64, 1 << 20] {
        let summary = summarize_from(
            Chunks::with_chunk_size(cut_bytes, size),
            &Options::default(),
        )
        .expect("readable up to the cut");
        let cut = summary.cut.as_ref().expect("the cut is reported");
        assert!(cut.reason.contains("cut short"), "{}", cut.reason);
        assert_eq!(summary.packets, whole.packets - 1, "chunks of {size}");
        let last_len = 16 + 14 + 40; // record header, Ethernet, IPv4 + TCP, no payload
        assert_eq!(
            cut.offset,
            (bytes.len() - last_len) as u64,
            "chunks of {size}"
        );
    }
}

#[test]
fn a_record_claiming_gigabytes_is_a_cut_not_a_huge_buffer() {
    let mut bytes = many_sessions(1);
    let first_record = 24;
    // incl_len of the first packet record (little-endian file).
    bytes[first_record + 8..first_record + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    bytes.resize(bytes.len() + (3 << 20), 0);
    let summary = summary_of(&bytes);
    let cut = summary.cut.as_ref().expect("reported as a cut");
    assert_eq!(cut.offset, first_record as u64);
    assert!(cut.reason.contains("claims more than"), "{}", cut.reason);
    assert_eq!(summary.packets, 0);
}

#[test]
fn json_written_on_two_threads_is_the_same_document() {
    // More conversations than one batch, and not a multiple of it.
    let summary = summary_of(&many_sessions(300));
    assert_eq!(summary.conversations.len(), 300);
    let all: Vec<_> = summary.conversations.iter().collect();
    let mut written = Vec::new();
    summary.write_json(&all, &mut written).expect("written");
    let one_thread = serde_json::to_vec(&summary.json_view(&all)).expect("written");
    assert_same(
        &String::from_utf8_lossy(&written),
        &String::from_utf8_lossy(&one_thread),
        "JSON from two threads",
    );
    let parsed: serde_json::Value = serde_json::from_slice(&written).expect("valid JSON");
    let ids: Vec<u64> = parsed["conversations"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_u64().expect("an id"))
        .collect();
    assert_eq!(
        ids,
        (0..300).collect::<Vec<_>>(),
        "in order of first packet"
    );
}
