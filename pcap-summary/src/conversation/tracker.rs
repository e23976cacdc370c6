//! Finding each segment's conversation, with memory bounded whatever the
//! capture holds.
//!
//! A hash table maps a connection (its two ends, the same both ways) to its
//! current conversation. The first [`Limits::conversations`] are kept in
//! full; past them, conversations are only counted, so a SYN flood of a
//! million connections stays small.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use super::{Conversation, Dir, Limits};
use crate::segment::{Flags, TcpSegment};

/// Conversations told apart and counted past [`Limits::conversations`], per
/// conversation kept in full: 2,000,000 by default, at about 45 bytes each.
pub const COUNTED_PER_KEPT: usize = 20;

/// The two ends of an IPv4 connection, the same whichever way a segment
/// goes, packed into 12 bytes: looking it up is the tracker's most frequent
/// job, and a small key keeps the table small (a SYN flood makes a million).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct V4Key {
    /// The lower end's address and port, then the higher end's.
    addresses: [u32; 2],
    ports: [u16; 2],
}

/// The same for IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct V6Key {
    addresses: [u128; 2],
    ports: [u16; 2],
}

impl std::hash::Hash for V4Key {
    // By hand: two integer writes instead of hashing arrays as slices.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from(self.addresses[0]) | u64::from(self.addresses[1]) << 32);
        state.write_u32(u32::from(self.ports[0]) | u32::from(self.ports[1]) << 16);
    }
}

impl std::hash::Hash for V6Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u128(self.addresses[0]);
        state.write_u128(self.addresses[1]);
        state.write_u32(u32::from(self.ports[0]) | u32::from(self.ports[1]) << 16);
    }
}

/// The lower and the higher of two ends: the same pair both ways.
fn ordered<A: Ord + Copy>(a: (A, u16), b: (A, u16)) -> ([A; 2], [u16; 2]) {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    ([low.0, high.0], [low.1, high.1])
}

/// A segment's connection as a key, by address family. Mixed families
/// (which no real packet has) fall into the IPv6 table, IPv4 mapped.
enum FlowKey {
    V4(V4Key),
    V6(V6Key),
}

impl FlowKey {
    fn of(segment: &TcpSegment<'_>) -> Self {
        match (segment.src, segment.dst) {
            (SocketAddr::V4(src), SocketAddr::V4(dst)) => {
                let (addresses, ports) = ordered(
                    (u32::from(*src.ip()), src.port()),
                    (u32::from(*dst.ip()), dst.port()),
                );
                FlowKey::V4(V4Key { addresses, ports })
            }
            (src, dst) => {
                let bits = |ip: IpAddr| match ip {
                    IpAddr::V4(ip) => u128::from(ip.to_ipv6_mapped()),
                    IpAddr::V6(ip) => u128::from(ip),
                };
                let (addresses, ports) =
                    ordered((bits(src.ip()), src.port()), (bits(dst.ip()), dst.port()));
                FlowKey::V6(V6Key { addresses, ports })
            }
        }
    }
}

/// foldhash: several times faster than SipHash on these small keys and
/// still randomly seeded, so a crafted capture cannot pick collisions.
type FlowTable<K> = HashMap<K, Slot, foldhash::fast::RandomState>;

/// Where a connection's current conversation is: an index into the kept
/// conversations, or (with [`COUNTED`] set) into the counted ones.
type Slot = u32;
const COUNTED: Slot = 1 << 31;

/// A conversation past [`Limits::conversations`]: what the totals and the
/// concurrency need, and no more (24 bytes).
#[derive(Debug, Clone, Copy)]
struct Counted {
    start: f64,
    end: f64,
    ended: bool,
}

