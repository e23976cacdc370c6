//! Which build a program comes from, for `--version`: its version, the git
//! commit and the build path (`ordinary` or `registry-free`), so that a
//! student and a teaching assistant can tell two images apart:
//!
//! ```text
//! $ time-server --version
//! time-server 0.1.0 (commit 3f2a9c1d0b7e, build: registry-free)
//! ```
//!
//! The facts come from `PROGJAR_BUILD_COMMIT` and `PROGJAR_BUILD_PATH` at
//! build time (see `build.rs`); a plain `cargo build` says `unknown`.

use std::sync::OnceLock;

/// The git commit the programs were built from, or `unknown`.
pub const COMMIT: &str = env!("PROGJAR_BUILD_COMMIT");

/// How they were built: `ordinary`, `registry-free`, or `unknown`.
pub const BUILD_PATH: &str = env!("PROGJAR_BUILD_PATH");

/// The version line after the program's name, e.g.
/// `0.1.0 (commit 3f2a9c1d0b7e, build: ordinary)`.
pub fn line(package_version: &str) -> String {
    format!("{package_version} (commit {COMMIT}, build: {BUILD_PATH})")
}

/// [`line`] for clap's `#[command(version = ...)]`, which wants a `&'static
/// str`: pass the program's own `env!("CARGO_PKG_VERSION")`. Made once per
/// process (a program has one version).
pub fn version(package_version: &'static str) -> &'static str {
    static LINE: OnceLock<(&'static str, String)> = OnceLock::new();
    let (first, text) = LINE.get_or_init(|| (package_version, line(package_version)));
    if *first == package_version {
        text
    } else {
        // Another version in the same process (only in tests): its own line.
        Box::leak(line(package_version).into_boxed_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_version_commit_and_path() {
        let text = line("1.2.3");
        assert!(text.starts_with("1.2.3 (commit "), "{text}");
        assert!(text.ends_with(&format!(", build: {BUILD_PATH})")), "{text}");
        assert!(!COMMIT.is_empty() && !BUILD_PATH.is_empty());
        assert_eq!(version("1.2.3"), text);
        assert_eq!(version("1.2.3"), text);
        assert_eq!(version("9.9.9"), line("9.9.9"));
    }
}
