//! What an experiment runs: machines, commands, steps and parameters.
//!
//! A plan is a list of steps run one after another; the commands of one step
//! run at the same time (two clients at once). It has two forms, both made
//! here so that each fact is written once:
//!
//! - `plan.json`, read back by `experiment report`;
//! - lines for `lab/lab.sh`, one per fact, fields separated by tabs, the
//!   command last (it may hold spaces, never a tab or a newline):
//!   `server NAME PORT LOG CMDLINE`, `student COMMAND`,
//!   `impair MACHINE LOSS` (the link to make lossy for the run, as `make
//!   impair M=MACHINE LOSS=LOSS` does), and
//!   `run STEP ID MACHINE LOG RESULT COMMAND`.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The capture's file name in an experiment's folder.
pub const CAPTURE_FILE: &str = "capture.pcap";
/// The plan, as `experiment plan --write` leaves it.
pub const PLAN_FILE: &str = "plan.json";
/// One JSON object per finished command, appended by the runner.
pub const RUNS_FILE: &str = "runs.jsonl";
/// Whether the server under test was listening, written by the runner.
pub const SERVER_STATUS_FILE: &str = "server-status.json";
/// What tcpdump said when it stopped, written by the runner.
pub const CAPTURE_STATS_FILE: &str = "capture-stats.json";
/// The link impairment during the run (`make scenario M=... LOSS=...`), by the runner.
pub const IMPAIRMENT_FILE: &str = "impairment.json";
/// The facts, as `experiment report` writes them.
pub const FINDINGS_FILE: &str = "findings.json";
/// The report.
pub const REPORT_FILE: &str = "REPORT.md";
/// pcap-summary's text.
pub const SUMMARY_TEXT_FILE: &str = "summary.txt";
/// pcap-summary's JSON.
pub const SUMMARY_JSON_FILE: &str = "summary.json";
/// The timeline picture.
pub const TIMELINE_FILE: &str = "timeline.svg";
/// The ladder diagram of the conversation the report walks through.
pub const LADDER_FILE: &str = "ladder.svg";
/// The same as a PNG, to paste into a document.
pub const LADDER_PNG_FILE: &str = "ladder.png";
/// The overview of all the experiment's conversations, when it has several.
pub const OVERVIEW_FILE: &str = "overview.svg";
/// The same as a PNG.
pub const OVERVIEW_PNG_FILE: &str = "overview.png";
/// The whole report as one self-contained page.
pub const HTML_FILE: &str = "report.html";

/// One of the lab's three machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Machine {
    /// The server machine, x.y.z.101.
    #[serde(rename = "mesin-1")]
    Mesin1,
    /// A client machine, x.y.z.102.
    #[serde(rename = "mesin-2")]
    Mesin2,
    /// A client machine, x.y.z.103.
    #[serde(rename = "mesin-3")]
    Mesin3,
}

impl Machine {
    /// Every machine, in order.
    pub const ALL: [Machine; 3] = [Machine::Mesin1, Machine::Mesin2, Machine::Mesin3];

    /// Its entry in the lab's machine table (`progjar_common::lab`).
    fn entry(self) -> (&'static str, u8) {
        let index = match self {
            Machine::Mesin1 => 0,
            Machine::Mesin2 => 1,
            Machine::Mesin3 => 2,
        };
        progjar_common::lab::MACHINES[index]
    }

    /// `mesin-2`.
    pub fn name(self) -> &'static str {
        self.entry().0
    }

    /// The last octet of its address: 101, 102, 103.
    pub fn host_octet(self) -> u8 {
        self.entry().1
    }

    /// Its address on the lab network `net` (three octets, `172.16.16`).
    pub fn address(self, net: &str) -> String {
        format!("{net}.{}", self.host_octet())
    }
}

/// One of mesin-1's servers, by its `labctl` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabServer {
    /// `time-server` on 45000 (Tugas 2).
    Time,
    /// `echo-server` on 10000 (Tugas 1).
    Echo,
    /// `echo-server` on 32444 (Tugas 1, the file).
    EchoFile,
}

impl LabServer {
    /// The name `labctl` knows it by.
    pub fn labctl_name(self) -> &'static str {
        match self {
            LabServer::Time => "time",
            LabServer::Echo => "echo",
            LabServer::EchoFile => "echo-file",
        }
    }

    /// The port it listens on.
    pub fn port(self) -> u16 {
        match self {
            LabServer::Time => 45000,
            LabServer::Echo => 10000,
            LabServer::EchoFile => 32444,
        }
    }
}

