//! What is wrong with a damaged pcapng block, in words: its type by name,
//! and which field says what.
//!
//! A block's framing (type, length) is checked here before pcap-file's
//! parser sees it: a length of 0, 13 or 0xFFFFFFFF is damage, and must not
//! make the reader wait for bytes that would never make it right (and then
//! call the file cut short when it ends).

use pcap_file::pcapng::{
    BlockContentParseError, ContentValidationError, OptionEntryError, OptionParseError,
    PcapNgFormatError, PcapNgParseError,
};
use pcap_file::Endianness;

use super::{describe, MAX_RECORD};

const SECTION_HEADER: u32 = 0x0A0D_0D0A;
const INTERFACE_DESCRIPTION: u32 = 1;
const SIMPLE_PACKET: u32 = 3;
/// The `if_tsresol` option of an Interface Description Block.
const IF_TSRESOL: u16 = 9;

/// The name of a block type, as the pcapng specification gives it.
fn kind(type_: u32) -> &'static str {
    match type_ {
        SECTION_HEADER => "Section Header Block",
        INTERFACE_DESCRIPTION => "Interface Description Block",
        2 => "Packet Block (obsolete)",
        SIMPLE_PACKET => "Simple Packet Block",
        4 => "Name Resolution Block",
        5 => "Interface Statistics Block",
        6 => "Enhanced Packet Block",
        9 => "systemd Journal Export Block",
        0x0A => "Decryption Secrets Block",
        0x0BAD | 0x4000_0BAD => "Custom Block",
        _ => "block of an unknown type",
    }
}

/// `Enhanced Packet Block (type 0x00000006)`.
pub fn name(type_: u32) -> String {
    format!("{} (type {type_:#010x})", kind(type_))
}

/// The type and length of the block at the start of `bytes`, once enough
/// of it is there (`None` before); an error when its framing cannot be
/// right.
pub fn framing(bytes: &[u8], endianness: Endianness) -> Result<Option<(u32, u32)>, String> {
    let word = |at: usize, big: bool| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let mut big = matches!(endianness, Endianness::Big);
    let Some(type_) = word(0, big) else {
        return Ok(None);
    };
    if type_ == SECTION_HEADER {
        // A new section says its own byte order, after its length.
        let Some(magic) = word(8, true) else {
            return Ok(None);
        };
        big = match magic {
            0x1A2B_3C4D => true,
            0x4D3C_2B1A => false,
            other => {
                return Err(format!(
                    "{}: its byte-order magic is {other:#010x}, neither 0x1a2b3c4d nor 0x4d3c2b1a",
                    name(type_)
                ))
            }
        };
    }
    let Some(length) = word(4, big) else {
        return Ok(None);
    };
    let problem = if length < 12 {
        "less than the 12 bytes of a block's type and two length fields"
    } else if !length.is_multiple_of(4) {
        "not a multiple of 4"
    } else if length as usize > MAX_RECORD {
        "more than the largest block this tool reads (1048576 bytes)"
    } else {
        return Ok(Some((type_, length)));
    };
    Err(format!(
        "{}: its block length field says {length}, {problem}",
        name(type_)
    ))
}

/// A packet block names an interface that was not described before it.
pub fn unknown_interface(type_: u32, interface: u32, described: usize) -> String {
    let names = if type_ == SIMPLE_PACKET {
        "it belongs to interface 0 (as every Simple Packet Block does)".to_string()
    } else {
        format!("it names interface {interface}")
    };
    let but = match described {
        0 => "no Interface Description Block came before it in this section".to_string(),
        1 => "only interface 0 was described before it".to_string(),
        n => format!("only interfaces 0 to {} were described before it", n - 1),
    };
    format!("{}: {names}, but {but}", name(type_))
}

/// What `error` says is wrong with the block of `type_`, in words;
/// `described` interfaces came before it in its section.
pub fn damage(type_: u32, error: &PcapNgParseError, described: usize) -> String {
    let what = match error {
        PcapNgParseError::InvalidFormat(PcapNgFormatError::BlockLengthMismatch(lead, trail)) => {
            format!("its leading length field says {lead} bytes, its trailing one {trail}")
        }
        PcapNgParseError::BlockConversion(conversion) => match &*conversion.source {
            BlockContentParseError::Validation(ContentValidationError::InvalidInterfaceId(id)) => {
                return unknown_interface(type_, *id, described);
            }
            BlockContentParseError::Validation(ContentValidationError::NoInterface) => {
                return unknown_interface(type_, 0, described);
            }
            BlockContentParseError::Validation(ContentValidationError::InvalidOriginalLen(
                wire,
                captured,
            )) => format!(
                "it says {captured} bytes were captured of a packet of {wire} bytes on the wire"
            ),
            BlockContentParseError::BlockContentTooSmall { needed, actual } => format!(
                "its fields need {needed} bytes but the block holds {actual} (a length field is wrong)"
            ),
            BlockContentParseError::Option(OptionParseError::InvalidEntry {
                code, source, ..
            }) => option_damage(type_, *code, source),
            BlockContentParseError::Option(OptionParseError::ContentTooSmall { .. }) => {
                "its options run past the end of the block".to_string()
            }
            other => describe(other),
        },
        other => describe(other),
    };
    format!("{}: {what}", name(type_))
}

fn option_damage(type_: u32, code: u16, error: &OptionEntryError) -> String {
    let option = if type_ == INTERFACE_DESCRIPTION && code == IF_TSRESOL {
        "if_tsresol option".to_string()
    } else {
        format!("option {code}")
    };
    match error {
        OptionEntryError::WrongSize { expected, actual } => {
            format!("its {option} is {actual} bytes long; it must be {expected}")
        }
        OptionEntryError::Validation(ContentValidationError::InvalidTsResolution(
            value,
            binary,
            exponent,
        )) => format!(
            "its {option} is {value:#04x}: ticks of {}^-{exponent} s, finer than the nanosecond this tool reads to",
            if *binary { 2 } else { 10 }
        ),
        other => format!("its {option} is invalid: {}", describe(other)),
    }
}
