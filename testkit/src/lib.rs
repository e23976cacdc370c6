//! Real pcap files of TCP conversations, written by tests.
//!
//! A test describes a conversation the way a lab report tells it, and gets a
//! capture file that tcpdump, Wireshark and `pcap-summary` read like one
//! taken in the lab:
//!
//! ```
//! use progjar_testkit::{CaptureBuilder, Direction::*, TcpSession};
//!
//! // A client asks the time server for the time, then quits.
//! let mut session = TcpSession::new("172.16.16.102:40000", "172.16.16.101:45000");
//! session.handshake(0.000); // SYN, SYN,ACK, ACK
//! session.send(ClientToServer, 0.010, b"TIME\r\n"); // PSH,ACK
//! session.send(ServerToClient, 0.011, b"JAM 10:00:00\r\n");
//! session.send(ClientToServer, 0.020, b"QUIT\r\n");
//! session.close(ServerToClient, 0.021); // FIN, FIN, last ACK
//!
//! let mut capture = CaptureBuilder::new();
//! capture.add_session(&session);
//! let pcap: Vec<u8> = capture.to_pcap_bytes(); // or capture.write_pcap(path)
//! assert_eq!(&pcap[..4], &[0xd4, 0xc3, 0xb2, 0xa1]); // a pcap file (little-endian)
//! ```
//!
//! - [`TcpSession`] keeps each side's sequence numbers, so every segment has
//!   the seq and ack a real TCP would put there; it can also misbehave on
//!   purpose: [`TcpSession::retransmit`] sends earlier bytes again,
//!   [`TcpSession::send_uncaptured`] sends a segment the capture misses (the
//!   next one then shows a hole), [`TcpSession::rst`] resets.
//! - [`CaptureBuilder`] collects the packets of any number of sessions (and
//!   any other frames) with their times and writes one pcap file, in time
//!   order unless asked to keep the order they were added in.
//! - [`PcapStream`] writes packets straight to a file as they are made, for
//!   captures too large to hold in memory.
//! - [`PcapNgBuilder`] writes a pcapng file block by block, by hand, so a
//!   test can damage any block (its length, its interface, its options).
//!
//! Times are seconds (`f64`) from the start of the capture; the file stores
//! them from [`CaptureBuilder::DEFAULT_EPOCH`] on, to the microsecond.

mod capture;
mod pcapng;
mod session;

pub use capture::{CaptureBuilder, Link, PcapStream, TimedPacket};
pub use pcapng::{block_type, PcapNgBuilder};
pub use session::{Direction, SentSegment, TcpSession};
