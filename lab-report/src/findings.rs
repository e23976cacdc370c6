//! What each experiment shows, worked out from the capture and the logs.
//!
//! Nothing here is a template with blanks: every number comes from the
//! summary of the capture or from the programs' logs, and when the capture
//! does not show what the experiment is about, the finding says so.

use pcap_summary::conversation::{max_concurrent, Conversation, Dir};
use pcap_summary::segment::Flags;
use pcap_summary::Summary;

use crate::lang::Lang;
use crate::machines::name_of;
use crate::Run;

/// The server port an experiment is about.
pub fn port_of(scenario: &str) -> Option<u16> {
    match scenario {
        "t1-echo" | "t1-iterative" => Some(10000),
        "t1-file" => Some(32444),
        "t2-time" | "t2-concurrent" | "t2-crlf" => Some(45000),
        _ => None,
    }
}

/// The conversations with the experiment's server port, in order.
pub fn relevant<'a>(scenario: &str, summary: &'a Summary) -> Vec<&'a Conversation> {
    summary
        .conversations
        .iter()
        .filter(|c| port_of(scenario).is_none_or(|p| c.server.port() == p))
        .collect()
}

fn client_name(c: &Conversation) -> String {
    name_of(&c.client.ip())
}

fn first_fin(c: &Conversation) -> Option<f64> {
    c.teardown
        .iter()
        .find(|s| s.flags.has(Flags::FIN))
        .map(|s| s.time)
}