/// The server an experiment talks to: one of ours, or a student's own
/// program in its place (`SERVER=...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerUnderTest {
    /// Which of mesin-1's servers the experiment is about.
    pub lab_server: LabServer,
    /// The student's command that replaces ours, if any.
    pub student_command: Option<String>,
}

impl ServerUnderTest {
    /// Its log in the folder.
    pub const LOG_FILE: &'static str = "logs/mesin-1-server.log";
    /// The command line it ran with, as the runner found it.
    pub const CMDLINE_FILE: &'static str = "logs/mesin-1-server.cmdline";

    /// The port the experiment connects to.
    pub fn port(&self) -> u16 {
        self.lab_server.port()
    }
}

/// The structured result (`--json`) a planned command writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    /// `echo-client`: an `EchoResult`.
    Echo,
    /// `time-client crlf`: a `CrlfProbeResult`.
    Crlf,
    /// `time-client` sessions: a `TimeRun`.
    Time,
    /// `socket-info`: a `SocketInfoResult`.
    SocketInfo,
    /// Any other program: none.
    Nothing,
}

/// One command of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedCommand {
    /// Unique in the plan, from 1, in order.
    pub id: u32,
    /// Where it runs.
    pub machine: Machine,
    /// Exactly what runs there (what a student would type).
    pub command: String,
}

impl PlannedCommand {
    /// The program's name: the command's first word.
    pub fn program(&self) -> &str {
        self.command.split_whitespace().next().unwrap_or("")
    }

    /// The result it writes, known from the program (and subcommand) it runs.
    pub fn result_kind(&self) -> ResultKind {
        let mut words = self.command.split_whitespace();
        match (words.next(), words.next()) {
            (Some("echo-client"), _) => ResultKind::Echo,
            (Some("time-client"), Some("crlf")) => ResultKind::Crlf,
            (Some("time-client"), _) => ResultKind::Time,
            (Some("socket-info"), _) => ResultKind::SocketInfo,
            _ => ResultKind::Nothing,
        }
    }

    /// Its output (stdout and stderr) in the folder.
    pub fn log_file(&self) -> String {
        format!(
            "logs/{}-{}-{}.log",
            self.id,
            self.machine.name(),
            self.program()
        )
    }

    /// Its structured result (`--json`, through `PROGJAR_JSON`) in the folder.
    pub fn result_file(&self) -> String {
        format!("results/{}.json", self.id)
    }
}

/// An experiment's whole plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The experiment's name.
    pub scenario: String,
    /// The lab network's first three octets.
    pub net: String,
    /// The server it talks to, if any.
    pub server: Option<ServerUnderTest>,
    /// Steps, one after another; the commands of a step run at once.
    pub steps: Vec<Vec<PlannedCommand>>,
    /// A link the experiment itself makes lossy for its run (unless the
    /// student already impaired one with `make scenario M=... LOSS=...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impair: Option<PlannedImpairment>,
}

/// A machine's link made lossy for an experiment's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedImpairment {
    /// Whose link.
    pub machine: Machine,
    /// The share of packets lost each way, as `make impair` takes it (`5%`).
    pub loss: String,
}

impl Plan {
    /// A plan with no steps yet.
    pub fn new(scenario: &str, settings: &Settings) -> Plan {
        Plan {
            scenario: scenario.to_string(),
            net: settings.net.clone(),
            server: None,
            steps: Vec::new(),
            impair: None,
        }
    }

    /// The run happens over `machine`'s link losing `loss` of its packets.
    pub fn with_lossy_link(mut self, machine: Machine, loss: &str) -> Plan {
        self.impair = Some(PlannedImpairment {
            machine,
            loss: loss.to_string(),
        });
        self
    }

    /// The experiment talks to `server` on mesin-1 (or to the student's
    /// program in its place).
    pub fn with_server(mut self, server: LabServer, settings: &Settings) -> Plan {
        self.server = Some(ServerUnderTest {
            lab_server: server,
            student_command: settings.student_server.clone(),
        });
        self
    }

    /// Adds a step of commands that run at the same time.
    pub fn step(mut self, commands: &[(Machine, String)]) -> Plan {
        let mut id = self.commands().count() as u32;
        let step = commands
            .iter()
            .map(|(machine, command)| {
                id += 1;
                PlannedCommand {
                    id,
                    machine: *machine,
                    command: command.clone(),
                }
            })
            .collect();
        self.steps.push(step);
        self
    }

    /// Every command, in order.
    pub fn commands(&self) -> impl Iterator<Item = &PlannedCommand> {
        self.steps.iter().flatten()
    }

