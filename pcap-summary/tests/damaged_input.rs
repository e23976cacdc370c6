//! Damaged captures are reported as damage, with what is wrong and where
//! (byte offset and block type), not as a file "cut" that was never cut;
//! a pcap header of a version libpcap and tshark refuse is refused too.

mod shapes;

use std::path::{Path, PathBuf};
use std::process::Command;

use pcap_summary::{summarize, Options};
use progjar_testkit::{CaptureBuilder, Link, TcpSession};
use serde_json::Value;
use shapes::Shape;

/// Runs the program on `bytes` (written to a file) with `args` before the
/// file name: exit code, stdout, stderr.
fn run(bytes: &[u8], args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("capture");
    std::fs::write(&path, bytes).expect("written");
    let out = Command::new(env!("CARGO_BIN_EXE_pcap-summary"))
        .args(args)
        .arg(&path)
        .output()
        .expect("pcap-summary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The shape is reported as damage at its offset, in the library's
/// errors, on stderr, in the JSON and in the text; never as a cut.
fn assert_reported_as_damage(shape: &Shape) {
    let name = shape.name;
    let summary = summarize(shape.bytes.as_slice(), &Options::default()).expect("a capture");
    assert_eq!(summary.packets, shape.packets_before, "{name}");
    let cut = summary.cut.as_ref().expect("the damage is reported");
    assert_eq!(cut.offset, shape.offset as u64, "{name}");
    let errors = summary.errors();
    assert_eq!(errors.len(), 1, "{name}: {errors:?}");
    let error = &errors[0];
    let at = format!("at byte {}", shape.offset);
    assert!(
        error.contains("damaged") && error.contains(&at),
        "{name}: {error}"
    );
    assert!(!error.contains("cut"), "{name}: nothing was cut: {error}");
    for words in &shape.says {
        assert!(
            error.contains(words.as_str()),
            "{name}: {words:?} in {error}"
        );
    }

    let (code, stdout, stderr) = run(&shape.bytes, &["--json"]);
    assert_eq!(code, Some(3), "{name}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
    assert!(
        stderr.trim_end().ends_with(error.as_str()),
        "{name}: {stderr}"
    );
    let json: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(json["errors"][0], error.as_str(), "{name}");
    assert_eq!(json["packets"], shape.packets_before, "{name}");

    let (_, text, _) = run(&shape.bytes, &[]);
    assert!(
        text.contains(&format!("  error: {error}")),
        "{name}: {text}"
    );
}

fn shapes_named(prefix: &str) -> Vec<Shape> {
    let shapes: Vec<Shape> = shapes::all()
        .into_iter()
        .filter(|s| s.name.starts_with(prefix))
        .collect();
    assert!(!shapes.is_empty(), "shapes named {prefix}*");
    shapes
}

#[test]
fn block_lengths_of_0_13_and_0xffffffff_are_damage_named_with_their_offset_not_a_cut() {
    for shape in shapes_named("block-length") {
        assert_reported_as_damage(&shape);
    }
}

#[test]
fn a_packet_naming_an_interface_never_described_is_damage_named_with_its_offset() {
    for shape in shapes_named("unknown-interface") {
        assert_reported_as_damage(&shape);
    }
}

#[test]
fn packets_before_any_interface_block_are_damage_named_with_their_offset() {
    for shape in shapes_named("no-interface")
        .into_iter()
        .chain(shapes_named("simple-packet-without"))
    {
        assert_reported_as_damage(&shape);
    }
}

#[test]
fn a_bad_if_tsresol_is_damage_named_with_its_offset() {
    for shape in shapes_named("tsresol") {
        assert_reported_as_damage(&shape);
    }
}

#[test]
fn a_pcap_record_claiming_gigabytes_at_the_end_of_the_file_is_damage_not_a_cut() {
    let mut session = TcpSession::new("10.0.0.2:40000", "10.0.0.1:45000");
    session.handshake(0.0);
    let mut capture = CaptureBuilder::new();
    capture.add_session(&session);
    let mut bytes = capture.to_pcap_bytes();
    let offset = bytes.len();
    // A record header whose captured length says 4 GiB, then a few bytes.
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(&[0; 40]);
    assert_reported_as_damage(&Shape {
        name: "pcap record of 4 GiB",
        bytes,
        offset,
        packets_before: 3,
        says: vec!["packet record".into(), "4294967295".into()],
    });
}

#[test]
fn a_file_that_ends_inside_a_block_is_still_called_cut_short() {
    let shape = &shapes_named("unknown-interface")[0];
    // The good capture before the damaged block, less the last 10 bytes.
    let bytes = &shape.bytes[..shape.offset - 10];
    let summary = summarize(bytes, &Options::default()).expect("a capture");
    let errors = summary.errors();
    assert_eq!(summary.packets, 4);
    assert!(errors[0].starts_with("capture cut at byte"), "{errors:?}");
    assert!(errors[0].contains("cut short"), "{errors:?}");
    assert!(errors[0].contains("Enhanced Packet Block"), "{errors:?}");
    let (code, _, stderr) = run(bytes, &[]);
    assert_eq!(code, Some(3), "{stderr}");
}

/// A classic pcap file of `session` with version `major.minor` in its
/// header, little- or big-endian.
fn pcap_with_version(major: u16, minor: u16, big_endian: bool) -> Vec<u8> {
    let mut session = TcpSession::new("10.0.0.2:40000", "10.0.0.1:45000");
    session.handshake(0.0);
    let mut capture = CaptureBuilder::with_link(Link::Ethernet);
    capture.add_session(&session);
    let mut bytes = capture.to_pcap_bytes();
    bytes[4..6].copy_from_slice(&major.to_le_bytes());
    bytes[6..8].copy_from_slice(&minor.to_le_bytes());
    if big_endian {
        // Swap every field of the file header and of each record header.
        let swap4 = |b: &mut [u8]| b.reverse();
        swap4(&mut bytes[0..4]);
        bytes[4..6].reverse();
        bytes[6..8].reverse();
        for field in (8..24).step_by(4) {
            swap4(&mut bytes[field..field + 4]);
        }
        let mut at = 24;
        while at + 16 <= bytes.len() {
            let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().expect("4 bytes"));
            for field in (at..at + 16).step_by(4) {
                swap4(&mut bytes[field..field + 4]);
            }
            at += 16 + len as usize;
        }
    }
    bytes
}

#[test]
fn a_classic_pcap_header_of_a_version_other_than_2_x_is_refused_with_exit_code_2() {
    for (major, minor, big_endian) in [(1, 0, false), (3, 0, false), (0, 0, true), (543, 0, false)]
    {
        let bytes = pcap_with_version(major, minor, big_endian);
        let (code, stdout, stderr) = run(&bytes, &[]);
        assert_eq!(code, Some(2), "{major}.{minor}: {stderr}");
        assert!(
            stdout.is_empty(),
            "{major}.{minor}: nothing summarized: {stdout}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("version {major}.{minor}")) && stderr.contains("2."),
            "{stderr}"
        );
        assert!(summarize(bytes.as_slice(), &Options::default()).is_err());
    }
    for (minor, big_endian) in [(4, false), (4, true), (0, false), (9, true)] {
        let bytes = pcap_with_version(2, minor, big_endian);
        let (code, stdout, stderr) = run(&bytes, &["--json"]);
        assert_eq!(code, Some(0), "2.{minor} is read: {stderr}");
        let json: Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(json["tcp_packets"], 3, "2.{minor}");
    }
}

#[test]
fn a_pcapng_section_of_a_version_other_than_1_x_is_refused_with_exit_code_2() {
    let mut bytes = shapes_named("unknown-interface")[0].bytes.clone();
    // Section Header Block: type, length, byte-order magic, then the version.
    bytes[12..14].copy_from_slice(&2u16.to_le_bytes());
    let (code, stdout, stderr) = run(&bytes, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("version 2.0"), "{stderr}");
}

fn fuzz_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/summarize")
}

/// The fuzz target starts from every damaged shape. With
/// `UPDATE_FUZZ_SEEDS=1` this test writes them instead of checking them.
#[test]
fn the_fuzz_corpus_holds_every_damaged_shape() {
    let dir = fuzz_corpus();
    let update = std::env::var_os("UPDATE_FUZZ_SEEDS").is_some();
    for shape in shapes::all() {
        let path = dir.join(format!("damaged-{}.pcapng", shape.name));
        if update {
            std::fs::create_dir_all(&dir).expect("corpus directory");
            std::fs::write(&path, &shape.bytes).expect("seed written");
        }
        let seed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (UPDATE_FUZZ_SEEDS=1 cargo test writes it)",
                path.display()
            )
        });
        assert!(seed == shape.bytes, "{} is out of date", path.display());
    }
}
