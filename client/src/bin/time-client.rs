//! time-client: the Tugas 2 client, strict about the protocol.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use progjar_client::connect::target;
use progjar_client::results::{save_result, TimeRun, TimeSessionResult};
use progjar_client::time_client::{new_record, run_session, SessionPlan};
use progjar_common::{logging, parse_seconds};
use tokio::task::JoinSet;
use tracing::{error, info, info_span, Instrument};

/// Ask a time server for the time (Tugas 2) and check every reply.
///
/// Each session connects, sends `TIME` + CR LF, reads one whole CR LF line,
/// checks it is `JAM hh:mm:ss`, sends `QUIT` + CR LF and waits for the server
/// to close. The course's nine clients, one second apart:
/// `time-client --clients 9 --stagger 1`.
#[derive(Debug, Parser)]
#[command(name = "time-client", version = progjar_common::build_info::version(env!("CARGO_PKG_VERSION")), args_conflicts_with_subcommands = true)]
#[command(
    after_help = "Exit codes: 0 every reply was correct, 1 a session failed (the error says why), 2 bad command line.\n`time-client check` exits with the number of failed checks; `time-client crlf`: see `time-client crlf --help`.\n--json FILE (or PROGJAR_JSON=FILE): also write every session (requests sent, replies, QUIT, the close, the error) as one JSON document when the run ends, failed or not, Ctrl-C included (not on a bad command line; `check` and `load` write none, `crlf` has its own). If FILE cannot be written, stderr says so and the exit code stays that of the run.\nLogging: RUST_LOG=debug|info|warn (default info)."
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// Server name or address.
    #[arg(default_value = "172.16.16.101", env = "LAB_SERVER")]
    host: String,

    /// Server port.
    #[arg(default_value_t = 45000)]
    port: u16,

    /// TIME requests per connection.
    #[arg(long, default_value_t = 1, value_name = "N")]
    count: u32,

    /// Clients running at once, each with its own connection.
    #[arg(long, default_value_t = 1, value_name = "N")]
    clients: u32,

    /// Seconds between the starts of two clients.
    #[arg(long, default_value = "0", value_name = "SECS", value_parser = parse_seconds)]
    stagger: Duration,

    /// Seconds between one request and the next (on one connection, or between rounds).
    #[arg(long, default_value = "1", value_name = "SECS", value_parser = parse_seconds)]
    interval: Duration,

    /// Sessions each client runs, one after another (a new connection each).
    #[arg(
        long,
        default_value_t = 1,
        value_name = "N",
        conflicts_with = "forever"
    )]
    rounds: u64,

    /// Run sessions until Ctrl-C (the course's once-a-second loop).
    #[arg(long)]
    forever: bool,

    /// Give up connecting after this many seconds.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = parse_seconds)]
    connect_timeout: Duration,

    /// Seconds a reply may take, counted from its TIME (and the close, from QUIT). A deadline:
    /// bytes trickling in do not extend it. A reply line may have at most 1024 bytes.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = parse_seconds)]
    timeout: Duration,

    /// Also write every session as JSON to FILE when the run ends (written to FILE's directory, then renamed over it).
    #[arg(long, value_name = "FILE", env = "PROGJAR_JSON")]
    json: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Load a time server: many connections, every reply checked; prints
    /// requests/s, connections/s, latency percentiles and errors by kind.
    Load(LoadArgs),
    /// Check any time server against the assignment: one PASS/FAIL line per check,
    /// with what was sent, what came back and a hint. Exit code = failed checks.
    ///
    /// Ends within 70 s whatever the server does (about 5 s against a correct server): every
    /// wait has a deadline that bytes trickling in do not extend (a connect or a reply: 2 s), at
    /// most 1 KiB of a line is kept (a longer one fails, saying how long it was) and at most 4
    /// lines per listen.
    Check {
        /// Server name or address.
        #[arg(default_value = "172.16.16.101", env = "LAB_SERVER")]
        host: String,

        /// Server port.
        #[arg(default_value_t = 45000)]
        port: u16,
    },
    /// Show how the server answers, on one connection, a bare-LF line ("TIME\n"), an
    /// unknown command ("HELLO\r\n") and a correct request ("TIME\r\n"), then QUIT:
    /// one line per request. Exit 0 when TIME\r\n got JAM and the other two got ERROR.
    Crlf(CrlfArgs),
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 \"TIME\\r\\n\" got a JAM line and \"TIME\\n\" and \"HELLO\\r\\n\" each got an ERROR line, 1 anything else (the last line says why: no answer within --timeout, a closed connection, a refused connection, ...), 2 bad command line.\nHow the server ends the session after QUIT is printed but not judged.\n--json FILE (or PROGJAR_JSON=FILE): also write each request and its outcome as one JSON document when the probe ends, failed or not (not on a bad command line). If FILE cannot be written, stderr says so and the exit code stays that of the probe."
)]
struct CrlfArgs {
    /// Server name or address.
    #[arg(default_value = "172.16.16.101", env = "LAB_SERVER")]
    host: String,