    /// mesin-1's address on this lab network.
    pub fn server_address(&self) -> String {
        Machine::Mesin1.address(&self.net)
    }

    /// The lines `lab/lab.sh` runs (see the module documentation).
    pub fn shell_lines(&self) -> String {
        let mut out = String::new();
        if let Some(server) = &self.server {
            let _ = writeln!(
                out,
                "server\t{}\t{}\t{}\t{}",
                server.lab_server.labctl_name(),
                server.port(),
                ServerUnderTest::LOG_FILE,
                ServerUnderTest::CMDLINE_FILE
            );
            if let Some(command) = &server.student_command {
                let _ = writeln!(out, "student\t{}", one_line(command));
            }
        }
        if let Some(impair) = &self.impair {
            let _ = writeln!(
                out,
                "impair\t{}\t{}",
                impair.machine.name(),
                one_line(&impair.loss)
            );
        }
        for (step, commands) in self.steps.iter().enumerate() {
            for c in commands {
                let _ = writeln!(
                    out,
                    "run\t{}\t{}\t{}\t{}\t{}\t{}",
                    step + 1,
                    c.id,
                    c.machine.name(),
                    c.log_file(),
                    c.result_file(),
                    one_line(&c.command)
                );
            }
        }
        out
    }
}

/// A command on one line with no tab (the runner's field separator).
fn one_line(command: &str) -> String {
    command.replace(['\t', '\n', '\r'], " ")
}

/// A setting of an experiment, given as an environment variable
/// (`make scenario S=t2-concurrent T2_CLIENTS=2`).
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The environment variable.
    pub env: &'static str,
    /// Its value when not set.
    pub default: &'static str,
    /// What it changes.
    pub help: &'static str,
}

/// The settings a plan is made from: the lab network, the student's server,
/// and the experiment's own parameters.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The lab network's first three octets (`LAB_NET`).
    pub net: String,
    /// `SERVER=...`: a student's server command to run in place of ours.
    pub student_server: Option<String>,
    values: Vec<(&'static str, String)>,
}

/// The variable that moves the lab's subnet.
pub const NET_ENV: &str = progjar_common::lab::NET_ENV;
/// The lab's subnet when `LAB_NET` is not set.
pub const DEFAULT_NET: &str = progjar_common::lab::DEFAULT_NET;
/// The variable that names a student's server.
pub const SERVER_ENV: &str = "SERVER";

impl Settings {
    /// Settings from `lookup` (the environment, or a map in tests) for an
    /// experiment with `params`.
    pub fn from_lookup(params: &[Param], lookup: impl Fn(&str) -> Option<String>) -> Settings {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Settings {
            net: set(NET_ENV).unwrap_or_else(|| DEFAULT_NET.to_string()),
            student_server: set(SERVER_ENV),
            values: params
                .iter()
                .map(|p| (p.env, set(p.env).unwrap_or_else(|| p.default.to_string())))
                .collect(),
        }
    }

    /// Settings from the process environment.
    pub fn from_env(params: &[Param]) -> Settings {
        Settings::from_lookup(params, |name| std::env::var(name).ok())
    }

    /// The value of a parameter (its default when unset).
    pub fn text(&self, param: &Param) -> &str {
        self.values
            .iter()
            .find(|(env, _)| *env == param.env)
            .map_or(param.default, |(_, value)| value.as_str())
    }

