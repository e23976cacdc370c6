//! The summary of a capture as data, and its JSON form.
//!
//! [`summarize`] reads a capture once and returns a [`Summary`]. The JSON
//! field names are a contract (documented in the README): other tools and
//! the lab's report generator read them.

use std::io::Read;

use serde::Serialize;

use crate::conversation::{Conversation, CountedOnly, Limits, PerDir, Step, Tracker};
use crate::expert::{Expert, ExpertCounts, MoreCounts};
use crate::follow::FollowedStream;
use crate::input::{read_frames_from, ChunkSource, Chunks, Cut, Frame, InputError, ReadAhead};
use crate::link;
use crate::segment::{tcp_segment, TcpSegment};

/// What to keep, per conversation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Detail limits.
    pub limits: Limits,
    /// Whose byte streams to follow ([`Summary::followed`]).
    pub follow: Follow,
}

/// Which conversations' byte streams to put back in order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Follow {
    /// None (the default).
    #[default]
    None,
    /// This one, up to [`crate::follow::MAX_FOLLOWED_BYTES`] each way.
    One(usize),
    /// Every conversation kept, up to this many bytes each way (for a
    /// report that shows them all; a lab capture is small).
    All {
        /// Bytes kept per direction of each conversation.
        max_bytes: usize,
    },
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
    /// The conversations kept in full ([`Limits::conversations`], the first
    /// ones), in order of first packet.
    pub conversations: Vec<Conversation>,
    /// The conversations past that limit: counted only.
    pub counted_only: CountedOnly,
    /// The limit on conversations kept in full that was in force.
    pub max_conversations: usize,
    /// Most conversations open at once, counted ones included.
    pub max_concurrent: usize,
    /// Where the file broke off, if it did.
    pub cut: Option<Cut>,
    /// The conversations [`Options::follow`] asked for, their bytes put
    /// back in order, by conversation id (none when not asked for, or no
    /// such conversation).
    pub followed: Vec<FollowedStream>,
}

impl Summary {
    /// Every conversation told apart: kept in full and counted only.
    pub fn conversation_count(&self) -> u64 {
        self.conversations.len() as u64 + self.counted_only.conversations
    }

    /// Frames that were not TCP (ARP, UDP, unknown link types, ...).
    pub fn skipped(&self) -> u64 {
        self.packets - self.tcp_packets
    }

    /// Problems with the input, in words.
    pub fn errors(&self) -> Vec<String> {
        self.cut.iter().map(ToString::to_string).collect()
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
        self.json_summary(selected)
    }

    /// Writes the JSON document for `selected` conversations to `out` on one
    /// line. Conversations are turned into JSON on two threads, in batches,
    /// and written in order: a large capture's JSON is much of the work.
    pub fn write_json(
        &self,
        selected: &[&Conversation],
        mut out: impl std::io::Write,
    ) -> serde_json::Result<()> {
        // The document with no conversations ends in `"conversations":[]}`
        // (the list is its last field): its head, then the list's
        // elements, batch by batch, then the end.
        let empty = serde_json::to_vec(&self.json_summary(&[]))?;
        let Some(head) = empty.strip_suffix(b"[]}") else {
            return serde_json::to_writer(out, &self.json_view(selected));
        };
        out.write_all(head).map_err(serde_json::Error::io)?;
        out.write_all(b"[").map_err(serde_json::Error::io)?;
        write_conversations(selected, &mut out)?;
        out.write_all(b"]}").map_err(serde_json::Error::io)
    }

