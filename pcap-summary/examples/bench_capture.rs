//! Writes a large synthetic capture for `make bench-summary`.
//!
//! About 1.7 million Ethernet/IPv4/TCP packets over 13,000 connections, 64
//! of them open at any moment, so conversations overlap; client ports come
//! from a pool smaller than the number of connections, so 4-tuples are
//! reused after earlier conversations closed. Each connection: handshake,
//! 41 rounds of (request, echo, ACK) with 800-byte payloads, FIN teardown.
//!
//!   cargo run --release -p pcap-summary --example bench_capture -- OUT.pcap [CONNECTIONS]
//!
//! `-` writes to standard output, as `tcpdump -w -` does; with `--rounds`
//! a few connections can carry gigabytes (the stream `make bench-summary`
//! pipes into `pcap-summary -` to show its memory stays flat).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Parser;
use progjar_testkit::{Direction::*, Link, PcapStream, TcpSession};

/// Writes a synthetic capture of many overlapping echo connections.
#[derive(Debug, Parser)]
struct Args {
    /// Where to write the capture; `-` for standard output.
    out: PathBuf,
    /// Connections in all.
    #[arg(default_value_t = 13_000)]
    connections: u32,
    /// Rounds of (request, echo, ACK) per connection.
    #[arg(long, default_value_t = 41)]
    rounds: u32,
}

const PAYLOAD: usize = 800;
const OPEN_AT_ONCE: usize = 64;
const PORT_POOL: u32 = 10_000;
/// Time between two packets of the capture.
const PACKET_GAP: f64 = 0.000_007;

/// One connection, producing its packets one at a time.
struct Connection {
    session: TcpSession,
    step: u32,
    rounds: u32,
}

impl Connection {
    fn new(index: u32, rounds: u32) -> Self {
        let port = 20_000 + index % PORT_POOL;
        let session = TcpSession::new(&format!("10.1.0.2:{port}"), "10.1.0.1:45000")
            .with_initial_sequence_numbers(
                index.wrapping_mul(2_654_435_761),
                index.wrapping_mul(40_503).wrapping_add(17),
            );
        Connection {
            session,
            step: 0,
            rounds,
        }
    }

    /// Sends the connection's next packet at `t`; false when it is over.
    fn next_packet(&mut self, t: f64, payload: &[u8]) -> bool {
        let s = &mut self.session;
        let last_data_step = 3 + 3 * self.rounds;
        match self.step {
            0 => {
                s.syn(t);
            }
            1 => {
                s.syn_ack(t);
            }
            2 => {
                s.ack(ClientToServer, t);
            }
            // Rounds of request, echo, ACK.
            n if n < last_data_step => match (n - 3) % 3 {
                0 => {
                    s.send(ClientToServer, t, payload);
                }
                1 => {
                    s.send(ServerToClient, t, payload);
                }
                _ => {
                    s.ack(ClientToServer, t);
                }
            },
            n => match n - last_data_step {
                0 => {
                    s.fin(ClientToServer, t);
                }
                1 => {
                    s.fin(ServerToClient, t);
                }
                2 => {
                    s.ack(ClientToServer, t);
                }
                _ => return false,
            },
        }
        self.step += 1;
        true
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let out: Box<dyn Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(File::create(&args.out)?)
    };
    let mut writer = PcapStream::new(BufWriter::with_capacity(1 << 20, out), Link::Ethernet)?;
    let payload: Vec<u8> = (0..PAYLOAD).map(|i| b'A' + (i % 26) as u8).collect();
    let mut open: Vec<Connection> = Vec::new();
    let mut started = 0u32;
    let mut packets = 0u64;
    loop {
        while open.len() < OPEN_AT_ONCE && started < args.connections {
            open.push(Connection::new(started, args.rounds));
            started += 1;
        }
        if open.is_empty() {
            break;
        }
        let mut i = 0;
        while i < open.len() {
            if open[i].next_packet(packets as f64 * PACKET_GAP, &payload) {
                for packet in open[i].session.take_packets() {
                    writer.write_packet(&packet)?;
                    packets += 1;
                }
                i += 1;
            } else {
                open.swap_remove(i);
            }
        }
    }
    writer
        .into_inner()
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?
        .flush()?;
    eprintln!(
        "wrote {}: {packets} packets, {started} connections",
        args.out.display()
    );
    Ok(())
}
