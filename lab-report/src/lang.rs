//! English (default) or Indonesian, the course's language.

/// The language of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// English.
    En,
    /// Bahasa Indonesia.
    Id,
}

impl Lang {
    /// Picks the text for this language.
    pub fn pick(self, en: impl Into<String>, id: impl Into<String>) -> String {
        match self {
            Lang::En => en.into(),
            Lang::Id => id.into(),
        }
    }
}