    fn json_summary<'a>(&'a self, selected: &'a [&'a Conversation]) -> JsonSummary<'a> {
        JsonSummary {
            packets: self.packets,
            tcp_packets: self.tcp_packets,
            skipped_packets: self.skipped(),
            duration: self.duration,
            max_concurrent: self.max_concurrent,
            errors: self.errors(),
            counted_only: JsonCountedOnly {
                max_conversations: self.max_conversations,
                conversations: self.counted_only.conversations,
                packets: self.counted_only.packets,
                payload_bytes: self.counted_only.payload_bytes,
                flags: FlagCounts {
                    syn: self.counted_only.syn,
                    syn_ack: self.counted_only.syn_ack,
                    fin: self.counted_only.fin,
                    rst: self.counted_only.rst,
                },
                packets_not_told_apart: self.counted_only.packets_not_told_apart,
            },
            conversations: ConversationList { list: selected },
        }
    }
}

/// Reads a capture from `reader` and follows every TCP conversation in it,
/// all on the calling thread.
pub fn summarize<R: Read>(reader: R, options: &Options) -> Result<Summary, InputError> {
    summarize_from(Chunks::new(reader), options)
}

/// The same, reading the input on a helper thread while this one parses:
/// the way to read a file or a pipe when there is a second core.
pub fn summarize_with_read_ahead<R: Read + Send + 'static>(
    reader: R,
    options: &Options,
) -> Result<Summary, InputError> {
    summarize_from(ReadAhead::spawn(reader)?, options)
}

/// The same, from any source of chunks.
pub fn summarize_from(source: impl ChunkSource, options: &Options) -> Result<Summary, InputError> {
    let mut front = FrontEnd::default();
    let mut tracker = Tracker::new(options.limits);
    let mut followed: Vec<FollowedStream> = Vec::new();
    let cut = read_frames_from(source, |frame| {
        if let Some((time, segment)) = front.segment(&frame) {
            let went = tracker.observe(time, &segment);
            if let Some((id, dir)) = went {
                follow_segment(&mut followed, options.follow, id, dir, &segment);
            }
        }
    })?;
    let mut summary = front.finish(tracker, cut, options.limits.conversations);
    for follow in &mut followed {
        follow.finish();
    }
    summary.followed = followed;
    Ok(summary)
}

/// Hands `segment` (of kept conversation `id`, going `dir`) to its
/// follower, when `follow` asks for that conversation. Ids come in order,
/// so with [`Follow::All`] the list is indexed by id.
fn follow_segment(
    followed: &mut Vec<FollowedStream>,
    follow: Follow,
    id: usize,
    dir: crate::conversation::Dir,
    segment: &TcpSegment<'_>,
) {
    let stream = match follow {
        Follow::None => return,
        Follow::One(wanted) if wanted != id => return,
        Follow::One(_) => {
            if followed.is_empty() {
                followed.push(FollowedStream::new(id, crate::follow::MAX_FOLLOWED_BYTES));
            }
            &mut followed[0]
        }
        Follow::All { max_bytes } => {
            while followed.len() <= id {
                let next = followed.len();
                followed.push(FollowedStream::new(next, max_bytes));
            }
            &mut followed[id]
        }
    };
    stream.observe(dir, segment);
}

/// From frames to TCP segments with their times, counting frames as they pass.
#[derive(Debug, Default)]
struct FrontEnd {
    packets: u64,
    tcp_packets: u64,
    first: Option<std::time::Duration>,
    last: f64,
}

impl FrontEnd {
    /// Counts `frame` and finds its TCP segment, if it has one, with its
    /// time in seconds from the capture's first frame.
    fn segment<'a>(&mut self, frame: &Frame<'a>) -> Option<(f64, TcpSegment<'a>)> {
        self.packets += 1;
        let t0 = *self.first.get_or_insert(frame.timestamp);
        // Captures can step back in time (several interfaces): never negative.
        let time = frame.timestamp.saturating_sub(t0).as_secs_f64();
        self.last = self.last.max(time);
        let ip = link::ip_packet(frame.linktype, frame.data).ok()?;
        let segment = tcp_segment(ip)?;
        self.tcp_packets += 1;
        Some((time, segment))
    }

    /// The summary, once every frame has been seen.
    fn finish(self, tracker: Tracker, cut: Option<Cut>, max_conversations: usize) -> Summary {
        let max_concurrent = tracker.max_concurrent();
        let counted_only = tracker.counted_only();
        Summary {
            packets: self.packets,
            tcp_packets: self.tcp_packets,
            duration: self.last,
            max_concurrent,
            conversations: tracker.into_conversations(),
            counted_only,
            max_conversations,
            cut,
            followed: Vec::new(),
        }
    }
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
    counted_only: JsonCountedOnly,
    conversations: ConversationList<'a>,
}

