//! Which time zone the local clock uses.
//!
//! chrono's `Local` reads `TZ` or `/etc/localtime`, and silently falls back
//! to UTC when it finds no zone data (a container without tzdata, a typo in
//! `TZ`). The time server reports local time, so at start-up it says which
//! zone is in force and warns when the fallback is likely.

use std::path::Path;

use chrono::{Local, Offset};

/// What the server found out about its time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneReport {
    /// Where the zone came from, e.g. `TZ=Asia/Jakarta` or `/etc/localtime`.
    pub source: String,
    /// The current offset from UTC, e.g. `+07:00`.
    pub offset: String,
    /// Set when the zone is probably not what the user meant.
    pub warning: Option<String>,
}

/// Looks at `TZ`, `/etc/localtime` and the offset chrono actually uses.
pub fn report() -> ZoneReport {
    let offset = Local::now().offset().fix().to_string();
    let zoneinfo = Path::new("/usr/share/zoneinfo");
    match std::env::var("TZ") {
        Ok(tz) if !tz.is_empty() => {
            let name = tz.trim_start_matches(':');
            // A POSIX rule such as "WIB-7" needs no zone file; a name does.
            let is_posix_rule = name.chars().any(|c| c.is_ascii_digit()) && !name.contains('/');
            let found =
                is_posix_rule || Path::new(name).is_absolute() || zoneinfo.join(name).exists();
            let warning = (!found).then(|| {
                format!(
                    "no zone data for TZ={tz} in {}: local time falls back to UTC \
                     (install tzdata or fix TZ)",
                    zoneinfo.display()
                )
            });
            ZoneReport {
                source: format!("TZ={tz}"),
                offset,
                warning,
            }
        }
        _ => {
            let localtime = Path::new("/etc/localtime");
            let (source, warning) = match std::fs::read_link(localtime) {
                Ok(target) => (format!("/etc/localtime -> {}", target.display()), None),
                Err(_) if localtime.exists() => ("/etc/localtime".to_string(), None),
                Err(_) => (
                    "none".to_string(),
                    Some("no TZ and no /etc/localtime: local time is UTC (set TZ, e.g. TZ=Asia/Jakarta)".to_string()),
                ),
            };
            ZoneReport {
                source,
                offset,
                warning,
            }
        }
    }
}
