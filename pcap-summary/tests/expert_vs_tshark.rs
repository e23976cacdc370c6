//! The expert analysis against tshark 4.0 itself, flag by flag and
//! conversation by conversation.
//!
//! Two kinds of capture: the real public captures in `../shared/pcaps/`,
//! and captures this test makes of real TCP on loopback: a transfer over a
//! link that loses packets (nftables drops a random share of the test's
//! own port), and a receiver that reads slowly into a small
//! buffer (zero windows, probes, window updates). tshark then reads the same
//! file, and every count must agree.
//!
//! Needs tshark (`make setup` installs it). The loopback captures also need
//! root, dumpcap (it comes with tshark) and nft (nftables); without them those
//! tests say so and pass, except under `CI=true`, where everything must run.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// tshark's field names after `tcp.analysis.`, and ours.
const FLAGS: [&str; 14] = [
    "retransmission",
    "fast_retransmission",
    "spurious_retransmission",
    "out_of_order",
    "duplicate_ack",
    "lost_segment",
    "ack_lost_segment",
    "zero_window",
    "window_full",
    "window_update",
    "keep_alive",
    "keep_alive_ack",
    "zero_window_probe",
    "zero_window_probe_ack",
];

/// Counts per (conversation, flag).
type Counts = BTreeMap<(u64, &'static str), u64>;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether a test that needs `what` may be skipped here: not under CI.
fn may_skip(what: &str) -> bool {
    if std::env::var_os("CI").is_some_and(|v| v == "true") {
        panic!("under CI=true this test must run, but {what} (run `make setup`)");
    }
    eprintln!("skipped: {what}");
    true
}

fn tshark_counts(file: &Path) -> Counts {
    let mut counts = Counts::new();
    for flag in FLAGS {
        let out = Command::new("tshark")
            .arg("-r")
            .arg(file)
            .args([
                "-Y",
                &format!("tcp.analysis.{flag}"),
                "-T",
                "fields",
                "-e",
                "tcp.stream",
            ])
            .output()
            .expect("tshark runs");
        // A file cut short makes tshark exit 2 after reading what is there.
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || stderr.contains("cut short"),
            "tshark failed on {}: {stderr}",
            file.display()
        );
        for stream in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let stream: u64 = stream.parse().expect("a stream number");
            *counts.entry((stream, flag)).or_default() += 1;
        }
    }
    counts
}

fn our_counts(file: &Path) -> (Counts, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_pcap-summary"))
        .arg("--json")
        .arg(file)
        .output()
        .expect("pcap-summary runs");
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut counts = Counts::new();
    for c in json["conversations"].as_array().expect("conversations") {
        let id = c["id"].as_u64().expect("id");
        for flag in FLAGS {
            let n = c["analysis"][flag]
                .as_u64()
                .or_else(|| c["analysis_more"][flag].as_u64())
                .unwrap_or_else(|| panic!("conversation {id} has a count for {flag}"));
            if n > 0 {
                counts.insert((id, flag), n);
            }
        }
    }
    (counts, json)
}

/// Our counts and tshark's for `file`, which must be the same; returns
/// tshark's, to check the capture showed what it was made for.
fn assert_agrees_with_tshark(file: &Path) -> Counts {
    let theirs = tshark_counts(file);
    let (ours, _) = our_counts(file);
    let differences: Vec<String> = theirs
        .keys()
        .chain(ours.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|key| theirs.get(key) != ours.get(key))
        .map(|(id, flag)| {
            format!(
                "conversation {id} {flag}: tshark {}, ours {}",
                theirs.get(&(*id, *flag)).unwrap_or(&0),
                ours.get(&(*id, *flag)).unwrap_or(&0)
            )
        })
        .collect();
    assert!(
        differences.is_empty(),
        "{}: {} differences from tshark:\n{}",
        file.display(),
        differences.len(),
        differences.join("\n")
    );
    eprintln!("{}: agrees with tshark on {theirs:?}", file.display());
    theirs
}

fn total(counts: &Counts, flag: &str) -> u64 {
    counts
        .iter()
        .filter(|((_, f), _)| *f == flag)
        .map(|(_, n)| n)
        .sum()
}

#[test]
fn every_shared_capture_gets_tsharks_expert_flags() {
    if !have("tshark") && may_skip("tshark is not installed") {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcaps");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("shared/pcaps") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // A damaged header is refused by both: nothing to compare.
        if !(name.ends_with(".pcap") || name.ends_with(".pcapng")) || name.starts_with("lp_") {
            continue;
        }
        assert_agrees_with_tshark(&path);
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} shared captures found");
}

// ---- captures of real TCP on loopback -------------------------------------

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            == Some("0")
    })
}

