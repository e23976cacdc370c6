//! The summary of a capture as data, and its JSON form.
//!
//! [`summarize`] reads a capture once and returns a [`Summary`]. The JSON
//! field names are a contract (documented in the README): other tools and
//! the lab's report generator read them.

use std::io::Read;

use serde::Serialize;

use crate::conversation::{max_concurrent, Conversation, Dir, Limits, Step, Tracker};
use crate::input::{read_frames, Cut, InputError};
use crate::link;
use crate::segment::tcp_segment;

/// What to keep, per conversation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Detail limits.
    pub limits: Limits,
}

/// Everything found in one capture.
#[derive(Debug)]
pub struct Summary {
    /// Frames read.
    pub packets: u64,
    /// Frames that held a TCP segment.
    pub tcp_packets: u64,
    /// Seconds from the first frame to the last.
    pub duration: f64,
    /// The conversations, in order of first packet.
    pub conversations: Vec<Conversation>,
    /// Most conversations open at once.
    pub max_concurrent: usize,
    /// Where the file broke off, if it did.
    pub cut: Option<Cut>,
}

impl Summary {
    /// Frames that were not TCP (ARP, UDP, unknown link types, ...).
    pub fn skipped(&self) -> u64 {
        self.packets - self.tcp_packets
    }

    /// Problems with the input, in words.
    pub fn errors(&self) -> Vec<String> {
        self.cut
            .iter()
            .map(|cut| format!("capture cut at byte {}: {}", cut.offset, cut.reason))
            .collect()
    }

    /// The JSON document for every conversation (see the README for the schema).
    pub fn to_json(&self) -> serde_json::Value {
        let all: Vec<&Conversation> = self.conversations.iter().collect();
        // Plain structs of numbers and strings always serialize.
        serde_json::to_value(self.json_view(&all)).unwrap_or(serde_json::Value::Null)
    }

    /// The JSON document for `selected` conversations, serialized as it is
    /// written: no tree of the whole document is built in memory.
    pub fn json_view<'a>(&'a self, selected: &'a [&'a Conversation]) -> impl Serialize + 'a {
        JsonSummary {
            packets: self.packets,
            tcp_packets: self.tcp_packets,
            skipped_packets: self.skipped(),
            duration: self.duration,
            max_concurrent: self.max_concurrent,
            errors: self.errors(),
            conversations: ConversationList(selected),
        }
    }
}

/// Reads a capture from `reader` and follows every TCP conversation in it.
pub fn summarize<R: Read>(reader: R, options: &Options) -> Result<Summary, InputError> {
    let mut tracker = Tracker::new(options.limits);
    let (mut packets, mut tcp_packets) = (0u64, 0u64);
    let mut first: Option<std::time::Duration> = None;
    let mut last = 0.0f64;
    let cut = read_frames(reader, |frame| {
        packets += 1;
        let t0 = *first.get_or_insert(frame.timestamp);
        // Captures can step back in time (several interfaces): never negative.
        let time = frame.timestamp.saturating_sub(t0).as_secs_f64();
        last = last.max(time);
        let Ok(ip) = link::ip_packet(frame.linktype, frame.data) else {
            return;
        };
        if let Some(segment) = tcp_segment(ip) {
            tcp_packets += 1;
            tracker.observe(time, &segment);
        }
    })?;
    let conversations = tracker.into_conversations();
    Ok(Summary {
        packets,
        tcp_packets,
        duration: last,
        max_concurrent: max_concurrent(&conversations),
        conversations,
        cut,
    })
}

/// `ip:port`, with IPv6 in brackets (Rust's SocketAddr display does that).
fn endpoint(addr: &std::net::SocketAddr) -> String {
    addr.to_string()
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    packets: u64,
    tcp_packets: u64,
    skipped_packets: u64,
    duration: f64,
    max_concurrent: usize,
    errors: Vec<String>,
    conversations: ConversationList<'a>,
}

