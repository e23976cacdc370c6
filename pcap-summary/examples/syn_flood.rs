//! Writes a SYN-flood capture for `make bench-summary`: a million SYNs, each
//! from its own client address and port to one server, none answered, so
//! every packet is a conversation of its own (about 70 MB).
//!
//!   cargo run --release -p pcap-summary --example syn_flood -- OUT.pcap [CONNECTIONS]

use std::fs::File;
use std::io::BufWriter;
use std::net::{Ipv4Addr, SocketAddr};

use progjar_testkit::{Link, PcapStream, TcpSession};

/// Time between two SYNs: a million a second.
const PACKET_GAP: f64 = 0.000_001;
/// Client ports per client address.
const PORTS: u32 = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: syn_flood OUT.pcap [CONNECTIONS]")?;
    let total: u32 = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let mut writer = PcapStream::new(
        BufWriter::with_capacity(1 << 20, File::create(&out)?),
        Link::Ethernet,
    )?;
    let server = SocketAddr::from(([10, 1, 0, 1], 45000));
    for i in 0..total {
        // 10.2.0.0 and up, a thousand ports each: every SYN its own 4-tuple.
        let address = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 2, 0, 0)) + i / PORTS);
        let port = u16::try_from(20_000 + i % PORTS)?;
        let mut session = TcpSession::between(SocketAddr::from((address, port)), server)
            .with_initial_sequence_numbers(i.wrapping_mul(2_654_435_761), 0);
        session.syn(f64::from(i) * PACKET_GAP);
        for packet in session.take_packets() {
            writer.write_packet(&packet)?;
        }
    }
    writer.into_inner().into_inner()?;
    eprintln!("wrote {out}: {total} SYNs, {total} connections");
    Ok(())
}
