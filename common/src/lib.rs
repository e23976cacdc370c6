//! What every program of the lab shares.
//!
//! - [`build_info`]: which build a program comes from, for `--version`.
//! - [`lab`]: the lab's machines, their names and addresses.
//! - [`logging`]: timestamped logs on stderr, `RUST_LOG` respected, info by default.
//! - [`runtime`]: the tokio runtime, sized to the cores the process may use.
//! - [`timezone`]: which time zone the local clock really uses.
//! - [`parse_seconds`]: durations on the command line (`0.5`, `300`).

pub mod build_info;
pub mod lab;
#[cfg(feature = "runtime")]
pub mod logging;
#[cfg(feature = "runtime")]
pub mod runtime;
#[cfg(feature = "runtime")]
pub mod timezone;

use std::time::Duration;

/// Parses a number of seconds such as `2`, `0.5` or `300` (for clap).
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("'{text}' is not a usable number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_accept_fractions_and_refuse_nonsense() {
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds("300"), Ok(Duration::from_secs(300)));
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
    }
}
