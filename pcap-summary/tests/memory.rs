//! Memory per conversation, measured with a counting allocator: a SYN flood
//! must not cost a kilobyte and a half per connection, and past the limits
//! more connections must cost nothing more.
//!
//! One test in this file: the allocator counts every thread of the process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use pcap_summary::conversation::Limits;
use pcap_summary::{summarize, Options};
use progjar_testkit::{Link, PcapStream, TcpSession};

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on to the system allocator.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above. The system's realloc can grow a large block in
        // place (mremap), as it does outside this test: count only the change.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                let now = IN_USE.fetch_add(new_size - layout.size(), Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Relaxed);
            } else {
                IN_USE.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A pcap file of `count` SYNs, each from its own client.
fn syn_flood(count: u32) -> Vec<u8> {
    let server = SocketAddr::from(([10, 1, 0, 1], 45000));
    let mut stream = PcapStream::new(Vec::new(), Link::Ethernet).expect("header");
    for i in 0..count {
        let client = SocketAddr::from((Ipv4Addr::from(0x0A02_0000 + i), 40000));
        let mut session = TcpSession::between(client, server);
        session.syn(f64::from(i) * 1e-6);
        for packet in session.take_packets() {
            stream.write_packet(&packet).expect("written");
        }
    }
    stream.into_inner()
}

/// Peak heap bytes while summarizing `capture`, beyond what was in use before.
fn peak_while_summarizing(capture: &[u8], limits: Limits) -> usize {
    let before = IN_USE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let options = Options {
        limits,
        ..Options::default()
    };
    let summary = summarize(capture, &options).expect("readable");
    let peak = PEAK.load(Relaxed) - before;
    drop(summary);
    peak
}

#[test]
fn a_syn_flood_costs_little_per_conversation_and_nothing_past_the_limits() {
    const SYNS: u32 = 200_000;
    let capture = syn_flood(SYNS);

    // The default: 100,000 kept, 100,000 counted.
    let peak = peak_while_summarizing(&capture, Limits::default());
    let per_conversation = peak / SYNS as usize;
    eprintln!("default limits: {peak} bytes at the peak, {per_conversation} per conversation");
    assert!(
        per_conversation < 400,
        "{per_conversation} bytes per conversation ({peak} bytes at the peak)"
    );

    // Every one kept: the compact state itself.
    let all_kept = Limits {
        conversations: SYNS as usize,
        ..Limits::default()
    };
    let peak = peak_while_summarizing(&capture, all_kept);
    let per_conversation = peak / SYNS as usize;
    eprintln!("all kept: {peak} bytes at the peak, {per_conversation} per conversation");
    // About 700: the expert analysis keeps each side's sequence and window
    // state (tshark's), about 170 bytes of it.
    assert!(
        per_conversation < 800,
        "{per_conversation} bytes per kept conversation ({peak} bytes at the peak)"
    );

    // 1,000 kept and 20,000 counted: the other 179,000 SYNs cost nothing.
    let small = Limits {
        conversations: 1000,
        ..Limits::default()
    };
    let peak = peak_while_summarizing(&capture, small);
    eprintln!("1,000 kept, 20,000 counted: {peak} bytes at the peak");
    assert!(peak < 4 << 20, "{peak} bytes at the peak");
}