/// The conversations past [`Limits::conversations`], counted but not kept:
/// how many, and what their packets were. Packets past the last
/// conversation that could be told apart are in these counts too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountedOnly {
    /// Conversations told apart past the limit, and counted only.
    pub conversations: u64,
    /// Packets of those conversations, and the packets not told apart.
    pub packets: u64,
    /// Their payload bytes on the wire.
    pub payload_bytes: u64,
    /// SYN (without ACK) segments among those packets.
    pub syn: u64,
    /// SYN,ACK segments.
    pub syn_ack: u64,
    /// Segments with FIN.
    pub fin: u64,
    /// Segments with RST.
    pub rst: u64,
    /// Packets that could not be told apart into conversations: they came
    /// after [`COUNTED_PER_KEPT`] times [`Limits::conversations`] more
    /// conversations had been counted, on connections not seen before (or
    /// opening a new conversation on one that had ended).
    pub packets_not_told_apart: u64,
}

impl CountedOnly {
    fn add(&mut self, segment: &TcpSegment<'_>) {
        let flags = segment.flags;
        self.packets += 1;
        self.payload_bytes += u64::from(segment.len);
        self.syn += u64::from(flags.is_syn());
        self.syn_ack += u64::from(flags.is_syn_ack());
        self.fin += u64::from(flags.has(Flags::FIN));
        self.rst += u64::from(flags.has(Flags::RST));
    }
}

/// The conversations themselves, kept and counted.
#[derive(Debug, Default)]
struct Store {
    conversations: Vec<Conversation>,
    counted: Vec<Counted>,
    counted_only: CountedOnly,
    limits: Limits,
}

impl Store {
    fn kept_limit(&self) -> usize {
        // A slot's index has 31 bits.
        self.limits.conversations.min(COUNTED as usize - 1)
    }

    fn counted_limit(&self) -> usize {
        self.kept_limit()
            .saturating_mul(COUNTED_PER_KEPT)
            .min(COUNTED as usize - 1)
    }

    /// Opens a new conversation with `segment`, kept while there is room,
    /// else counted while there is room; None past both limits.
    fn open(&mut self, time: f64, segment: &TcpSegment<'_>) -> Option<Slot> {
        let (kept, kept_limit) = (self.conversations.len(), self.kept_limit());
        if kept < kept_limit {
            grow_within(&mut self.conversations, kept_limit);
            self.conversations
                .push(Conversation::new(kept, time, segment));
            return Slot::try_from(kept).ok();
        }
        let (counted, counted_limit) = (self.counted.len(), self.counted_limit());
        if counted < counted_limit {
            grow_within(&mut self.counted, counted_limit);
            self.counted.push(Counted {
                start: time,
                end: time,
                ended: false,
            });
            self.counted_only.conversations += 1;
            return Slot::try_from(counted).ok().map(|i| i | COUNTED);
        }
        None
    }

    /// Whether `segment` starts a new conversation on the connection whose
    /// current one is `slot`: a SYN with another initial sequence number
    /// (as tshark). Counted conversations keep no sequence numbers: for
    /// them, a SYN after a FIN or RST does.
    fn is_reopened_by(&self, slot: Slot, segment: &TcpSegment<'_>) -> bool {
        if slot & COUNTED == 0 {
            self.conversations[slot as usize].is_reopened_by(segment)
        } else {
            segment.flags.is_syn() && self.counted[(slot & !COUNTED) as usize].ended
        }
    }

    fn observe(
        &mut self,
        slot: Option<Slot>,
        time: f64,
        segment: &TcpSegment<'_>,
    ) -> Option<(usize, Dir)> {
        match slot {
            Some(slot) if slot & COUNTED == 0 => {
                let conversation = &mut self.conversations[slot as usize];
                let dir = conversation.observe(time, segment, &self.limits);
                return Some((conversation.id, dir));
            }
            Some(slot) => {
                let counted = &mut self.counted[(slot & !COUNTED) as usize];
                counted.start = counted.start.min(time);
                counted.end = counted.end.max(time);
                counted.ended |= segment.flags.has(Flags::FIN) || segment.flags.has(Flags::RST);
                self.counted_only.add(segment);
            }
            None => {
                self.counted_only.packets_not_told_apart += 1;
                self.counted_only.add(segment);
            }
        }
        None
    }
}

/// Makes room for one more in `list` when it is full: double its size, but
/// never past `limit`, so a list that reaches its limit wastes nothing.
fn grow_within<T>(list: &mut Vec<T>, limit: usize) {
    if list.len() == list.capacity() {
        let more = list
            .len()
            .max(64)
            .min(limit.saturating_sub(list.len()).max(1));
        list.reserve_exact(more);
    }
}

