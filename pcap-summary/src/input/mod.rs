//! Reading pcap and pcapng files, packet by packet.
//!
//! The format is told by the first four bytes (the "magic"): pcap in either
//! byte order, with microsecond or nanosecond timestamps, or a pcapng section
//! header. Packets are handed to a callback as they are read, so a capture of
//! any size streams through in one pass. A file that ends in the middle of a
//! record is not an error for what came before it: the caller gets every
//! whole packet, then a [`Cut`] saying where the file broke off. A damaged
//! record or block stops the reading the same way, and the [`Cut`] then says
//! so ([`CutKind::Damaged`]): what is wrong, at which byte, in which block.
//!
//! File headers of a version that libpcap and tshark refuse (classic pcap
//! other than 2.x, pcapng other than 1.x) are refused here too.

use std::io::{self, Read};
use std::time::Duration;

use pcap_file::pcap::{PcapParseError, PcapParser, PcapTsResolution};
use pcap_file::pcapng::blocks::block_common::Block;
use pcap_file::pcapng::{PcapNgParseError, PcapNgParser};

/// One captured frame.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Capture time since the Unix epoch.
    pub timestamp: Duration,
    /// The LINKTYPE_ of the interface it was captured on.
    pub linktype: u32,
    /// The captured bytes, link-layer header first.
    pub data: &'a [u8],
}

/// The input cannot be read as a capture at all.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Not a pcap or pcapng file.
    #[error("not a capture file: {0} (expected a pcap or pcapng file, e.g. from tcpdump -w or Wireshark)")]
    NotACapture(String),
    /// The file header is damaged.
    #[error("damaged capture file header: {0}")]
    DamagedHeader(String),
    /// The file header gives a version no reader accepts.
    #[error("{format} file header (bytes 4 to 7) says version {major}.{minor}; {format} files are version {expected}.x, and libpcap and tshark refuse any other (a damaged header?)")]
    UnsupportedVersion {
        /// `pcap` or `pcapng`.
        format: &'static str,
        /// The major version found.
        major: u16,
        /// The minor version found.
        minor: u16,
        /// The major version readers accept.
        expected: u16,
    },
    /// Reading failed.
    #[error("cannot read the capture: {0}")]
    Io(#[from] io::Error),
}

/// Where a capture broke off, after the packets before it were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// Byte offset of the first record that could not be read.
    pub offset: u64,
    /// Cut short, damaged, or unreadable.
    pub kind: CutKind,
    /// What was wrong there.
    pub reason: String,
}

/// Why reading stopped before the end of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutKind {
    /// The file ends inside a record or block: it was cut short.
    Truncated,
    /// A record or block is damaged (a length, an interface id, an option
    /// that cannot be right): nothing after it can be read with confidence.
    Damaged,
    /// Reading the input failed.
    ReadError,
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Cut {
            offset,
            kind,
            reason,
        } = self;
        match kind {
            CutKind::Truncated => write!(f, "capture cut at byte {offset}: {reason}"),
            CutKind::Damaged => write!(
                f,
                "damaged capture at byte {offset}: {reason}; reading stopped there"
            ),
            CutKind::ReadError => write!(f, "read error at byte {offset}: {reason}"),
        }
    }
}

mod chunks;
mod pcapng;
mod records;

pub use chunks::{ChunkSource, Chunks, ReadAhead, CHUNK};
pub use records::MAX_RECORD;

use records::{Parsed, Records, Stop};

const PCAPNG_MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xA1, 0xB2, 0xC3, 0xD4],
    [0xD4, 0xC3, 0xB2, 0xA1],
    [0xA1, 0xB2, 0x3C, 0x4D],
    [0x4D, 0x3C, 0xB2, 0xA1],
];

