//! Logging what a connection did, the way the course's examples print it.
//!
//! Each request is logged escaped (`received "TIME\r\n"`), with `--show-bytes`
//! also as byte values (`[84, 73, 77, 69, 13, 10]`), each reply as it is
//! sent, and at the end why the connection closed.

use progjar_protocol::escape::escape_preview;
use progjar_protocol::{Action, CloseReason};
use tracing::info;

/// Longest payload shown in a log line; longer ones are cut with their length.
const LOG_PREVIEW: usize = 256;

/// Logs and drains `actions`: requests are logged, bytes to send are
/// appended to `outgoing`, and a close, if any, is returned.
pub fn settle(
    actions: &mut Vec<Action>,
    outgoing: &mut Vec<u8>,
    show_bytes: bool,
) -> Option<CloseReason> {
    let mut close = None;
    // Escaping a payload for the log costs more than answering it: only do
    // it when the log line will be written (RUST_LOG=warn turns it off).
    let logging = tracing::enabled!(tracing::Level::INFO);
    for action in actions.drain(..) {
        match action {
            Action::Received(bytes) if logging => log_payload("received", &bytes, show_bytes),
            Action::Received(_) => {}
            Action::Send(bytes) => {
                if logging {
                    log_payload("sent", &bytes, false);
                }
                outgoing.extend_from_slice(&bytes);
            }
            Action::Close(reason) => close = Some(reason),
        }
    }
    close
}

fn log_payload(verb: &str, bytes: &[u8], show_bytes: bool) {
    let text = format!("\"{}\"", escape_preview(bytes, LOG_PREVIEW));
    if show_bytes && bytes.len() <= LOG_PREVIEW {
        info!("{verb} {text} {bytes:?}");
    } else {
        info!("{verb} {text}");
    }
}