/// Whether the loopback captures can be made here.
fn loopback_captures_possible() -> bool {
    if !have("tshark") {
        return !may_skip("tshark is not installed");
    }
    if !is_root() {
        return !may_skip("capturing on loopback needs root");
    }
    if !have("dumpcap") || !have("nft") {
        return !may_skip("dumpcap or nft (nftables) is missing");
    }
    true
}

/// dumpcap on loopback for one port, stopped (and its file complete) on drop.
struct Capture {
    child: Child,
    path: PathBuf,
}

impl Capture {
    fn start(dir: &Path, port: u16) -> Capture {
        let path = dir.join(format!("loopback-{port}.pcap"));
        // Its closing lines say how many packets the kernel dropped.
        let log = std::fs::File::create(dir.join(format!("dumpcap-{port}.log"))).expect("log");
        let child = Command::new("dumpcap")
            // A 64 MiB buffer, so a busy machine makes it drop fewer packets.
            .args([
                "-q",
                "-P",
                "-B",
                "64",
                "-i",
                "lo",
                "-f",
                &format!("tcp port {port}"),
                "-w",
            ])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dumpcap starts");
        // dumpcap writes the file header once it captures.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&path).map_or(true, |m| m.len() < 24) {
            assert!(Instant::now() < deadline, "dumpcap did not start capturing");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The filter is in place once the header is written; a moment more
        // for the capture socket to be bound.
        std::thread::sleep(Duration::from_millis(300));
        Capture { child, path }
    }

    fn finish(mut self) -> PathBuf {
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        std::mem::take(&mut self.path)
    }

    /// Packets the capture missed, from dumpcap's closing line
    /// ("received/dropped on interface 'Loopback: lo': 3868/0 ..."); None
    /// when it did not say.
    fn dropped(file: &Path) -> Option<u64> {
        let port = file.file_stem()?.to_str()?.strip_prefix("loopback-")?;
        let log =
            std::fs::read_to_string(file.with_file_name(format!("dumpcap-{port}.log"))).ok()?;
        let line = log.lines().find(|l| l.contains("received/dropped"))?;
        let counts = line.rsplit("': ").next()?.split_whitespace().next()?;
        counts.split('/').nth(1)?.parse().ok()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Drops a share of the packets to and from one loopback port, with a
/// table of its own in nftables (`numgen random`), removed on drop. (On
/// some hosts iptables' `statistic` match never matches through the nft
/// compatibility layer; nft's own random numbers always work.)
struct Loss {
    table: String,
}

fn nft(args: &[&str]) -> bool {
    Command::new("nft")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

impl Loss {
    fn on(port: u16, percent: u32) -> Loss {
        let table = format!("progjar_test_loss_{port}");
        let loss = Loss { table };
        let t = loss.table.as_str();
        let (port, percent) = (port.to_string(), percent.to_string());
        // On arrival, after the capture saw the packet: as on a real link,
        // the sender learns of the loss only from missing ACKs. (A packet
        // dropped on the way out is reported to the sending TCP at once,
        // which simply sends it later: no loss shows.)
        let chain = "{ type filter hook input priority 0 ; }";
        assert!(nft(&["add", "table", "inet", t]), "nft add table {t}");
        assert!(nft(&["add", "chain", "inet", t, "arrival", chain]));
        for side in ["dport", "sport"] {
            let rule = [
                "add", "rule", "inet", t, "arrival", "tcp", side, &port, "numgen", "random", "mod",
                "100", "<", &percent, "counter", "drop",
            ];
            assert!(nft(&rule), "nft {}", rule.join(" "));
        }
        loss
    }
}

impl Drop for Loss {
    fn drop(&mut self) {
        // The counters say how many packets were dropped, for the test's log.
        let _ = nft(&["list", "table", "inet", &self.table]);
        let _ = nft(&["delete", "table", "inet", &self.table]);
    }
}

/// A listener on an ephemeral loopback port.
fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    (listener, port)
}

/// A client socket whose segments carry at most `mss` bytes, as on Ethernet.
fn connect_with_mss(port: u16, mss: u32) -> TcpStream {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_mss(mss).expect("TCP_MAXSEG");
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    socket.connect(&addr.into()).expect("connect");
    socket.into()
}

/// `--follow 0` of `file` gives back exactly what each side's program wrote,
/// each byte once, though the capture holds some of them twice.
fn assert_followed_stream_is(file: &Path, client_sent: &[u8], server_sent: &[u8]) {
    use pcap_summary::direction::Dir;
    let options = pcap_summary::Options {
        follow: pcap_summary::Follow::One(0),
        ..Default::default()
    };
    let summary = pcap_summary::summarize(std::fs::File::open(file).expect("capture"), &options)
        .expect("readable");
    let followed = summary.followed.first().expect("conversation 0 followed");
    let side = |dir: Dir| followed.side(dir);
    let client = side(Dir::ClientToServer);
    let first_difference = client.iter().zip(client_sent).position(|(a, b)| a != b);
    assert!(
        client == client_sent,
        "the client's stream, once: followed {} of {} bytes, first difference at {first_difference:?}, \
         {} bytes stuck behind a hole the capture never filled",
        client.len(),
        client_sent.len(),
        followed.stuck[Dir::ClientToServer]
    );
    assert_eq!(side(Dir::ServerToClient), server_sent);
    let wire = summary.conversations[0].payload_bytes[Dir::ClientToServer];
    eprintln!(
        "followed: {} bytes from the client ({wire} on the wire), {} from the server",
        client_sent.len(),
        server_sent.len()
    );
}

/// One lossy transfer, captured: the file, what was sent, what arrived.
fn lossy_transfer(dir: &Path) -> (PathBuf, Vec<u8>, Vec<u8>) {
    let (listener, port) = listener();
    let capture = Capture::start(dir, port);
    let loss = Loss::on(port, 5);
    let sent: Vec<u8> = (0..1_500_000u32).map(|i| (i % 251) as u8).collect();
    let server = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().expect("accept");
        peer.set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        let mut got = Vec::new();
        peer.read_to_end(&mut got).expect("read");
        // Answer with a little, so both directions carry data.
        peer.write_all(b"thanks\n").expect("write");
        got
    });
    let mut client = connect_with_mss(port, 1448);
    // Loopback would send what is queued as one packet of up to 64 KiB
    // (GSO): one segment's worth per write, with no delay and a pause, keeps
    // the packets Ethernet-sized, so the loss hits many of them.
    client.set_nodelay(true).expect("TCP_NODELAY");
    for piece in sent.chunks(1448) {
        client.write_all(piece).expect("send");
        std::thread::sleep(Duration::from_micros(200));
    }
    client.shutdown(std::net::Shutdown::Write).expect("FIN");
    let mut answer = Vec::new();
    client
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    client.read_to_end(&mut answer).expect("answer");
    let got = server.join().expect("server");
    drop(loss);
    (capture.finish(), sent, got)
}