/// Reads every frame of `reader` on this thread, calling `on_frame` for
/// each. Returns where the file broke off, if it did.
pub fn read_frames<R: Read>(
    reader: R,
    on_frame: impl FnMut(Frame<'_>),
) -> Result<Option<Cut>, InputError> {
    read_frames_from(Chunks::new(reader), on_frame)
}

/// Reads every frame from the chunks of `source`, calling `on_frame` for
/// each. Returns where the file broke off, if it did.
pub fn read_frames_from(
    source: impl ChunkSource,
    mut on_frame: impl FnMut(Frame<'_>),
) -> Result<Option<Cut>, InputError> {
    let mut records = Records::new(source);
    match read_file_header(&mut records)? {
        FileHeader::Pcap(parser) => read_pcap(records, parser, &mut on_frame),
        FileHeader::PcapNg(parser) => read_pcapng(records, parser, &mut on_frame),
    }
}

/// What the first record of the file said it is.
enum FileHeader {
    Pcap(PcapParser),
    PcapNg(PcapNgParser),
}

/// Reads the file header: the pcap header or the pcapng section header,
/// told apart by their first four bytes (the "magic").
fn read_file_header(records: &mut Records<impl ChunkSource>) -> Result<FileHeader, InputError> {
    let mut header = None;
    let mut not_a_capture = false;
    let mut magic_seen = false;
    let mut unsupported = None;
    let result = records.next(|bytes| {
        let Some(magic) = bytes.get(..4) else {
            return Parsed::Incomplete;
        };
        magic_seen = true;
        if magic == PCAPNG_MAGIC {
            match PcapNgParser::new(bytes) {
                // libpcap and tshark read pcapng 1.x only.
                Ok((_, parser)) if parser.section().major_version != 1 => {
                    let section = parser.section();
                    unsupported = Some(InputError::UnsupportedVersion {
                        format: "pcapng",
                        major: section.major_version,
                        minor: section.minor_version,
                        expected: 1,
                    });
                    Parsed::Invalid(String::new())
                }
                Ok((rest, parser)) => {
                    header = Some(FileHeader::PcapNg(parser));
                    Parsed::Record(bytes.len() - rest.len())
                }
                Err(PcapNgParseError::IncompleteBuffer(..)) => Parsed::Incomplete,
                Err(e) => Parsed::Invalid(format!("pcapng section header: {}", describe(&e))),
            }
        } else if PCAP_MAGICS.iter().any(|m| m == magic) {
            match PcapParser::new(bytes) {
                // libpcap and tshark refuse every version but 2.x.
                Ok((_, parser)) if parser.header().version_major != 2 => {
                    let header = parser.header();
                    unsupported = Some(InputError::UnsupportedVersion {
                        format: "pcap",
                        major: header.version_major,
                        minor: header.version_minor,
                        expected: 2,
                    });
                    Parsed::Invalid(String::new())
                }
                Ok((rest, parser)) => {
                    header = Some(FileHeader::Pcap(parser));
                    Parsed::Record(bytes.len() - rest.len())
                }
                Err(PcapParseError::IncompleteBuffer(..)) => Parsed::Incomplete,
                Err(e) => Parsed::Invalid(e.to_string()),
            }
        } else {
            not_a_capture = true;
            Parsed::Invalid(format!(
                "it starts with bytes {:02x} {:02x} {:02x} {:02x}",
                magic[0], magic[1], magic[2], magic[3]
            ))
        }
    });
    if let Some(error) = unsupported {
        return Err(error);
    }
    match (result, header) {
        (Ok(()), Some(header)) => Ok(header),
        (Err(Stop::Io(e)), _) => Err(e.into()),
        (Err(Stop::Invalid(why)), _) if not_a_capture => Err(InputError::NotACapture(why)),
        (Err(Stop::Invalid(why)), _) => Err(InputError::DamagedHeader(why)),
        _ if !magic_seen => Err(InputError::NotACapture("it is shorter than 4 bytes".into())),
        _ => Err(InputError::DamagedHeader(
            "the file ends inside the file header (cut short?)".into(),
        )),
    }
}

/// Where and why the records stopped, or None at a clean end; `what` names
/// the record that could not be read ("packet record", "Enhanced Packet
/// Block of 96 bytes").
fn cut_at(offset: u64, stop: Stop, what: &str) -> Option<Cut> {
    let (kind, reason) = match stop {
        Stop::End => return None,
        Stop::Truncated => (
            CutKind::Truncated,
            format!("the file ends in the middle of a {what} (cut short?)"),
        ),
        Stop::TooLarge => (
            CutKind::Damaged,
            format!("a {what} claims more than {MAX_RECORD} bytes (damaged length field?)"),
        ),
        Stop::Invalid(why) => (CutKind::Damaged, why),
        Stop::Io(e) => (CutKind::ReadError, e.to_string()),
    };
    Some(Cut {
        offset,
        kind,
        reason,
    })
}

/// Bytes of a classic pcap record header.
const PCAP_RECORD_HEADER: usize = 16;

fn read_pcap(
    mut records: Records<impl ChunkSource>,
    parser: PcapParser,
    on_frame: &mut impl FnMut(Frame<'_>),
) -> Result<Option<Cut>, InputError> {
    let header = parser.header();
    let linktype = u32::from(header.datalink);
    let frac_nanos = match header.ts_resolution {
        PcapTsResolution::MicroSecond => 1_000,
        PcapTsResolution::NanoSecond => 1,
    };
    let big_endian = matches!(header.endianness, pcap_file::Endianness::Big);
    loop {
        let offset = records.offset();
        // next_raw_packet: it keeps packets whose orig_len exceeds the snaplen.
        let result = records.next(|bytes| {
            // The captured length, checked before the parser waits for that
            // many bytes: a damaged one would be taken for a cut file.
            let Some(field) = bytes.get(8..12) else {
                return Parsed::Incomplete;
            };
            let field: [u8; 4] = [field[0], field[1], field[2], field[3]];
            let captured = if big_endian {
                u32::from_be_bytes(field)
            } else {
                u32::from_le_bytes(field)
            };
            if captured as usize > MAX_RECORD - PCAP_RECORD_HEADER {
                return Parsed::Invalid(format!(
                    "the packet record there claims more than {MAX_RECORD} bytes: its captured length field says {captured} (a damaged length field)"
                ));
            }
            match parser.next_raw_packet(bytes) {
                Ok((rest, raw)) => {
                    let nanos = u64::from(raw.ts_frac).saturating_mul(frac_nanos);
                    let timestamp =
                        Duration::from_secs(u64::from(raw.ts_sec)) + Duration::from_nanos(nanos);
                    on_frame(Frame {
                        timestamp,
                        linktype,
                        data: &raw.data,
                    });
                    Parsed::Record(bytes.len() - rest.len())
                }
                Err(PcapParseError::IncompleteBuffer(..)) => Parsed::Incomplete,
                Err(e) => Parsed::Invalid(format!("the packet record there: {}", describe(&e))),
            }
        });
        if let Err(stop) = result {
            return Ok(cut_at(offset, stop, "packet record"));
        }
    }
}

fn read_pcapng(
    mut records: Records<impl ChunkSource>,
    mut parser: PcapNgParser,
    on_frame: &mut impl FnMut(Frame<'_>),
) -> Result<Option<Cut>, InputError> {
    let mut last_timestamp = Duration::ZERO;
    loop {
        let offset = records.offset();
        // The block's type and length, once its first bytes are read: what
        // a cut names.
        let mut framing = None;
        let result = records.next(|bytes| {
            let endianness = parser.section().endianness;
            let (type_, length) = match pcapng::framing(bytes, endianness) {
                Ok(Some(found)) => found,
                Ok(None) => return Parsed::Incomplete,
                Err(damage) => return Parsed::Invalid(damage),
            };
            framing = Some((type_, length));
            match parser.next_block(bytes) {
                Ok((rest, block)) => {
                    let (timestamp, interface, data) = match &block {
                        Block::EnhancedPacket(packet) => {
                            (packet.timestamp, packet.interface_id, &packet.data)
                        }
                        // No timestamp of its own: it belongs with the one before.
                        Block::SimplePacket(packet) => (last_timestamp, 0, &packet.data),
                        Block::Packet(packet) => (
                            packet.timestamp,
                            u32::from(packet.interface_id),
                            &packet.data,
                        ),
                        _ => return Parsed::Record(bytes.len() - rest.len()),
                    };
                    let interfaces = parser.interfaces();
                    let Some(described) = interfaces.get(interface as usize) else {
                        return Parsed::Invalid(pcapng::unknown_interface(
                            type_,
                            interface,
                            interfaces.len(),
                        ));
                    };
                    last_timestamp = timestamp;
                    on_frame(Frame {
                        timestamp,
                        linktype: u32::from(described.linktype),
                        data,
                    });
                    Parsed::Record(bytes.len() - rest.len())
                }
                Err(PcapNgParseError::IncompleteBuffer(..)) => Parsed::Incomplete,
                Err(e) => Parsed::Invalid(pcapng::damage(type_, &e, parser.interfaces().len())),
            }
        });
        if let Err(stop) = result {
            let what = match framing {
                Some((type_, length)) => format!("{} of {length} bytes", pcapng::name(type_)),
                None => "block".to_string(),
            };
            return Ok(cut_at(offset, stop, &what));
        }
    }
}

/// An error with its causes, on one line.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string().trim().to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(cause.to_string().trim());
        source = cause.source();
    }
    text
}
