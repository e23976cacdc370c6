//! One conversation told in plain words: the handshake with its sequence
//! numbers, each PSH/ACK segment with its payload, and the FIN teardown.

use std::fmt::Write as _;

use pcap_summary::conversation::{Conversation, Dir, Step};
use pcap_summary::segment::Flags;

use crate::lang::Lang;
use crate::machines::name_of;

fn who(c: &Conversation, dir: Dir) -> String {
    match dir {
        Dir::ClientToServer => format!("{} ({})", name_of(&c.client.ip()), c.client),
        Dir::ServerToClient => format!("{} ({})", name_of(&c.server.ip()), c.server),
    }
}

fn ms(seconds: f64) -> String {
    format!("{:.3} ms", seconds * 1000.0)
}

fn step_words(c: &Conversation, step: &Step, lang: Lang) -> String {
    let sender = who(c, step.dir);
    let ack = if step.flags.has(Flags::ACK) {
        format!(", ack={}", step.ack)
    } else {
        String::new()
    };
    lang.pick(
        format!(
            "at {:.6} s {sender} sent [{}] seq={}{ack}",
            step.time, step.flags, step.seq
        ),
        format!(
            "pada {:.6} s {sender} mengirim [{}] seq={}{ack}",
            step.time, step.flags, step.seq
        ),
    )
}

/// The walk-through, as Markdown.
pub fn walk(c: &Conversation, lang: Lang) -> String {
    let mut out = String::new();
    let hs = &c.handshake;
    let _ = writeln!(
        out,
        "{}\n",
        lang.pick(
            format!(
                "Conversation #{}: client {} to server {}.",
                c.id,
                who(c, Dir::ClientToServer),
                who(c, Dir::ServerToClient)
            ),
            format!(
                "Percakapan #{}: klien {} ke server {}.",
                c.id,
                who(c, Dir::ClientToServer),
                who(c, Dir::ServerToClient)
            ),
        )
    );
    let _ = writeln!(
        out,
        "{}",
        lang.pick(
            "**Three-way handshake.**",
            "**Three-way handshake (jabat tangan tiga langkah).**"
        )
    );
    match (&hs.syn, &hs.syn_ack, &hs.ack) {
        (Some(syn), Some(syn_ack), Some(ack)) => {
            let _ = writeln!(
                out,
                "1. {}. {}\n2. {}: {}\n3. {}: {}",
                step_words(c, syn, lang),
                lang.pick("SYN asks to open a connection; seq=0 is the client's first sequence number, shown relative as Wireshark does.", "SYN meminta membuka koneksi; seq=0 adalah nomor urut awal klien (relatif, seperti di Wireshark)."),
                step_words(c, syn_ack, lang),
                lang.pick("the server agrees (SYN) and acknowledges the client's SYN (ack=1 = the client's seq + 1).", "server setuju (SYN) dan mengakui SYN klien (ack=1 = seq klien + 1)."),
                step_words(c, ack, lang),
                lang.pick(
                    format!("the client acknowledges the server's SYN; the connection is open. Handshake round trip: {}.", hs.rtt().map(ms).unwrap_or_default()),
                    format!("klien mengakui SYN server; koneksi terbuka. Waktu handshake: {}.", hs.rtt().map(ms).unwrap_or_default()),
                ),
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "{}",
                lang.pick(
                    "The capture does not hold the whole handshake.",
                    "Tangkapan tidak memuat handshake lengkap."
                )
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        lang.pick("**Data (PSH,ACK segments).**", "**Data (segmen PSH,ACK).**")
    );
    for (i, segment) in c.segments.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. {}, len={}: `\"{}\"`",
            i + 1,
            step_words(c, &segment.step, lang),
            segment.len,
            segment.payload_text()
        );
    }
    if c.segments.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            lang.pick("No data was sent.", "Tidak ada data yang dikirim.")
        );
    } else {
        let _ = writeln!(
            out,
            "\n{}",
            lang.pick(
                "PSH asks the receiver to hand the data to the program at once; ACK acknowledges everything up to its number, so each side's ack grows by the other's payload length.",
                "PSH meminta penerima segera menyerahkan data ke program; ACK mengakui semua byte sampai nomornya, sehingga ack tiap sisi bertambah sebanyak panjang payload sisi lain.",
            )
        );
    }
    let _ = writeln!(
        out,
        "\n{}",
        lang.pick("**Teardown.**", "**Penutupan koneksi (teardown).**")
    );
    if c.teardown.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            lang.pick(
                "The connection was still open at the end of the capture.",
                "Koneksi masih terbuka di akhir tangkapan."
            )
        );
    }
    for (i, step) in c.teardown.iter().enumerate() {
        let meaning = if step.flags.has(Flags::RST) {
            lang.pick(
                "RST: the connection is aborted.",
                "RST: koneksi dibatalkan.",
            )
        } else if step.flags.has(Flags::FIN) {
            lang.pick(
                "FIN: this side has nothing more to send.",
                "FIN: sisi ini tidak akan mengirim data lagi.",
            )
        } else {
            lang.pick(
                "the last ACK: the other side's FIN is acknowledged; the connection is closed.",
                "ACK terakhir: FIN sisi lain diakui; koneksi tertutup.",
            )
        };
        let _ = writeln!(out, "{}. {}: {meaning}", i + 1, step_words(c, step, lang));
    }
    out
}