#[test]
fn a_lossy_transfer_on_loopback_gets_tsharks_flags() {
    if !loopback_captures_possible() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // A capture that missed packets (dumpcap says so) cannot hold the whole
    // stream: that run is made again, up to three times.
    let mut tries = 0;
    let (file, sent, got) = loop {
        tries += 1;
        let (file, sent, got) = lossy_transfer(dir.path());
        match Capture::dropped(&file) {
            Some(0) => break (file, sent, got),
            dropped if tries < 3 => {
                eprintln!("dumpcap missed {dropped:?} packets: capturing again")
            }
            dropped => panic!("dumpcap missed {dropped:?} packets in each of 3 captures"),
        }
    };
    assert_eq!(got, sent, "TCP delivered every byte, whatever was lost");
    assert_followed_stream_is(&file, &sent, b"thanks\n");
    let theirs = assert_agrees_with_tshark(&file);
    assert!(
        total(&theirs, "retransmission") > 0 && total(&theirs, "duplicate_ack") > 0,
        "5% loss showed retransmissions and duplicate ACKs: {theirs:?}"
    );
}

#[test]
fn a_slow_reader_on_loopback_gets_tsharks_window_flags() {
    if !loopback_captures_possible() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    // A small receive buffer (set before listen, so the handshake's window
    // is small too) fills quickly.
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
    socket.bind(&addr.into()).expect("bind");
    socket.listen(1).expect("listen");
    let listener: TcpListener = socket.into();
    let port = listener.local_addr().expect("addr").port();
    let capture = Capture::start(dir.path(), port);
    let sent: Vec<u8> = (0..120_000u32).map(|i| (i % 253) as u8).collect();
    let server = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().expect("accept");
        let mut got = Vec::new();
        let mut piece = [0u8; 512];
        // Let the window close first, then read slowly: 512 bytes per 3 ms.
        std::thread::sleep(Duration::from_millis(400));
        loop {
            match peer.read(&mut piece) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&piece[..n]),
                Err(e) => panic!("read: {e}"),
            }
            std::thread::sleep(Duration::from_millis(3));
        }
        got
    });
    let mut client = connect_with_mss(port, 1448);
    client.write_all(&sent).expect("send");
    drop(client);
    let got = server.join().expect("server");
    let file = capture.finish();
    assert_eq!(got, sent);
    let theirs = assert_agrees_with_tshark(&file);
    assert!(
        total(&theirs, "zero_window") > 0 && total(&theirs, "window_update") > 0,
        "a slow reader showed zero windows and window updates: {theirs:?}"
    );
}
