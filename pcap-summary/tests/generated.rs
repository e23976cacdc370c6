//! Captures written here with pcap-file, for what the public ones lack:
//! port reuse, IPv6, Linux cooked headers, pcapng with two interfaces, cuts,
//! and a bounded run of damaged inputs that must never panic.

use std::borrow::Cow;
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;
use pcap_summary::input::{Chunks, ReadAhead};
use pcap_summary::{summarize, summarize_from, Options, Summary};

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

/// One TCP segment as a raw IP packet.
fn ip_packet(src: &str, dst: &str, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let src: std::net::SocketAddr = src.parse().expect("src");
    let dst: std::net::SocketAddr = dst.parse().expect("dst");
    let builder = match (src.ip(), dst.ip()) {
        (std::net::IpAddr::V4(s), std::net::IpAddr::V4(d)) => {
            PacketBuilder::ipv4(s.octets(), d.octets(), 64)
        }
        (std::net::IpAddr::V6(s), std::net::IpAddr::V6(d)) => {
            PacketBuilder::ipv6(s.octets(), d.octets(), 64)
        }
        _ => panic!("mixed families"),
    };
    let mut tcp = builder.tcp(src.port(), dst.port(), seq, 64240);
    if flags & SYN != 0 {
        tcp = tcp.syn();
    }
    if flags & ACK != 0 {
        tcp = tcp.ack(ack);
    }
    if flags & PSH != 0 {
        tcp = tcp.psh();
    }
    if flags & FIN != 0 {
        tcp = tcp.fin();
    }
    let mut out = Vec::new();
    tcp.write(&mut out, payload).expect("packet builds");
    out
}

/// A TIME/QUIT session between `c` and `s` starting at `t0` seconds.
fn time_session(c: &str, s: &str, t0: f64) -> Vec<(f64, Vec<u8>)> {
    let (ci, si) = (1000u32, 7000u32);
    vec![
        (t0, ip_packet(c, s, ci, 0, SYN, b"")),
        (t0 + 0.001, ip_packet(s, c, si, ci + 1, SYN | ACK, b"")),
        (t0 + 0.002, ip_packet(c, s, ci + 1, si + 1, ACK, b"")),
        (
            t0 + 0.010,
            ip_packet(c, s, ci + 1, si + 1, PSH | ACK, b"TIME\r\n"),
        ),
        (
            t0 + 0.011,
            ip_packet(s, c, si + 1, ci + 7, PSH | ACK, b"JAM 10:00:00\r\n"),
        ),
        (
            t0 + 0.020,
            ip_packet(c, s, ci + 7, si + 15, PSH | ACK, b"QUIT\r\n"),
        ),
        (
            t0 + 0.021,
            ip_packet(s, c, si + 15, ci + 13, FIN | ACK, b""),
        ),
        (
            t0 + 0.022,
            ip_packet(c, s, ci + 13, si + 16, FIN | ACK, b""),
        ),
        (t0 + 0.023, ip_packet(s, c, si + 16, ci + 14, ACK, b"")),
    ]
}

fn ethernet(ip: &[u8]) -> Vec<u8> {
    let ether_type: u16 = if ip[0] >> 4 == 6 { 0x86DD } else { 0x0800 };
    let mut frame = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    frame.extend_from_slice(&ether_type.to_be_bytes());
    frame.extend_from_slice(ip);
    frame
}

/// Linux cooked v1 with a loopback hardware type (what etherparse refuses).
fn sll(ip: &[u8]) -> Vec<u8> {
    let mut frame = vec![0u8; 16];
    frame[2..4].copy_from_slice(&772u16.to_be_bytes());
    frame[14..16].copy_from_slice(&0x0800u16.to_be_bytes());
    frame.extend_from_slice(ip);
    frame
}

/// Linux cooked v2 (tcpdump -i any).
fn sll2(ip: &[u8]) -> Vec<u8> {
    let mut frame = vec![0u8; 20];
    frame[0..2].copy_from_slice(&0x0800u16.to_be_bytes());
    frame[8..10].copy_from_slice(&772u16.to_be_bytes());
    frame.extend_from_slice(ip);
    frame
}