/// Finds the conversation of `segment` in `table` (a new one when the
/// connection is new, or a SYN reopens it) and adds it there.
fn observe_in<K: std::hash::Hash + Eq>(
    table: &mut FlowTable<K>,
    key: K,
    store: &mut Store,
    time: f64,
    segment: &TcpSegment<'_>,
) -> Option<(usize, Dir)> {
    use std::collections::hash_map::Entry;
    let slot = match table.entry(key) {
        Entry::Occupied(mut entry) => {
            let slot = *entry.get();
            if store.is_reopened_by(slot, segment) {
                match store.open(time, segment) {
                    Some(new) => {
                        entry.insert(new);
                        Some(new)
                    }
                    None => {
                        // No room: its packets are not told apart, and must
                        // not be taken for the ended conversation's.
                        entry.remove();
                        None
                    }
                }
            } else {
                Some(slot)
            }
        }
        Entry::Vacant(entry) => store.open(time, segment).map(|new| *entry.insert(new)),
    };
    store.observe(slot, time, segment)
}

/// Every conversation of a capture, found as its packets stream past.
///
/// Memory is bounded: [`Limits::conversations`] kept in full (about 700
/// bytes each, plus their stored segments), up to [`COUNTED_PER_KEPT`] times
/// as many counted (about 45 bytes each with their table entry).
#[derive(Debug, Default)]
pub struct Tracker {
    v4: FlowTable<V4Key>,
    v6: FlowTable<V6Key>,
    store: Store,
}

impl Tracker {
    /// A tracker keeping `limits` of detail.
    pub fn new(limits: Limits) -> Self {
        Tracker {
            store: Store {
                limits,
                ..Store::default()
            },
            ..Tracker::default()
        }
    }

    /// Adds one segment seen `time` seconds after the capture's first
    /// packet, and says which kept conversation it went to, and which way
    /// (None when it was only counted).
    pub fn observe(&mut self, time: f64, segment: &TcpSegment<'_>) -> Option<(usize, Dir)> {
        match FlowKey::of(segment) {
            FlowKey::V4(key) => observe_in(&mut self.v4, key, &mut self.store, time, segment),
            FlowKey::V6(key) => observe_in(&mut self.v6, key, &mut self.store, time, segment),
        }
    }

    /// The most conversations open at once, counted ones included.
    pub fn max_concurrent(&self) -> usize {
        let kept = self.store.conversations.iter().map(|c| (c.start, c.end));
        let counted = self.store.counted.iter().map(|c| (c.start, c.end));
        max_concurrent_spans(kept.chain(counted))
    }

    /// What was counted past [`Limits::conversations`].
    pub fn counted_only(&self) -> CountedOnly {
        self.store.counted_only
    }

    /// The conversations kept, in order of their first packet.
    pub fn into_conversations(self) -> Vec<Conversation> {
        self.store.conversations
    }
}

/// The most conversations open at the same moment, each open from its first
/// packet to its last.
pub fn max_concurrent<'a>(conversations: impl IntoIterator<Item = &'a Conversation>) -> usize {
    max_concurrent_spans(conversations.into_iter().map(|c| (c.start, c.end)))
}

/// The most spans `(start, end)` open at the same moment.
fn max_concurrent_spans(spans: impl Iterator<Item = (f64, f64)>) -> usize {
    let (mut starts, mut ends): (Vec<f64>, Vec<f64>) = spans.unzip();
    starts.sort_unstable_by(f64::total_cmp);
    ends.sort_unstable_by(f64::total_cmp);
    let (mut open, mut most, mut next_end) = (0usize, 0usize, 0usize);
    for start in starts {
        // At the same instant, an opening counts before a closing:
        // touching conversations did overlap for that moment.
        while next_end < ends.len() && ends[next_end] < start {
            open = open.saturating_sub(1);
            next_end += 1;
        }
        open += 1;
        most = most.max(open);
    }
    most
}