/// Conversations past `--max-conversations`: counted, not listed.
#[derive(Serialize)]
struct JsonCountedOnly {
    max_conversations: usize,
    conversations: u64,
    packets: u64,
    payload_bytes: u64,
    flags: FlagCounts,
    packets_not_told_apart: u64,
}

/// Conversations turned into JSON one at a time, as they are written.
struct ConversationList<'a> {
    list: &'a [&'a Conversation],
}

impl Serialize for ConversationList<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.list.len()))?;
        for conversation in self.list {
            seq.serialize_element(&JsonConversation::from(*conversation))?;
        }
        seq.end()
    }
}

/// Conversations per batch: enough to make passing a batch cheap, few
/// enough that the batches waiting to be written take little memory.
const JSON_BATCH: usize = 64;

/// A batch of conversations as JSON text: the elements of a list, with
/// commas between them.
fn json_batch(batch: &[&Conversation]) -> serde_json::Result<Vec<u8>> {
    // Room for a conversation with its 20 segments shown (about 5 KB), so
    // that the text is seldom moved while it grows.
    let mut text = Vec::with_capacity(batch.len() * 8 * 1024);
    for (i, conversation) in batch.iter().enumerate() {
        if i > 0 {
            text.push(b',');
        }
        serde_json::to_writer(&mut text, &JsonConversation::from(*conversation))?;
    }
    Ok(text)
}

/// Writes the elements of the list of `conversations` (without its
/// brackets) to `out`, in order: every other batch prepared by a helper
/// thread while this one prepares and writes the others.
fn write_conversations(
    conversations: &[&Conversation],
    out: &mut impl std::io::Write,
) -> serde_json::Result<()> {
    let io = serde_json::Error::io;
    std::thread::scope(|scope| {
        // One batch ready and waiting at most: memory stays bounded.
        let (ready, from_helper) = std::sync::mpsc::sync_channel::<serde_json::Result<Vec<u8>>>(1);
        scope.spawn(move || {
            for batch in conversations.chunks(JSON_BATCH).skip(1).step_by(2) {
                // The writer gave up (a closed pipe): stop too.
                if ready.send(json_batch(batch)).is_err() {
                    return;
                }
            }
        });
        for (i, batch) in conversations.chunks(JSON_BATCH).enumerate() {
            let text = if i % 2 == 0 {
                json_batch(batch)?
            } else {
                from_helper
                    .recv()
                    .map_err(|_| io(std::io::Error::other("the JSON helper thread stopped")))??
            };
            if i > 0 {
                out.write_all(b",").map_err(io)?;
            }
            out.write_all(&text).map_err(io)?;
        }
        Ok(())
    })
}

#[derive(Serialize)]
struct FlagCounts {
    syn: u64,
    syn_ack: u64,
    fin: u64,
    rst: u64,
}

/// A payload as escaped text (`TIME\r\n`). Most payloads in a lab capture
/// are plain text already: those go to the JSON writer as they are, without
/// the escaping machinery.
struct Payload<'a>(&'a [u8]);

impl Serialize for Payload<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(self.0) {
            Ok(text)
                if self
                    .0
                    .iter()
                    .all(|&b| progjar_protocol::escape::is_plain(b)) =>
            {
                serializer.serialize_str(text)
            }
            _ => serializer.collect_str(&progjar_protocol::escape::Escaped(self.0)),
        }
    }
}

