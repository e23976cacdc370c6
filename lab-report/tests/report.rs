//! lab-report on a capture written here: the findings must come from it.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

fn frame(
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut tcp = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src.0, dst.0, 64)
        .tcp(src.1, dst.1, seq, 64240);
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
    tcp.write(&mut out, payload).expect("packet");
    out
}

/// An echo session of `client` (x.x.x.102 or .103) with the server at .101:10000:
/// handshake at `t0`, the echo of "halo" at `t_data`, teardown from `t_fin`.
fn echo_session(octet: u8, port: u16, t0: f64, t_data: f64, t_fin: f64) -> Vec<(f64, Vec<u8>)> {
    let c = ([10, 77, 0, octet], port);
    let s = ([10, 77, 0, 101], 10000);
    vec![
        (t0, frame(c, s, 100, 0, SYN, b"")),
        (t0 + 0.0001, frame(s, c, 500, 101, SYN | ACK, b"")),
        (t0 + 0.0002, frame(c, s, 101, 501, ACK, b"")),
        (t0 + 0.001, frame(c, s, 101, 501, PSH | ACK, b"halo")),
        (t_data, frame(s, c, 501, 105, PSH | ACK, b"halo")),
        (t_fin, frame(c, s, 105, 505, FIN | ACK, b"")),
        (t_fin + 0.001, frame(s, c, 505, 106, FIN | ACK, b"")),
        (t_fin + 0.002, frame(c, s, 106, 506, ACK, b"")),
    ]
}

fn write_pcap(path: &Path, mut frames: Vec<(f64, Vec<u8>)>) {
    frames.sort_by(|a, b| a.0.total_cmp(&b.0));
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(Vec::new(), header).expect("header");
    for (t, data) in &frames {
        let packet = PcapPacket::new(
            Duration::from_secs_f64(1_700_000_000.0 + t),
            data.len() as u32,
            data.as_slice(),
        )
        .expect("packet");
        writer.write_packet(&packet).expect("write");
    }
    std::fs::write(path, writer.into_inner()).expect("pcap written");
}

fn report(dir: &Path, scenario: &str, lang: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lab-report"))
        .arg(dir)
        .args(["--scenario", scenario, "--lang", lang])
        .output()
        .expect("lab-report runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.join("REPORT.md")).expect("REPORT.md")
}

fn iterative_experiment() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    // mesin-2 is served at once; mesin-3 connects at the same time but waits
    // until mesin-2's connection is over.
    let mut frames = echo_session(102, 40000, 0.0, 0.002, 0.003);
    frames.extend(echo_session(103, 40001, 0.0021, 6.0, 6.001));
    write_pcap(&dir.path().join("capture.pcap"), frames);
    std::fs::create_dir(dir.path().join("logs")).expect("logs");
    std::fs::write(
        dir.path().join("logs/mesin-2-1-echo-client.log"),
        "received \"halo\"\necho complete: 4 bytes\n",
    )
    .expect("log");
    std::fs::write(
        dir.path().join("logs/mesin-3-2-echo-client.log"),
        "received \"halo\"\necho complete: 4 bytes\n",
    )
    .expect("log");
    std::fs::write(
        dir.path().join("runs.tsv"),
        "mesin-2\techo-client --repeat 3\t0\tlogs/mesin-2-1-echo-client.log\nmesin-3\techo-client --repeat 3\t0\tlogs/mesin-3-2-echo-client.log\n",
    )
    .expect("runs");
    dir
}

#[test]
fn the_iterative_finding_is_computed_from_the_capture() {
    let dir = iterative_experiment();
    let text = report(dir.path(), "t1-iterative", "en");
    assert!(
        text.contains("mesin-3 connected at 0.002 s but got its first echo byte only at 6.000 s"),
        "{text}"
    );
    assert!(
        text.contains("until mesin-2's connection ended (first FIN at 0.003 s)"),
        "{text}"
    );
    assert!(text.contains("one client at a time"), "{text}");
    assert!(
        text.contains("| mesin-2 | `echo-client --repeat 3` | 0 |"),
        "{text}"
    );
    assert!(
        text.contains("**Three-way handshake.**") && text.contains("[SYN,ACK] seq=0, ack=1"),
        "{text}"
    );
    for file in ["summary.txt", "summary.json", "timeline.svg"] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
}

#[test]
fn overlapping_service_is_reported_as_such_not_as_waiting() {
    let dir = tempfile::tempdir().expect("temp dir");
    // mesin-2 stays connected until 0.5 s; mesin-3 is echoed at 0.2 s meanwhile.
    let mut frames = echo_session(102, 40000, 0.0, 0.1, 0.5);
    frames.extend(echo_session(103, 40001, 0.1, 0.2, 0.3));
    write_pcap(&dir.path().join("capture.pcap"), frames);
    std::fs::write(dir.path().join("runs.tsv"), "").expect("runs");
    let text = report(dir.path(), "t1-iterative", "en");
    assert!(text.contains("the server served both at once"), "{text}");
    assert!(!text.contains("one client at a time"), "{text}");
}

#[test]
fn indonesian_reports_use_the_courses_language() {
    let dir = iterative_experiment();
    let text = report(dir.path(), "t1-iterative", "id");
    assert!(
        text.contains("## Temuan") && text.contains("Server melayani satu klien pada satu waktu"),
        "{text}"
    );
}

#[test]
fn a_folder_without_a_capture_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_lab-report"))
        .arg(dir.path())
        .args(["--scenario", "t2-time"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("capture.pcap"));
}