fn pcap_file(link: DataLink, frames: &[(f64, Vec<u8>)]) -> Vec<u8> {
    let header = PcapHeader {
        datalink: link,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(Vec::new(), header).expect("header");
    for (t, data) in frames {
        let packet = PcapPacket::new(
            Duration::from_secs_f64(1_700_000_000.0 + t),
            data.len() as u32,
            data.as_slice(),
        )
        .expect("valid packet");
        writer.write_packet(&packet).expect("write");
    }
    writer.into_inner()
}

fn summary_of(bytes: &[u8]) -> Summary {
    summarize(bytes, &Options::default()).expect("a readable capture")
}

#[test]
fn port_reuse_gives_two_conversations_on_one_four_tuple() {
    let mut frames = time_session("10.0.0.2:40000", "10.0.0.1:45000", 0.0);
    frames.extend(time_session("10.0.0.2:40000", "10.0.0.1:45000", 2.0));
    let summary = summary_of(&pcap_file(
        DataLink::ETHERNET,
        &frames
            .iter()
            .map(|(t, p)| (*t, ethernet(p)))
            .collect::<Vec<_>>(),
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
    let frames = time_session("[fd00::2]:40000", "[fd00::1]:45000", 0.0);
    let bytes = pcap_file(DataLink::RAW, &frames);
    let summary = summary_of(&bytes);
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
    let frames = time_session("127.0.0.1:40000", "127.0.0.1:45000", 0.0);
    for (link, wrap) in [
        (DataLink::LINUX_SLL, sll as fn(&[u8]) -> Vec<u8>),
        (DataLink::LINUX_SLL2, sll2),
    ] {
        let framed: Vec<(f64, Vec<u8>)> = frames.iter().map(|(t, p)| (*t, wrap(p))).collect();
        let summary = summary_of(&pcap_file(link, &framed));
        assert_eq!(summary.tcp_packets, 9, "{link:?}");
        assert_eq!(summary.conversations.len(), 1, "{link:?}");
        assert_eq!(summary.conversations[0].payload_bytes, [12, 14], "{link:?}");
    }
}

/// A pcapng file with an Ethernet and a raw-IP interface, a TIME session on each.
fn two_interface_pcapng() -> Vec<u8> {
    let mut writer = PcapNgWriter::new(Vec::new()).expect("section");
    writer
        .write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 65535))
        .expect("interface 0");
    writer
        .write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::RAW, 65535))
        .expect("interface 1");
    let v4 = time_session("10.0.0.2:40000", "10.0.0.1:45000", 0.0);
    let v6 = time_session("[fd00::2]:40001", "[fd00::1]:45000", 0.005);
    let mut all: Vec<(f64, u32, Vec<u8>)> = v4.iter().map(|(t, p)| (*t, 0, ethernet(p))).collect();
    all.extend(v6.iter().map(|(t, p)| (*t, 1, p.clone())));
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
    assert!((summary.duration - 0.028).abs() < 1e-6);
}

#[test]
fn a_cut_file_keeps_every_whole_packet_and_reports_the_offset() {
    let frames: Vec<(f64, Vec<u8>)> = time_session("10.0.0.2:40000", "10.0.0.1:45000", 0.0)
        .into_iter()
        .map(|(t, p)| (t, ethernet(&p)))
        .collect();
    let bytes = pcap_file(DataLink::ETHERNET, &frames);
    let last_record = 16 + frames[8].1.len();
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
    seeds.push(pcap_file(
        DataLink::LINUX_SLL2,
        &time_session("127.0.0.1:1", "127.0.0.1:2", 0.0)
            .iter()
            .map(|(t, p)| (*t, sll2(p)))
            .collect::<Vec<_>>(),
    ));
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut runs = 0;
    for seed in &seeds {
        for _ in 0..400 {
            let mut input = seed.clone();
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
            let _ = summarize(input.as_slice(), &Options::default()).map(|s| s.to_json());
            runs += 1;
        }
    }
    assert!(runs >= 3000, "{runs}");
}

/// Many TIME sessions over Ethernet, some overlapping, in one pcap file.
fn many_sessions(count: u16) -> Vec<u8> {
    let mut frames: Vec<(f64, Vec<u8>)> = (0..count)
        .flat_map(|i| {
            let client = format!("10.0.{}.{}:{}", i / 200, 2 + i % 200, 40000 + i);
            time_session(&client, "10.0.0.1:45000", f64::from(i) * 0.004)
        })
        .map(|(t, p)| (t, ethernet(&p)))
        .collect();
    frames.sort_by(|a, b| a.0.total_cmp(&b.0));
    pcap_file(DataLink::ETHERNET, &frames)
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