/// The findings, one sentence each.
pub fn findings(scenario: &str, summary: &Summary, runs: &[Run], lang: Lang) -> Vec<String> {
    let convs = relevant(scenario, summary);
    let mut out = Vec::new();
    match scenario {
        "t1-socket-info" => {
            for run in runs {
                let entries = run
                    .log
                    .lines()
                    .filter(|l| l.trim_start().starts_with("AF_"))
                    .count();
                let blocking = run.log.contains("timeout of a new socket: None");
                out.push(lang.pick(
                    format!(
                        "On {}, `{}` listed {entries} getaddrinfo entries{}.",
                        run.machine,
                        run.command,
                        if blocking { "; a new socket had no timeout (None: it blocks) until settimeout(10) set 10 s" } else { "" }
                    ),
                    format!(
                        "Di {}, `{}` menampilkan {entries} entri getaddrinfo{}.",
                        run.machine,
                        run.command,
                        if blocking { "; socket baru tidak punya timeout (None: blocking) sampai settimeout(10) memberi 10 s" } else { "" }
                    ),
                ));
            }
        }
        "t1-echo" | "t1-file" => {
            for c in &convs {
                let [sent, back] = c.payload_bytes;
                let pieces = runs
                    .iter()
                    .filter(|r| r.machine == client_name(c))
                    .map(|r| r.log.matches("received \"").count())
                    .sum::<usize>();
                let same = sent == back;
                out.push(lang.pick(
                    format!(
                        "{} sent {sent} bytes to port {} and {} {back} bytes back{}.",
                        client_name(c),
                        c.server.port(),
                        if same {
                            "received the same"
                        } else {
                            "received only"
                        },
                        if pieces > 0 {
                            format!(
                                ", which the client read in {pieces} pieces of at most 16 bytes"
                            )
                        } else {
                            String::new()
                        }
                    ),
                    format!(
                        "{} mengirim {sent} byte ke port {} dan {} {back} byte kembali{}.",
                        client_name(c),
                        c.server.port(),
                        if same { "menerima" } else { "hanya menerima" },
                        if pieces > 0 {
                            format!(
                                ", yang dibaca klien dalam {pieces} potongan paling banyak 16 byte"
                            )
                        } else {
                            String::new()
                        }
                    ),
                ));
            }
            if let Some(run) = runs.iter().find(|r| r.log.contains("echo complete")) {
                out.push(lang.pick(
                    format!(
                        "echo-client on {} checked the echo byte for byte: identical.",
                        run.machine
                    ),
                    format!(
                        "echo-client di {} memeriksa echo byte demi byte: identik.",
                        run.machine
                    ),
                ));
            }
        }
        "t1-iterative" => {
            let mut served: Vec<&Conversation> = convs
                .iter()
                .copied()
                .filter(|c| c.first_data[1].is_some())
                .collect();
            served.sort_by(|a, b| {
                a.first_data[1]
                    .unwrap_or(0.0)
                    .total_cmp(&b.first_data[1].unwrap_or(0.0))
            });
            if let [first, second, ..] = served.as_slice() {
                let second_byte = second.first_data[Dir::ServerToClient as usize].unwrap_or(0.0);
                let fin = first_fin(first).unwrap_or(first.end);
                let waited = second.first_server_byte_delay().unwrap_or(0.0);
                if second_byte >= fin {
                    out.push(lang.pick(
                        format!(
                            "{} connected at {:.3} s but got its first echo byte only at {second_byte:.3} s: it waited {waited:.1} s after its handshake, until {}'s connection ended (first FIN at {fin:.3} s). The server serves one client at a time.",
                            client_name(second), second.start, client_name(first)
                        ),
                        format!(
                            "{} terhubung pada {:.3} s tetapi baru menerima byte echo pertama pada {second_byte:.3} s: ia menunggu {waited:.1} s setelah handshake, sampai koneksi {} selesai (FIN pertama pada {fin:.3} s). Server melayani satu klien pada satu waktu.",
                            client_name(second), second.start, client_name(first)
                        ),
                    ));
                } else {
                    out.push(lang.pick(
                        format!("{} got its first echo byte at {second_byte:.3} s, before {}'s connection ended ({fin:.3} s): the server served both at once.", client_name(second), client_name(first)),
                        format!("{} menerima byte echo pertama pada {second_byte:.3} s, sebelum koneksi {} selesai ({fin:.3} s): server melayani keduanya sekaligus.", client_name(second), client_name(first)),
                    ));
                }
            } else {
                out.push(lang.pick(
                    "The capture does not hold two served echo connections.",
                    "Tangkapan tidak memuat dua koneksi echo yang dilayani.",
                ));
            }
        }
        "t2-time" => {
            for c in &convs {
                let times = c
                    .segments
                    .iter()
                    .filter(|s| s.step.dir == Dir::ClientToServer && s.payload.starts_with(b"TIME"))
                    .count();
                let jams: Vec<String> = c
                    .segments
                    .iter()
                    .filter(|s| s.step.dir == Dir::ServerToClient && s.payload.starts_with(b"JAM"))
                    .map(|s| format!("`{}`", s.payload_text()))
                    .collect();
                let quit = c.segments.iter().any(|s| s.payload.starts_with(b"QUIT"));
                let closer = c
                    .teardown
                    .iter()
                    .find(|s| s.flags.has(Flags::FIN))
                    .map(|s| match s.dir {
                        Dir::ServerToClient => lang.pick("the server", "server"),
                        Dir::ClientToServer => lang.pick("the client", "klien"),
                    });
                out.push(lang.pick(
                    format!(
                        "{} sent TIME {times} time(s) and got {} JAM repl{} ({}){}; {} sent the first FIN.",
                        client_name(c),
                        jams.len(),
                        if jams.len() == 1 { "y" } else { "ies" },
                        jams.join(", "),
                        if quit { ", then QUIT" } else { "" },
                        closer.clone().unwrap_or_else(|| "nobody".into())
                    ),
                    format!(
                        "{} mengirim TIME {times} kali dan menerima {} balasan JAM ({}){}; {} mengirim FIN pertama.",
                        client_name(c),
                        jams.len(),
                        jams.join(", "),
                        if quit { ", lalu QUIT" } else { "" },
                        closer.unwrap_or_else(|| "tidak ada".into())
                    ),
                ));
            }
        }
        "t2-concurrent" => {
            let most = max_concurrent(convs.iter().copied());
            let clients: std::collections::BTreeSet<String> =
                convs.iter().map(|c| client_name(c)).collect();
            let list = clients.into_iter().collect::<Vec<_>>().join(", ");
            out.push(if most >= 2 {
                lang.pick(
                    format!("Up to {most} of the {} connections to port 45000 (from {list}) were open at the same time: the server handled several clients concurrently.", convs.len()),
                    format!("Hingga {most} dari {} koneksi ke port 45000 (dari {list}) terbuka bersamaan: server melayani beberapa klien secara konkuren.", convs.len()),
                )
            } else {
                lang.pick(
                    format!("The {} connections to port 45000 never overlapped in time.", convs.len()),
                    format!("{} koneksi ke port 45000 tidak pernah tumpang tindih.", convs.len()),
                )
            });
        }
        "t2-crlf" => {
            for c in &convs {
                let mut pending: Option<String> = None;
                for s in &c.segments {
                    match s.step.dir {
                        Dir::ClientToServer => pending = Some(s.payload_text()),
                        Dir::ServerToClient => {
                            if let Some(request) = pending.take() {
                                let reply = s.payload_text();
                                let verdict = if reply.starts_with("JAM") {
                                    "JAM"
                                } else {
                                    "ERROR"
                                };
                                out.push(lang.pick(
                                    format!("`\"{request}\"` got {verdict}: `\"{reply}\"`."),
                                    format!("`\"{request}\"` mendapat {verdict}: `\"{reply}\"`."),
                                ));
                            }
                        }
                    }
                }
            }
            out.push(lang.pick(
                "Only lines ending in CR LF (\\r\\n) that begin with TIME get JAM; a bare LF or an unknown command gets ERROR and the connection stays open.",
                "Hanya baris yang diakhiri CR LF (\\r\\n) dan diawali TIME yang mendapat JAM; LF saja atau perintah tak dikenal mendapat ERROR dan koneksi tetap terbuka.",
            ));
        }
        _ => {}
    }
    let failed: Vec<&Run> = runs.iter().filter(|r| r.exit != 0).collect();
    for run in failed {
        out.push(lang.pick(
            format!(
                "`{}` on {} exited with {} (see its log below).",
                run.command, run.machine, run.exit
            ),
            format!(
                "`{}` di {} keluar dengan kode {} (lihat log di bawah).",
                run.command, run.machine, run.exit
            ),
        ));
    }
    out
}