/// Flags by name (`PSH,ACK`), from a table made once.
struct FlagNames(crate::segment::Flags);

impl Serialize for FlagNames {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.name())
    }
}

#[derive(Serialize)]
struct JsonStep {
    time: f64,
    dir: &'static str,
    flags: FlagNames,
    seq: u32,
    ack: u32,
}

impl From<&Step> for JsonStep {
    fn from(step: &Step) -> Self {
        JsonStep {
            time: step.time,
            dir: step.dir.short(),
            flags: FlagNames(step.flags),
            seq: step.seq,
            ack: step.ack,
        }
    }
}

#[derive(Serialize)]
struct JsonSegment<'a> {
    time: f64,
    dir: &'static str,
    flags: FlagNames,
    seq: u32,
    ack: u32,
    len: u32,
    window: u32,
    payload: Payload<'a>,
    /// Expert flags by name; absent when there are none.
    #[serde(skip_serializing_if = "is_clean")]
    analysis: Expert,
    /// The flags in words ("retransmission of seq=1449, 201.000 ms after the original").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    analysis_words: Vec<String>,
}

fn is_clean(flags: &Expert) -> bool {
    !flags.any()
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
    packets: PerDir<u64>,
    /// On the wire, retransmissions included.
    payload_bytes: PerDir<u64>,
    /// Each byte of the stream once.
    stream_bytes: PerDir<u64>,
    /// `payload_bytes - stream_bytes`.
    retransmitted_bytes: PerDir<u64>,
    flags: FlagCounts,
    handshake: &'static str,
    close: &'static str,
    handshake_steps: JsonHandshakeSteps,
    teardown: Vec<JsonStep>,
    first_server_byte_delay: Option<f64>,
    /// `analysis.retransmission` (tshark's meaning).
    retransmissions: u64,
    /// `analysis.out_of_order`.
    out_of_order: u64,
    /// Frames carrying each expert flag, as tshark counts them.
    analysis: ExpertCounts,
    /// The flags tshark also sets, beyond the eleven of `analysis`.
    analysis_more: MoreCounts,
    /// What each side's SYN announced.
    syn_options: PerDir<Option<JsonSynOptions>>,
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
            packets: c.packets,
            payload_bytes: c.payload_bytes,
            stream_bytes: c.stream_bytes,
            retransmitted_bytes: c.retransmitted_bytes(),
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
            teardown: c.teardown.steps.iter().map(JsonStep::from).collect(),
            first_server_byte_delay: c.first_server_byte_delay(),
            retransmissions: c.retransmissions(),
            out_of_order: c.out_of_order(),
            analysis: c.analysis,
            analysis_more: c.analysis.more,
            syn_options: c.syn_options.map(|o| o.map(JsonSynOptions::from)),
            segments: c
                .segments
                .iter()
                .map(|s| JsonSegment {
                    time: s.step.time,
                    dir: s.step.dir.short(),
                    flags: FlagNames(s.step.flags),
                    seq: s.step.seq,
                    ack: s.step.ack,
                    len: s.len,
                    window: s.window,
                    payload: Payload(&s.payload),
                    analysis: s.expert,
                    analysis_words: if s.expert.any() {
                        s.expert_words()
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
            segments_not_shown: c.segments_not_shown,
        }
    }
}

/// A SYN's options: `{"mss": 1460, "window_scale": 7, "sack_permitted": true}`.
#[derive(Serialize)]
struct JsonSynOptions {
    mss: Option<u16>,
    window_scale: Option<u8>,
    sack_permitted: bool,
}

impl From<crate::segment::SynOptions> for JsonSynOptions {
    fn from(o: crate::segment::SynOptions) -> Self {
        JsonSynOptions {
            mss: o.mss,
            window_scale: o.window_scale,
            sack_permitted: o.sack_permitted,
        }
    }
}
