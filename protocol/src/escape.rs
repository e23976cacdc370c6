//! Showing raw bytes to people.
//!
//! Logs and reports show payloads the way Python's `repr()` does in the
//! course's examples: printable ASCII as it is, `\r` `\n` `\t` spelled out,
//! anything else as `\xNN`. A student can then see at a glance whether a
//! request really ended in CR LF.

/// Escapes `bytes` without surrounding quotes: `TIME\r\n`.
pub fn escape_bytes(bytes: &[u8]) -> String {
    Escaped(bytes).to_string()
}

/// `bytes`, escaped when displayed: `format!("{}", Escaped(b"TIME\r\n"))` is
/// `TIME\r\n`. Writing it needs no intermediate `String`.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a [u8]);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut rest = self.0;
        while !rest.is_empty() {
            // Write the longest run that needs no escaping in one go.
            let plain = rest
                .iter()
                .position(|&b| !is_plain(b))
                .unwrap_or(rest.len());
            // Plain bytes are printable ASCII, so this is valid UTF-8.
            f.write_str(std::str::from_utf8(&rest[..plain]).unwrap_or_default())?;
            let Some((&byte, tail)) = rest[plain..].split_first() else {
                break;
            };
            match byte {
                b'\r' => f.write_str("\\r")?,
                b'\n' => f.write_str("\\n")?,
                b'\t' => f.write_str("\\t")?,
                b'\\' => f.write_str("\\\\")?,
                b'"' => f.write_str("\\\"")?,
                _ => write!(f, "\\x{byte:02x}")?,
            }
            rest = tail;
        }
        Ok(())
    }
}

/// Printable ASCII that stands for itself (everything else is escaped).
pub fn is_plain(byte: u8) -> bool {
    (0x20..=0x7e).contains(&byte) && byte != b'\\' && byte != b'"'
}

/// Escapes `bytes` and puts them in double quotes: `"TIME\r\n"`.
pub fn quoted(bytes: &[u8]) -> String {
    format!("\"{}\"", escape_bytes(bytes))
}

/// Escapes at most `limit` bytes, adding `...` and the total when cut.
pub fn escape_preview(bytes: &[u8], limit: usize) -> String {
    if bytes.len() <= limit {
        escape_bytes(bytes)
    } else {
        format!(
            "{}... ({} bytes)",
            escape_bytes(&bytes[..limit]),
            bytes.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_spelled_out() {
        assert_eq!(escape_bytes(b"TIME\r\n"), "TIME\\r\\n");
        assert_eq!(escape_bytes(b"a\tb"), "a\\tb");
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(quoted(b"say \"hi\" \\o/"), "\"say \\\"hi\\\" \\\\o/\"");
    }

    #[test]
    fn non_ascii_bytes_become_hex() {
        assert_eq!(escape_bytes(&[0x00, 0xff, b'A']), "\\x00\\xffA");
        assert_eq!(escape_bytes("é".as_bytes()), "\\xc3\\xa9");
    }

    #[test]
    fn preview_cuts_long_payloads_and_says_how_long() {
        assert_eq!(escape_preview(b"abcdef", 3), "abc... (6 bytes)");
        assert_eq!(escape_preview(b"abc", 3), "abc");
    }
}