    /// Server port.
    #[arg(default_value_t = 45000)]
    port: u16,

    /// Seconds to wait for each reply line, and for the close after QUIT (a deadline: bytes
    /// trickling in do not extend it).
    #[arg(long, default_value = "2", value_name = "SECS", value_parser = parse_seconds)]
    timeout: Duration,

    /// Give up connecting after this many seconds.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = parse_seconds)]
    connect_timeout: Duration,

    /// Also write the result as JSON to FILE (written to FILE's directory, then renamed over it).
    #[arg(long, value_name = "FILE", env = "PROGJAR_JSON")]
    json: Option<PathBuf>,
}

fn run_crlf(args: &CrlfArgs) -> ExitCode {
    let plan = progjar_client::crlf_probe::CrlfPlan {
        host: args.host.clone(),
        port: args.port,
        connect_timeout: args.connect_timeout,
        timeout: args.timeout,
    };
    println!(
        "probing the time server at {} with a bare LF, an unknown command and a correct request",
        target(&args.host, args.port)
    );
    let result = progjar_client::crlf_probe::run(&plan, |exchange| {
        println!("{}", progjar_client::crlf_probe::human_line(exchange));
    });
    if result.passed {
        println!(
            "PASS: only the correct request got JAM; the bare LF and the unknown command got ERROR"
        );
    } else {
        println!("FAIL: {}", result.failures.join("; "));
    }
    save_result("time-client", args.json.as_deref(), &result);
    if result.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[derive(Debug, clap::Args)]
struct LoadArgs {
    /// Server name or address.
    #[arg(default_value = "127.0.0.1")]
    host: String,

    /// Server port.
    #[arg(default_value_t = 45000)]
    port: u16,

    /// Connections open at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    connections: usize,

    /// TIME requests per connection; 1 = a new connection per request (connect, TIME, QUIT, close).
    #[arg(long, default_value_t = 1, value_name = "M")]
    requests: u64,

    /// Requests in flight per connection.
    #[arg(long, default_value_t = 1, value_name = "K")]
    pipeline: usize,

    /// Run this many seconds (default 5 unless --total is given).
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    duration: Option<Duration>,

    /// Stop after this many requests in all (a connection that cannot be opened counts the
    /// requests it was opened for, its first --pipeline, unanswered).
    #[arg(long, value_name = "N")]
    total: Option<u64>,

    /// Pause between requests on a connection (e.g. 0.1 for one request per 100 ms).
    #[arg(long, default_value = "0", value_name = "SECS", value_parser = parse_seconds)]
    interval: Duration,

    /// Seconds a connect, a reply (from its request) or the close (from QUIT) may take. A
    /// deadline: bytes trickling in do not extend it. A timed run ends within --duration plus
    /// twice this.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = parse_seconds)]
    timeout: Duration,

    /// Print the result as JSON.
    #[arg(long)]
    json: bool,

    /// Threads of the load generator; 1 runs every connection on one thread
    /// with no hand-offs between threads. Default: one per core it may use.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

fn run_load(runtime: &tokio::runtime::Runtime, args: &LoadArgs) -> ExitCode {
    let plan = progjar_client::load::LoadPlan {
        host: args.host.clone(),
        port: args.port,
        connections: args.connections,
        requests: args.requests.max(1),
        pipeline: args.pipeline.max(1),
        duration: args.duration.or(if args.total.is_none() {
            Some(Duration::from_secs(5))
        } else {
            None
        }),
        total: args.total,
        interval: args.interval,
        timeout: args.timeout,
    };
    let report = runtime.block_on(progjar_client::load::run(plan));
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(e) => eprintln!("time-client: {e}"),
        }
    } else {
        println!(
            "{} requests, {} connections in {:.2} s: {:.0} requests/s, {:.0} connections/s",
            report.requests,
            report.connections,
            report.seconds,
            report.requests_per_second,
            report.connections_per_second
        );
        println!(
            "latency ms: p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}",
            report.latency_ms.p50,
            report.latency_ms.p90,
            report.latency_ms.p99,
            report.latency_ms.max
        );
        println!(
            "client CPU: {:.0}% of one core ({} thread(s), {} core(s) it may use)",
            report.client_cpu * 100.0,
            report.threads,
            report.cores
        );
        for (kind, n) in &report.errors {
            println!("errors: {n} {kind}");
        }
    }
    if report.errors.is_empty() && report.requests > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Sessions run and sessions failed, by one client.
#[derive(Default, Clone, Copy)]
struct Tally {
    sessions: u64,
    failed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    logging::init();
    if let Some(Command::Crlf(crlf)) = &args.command {
        return run_crlf(crlf);
    }
    if let Some(Command::Load(load)) = &args.command {
        return match progjar_common::runtime::build(load.threads) {
            Ok(runtime) => run_load(&runtime, load),
            Err(e) => {
                eprintln!("time-client: cannot start the tokio runtime: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("time-client: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(Command::Check { host, port }) = &args.command {
        let target = progjar_client::time_check::Target {
            host: host.clone(),
            port: *port,
        };
        println!("checking the time server at {host}:{port} against the assignment");
        let results = runtime.block_on(progjar_client::time_check::run_all(&target));
        for check in &results {
            println!("{check}");
        }
        let failed = results.iter().filter(|c| !c.passed).count();
        println!(
            "{} of {} checks passed",
            results.len() - failed,
            results.len()
        );
        return ExitCode::from(u8::try_from(failed).unwrap_or(u8::MAX));
    }
    let json = args.json.clone();
    let mut record = TimeRun {
        server: target(&args.host, args.port),
        sessions: Vec::new(),
        interrupted: false,
    };
    let tally = runtime.block_on(run(args, &mut record));
    save_result("time-client", json.as_deref(), &record);
    if tally.failed == 0 {
        info!("{} session(s), all replies correct", tally.sessions);
        ExitCode::SUCCESS
    } else {
        error!("{} of {} session(s) failed", tally.failed, tally.sessions);
        ExitCode::FAILURE
    }
}

/// Runs the sessions; every session that ends goes into `record`.
async fn run(args: Args, record: &mut TimeRun) -> Tally {
    let plan = SessionPlan {
        host: args.host.clone(),
        port: args.port,
        requests: args.count,
        pause: args.interval,
        connect_timeout: args.connect_timeout,
        read_timeout: args.timeout,
    };
    let rounds = if args.forever { u64::MAX } else { args.rounds };
    let ended: Arc<Mutex<Vec<TimeSessionResult>>> = Arc::default();
    let mut clients = JoinSet::new();
    for n in 1..=args.clients {
        let plan = plan.clone();
        let ended = Arc::clone(&ended);
        let delay = args.stagger * (n - 1);
        let interval = args.interval;
        clients.spawn(
            async move {
                tokio::time::sleep(delay).await;
                let mut tally = Tally::default();
                for round in 0..rounds {
                    if round > 0 {
                        tokio::time::sleep(interval).await;
                    }
                    tally.sessions += 1;
                    let mut session = new_record(n, round);
                    if let Err(e) = run_session(&plan, &mut session).await {
                        error!("{e}");
                        tally.failed += 1;
                    }
                    ended
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .push(session);
                }
                tally
            }
            .instrument(info_span!("client", n)),
        );
    }
    let mut total = Tally::default();
    let all = async {
        while let Some(done) = clients.join_next().await {
            let tally = done.unwrap_or(Tally {
                sessions: 1,
                failed: 1,
            });
            total.sessions += tally.sessions;
            total.failed += tally.failed;
        }
    };
    tokio::select! {
        _ = all => {}
        _ = tokio::signal::ctrl_c() => {
            info!("Ctrl-C: stopping");
            record.interrupted = true;
        }
    }
    let mut sessions = std::mem::take(&mut *ended.lock().unwrap_or_else(|p| p.into_inner()));
    sessions.sort_by_key(|s| (s.client, s.round));
    record.sessions = sessions;
    total
}
