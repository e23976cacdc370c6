//! Reading pcap and pcapng files, packet by packet.
//!
//! The format is told by the first four bytes (the "magic"): pcap in either
//! byte order, with microsecond or nanosecond timestamps, or a pcapng section
//! header. Packets are handed to a callback as they are read, so a capture of
//! any size streams through in one pass. A file that ends in the middle of a
//! record is not an error for what came before it: the caller gets every
//! whole packet, then a [`Cut`] saying where the file broke off.

use std::io::{self, Read};
use std::time::Duration;

use pcap_file::pcap::PcapTsResolution;
use pcap_file::pcap::{PcapReadError, PcapReader};
use pcap_file::pcapng::blocks::block_common::Block;
use pcap_file::pcapng::PcapNgReader;

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
    /// Reading failed.
    #[error("cannot read the capture: {0}")]
    Io(#[from] io::Error),
}

/// Where a capture broke off, after the packets before it were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// Byte offset of the first record that could not be read.
    pub offset: u64,
    /// What was wrong there.
    pub reason: String,
}

const PCAPNG_MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xA1, 0xB2, 0xC3, 0xD4],
    [0xD4, 0xC3, 0xB2, 0xA1],
    [0xA1, 0xB2, 0x3C, 0x4D],
    [0x4D, 0x3C, 0xB2, 0xA1],
];
/// Largest record we buffer: generous for jumbo frames, bounded for bad input.
const READ_BUFFER: usize = 1 << 20;

/// Reads every frame of `reader`, calling `on_frame` for each. Returns where
/// the file broke off, if it did.
pub fn read_frames<R: Read>(
    mut reader: R,
    mut on_frame: impl FnMut(Frame<'_>),
) -> Result<Option<Cut>, InputError> {
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match reader.read(&mut magic[got..]) {
            Ok(0) => return Err(InputError::NotACapture(format!("only {got} bytes long"))),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let whole = io::Cursor::new(magic).chain(reader);
    if magic == PCAPNG_MAGIC {
        read_pcapng(whole, &mut on_frame)
    } else if PCAP_MAGICS.contains(&magic) {
        read_pcap(whole, &mut on_frame)
    } else {
        Err(InputError::NotACapture(format!(
            "it starts with bytes {:02x} {:02x} {:02x} {:02x}",
            magic[0], magic[1], magic[2], magic[3]
        )))
    }
}

fn read_pcap<R: Read>(
    reader: R,
    on_frame: &mut impl FnMut(Frame<'_>),
) -> Result<Option<Cut>, InputError> {
    let mut pcap = PcapReader::with_capacity(reader, READ_BUFFER).map_err(|e| match e {
        PcapReadError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            InputError::DamagedHeader("the file ends inside the 24-byte pcap header".into())
        }
        PcapReadError::Io(io) => InputError::Io(io),
        other => InputError::DamagedHeader(other.to_string()),
    })?;
    let header = pcap.header();
    let linktype = u32::from(header.datalink);
    let frac_nanos = match header.ts_resolution {
        PcapTsResolution::MicroSecond => 1_000,
        PcapTsResolution::NanoSecond => 1,
    };
    // The 24-byte file header, then 16 bytes of record header per packet.
    let mut offset: u64 = 24;
    loop {
        // next_raw_packet: it keeps packets whose orig_len exceeds the snaplen.
        let reason = match pcap.next_raw_packet() {
            None => return Ok(None),
            Some(Ok(raw)) => {
                let nanos = u64::from(raw.ts_frac).saturating_mul(frac_nanos);
                let timestamp =
                    Duration::from_secs(u64::from(raw.ts_sec)) + Duration::from_nanos(nanos);
                on_frame(Frame {
                    timestamp,
                    linktype,
                    data: &raw.data,
                });
                offset += 16 + u64::from(raw.incl_len);
                continue;
            }
            Some(Err(PcapReadError::Io(e))) if e.kind() == io::ErrorKind::UnexpectedEof => {
                "the file ends in the middle of a packet record (cut short?)".to_string()
            }
            Some(Err(e)) => describe(&e),
        };
        return Ok(Some(Cut { offset, reason }));
    }
}

fn read_pcapng<R: Read>(
    reader: R,
    on_frame: &mut impl FnMut(Frame<'_>),
) -> Result<Option<Cut>, InputError> {
    let mut pcapng = PcapNgReader::with_capacity(reader, READ_BUFFER).map_err(|e| {
        InputError::DamagedHeader(format!("pcapng section header: {}", describe(&e)))
    })?;
    let mut last_timestamp = Duration::ZERO;
    loop {
        let reason = match pcapng.next_block() {
            None => return Ok(None),
            Some(Ok((block, state))) => {
                let interfaces = state.interfaces();
                let linktype_of = |id: u32| {
                    interfaces
                        .get(id as usize)
                        .map(|interface| u32::from(interface.linktype))
                };
                match &block {
                    Block::EnhancedPacket(packet) => {
                        last_timestamp = packet.timestamp;
                        if let Some(linktype) = linktype_of(packet.interface_id) {
                            on_frame(Frame {
                                timestamp: packet.timestamp,
                                linktype,
                                data: &packet.data,
                            });
                        }
                    }
                    Block::SimplePacket(packet) => {
                        // No timestamp of its own: it belongs with the one before.
                        if let Some(linktype) = linktype_of(0) {
                            on_frame(Frame {
                                timestamp: last_timestamp,
                                linktype,
                                data: &packet.data,
                            });
                        }
                    }
                    Block::Packet(packet) => {
                        last_timestamp = packet.timestamp;
                        if let Some(linktype) = linktype_of(u32::from(packet.interface_id)) {
                            on_frame(Frame {
                                timestamp: packet.timestamp,
                                linktype,
                                data: &packet.data,
                            });
                        }
                    }
                    _ => {}
                }
                continue;
            }
            Some(Err(e)) => describe(&e),
        };
        return Ok(Some(Cut {
            offset: pcapng.bytes_parsed(),
            reason,
        }));
    }
}

/// An error with its causes, on one line.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string().trim().to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string().trim().to_string();
        if cause.is::<io::Error>()
            && cause
                .downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::UnexpectedEof)
        {
            text = "the file ends in the middle of a block (cut short?)".to_string();
            break;
        }
        text.push_str(": ");
        text.push_str(&cause_text);
        source = cause.source();
    }
    text
}