/// Conversations turned into JSON one at a time, as they are written.
struct ConversationList<'a>(&'a [&'a Conversation]);

impl Serialize for ConversationList<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for conversation in self.0 {
            seq.serialize_element(&JsonConversation::from(*conversation))?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct PerDirection {
    client_to_server: u64,
    server_to_client: u64,
}

impl From<[u64; 2]> for PerDirection {
    fn from(values: [u64; 2]) -> Self {
        PerDirection {
            client_to_server: values[Dir::ClientToServer as usize],
            server_to_client: values[Dir::ServerToClient as usize],
        }
    }
}

#[derive(Serialize)]
struct FlagCounts {
    syn: u64,
    syn_ack: u64,
    fin: u64,
    rst: u64,
}

/// Serializes with `Display`, without an intermediate `String`.
struct Shown<T>(T);

impl<T: std::fmt::Display> Serialize for Shown<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

#[derive(Serialize)]
struct JsonStep {
    time: f64,
    dir: &'static str,
    flags: Shown<crate::segment::Flags>,
    seq: u32,
    ack: u32,
}

impl From<&Step> for JsonStep {
    fn from(step: &Step) -> Self {
        JsonStep {
            time: step.time,
            dir: step.dir.short(),
            flags: Shown(step.flags),
            seq: step.seq,
            ack: step.ack,
        }
    }
}

#[derive(Serialize)]
struct JsonSegment<'a> {
    time: f64,
    dir: &'static str,
    flags: Shown<crate::segment::Flags>,
    seq: u32,
    ack: u32,
    len: u32,
    payload: Shown<progjar_protocol::escape::Escaped<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    anomaly: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonHandshakeSteps {
    syn: Option<JsonStep>,
    syn_ack: Option<JsonStep>,
    ack: Option<JsonStep>,
    rtt: Option<f64>,
}

#[derive(Serialize)]
struct JsonConversation<'a> {
    id: usize,
    client: String,
    server: String,
    start: f64,
    end: f64,
    packets: PerDirection,
    payload_bytes: PerDirection,
    flags: FlagCounts,
    handshake: &'static str,
    close: &'static str,
    handshake_steps: JsonHandshakeSteps,
    teardown: Vec<JsonStep>,
    first_server_byte_delay: Option<f64>,
    retransmissions: u64,
    out_of_order: u64,
    segments: Vec<JsonSegment<'a>>,
    segments_not_shown: u64,
}

impl<'a> From<&'a Conversation> for JsonConversation<'a> {
    fn from(c: &'a Conversation) -> Self {
        JsonConversation {
            id: c.id,
            client: endpoint(&c.client),
            server: endpoint(&c.server),
            start: c.start,
            end: c.end,
            packets: c.packets.into(),
            payload_bytes: c.payload_bytes.into(),
            flags: FlagCounts {
                syn: c.syn,
                syn_ack: c.syn_ack,
                fin: c.fin,
                rst: c.rst,
            },
            handshake: c.handshake.status(),
            close: c.close_kind(),
            handshake_steps: JsonHandshakeSteps {
                syn: c.handshake.syn.as_ref().map(JsonStep::from),
                syn_ack: c.handshake.syn_ack.as_ref().map(JsonStep::from),
                ack: c.handshake.ack.as_ref().map(JsonStep::from),
                rtt: c.handshake.rtt(),
            },
            teardown: c.teardown.iter().map(JsonStep::from).collect(),
            first_server_byte_delay: c.first_server_byte_delay(),
            retransmissions: c.retransmissions,
            out_of_order: c.out_of_order,
            segments: c
                .segments
                .iter()
                .map(|s| JsonSegment {
                    time: s.step.time,
                    dir: s.step.dir.short(),
                    flags: Shown(s.step.flags),
                    seq: s.step.seq,
                    ack: s.step.ack,
                    len: s.len,
                    payload: Shown(progjar_protocol::escape::Escaped(&s.payload)),
                    anomaly: s.anomaly.map(|a| match a {
                        crate::conversation::Anomaly::Retransmission => "retransmission",
                        crate::conversation::Anomaly::OutOfOrder => "out-of-order",
                    }),
                })
                .collect(),
            segments_not_shown: c.segments_not_shown,
        }
    }
}
