//! The list of experiments: a new one is a file in `scenarios/` and a line here.

use crate::scenario::Scenario;
use crate::scenarios;
use crate::Error;

/// Every experiment, in the order `make scenario S=all` runs them.
pub static SCENARIOS: &[&dyn Scenario] = &[
    &scenarios::t1_socket_info::SocketInfo,
    &scenarios::t1_echo::Echo,
    &scenarios::t1_file::File,
    &scenarios::t1_iterative::Iterative,
    &scenarios::t2_time::Time,
    &scenarios::t2_concurrent::Concurrent,
    &scenarios::t2_crlf::Crlf,
    &scenarios::t3_loss::Loss,
    &scenarios::t3_flow::Flow,
];

/// The experiment called `name`.
pub fn find(name: &str) -> Result<&'static dyn Scenario, Error> {
    SCENARIOS
        .iter()
        .copied()
        .find(|s| s.name() == name)
        .ok_or_else(|| Error::UnknownScenario {
            name: name.to_string(),
            known: names().join(", "),
        })
}

/// Every experiment's name.
pub fn names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|s| s.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let mut seen = std::collections::BTreeSet::new();
        for name in names() {
            assert!(seen.insert(name), "{name} twice");
            assert_eq!(find(name).unwrap().name(), name);
        }
        let Err(error) = find("t9-nothing") else {
            panic!("t9-nothing was found")
        };
        assert!(error.to_string().contains("t2-crlf"), "{error}");
    }
}
