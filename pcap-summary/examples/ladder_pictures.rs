//! Draws a ladder and an overview of made-up TIME sessions (one request
//! resent each) as PNG files, for a person to look at:
//! `cargo run -p pcap-summary --example ladder_pictures -- DIR`.

use pcap_summary::conversation::{Conversation, Limits};
use pcap_summary::ladder::{self, LADDER_SEGMENTS};
use pcap_summary::{summarize, Options};
use progjar_testkit::{CaptureBuilder, Direction::*, TcpSession};

fn main() -> Result<(), String> {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: ladder_pictures DIR")?,
    );
    let mut capture = CaptureBuilder::new();
    for i in 0..3u16 {
        let client = format!("172.16.16.{}:{}", 102 + i % 2, 40000 + i);
        let mut s = TcpSession::new(&client, "172.16.16.101:45000");
        s.handshake(0.0);
        let time = s.send(ClientToServer, 0.010, b"TIME\r\n");
        s.retransmit(0.250, time);
        s.send(ServerToClient, 0.251, b"JAM 10:00:00\r\n");
        s.send(ClientToServer, 0.260, b"QUIT\r\n");
        s.close(ServerToClient, 0.261);
        capture.add_session(&s);
    }
    let options = Options {
        limits: Limits {
            ladder: LADDER_SEGMENTS,
            ..Limits::default()
        },
        ..Options::default()
    };
    let summary =
        summarize(capture.to_pcap_bytes().as_slice(), &options).map_err(|e| e.to_string())?;
    let all: Vec<&Conversation> = summary.conversations.iter().collect();
    let net = progjar_common::lab::DEFAULT_NET;
    for (name, svg) in [
        ("ladder.png", ladder::svg(all[0], net)),
        ("overview.png", ladder::overview(&all, net)),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, ladder::png(&svg)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
