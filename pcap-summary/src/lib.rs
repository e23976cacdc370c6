//! pcap-summary: the story of a TCP capture, for a lab report.
//!
//! Wireshark shows packets; this shows conversations: who opened them (the
//! three-way handshake with relative sequence numbers), what each side sent
//! (the PSH/ACK data segments and their payloads), how they ended (FIN or RST),
//! which conversations overlapped in time, and what went wrong on the way
//! (tshark's expert analysis: retransmissions, duplicate ACKs, zero windows).
//! It reads the capture once, streaming, so memory grows with
//! conversations, never with packets.
//!
//! - [`input`]: pcap and pcapng files, packet by packet, with clear errors.
//! - [`link`]: from a link-layer frame (Ethernet, SLL, SLL2, raw IP, NULL) to IP.
//! - [`segment`]: a TCP segment as the tracker needs it; [`seq`]: sequence
//!   numbers that wrap; [`direction`]: the two directions and data per direction.
//! - [`conversation`]: following each TCP conversation through its life;
//!   [`expert`]: the flags its analysis gives segments.
//! - [`follow`]: one conversation's bytes each way, once, in stream order.
//! - [`report`]: the summary as data (and its JSON form).
//! - [`text`], [`timeline`] and [`ladder`]: the summary for people (the
//!   ladder diagram is the picture of one conversation a textbook draws).

pub mod conversation;
pub mod direction;
pub mod expert;
pub mod follow;
pub mod input;
pub mod ladder;
pub mod link;
pub mod report;
pub mod segment;
pub mod seq;
pub mod text;
pub mod timeline;

pub use report::{summarize, summarize_from, summarize_with_read_ahead, Follow, Options, Summary};
