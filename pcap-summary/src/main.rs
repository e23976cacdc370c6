//! pcap-summary: explain a TCP capture the way a lab report needs it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::TypedValueParser as _;
use clap::Parser;
use pcap_summary::conversation::{Conversation, Limits};
use pcap_summary::{summarize_with_read_ahead, text, timeline, Follow, Options};

/// Summarize the TCP conversations of a capture: the three-way handshake,
/// the PSH/ACK data segments with their payloads, the FIN teardown, and
/// which conversations overlapped in time.
///
/// Reads pcap (any byte order, micro or nano seconds) and pcapng, with
/// Ethernet, Linux cooked (SLL, SLL2), raw IP and BSD loopback frames.
/// `-` reads standard input: `tcpdump -w - | pcap-summary -`.
#[derive(Debug, Parser)]
#[command(name = "pcap-summary", version = progjar_common::build_info::version(env!("CARGO_PKG_VERSION")))]
#[command(
    after_help = "Exit codes: 0 done; 4 an output could not be written (standard output, say on a full disk, or the ladder picture, which could also fail to be drawn; a pipe closed early, as by `| head`, is no error); 2 not a capture, a damaged file header, a pcap version other than 2.x or a pcapng version other than 1.x (as libpcap and tshark refuse them), or a bad command line; 3 reading stopped early: the file was cut short or a record or block is damaged (everything before it is summarized; stderr says what and at which byte)."
)]
struct Args {
    /// The capture file, or - for standard input.
    file: PathBuf,

    /// Print JSON instead of text, on one line (schema in the README).
    #[arg(long)]
    json: bool,

    /// With --json: indent it for people to read.
    #[arg(long, requires = "json")]
    pretty: bool,

    /// Show only this conversation (its id), in full.
    #[arg(long, value_name = "ID")]
    conversation: Option<usize>,

    /// Show only conversations with this port on either side.
    #[arg(long)]
    port: Option<u16>,

    /// Show only conversations with this address on either side.
    #[arg(long)]
    host: Option<IpAddr>,

    /// Data segments kept in detail per conversation.
    #[arg(long, default_value_t = Limits::default().segments, value_name = "N")]
    max_segments: usize,

    /// Conversations kept in full: the first N of the capture. Past them,
    /// conversations are counted only (how many, their packets, bytes and
    /// flags), up to 20 times N more; past those, packets are counted
    /// without being told apart into conversations. Memory stays bounded
    /// (a SYN flood of a million connections takes about 120 MB).
    #[arg(long, default_value_t = Limits::default().conversations, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    max_conversations: usize,

    /// Payload bytes shown per segment.
    #[arg(long, default_value_t = Limits::default().payload_bytes, value_name = "BYTES")]
    payload_bytes: usize,

    /// Also write the timeline as an SVG picture to this file.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,

    /// Write a ladder (sequence) diagram as SVG to this file: one line per
    /// host, an arrow per segment labelled with its flags, seq, ack, len and
    /// payload, the handshake, data and teardown bracketed, flagged segments
    /// in red with the reason. With one conversation selected (--conversation)
    /// its ladder; with several, one overview (a colour per conversation).
    #[arg(long, value_name = "FILE")]
    ladder: Option<PathBuf>,

    /// The same picture as a PNG (twice the size, for printing), to paste
    /// into a report.
    #[arg(long, value_name = "FILE")]
    ladder_png: Option<PathBuf>,

    /// Print conversation ID's whole byte stream both ways instead of the
    /// summary: each byte once, in stream order (retransmitted bytes not
    /// repeated), text escaped, other bytes as hex and ASCII, with each
    /// side's total; like `tshark -z follow,tcp,ascii,ID`.
    #[arg(long, value_name = "ID", conflicts_with = "json")]
    follow: Option<usize>,
}

const EXIT_BAD_INPUT: u8 = 2;
const EXIT_CANNOT_WRITE: u8 = 4;
const EXIT_CUT: u8 = 3;

fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        limits: Limits {
            segments: args.max_segments,
            payload_bytes: args.payload_bytes,
            conversations: args.max_conversations,
            ladder: if args.ladder.is_some() || args.ladder_png.is_some() {
                pcap_summary::ladder::LADDER_SEGMENTS
            } else {
                0
            },
        },
        follow: args.follow.map_or(Follow::None, Follow::One),
    };
    let name = args.file.display().to_string();
    let result = if name == "-" {
        summarize_with_read_ahead(std::io::stdin(), &options)
    } else {
        match File::open(&args.file) {
            Ok(file) => summarize_with_read_ahead(file, &options),
            Err(e) => {
                eprintln!("pcap-summary: cannot open {name}: {e}");
                return ExitCode::from(EXIT_BAD_INPUT);
            }
        }
    };
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => {
            eprintln!("pcap-summary: {name}: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let selected: Vec<&Conversation> = summary
        .conversations
        .iter()
        .filter(|c| args.conversation.is_none_or(|id| c.id == id))
        .filter(|c| {
            args.port
                .is_none_or(|p| c.client.port() == p || c.server.port() == p)
        })
        .filter(|c| {
            args.host
                .is_none_or(|h| c.client.ip() == h || c.server.ip() == h)
        })
        .collect();
    if let Some(path) = &args.svg {
        if let Err(e) = std::fs::write(path, timeline::svg(&selected, summary.duration)) {
            eprintln!("pcap-summary: cannot write {}: {e}", path.display());
        }
    }
    if let Some(id) = args.follow {
        let Some(followed) = summary.followed.first() else {
            eprintln!(
                "pcap-summary: {name} has no conversation {id} (it has {}: 0 to {})",
                summary.conversations.len(),
                summary.conversations.len().saturating_sub(1)
            );
            return ExitCode::from(EXIT_BAD_INPUT);
        };
        let c = summary.conversations.iter().find(|c| c.id == id);
        let (client, server) = c.map_or((String::new(), String::new()), |c| {
            (c.client.to_string(), c.server.to_string())
        });
        let mut out = std::io::stdout().lock();
        let written = out
            .write_all(followed.render(&client, &server).as_bytes())
            .and_then(|()| out.flush());
        let output_failed = failed_to_write(written);
        return match &summary.cut {
            _ if output_failed => ExitCode::from(EXIT_CANNOT_WRITE),
            Some(cut) => {
                eprintln!("pcap-summary: {name}: {cut}");
                ExitCode::from(EXIT_CUT)
            }
            None => ExitCode::SUCCESS,
        };
    }
    // A picture that cannot be made is said, and the summary still printed.
    let mut picture_failed = false;
    if args.ladder.is_some() || args.ladder_png.is_some() {
        if let Err(e) = write_ladder(&args, &selected) {
            eprintln!("pcap-summary: {e}");
            picture_failed = true;
        }
    }
    let mut out = BufWriter::with_capacity(1 << 16, stdout_file());
    let written = if args.json {
        if args.pretty {
            serde_json::to_writer_pretty(&mut out, &summary.json_view(&selected))
        } else {
            summary.write_json(&selected, &mut out)
        }
        // serde_json's error keeps the kind of the write error it wraps.
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
    } else {
        out.write_all(
            text::render(&summary, &name, &selected, args.conversation.is_some()).as_bytes(),
        )
    };
    let output_failed = failed_to_write(written.and_then(|()| out.flush()));
    let code = match &summary.cut {
        _ if output_failed => ExitCode::from(EXIT_CANNOT_WRITE),
        Some(cut) => {
            eprintln!("pcap-summary: {name}: {cut}");
            ExitCode::from(EXIT_CUT)
        }
        None if picture_failed => ExitCode::from(EXIT_CANNOT_WRITE),
        None => ExitCode::SUCCESS,
    };
    // The process ends here and the OS takes all its memory back at once:
    // freeing hundreds of thousands of stored payloads one by one first
    // would only add time (a tenth of the run on a 1 GB capture).
    drop(selected);
    std::mem::forget(summary);
    code
}

/// Whether writing the output failed, said on stderr. A pipe closed early
/// (`| head`) is not an error worth a message: the reader had enough.
fn failed_to_write(result: std::io::Result<()>) -> bool {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("pcap-summary: cannot write the output: {e}");
            true
        }
        _ => false,
    }
}

/// Standard output for large writes: a big capture's JSON is tens of
/// megabytes, and `std::io::stdout`'s line buffering would look for line
/// ends in all of it. Where it can, the same file written directly.
fn stdout_file() -> Box<dyn Write> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
            return Box::new(File::from(fd));
        }
    }
    Box::new(std::io::stdout().lock())
}

/// Writes the ladder of the one selected conversation, or the overview of
/// several, as SVG and/or PNG.
fn write_ladder(args: &Args, selected: &[&Conversation]) -> Result<(), String> {
    let lab_net = progjar_common::lab::net_from_env();
    let svg = match selected {
        [] => {
            return Err(
                "no conversation to draw a ladder of (see --conversation, --port, --host)".into(),
            )
        }
        [one] => pcap_summary::ladder::svg(one, &lab_net),
        several => pcap_summary::ladder::overview(several, &lab_net),
    };
    if let Some(path) = &args.ladder {
        std::fs::write(path, &svg).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if let Some(path) = &args.ladder_png {
        let png = pcap_summary::ladder::png(&svg)
            .map_err(|e| format!("cannot draw {}: {e}", path.display()))?;
        std::fs::write(path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}
