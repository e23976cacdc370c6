//! The open-files limit (RLIMIT_NOFILE, `ulimit -n`).
//!
//! Every connection costs the server file descriptors (two in thread mode:
//! the socket and the copy shutdown uses to close it), and many systems
//! start programs with a soft limit of 1024 although the hard limit allows
//! far more. The servers raise the soft limit to the hard one at start and
//! log what they got.

use std::fmt;

/// What [`raise_open_files_limit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raise {
    /// The soft limit was below the hard one and now equals it.
    Raised {
        /// The soft limit before.
        from: Limit,
        /// The soft limit now (the hard limit).
        to: Limit,
    },
    /// The soft limit already was the hard limit.
    AlreadyHard(Limit),
    /// The kernel refused to raise it (or to say what it is).
    Failed {
        /// The soft limit, which stays as it was (None: unknown).
        soft: Option<Limit>,
        /// The hard limit asked for (None: unknown).
        hard: Option<Limit>,
        /// What the kernel said.
        error: String,
    },
}

/// A limit on open files, which may be "unlimited".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub Raw);

/// How the system writes a limit.
#[cfg(unix)]
pub type Raw = libc::rlim_t;
/// How the system writes a limit.
#[cfg(not(unix))]
pub type Raw = u64;

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(unix)]
        if self.0 == libc::RLIM_INFINITY {
            return f.write_str("unlimited");
        }
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Raise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Raise::Raised { from, to } => write!(
                f,
                "open files limit (ulimit -n) raised from {from} to {to}, the hard limit"
            ),
            Raise::AlreadyHard(limit) => write!(
                f,
                "open files limit (ulimit -n): {limit}, already the hard limit"
            ),
            Raise::Failed {
                soft: Some(soft),
                hard: Some(hard),
                error,
            } => write!(
                f,
                "open files limit (ulimit -n) stays {soft}: raising it to the hard limit {hard} failed: {error}"
            ),
            Raise::Failed { error, .. } => {
                write!(f, "cannot read the open files limit (ulimit -n): {error}")
            }
        }
    }
}

/// Raises the soft open-files limit of this process to its hard limit.
#[cfg(unix)]
pub fn raise_open_files_limit() -> Raise {
    let Some(mut limit) = get() else {
        return Raise::Failed {
            soft: None,
            hard: None,
            error: std::io::Error::last_os_error().to_string(),
        };
    };
    let (from, to) = (Limit(limit.rlim_cur), Limit(limit.rlim_max));
    if limit.rlim_cur >= limit.rlim_max {
        return Raise::AlreadyHard(from);
    }
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: setrlimit only reads the struct we pass.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Raise::Failed {
            soft: Some(from),
            hard: Some(to),
            error: std::io::Error::last_os_error().to_string(),
        };
    }
    Raise::Raised { from, to }
}

/// Where there is no such limit, there is nothing to raise.
#[cfg(not(unix))]
pub fn raise_open_files_limit() -> Raise {
    Raise::Failed {
        soft: None,
        hard: None,
        error: "not available on this system".into(),
    }
}

/// The soft open-files limit now, if the system has one.
pub fn open_files_limit() -> Option<Limit> {
    #[cfg(unix)]
    return get().map(|limit| Limit(limit.rlim_cur));
    #[cfg(not(unix))]
    None
}

#[cfg(unix)]
fn get() -> Option<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0).then_some(limit)
}

/// Whether `error` says this process (EMFILE) or the whole system (ENFILE)
/// has no file descriptor left.
pub fn is_out_of_descriptors(error: &std::io::Error) -> bool {
    #[cfg(unix)]
    return matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_limits() {
        let raised = Raise::Raised {
            from: Limit(1024),
            to: Limit(524_288),
        };
        assert_eq!(
            raised.to_string(),
            "open files limit (ulimit -n) raised from 1024 to 524288, the hard limit"
        );
        let failed = Raise::Failed {
            soft: Some(Limit(64)),
            hard: Some(Limit(128)),
            error: "Operation not permitted".into(),
        };
        assert!(failed.to_string().contains("stays 64"), "{failed}");
    }

    #[cfg(unix)]
    #[test]
    fn emfile_and_enfile_are_out_of_descriptors_and_others_not() {
        for (code, out) in [
            (libc::EMFILE, true),
            (libc::ENFILE, true),
            (libc::ECONNABORTED, false),
        ] {
            let error = std::io::Error::from_raw_os_error(code);
            assert_eq!(is_out_of_descriptors(&error), out, "{error}");
        }
    }
}
