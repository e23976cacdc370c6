//! Damaged captures of the shapes real damage takes, each with where the
//! damage is and words its report must hold: shared by the damaged-input
//! tests and the mutated-corpus test, and written as seeds for the fuzz
//! target (`fuzz/corpus/summarize/`).

use progjar_testkit::{block_type, Direction::*, Link, PcapNgBuilder, TcpSession};

/// One damaged capture (the mutated-corpus test uses only its bytes).
#[allow(dead_code)]
pub struct Shape {
    /// A name for messages and for the seed file.
    pub name: &'static str,
    /// The capture's bytes.
    pub bytes: Vec<u8>,
    /// Byte offset of the damaged block.
    pub offset: usize,
    /// Whole packets readable before it.
    pub packets_before: u64,
    /// Words the report of the damage must contain.
    pub says: Vec<String>,
}

/// A TIME request and its reply: five packets.
fn session() -> TcpSession {
    let mut session = TcpSession::new("10.0.0.2:40000", "10.0.0.1:45000");
    session.handshake(0.0);
    session.send(ClientToServer, 0.010, b"TIME\r\n");
    session.send(ServerToClient, 0.011, b"JAM 10:00:00\r\n");
    session
}

/// A section, one Ethernet interface and the session's five packets.
fn good_start() -> PcapNgBuilder {
    let mut builder = PcapNgBuilder::new();
    builder.interface(Link::Ethernet);
    builder.add_session(0, Link::Ethernet, &session());
    builder
}

/// One more well-formed packet after the damage: reading must not reach it.
fn one_more_packet(builder: &mut PcapNgBuilder) {
    let mut late = TcpSession::new("10.0.0.3:40000", "10.0.0.1:45000");
    late.syn(1.0);
    builder.add_session(0, Link::Ethernet, &late);
}

/// Every shape: block lengths of 0, 13, 0xFFFFFFFF and a huge multiple of
/// 4, leading and trailing lengths that differ, a packet naming an
/// interface never described, packets before any interface (Enhanced and
/// Simple), and bad `if_tsresol` options.
pub fn all() -> Vec<Shape> {
    let mut shapes = Vec::new();
    for (name, length) in [
        ("block-length-0", 0u32),
        ("block-length-13", 13),
        ("block-length-ffffffff", u32::MAX),
        ("block-length-fffffffc", 0xFFFF_FFFC),
    ] {
        let mut builder = good_start();
        let offset = builder.offset();
        builder.block_claiming(block_type::ENHANCED_PACKET, &[0; 28], length, length);
        one_more_packet(&mut builder);
        shapes.push(Shape {
            name,
            bytes: builder.into_bytes(),
            offset,
            packets_before: 5,
            says: vec![
                "Enhanced Packet Block".into(),
                format!("block length field says {length}"),
            ],
        });
    }
    {
        let mut builder = good_start();
        let offset = builder.offset();
        builder.block_claiming(block_type::ENHANCED_PACKET, &[0; 28], 40, 44);
        one_more_packet(&mut builder);
        shapes.push(Shape {
            name: "block-lengths-differ",
            bytes: builder.into_bytes(),
            offset,
            packets_before: 5,
            says: vec!["Enhanced Packet Block".into(), "40".into(), "44".into()],
        });
    }
    {
        let mut builder = good_start();
        let offset = builder.offset();
        builder.packet(5, 0.5, &Link::Ethernet.frame(&session().packets()[0].ip));
        one_more_packet(&mut builder);
        shapes.push(Shape {
            name: "unknown-interface-id",
            bytes: builder.into_bytes(),
            offset,
            packets_before: 5,
            says: vec![
                "Enhanced Packet Block".into(),
                "interface 5".into(),
                "only interface 0".into(),
            ],
        });
    }
    {
        let mut builder = PcapNgBuilder::new();
        let offset = builder.offset();
        builder.add_session(0, Link::Ethernet, &session());
        shapes.push(Shape {
            name: "no-interface-block",
            bytes: builder.into_bytes(),
            offset,
            packets_before: 0,
            says: vec![
                "Enhanced Packet Block".into(),
                "interface 0".into(),
                "no Interface Description Block".into(),
            ],
        });
    }
    {
        let mut builder = PcapNgBuilder::new();
        let offset = builder.offset();
        builder.simple_packet(&Link::Ethernet.frame(&session().packets()[0].ip));
        shapes.push(Shape {
            name: "simple-packet-without-interface",
            bytes: builder.into_bytes(),
            offset,
            packets_before: 0,
            says: vec![
                "Simple Packet Block".into(),
                "no Interface Description Block".into(),
            ],
        });
    }
    for (name, value, says) in [
        ("tsresol-10e-30", &[30u8][..], "0x1e"),
        ("tsresol-2e-40", &[0x80 | 40][..], "0xa8"),
        ("tsresol-two-bytes", &[6, 0][..], "2 bytes"),
    ] {
        let mut builder = good_start();
        let offset = builder.offset();
        builder.interface_with_tsresol(Link::RawIp, value);
        builder.add_session(1, Link::RawIp, &session());
        shapes.push(Shape {
            name,
            bytes: builder.into_bytes(),
            offset,
            packets_before: 5,
            says: vec![
                "Interface Description Block".into(),
                "if_tsresol".into(),
                says.into(),
            ],
        });
    }
    shapes
}
