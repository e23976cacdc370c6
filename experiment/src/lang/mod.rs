//! The report's sentences, one catalogue per language.
//!
//! Findings are computed once, as facts, and said as [`Message`]s: an id and
//! named arguments. Each language is one Fluent file beside this one
//! (`en.ftl`, `id.ftl`) that says every message its own way, plural forms
//! included. A third language is one more `.ftl` file and one line in
//! [`Lang`]. A test checks that every catalogue has every message.

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use serde::Serialize;
use unic_langid::LanguageIdentifier;

/// The language of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// English.
    En,
    /// Bahasa Indonesia, the course's language.
    Id,
}

impl Lang {
    /// Every language there is a catalogue for.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Id];

    /// The language's tag, `en` or `id`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Id => "id",
        }
    }

    /// The catalogue's Fluent source.
    pub fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("en.ftl"),
            Lang::Id => include_str!("id.ftl"),
        }
    }
}

/// A value a sentence refers to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Arg {
    /// Text put in as it is (names, commands, formatted times).
    Text(String),
    /// A count: picks the plural form.
    Count(u64),
}

/// A sentence to say: which one, and about what.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// The message's id in the catalogues.
    pub id: &'static str,
    /// Its arguments by name.
    pub args: Vec<(&'static str, Arg)>,
}

impl Message {
    /// The message `id` with no arguments yet.
    pub fn new(id: &'static str) -> Message {
        Message {
            id,
            args: Vec::new(),
        }
    }

    /// Adds a text argument.
    pub fn text(mut self, name: &'static str, value: impl Into<String>) -> Message {
        self.args.push((name, Arg::Text(value.into())));
        self
    }

    /// Adds a count argument.
    pub fn count(mut self, name: &'static str, value: u64) -> Message {
        self.args.push((name, Arg::Count(value)));
        self
    }

    /// Adds seconds, said with three decimals (`0.250`).
    pub fn seconds(self, name: &'static str, value: f64) -> Message {
        self.text(name, format!("{value:.3}"))
    }
}

/// One language's catalogue, ready to say messages.
pub struct Catalogue {
    bundle: FluentBundle<FluentResource>,
}

impl Catalogue {
    /// The catalogue of `lang`. Its source is part of the program and
    /// checked by the tests, so a syntax error cannot reach a student: what
    /// does not parse is left out and its messages said by id.
    pub fn new(lang: Lang) -> Catalogue {
        let id: LanguageIdentifier = lang.tag().parse().unwrap_or_default();
        let mut bundle = FluentBundle::new(vec![id]);
        // No Unicode isolation marks around arguments: the report is
        // Markdown, read as plain text as often as rendered.
        bundle.set_use_isolating(false);
        let resource = FluentResource::try_new(lang.source().to_string())
            .unwrap_or_else(|(partial, _errors)| partial);
        // Duplicate ids keep the first; nothing else can fail here.
        let _ = bundle.add_resource(resource);
        Catalogue { bundle }
    }

    /// Says `message`. A message missing from the catalogue is said as
    /// `[id]`, which the tests look for.
    pub fn say(&self, message: &Message) -> String {
        let Some(pattern) = self.bundle.get_message(message.id).and_then(|m| m.value()) else {
            return format!("[{}]", message.id);
        };
        let mut args = FluentArgs::new();
        for (name, value) in &message.args {
            match value {
                Arg::Text(text) => args.set(*name, FluentValue::from(text.as_str())),
                Arg::Count(n) => args.set(*name, FluentValue::from(*n)),
            }
        }
        let mut errors = Vec::new();
        self.bundle
            .format_pattern(pattern, Some(&args), &mut errors)
            .into_owned()
    }

    /// Says a message that has no arguments.
    pub fn word(&self, id: &'static str) -> String {
        self.say(&Message::new(id))
    }
}

/// The ids of the messages a Fluent source defines, in order.
pub fn message_ids(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|line| line.split_once(" =").map(|(id, _)| id.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// Each message's `$arguments`, by id.
    fn arguments(source: &str) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut current = None;
        for line in source.lines() {
            if line.starts_with(|c: char| c.is_ascii_lowercase()) {
                current = line.split_once(" =").map(|(id, _)| id.trim().to_string());
            } else if !line.starts_with(' ') {
                current = None;
            }
            let Some(id) = &current else { continue };
            let names = out.entry(id.clone()).or_default();
            for part in line.split('$').skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                names.insert(name);
            }
        }
        out
    }

    #[test]
    fn every_language_uses_the_same_arguments() {
        let english = arguments(Lang::En.source());
        for lang in Lang::ALL {
            for (id, names) in arguments(lang.source()) {
                assert_eq!(
                    Some(&names),
                    english.get(&id),
                    "{}.ftl's {id} uses other arguments than en.ftl's",
                    lang.tag()
                );
            }
        }
    }

    #[test]
    fn every_catalogue_parses_and_has_every_message() {
        let english = message_ids(Lang::En.source());
        assert!(english.len() > 20, "{english:?}");
        for lang in Lang::ALL {
            if let Err((_, errors)) = FluentResource::try_new(lang.source().to_string()) {
                panic!("{}.ftl does not parse: {errors:?}", lang.tag());
            }
            let ids = message_ids(lang.source());
            for id in &english {
                assert!(ids.contains(id), "{}.ftl lacks {id}", lang.tag());
            }
            for id in &ids {
                assert!(
                    english.contains(id),
                    "{}.ftl has {id}, en.ftl does not",
                    lang.tag()
                );
            }
        }
    }

    #[test]
    fn plurals_and_arguments_are_filled_in() {
        let en = Catalogue::new(Lang::En);
        let one = en.say(
            &Message::new("time-exchange")
                .text("client", "mesin-2")
                .count("times", 1)
                .count("jams", 1)
                .text("replies", "`JAM 10:00:00`")
                .text("quit", "yes")
                .text("closer", "server"),
        );
        assert!(one.contains("got 1 JAM reply "), "{one}");
        let two = en.say(
            &Message::new("time-exchange")
                .text("client", "mesin-2")
                .count("times", 2)
                .count("jams", 2)
                .text("replies", "`a`, `b`")
                .text("quit", "no")
                .text("closer", "client"),
        );
        assert!(two.contains("got 2 JAM replies "), "{two}");
        assert!(!two.contains('\u{2068}'), "no isolation marks: {two:?}");
    }

    #[test]
    fn a_missing_message_is_said_by_its_id() {
        let en = Catalogue::new(Lang::En);
        assert_eq!(en.word("no-such-message"), "[no-such-message]");
    }
}
