//! What can go wrong while planning or reporting an experiment.

/// What can go wrong in this crate, in words a student can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No experiment has that name.
    #[error("unknown experiment '{name}': one of {known}")]
    UnknownScenario {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
    /// A parameter's value does not fit.
    #[error("{param}={value}: {reason}")]
    BadParam {
        /// The environment variable.
        param: &'static str,
        /// What it was set to.
        value: String,
        /// What it must be.
        reason: &'static str,
    },
    /// A file of the experiment's folder is missing or unreadable.
    #[error("{file}: {reason}")]
    Folder {
        /// The file, relative to the folder.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// The capture could not be read.
    #[error("capture.pcap: {0}")]
    Capture(#[from] pcap_summary::input::InputError),
    /// Writing a file of the report failed.
    #[error("writing {file}: {source}")]
    Write {
        /// The file.
        file: String,
        /// What the system said.
        source: std::io::Error,
    },
}