    /// A parameter that must be a whole number, at least 1.
    pub fn count(&self, param: &Param) -> Result<u32, Error> {
        let value = self.text(param);
        value
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| Error::BadParam {
                param: param.env,
                value: value.to_string(),
                reason: "must be a whole number, at least 1",
            })
    }

    /// A parameter that must be a number of seconds (`0.5`, `3`), at most an hour.
    pub fn seconds(&self, param: &Param) -> Result<String, Error> {
        let value = self.text(param).trim();
        match progjar_common::parse_seconds(value) {
            Ok(d) if d.as_secs() <= 3600 => Ok(value.to_string()),
            _ => Err(Error::BadParam {
                param: param.env,
                value: value.to_string(),
                reason: "must be a number of seconds such as 1 or 0.5, at most 3600",
            }),
        }
    }

    /// A parameter used as one word of a command (a host name, a port, a
    /// path): letters, digits and `. _ - / : @ +` only, so that it cannot
    /// change the command it is put in.
    pub fn word(&self, param: &Param) -> Result<String, Error> {
        let value = self.text(param).trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || "._-/:@+".contains(c);
        if value.is_empty() || !value.chars().all(allowed) {
            return Err(Error::BadParam {
                param: param.env,
                value: value.to_string(),
                reason: "must be one word of letters, digits and . _ - / : @ +",
            });
        }
        Ok(value.to_string())
    }

    /// Checks the settings every plan uses: `LAB_NET` is three octets.
    pub fn validate(&self) -> Result<(), Error> {
        let octets: Vec<&str> = self.net.split('.').collect();
        let fine = octets.len() == 3 && octets.iter().all(|o| o.parse::<u8>().is_ok());
        if fine {
            Ok(())
        } else {
            Err(Error::BadParam {
                param: NET_ENV,
                value: self.net.clone(),
                reason: "must be three octets such as 172.16.16 or 10.77.0",
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COUNT: Param = Param {
        env: "T_COUNT",
        default: "3",
        help: "how many",
    };

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(&[COUNT], move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let s = settings(&[]);
        assert_eq!(s.net, "172.16.16");
        assert_eq!(s.student_server, None);
        assert_eq!(s.count(&COUNT).unwrap(), 3);
    }

    #[test]
    fn a_bad_count_is_refused_with_the_variable_named() {
        let s = settings(&[("T_COUNT", "zero")]);
        let error = s.count(&COUNT).unwrap_err().to_string();
        assert!(error.starts_with("T_COUNT=zero:"), "{error}");
    }

    #[test]
    fn ids_count_across_steps_and_lines_carry_every_fact() {
        let s = settings(&[("LAB_NET", "10.77.0"), ("SERVER", "python3 /work/s.py")]);
        let plan = Plan::new("x", &s)
            .with_server(LabServer::Time, &s)
            .step(&[
                (Machine::Mesin2, "time-client".into()),
                (Machine::Mesin3, "time-client".into()),
            ])
            .step(&[(Machine::Mesin2, "echo-client\t10.77.0.101".into())]);
        let ids: Vec<u32> = plan.commands().map(|c| c.id).collect();
        assert_eq!(ids, [1, 2, 3]);
        let lines = plan.shell_lines();
        let lines: Vec<&str> = lines.lines().collect();
        assert_eq!(
            lines[0],
            "server\ttime\t45000\tlogs/mesin-1-server.log\tlogs/mesin-1-server.cmdline"
        );
        assert_eq!(lines[1], "student\tpython3 /work/s.py");
        assert_eq!(
            lines[4],
            "run\t2\t3\tmesin-2\tlogs/3-mesin-2-echo-client.log\tresults/3.json\techo-client 10.77.0.101"
        );
        assert_eq!(plan.server_address(), "10.77.0.101");
    }

    #[test]
    fn words_keep_to_path_characters() {
        for bad in ["a;rm", "*", "$(x)", "a b", "~root", "x#", "[a]"] {
            assert!(
                settings(&[("T_COUNT", bad)]).word(&COUNT).is_err(),
                "{bad:?}"
            );
        }
        let s = settings(&[("T_COUNT", "/usr/share/common-licenses/GPL-3")]);
        assert_eq!(s.word(&COUNT).unwrap(), "/usr/share/common-licenses/GPL-3");
    }

    #[test]
    fn seconds_and_the_lab_net_are_checked() {
        assert!(settings(&[("T_COUNT", "0.5")]).seconds(&COUNT).is_ok());
        assert!(settings(&[("T_COUNT", "1e300")]).seconds(&COUNT).is_err());
        assert!(settings(&[("T_COUNT", "-1")]).seconds(&COUNT).is_err());
        assert!(settings(&[]).validate().is_ok());
        assert!(settings(&[("LAB_NET", "10.77.0; rm")]).validate().is_err());
        assert!(settings(&[("LAB_NET", "172.16")]).validate().is_err());
    }

    #[test]
    fn the_result_kind_comes_from_the_program() {
        let kind = |command: &str| {
            PlannedCommand {
                id: 1,
                machine: Machine::Mesin2,
                command: command.into(),
            }
            .result_kind()
        };
        assert_eq!(kind("echo-client 1.2.3.4 10000"), ResultKind::Echo);
        assert_eq!(kind("time-client crlf 1.2.3.4"), ResultKind::Crlf);
        assert_eq!(kind("time-client 1.2.3.4 --count 2"), ResultKind::Time);
        assert_eq!(kind("socket-info mesin-1 45000"), ResultKind::SocketInfo);
        assert_eq!(kind("python3 x.py"), ResultKind::Nothing);
    }
}
