//! Writes a large synthetic capture for `make bench-summary`.
//!
//! About 1.7 million Ethernet/IPv4/TCP packets over 13,000 connections, 64
//! of them open at any moment, so conversations overlap; client ports come
//! from a pool smaller than the number of connections, so 4-tuples are
//! reused after earlier conversations closed. Each connection: handshake,
//! 41 rounds of (request, echo, ACK) with 800-byte payloads, FIN teardown.
//!
//!   cargo run --release -p pcap-summary --example bench_capture -- OUT.pcap [CONNECTIONS]

use std::fs::File;
use std::io::BufWriter;
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;

const ROUNDS: u32 = 41;
const PAYLOAD: usize = 800;
const OPEN_AT_ONCE: usize = 64;
const PORT_POOL: u32 = 10_000;

/// One connection, producing its packets one at a time.
struct Connection {
    port: u16,
    step: u32,
    client_seq: u32,
    server_seq: u32,
}

impl Connection {
    fn new(index: u32) -> Self {
        Connection {
            port: (20_000 + index % PORT_POOL) as u16,
            step: 0,
            client_seq: index.wrapping_mul(2_654_435_761),
            server_seq: index.wrapping_mul(40_503).wrapping_add(17),
        }
    }

    /// The next frame, or None when the conversation is over.
    fn next_frame(&mut self, payload: &[u8]) -> Option<Vec<u8>> {
        let client = [10, 1, 0, 2];
        let server = [10, 1, 0, 1];
        let to_server = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1])
            .ipv4(client, server, 64);
        let to_client = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(server, client, 64);
        let (c, s) = (self.client_seq, self.server_seq);
        let mut frame = Vec::with_capacity(PAYLOAD + 64);
        let last_data_step = 3 + 3 * ROUNDS;
        let written = match self.step {
            0 => to_server
                .tcp(self.port, 45000, c, 64240)
                .syn()
                .write(&mut frame, &[]),
            1 => to_client
                .tcp(45000, self.port, s, 65160)
                .syn()
                .ack(c + 1)
                .write(&mut frame, &[]),
            2 => to_server
                .tcp(self.port, 45000, c + 1, 502)
                .ack(s + 1)
                .write(&mut frame, &[]),
            n if n < last_data_step => {
                let round = (n - 3) / 3;
                let sent = 1 + round * PAYLOAD as u32;
                match (n - 3) % 3 {
                    0 => to_server
                        .tcp(self.port, 45000, c + sent, 502)
                        .ack(s + sent)
                        .psh()
                        .write(&mut frame, payload),
                    1 => to_client
                        .tcp(45000, self.port, s + sent, 509)
                        .ack(c + sent + PAYLOAD as u32)
                        .psh()
                        .write(&mut frame, payload),
                    _ => to_server
                        .tcp(self.port, 45000, c + sent + PAYLOAD as u32, 502)
                        .ack(s + sent + PAYLOAD as u32)
                        .write(&mut frame, &[]),
                }
            }
            n => {
                let end = 1 + ROUNDS * PAYLOAD as u32;
                match n - last_data_step {
                    0 => to_server
                        .tcp(self.port, 45000, c + end, 502)
                        .ack(s + end)
                        .fin()
                        .write(&mut frame, &[]),
                    1 => to_client
                        .tcp(45000, self.port, s + end, 509)
                        .ack(c + end + 1)
                        .fin()
                        .write(&mut frame, &[]),
                    2 => to_server
                        .tcp(self.port, 45000, c + end + 1, 502)
                        .ack(s + end + 1)
                        .write(&mut frame, &[]),
                    _ => return None,
                }
            }
        };
        written.ok()?;
        self.step += 1;
        Some(frame)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: bench_capture OUT.pcap [CONNECTIONS]")?;
    let total: u32 = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(13_000);
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(
        BufWriter::with_capacity(1 << 20, File::create(&out)?),
        header,
    )?;
    let payload: Vec<u8> = (0..PAYLOAD).map(|i| b'A' + (i % 26) as u8).collect();
    let mut open: Vec<Connection> = Vec::new();
    let mut started = 0u32;
    let mut packets = 0u64;
    let mut time = Duration::from_secs(1_700_000_000);
    loop {
        while open.len() < OPEN_AT_ONCE && started < total {
            open.push(Connection::new(started));
            started += 1;
        }
        if open.is_empty() {
            break;
        }
        let mut i = 0;
        while i < open.len() {
            match open[i].next_frame(&payload) {
                Some(frame) => {
                    writer.write_packet(&PcapPacket::new(
                        time,
                        frame.len() as u32,
                        frame.as_slice(),
                    )?)?;
                    packets += 1;
                    time += Duration::from_micros(7);
                    i += 1;
                }
                None => {
                    open.swap_remove(i);
                }
            }
        }
    }
    eprintln!("wrote {out}: {packets} packets, {started} connections");
    Ok(())
}
