"""make bench: each time-server mode and the Python reference, on loopback.

Measures, for each server, in one run:
  - new connections per second (connect, TIME, QUIT, close) with 1, 16, 256 clients;
  - TIME requests per second on long-lived connections, 1 and 64 in flight;
  - p99 latency with 1000 connected clients, each one request per 100 ms (median of 3 runs);
  - peak RSS while 10,000 idle connections are held open.
Prints a table with ratios against the Python reference and writes
bench/results/servers.csv and bench/results/servers.svg. The load generator is
`time-client load`; its own CPU use is printed so one can see it is not the
bottleneck.

`c-floor` (bench/c_floor_server.c, built here with `cc -O2` and checked by
bench/floor_check.py first) is the smallest correct time server in C: what no
server can beat on this kernel. Every figure gets its ratio to the floor.

Settings (environment): BENCH_SECONDS (default 3) each measurement's length;
BENCH_ROUNDS (default 1) how often every server is measured, one after the
other, the table showing medians; BENCH_SERVERS (default all) which, e.g.
"c-floor,async,thread"; BENCH_SERVER_CORES (default half of them) how many of
the cores the server gets, the load generator the rest; BENCH_LOAD_PROCESSES
(default 1) load generator processes, which share the connections and the
load cores (each runs a thread per core it gets).
"""
import csv
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time

import floor_check

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")
RESULTS = os.path.join(ROOT, "bench", "results")
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
IDLE = int(os.environ.get("BENCH_IDLE", "10000"))
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "1")))
LOAD_PROCESSES = max(1, int(os.environ.get("BENCH_LOAD_PROCESSES", "1")))


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(hard, 65536))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc):
    for _ in range(200):
        if proc.poll() is not None:
            sys.exit("server exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("server did not listen on %d" % port)


def rss_kb(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields.get("VmRSS", "0 kB").split()[0]), int(fields.get("VmHWM", "0 kB").split()[0])


def split_cores():
    """The cores the server gets and those the load generator gets: on two
    cores one each, so that neither steals the other's CPU and the ratios
    compare servers, not luck; on more, half each (BENCH_SERVER_CORES)."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2 or not os.path.exists("/usr/bin/taskset"):
        return cores, cores, False
    share = int(os.environ.get("BENCH_SERVER_CORES", len(cores) // 2))
    share = min(max(share, 1), len(cores) - 1)
    return cores[:share], cores[share:], True


SERVER_CORES, LOAD_CORES, PIN = split_cores()


def pinned(cores):
    return ["taskset", "-c", ",".join(map(str, cores))] if PIN else []


def load_process_cores():
    """The cores of each load generator process: the load cores dealt out
    evenly (shared by all when there are more processes than cores)."""
    if LOAD_PROCESSES > len(LOAD_CORES):
        return [LOAD_CORES] * LOAD_PROCESSES
    size = len(LOAD_CORES) // LOAD_PROCESSES
    return [LOAD_CORES[i * size:(i + 1) * size] if i < LOAD_PROCESSES - 1 else LOAD_CORES[i * size:] for i in range(LOAD_PROCESSES)]


def cpu_seconds(pid):
    """User + system CPU time of a process, all its threads (Linux /proc)."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks():
    """The machine's CPU time so far (/proc/stat "cpu" line): (all, steal, busy).

    Steal is time the VM's virtual CPUs were ready but the host ran something
    else: a figure measured while it is high says more about the host than
    about the server. Busy is what the VM itself ran (not idle, iowait or
    steal): what neither the server nor the load generator used of it is
    other work on the same cores, which low steal does not rule out.
    """
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    steal = fields[7] if len(fields) > 7 else 0
    return sum(fields), steal, sum(fields) - fields[3] - fields[4] - steal


def load_measured(port, pid, connections, *args):
    """Runs the load and adds the server's CPU use during it to the result."""
    before = cpu_seconds(pid)
    r = load(port, connections, *args)
    r["server_cpu_seconds"] = cpu_seconds(pid) - before
    ours = r["server_cpu_seconds"] + r["client_cpu"] * r["seconds"]
    r["others"] = max(r["busy_seconds"] - ours, 0) / max(r["all_seconds"], 1e-9)
    return r


NO_RESULT = {"requests": 0, "connections": 0, "seconds": 0, "requests_per_second": 0, "connections_per_second": 0,
             "latency_ms": {"p99": float("nan")}, "errors": {"no result": 1}, "client_cpu": 0, "threads": 0, "cores": 0}


def load(port, connections, *args):
    """`time-client load` with `connections` shared by the load processes, all at once."""
    shares = [connections // LOAD_PROCESSES + (i < connections % LOAD_PROCESSES) for i in range(LOAD_PROCESSES)]
    cmds = [pinned(cores) + [os.path.join(RELEASE, "time-client"), "load", "127.0.0.1", str(port), "--json",
                             "--connections", str(share)] + [str(a) for a in args]
            for cores, share in zip(load_process_cores(), shares) if share]
    all_before, steal_before, busy_before = machine_ticks()
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=dict(os.environ, RUST_LOG="error")) for cmd in cmds]
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        try:
            results.append(json.loads(out))
        except ValueError:
            results.append(dict(NO_RESULT))
    all_after, steal_after, busy_after = machine_ticks()
    r = results[0] if len(results) == 1 else merged(results)
    r["steal"] = (steal_after - steal_before) / max(all_after - all_before, 1)
    tick = os.sysconf("SC_CLK_TCK")
    r["all_seconds"], r["busy_seconds"] = (all_after - all_before) / tick, (busy_after - busy_before) / tick
    return r


def merged(results):
    """One result from several load processes run at the same time: sums, the
    longest run's seconds, and the worst p99 (percentiles do not add up)."""
    r = {key: sum(x[key] for x in results) for key in
         ("requests", "connections", "requests_per_second", "connections_per_second", "client_cpu", "threads", "cores")}
    r["seconds"] = max(x["seconds"] for x in results)
    r["latency_ms"] = {"p99": max(x["latency_ms"]["p99"] for x in results)}
    r["errors"] = {}
    for x in results:
        for kind, n in x["errors"].items():
            r["errors"][kind] = r["errors"].get(kind, 0) + n
    return r


def hold_idle(port, pid, count):
    socks = []
    for _ in range(count):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            break
        socks.append(s)
    time.sleep(2.0)
    rss, hwm = rss_kb(pid)
    for s in socks:
        s.close()
    return len(socks), rss, hwm


def answers_time(port):
    """Whether the server answers TIME then QUIT with a JAM reply and a close, within a second."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(b"TIME\r\nQUIT\r\n")
            reply = b""
            while True:
                chunk = s.recv(64)
                if not chunk:
                    break
                reply += chunk
            return reply.startswith(b"JAM ")
    except OSError:
        return False


def wait_settled(port, pid, limit=60.0):
    """Waits until the server is idle (under 5% of a core for half a second)
    and answers a request; returns how long that took, in seconds."""
    started = time.time()
    while time.time() - started < limit:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if (cpu_seconds(pid) - before) / 0.5 < 0.05 and answers_time(port):
            return time.time() - started
    print("bench: warning: the server did not settle within %.0f s after the idle connections" % limit, flush=True)
    return float("nan")


def measure(name, argv):
    port = free_port()
    argv = [a.replace("PORT", str(port)) for a in argv]
    proc = subprocess.Popen(pinned(SERVER_CORES) + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, RUST_LOG="warn"))
    try:
        wait_listening(port, proc)
        iterative = "iterative" in argv
        row = {"server": name}
        # Idle connections first, on a fresh server, so the figure is theirs alone.
        held, rss, hwm = hold_idle(port, proc.pid, IDLE)
        row["idle held"] = held
        row["RSS MB idle"] = rss / 1024.0
        # Let the server finish with them (Python reaps 10,000 threads) before
        # measuring anything else: a figure taken while it is still busy, or
        # while its backlog is still full, would measure the idle phase.
        row["settle s"] = wait_settled(port, proc.pid)
        for clients in (1, 16, 256):
            r = load_measured(port, proc.pid, clients, "--requests", 1, "--duration", SECONDS)
            row["conn/s c=%d" % clients] = r["connections_per_second"]
            row["client cpu c=%d" % clients] = r["client_cpu"]
            row["steal c=%d" % clients] = r["steal"]
            row["others c=%d" % clients] = r["others"]
            row["server cpu c=%d" % clients] = r["server_cpu_seconds"] / max(r["seconds"], 1e-9)
            row["errors c=%d" % clients] = sum(r["errors"].values())
            row["load threads"] = r["threads"]
            if clients == 16:
                # Server CPU per connection: what a connection costs the server,
                # whether or not the load generator could saturate it.
                row["srv us/conn"] = 1e6 * r["server_cpu_seconds"] / max(r["connections"], 1)
        long_lived = 1 if iterative else 16
        for depth in (1, 64):
            r = load_measured(port, proc.pid, long_lived, "--requests", 10**12, "--pipeline", depth, "--duration", SECONDS)
            row["req/s k=%d" % depth] = r["requests_per_second"]
            row["client cpu k=%d" % depth] = r["client_cpu"]
            row["steal k=%d" % depth] = r["steal"]
            row["others k=%d" % depth] = r["others"]
            row["server cpu k=%d" % depth] = r["server_cpu_seconds"] / max(r["seconds"], 1e-9)
            if depth == 64:
                row["srv us/req"] = 1e6 * r["server_cpu_seconds"] / max(r["requests"], 1)
        if iterative:
            row["p99 ms @1000"] = float("nan")
        else:
            # A pause of the whole machine (a VM's host busy elsewhere) puts
            # hundreds of requests in the tail at once: the median of three
            # runs says what the server does, not what the host did once.
            p99s, steals, errors = [], [], 0
            for _ in range(3):
                r = load(port, 1000, "--requests", 10**12, "--interval", 0.1, "--duration", max(SECONDS, 3), "--timeout", 10)
                p99s.append(r["latency_ms"]["p99"])
                steals.append(r["steal"])
                errors += sum(r["errors"].values())
            row["p99 ms @1000"] = sorted(p99s)[1]
            row["p99 ms @1000 runs"] = " ".join("%.1f" % p for p in p99s)
            row["steal @1000 runs"] = " ".join("%.1f%%" % (100 * s) for s in steals)
            row["errors @1000"] = errors
        row["peak RSS MB"] = rss_kb(proc.pid)[1] / 1024.0
        return row
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def svg(rows, metrics, path):
    width, bar, gap = 900, 14, 6
    height = 40 + len(metrics) * (len(rows) * (bar + 2) + gap + 20)
    colors = ["#08519c", "#3182bd", "#9ecae1", "#e6550d"]
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="monospace" font-size="11">' % (width, height),
           '<text x="10" y="20">progjar-lab time-server modes vs the kernel floor (c-floor) and the Python reference (longer is better, except p99, RSS and server us)</text>']
    y = 40
    for metric in metrics:
        values = [r.get(metric) or 0 for r in rows]
        values = [0 if v != v else v for v in values]
        top = max(values) or 1
        out.append('<text x="10" y="%d">%s</text>' % (y + 10, metric))
        y += 16
        for i, (row, value) in enumerate(zip(rows, values)):
            length = 600 * value / top
            out.append('<text x="10" y="%d">%s</text>' % (y + bar - 3, row["server"]))
            out.append('<rect x="200" y="%d" width="%.1f" height="%d" fill="%s"/>' % (y, max(length, 1), bar, colors[i % len(colors)]))
            out.append('<text x="%.1f" y="%d">%.1f</text>' % (205 + length, y + bar - 3, value))
            y += bar + 2
        y += gap
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


METRICS = ["conn/s c=1", "conn/s c=16", "conn/s c=256", "req/s k=1", "req/s k=64", "p99 ms @1000", "RSS MB idle", "srv us/conn", "srv us/req"]
# Lower is better for these: their ratio against python is python's figure over ours.
LOWER_BETTER = ("ms", "RSS", "srv us")
# Targets of issue 15: async mode's server CPU against the floor's, at most.
TARGETS = {"srv us/conn": 1.3, "srv us/req": 1.5}


def ratio(a, b):
    """a / b, or nan when either is missing."""
    return a / b if b and a == a and b == b else float("nan")


def median_row(rows):
    """One row of medians from a server's rounds (text fields: the rounds' joined)."""
    row = {}
    for key in rows[0]:
        values = [r.get(key) for r in rows]
        if all(v == values[0] for v in values):
            row[key] = values[0]
        elif all(isinstance(v, (int, float)) for v in values):
            finite = [v for v in values if v == v]
            row[key] = statistics.median(finite) if finite else float("nan")
        else:
            row[key] = " | ".join(str(v) for v in values)
    return row


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    except OSError:
        pass
    return "%s, %s, %d cores, Linux %s" % (os.uname().machine, model, os.cpu_count(), os.uname().release)


def cores_text(cores):
    return "%s (%d)" % (",".join(map(str, cores)), len(cores))


def main():
    limit = raise_fd_limit()
    floor = floor_check.build()
    servers = [
        ("c-floor", [floor, "127.0.0.1", "PORT"]),
        ("async", [os.path.join(RELEASE, "time-server"), "--bind", "127.0.0.1", "--port", "PORT", "--mode", "async"]),
        ("thread", [os.path.join(RELEASE, "time-server"), "--bind", "127.0.0.1", "--port", "PORT", "--mode", "thread"]),
        ("iterative", [os.path.join(RELEASE, "time-server"), "--bind", "127.0.0.1", "--port", "PORT", "--mode", "iterative"]),
        ("python", [sys.executable, os.path.join(ROOT, "bench", "reference_server.py"), "PORT"]),
    ]
    wanted = os.environ.get("BENCH_SERVERS")
    if wanted:
        names = [n.strip() for n in wanted.split(",")]
        unknown = set(names) - {n for n, _ in servers}
        if unknown:
            sys.exit("bench: BENCH_SERVERS names no server %s; there are %s" % (", ".join(sorted(unknown)), ", ".join(n for n, _ in servers)))
        servers = [s for s in servers if s[0] in names]
    if any(name == "c-floor" for name, _ in servers):
        # A floor that cut corners would flatter nobody: check it first.
        print("bench: checking c-floor (bench/floor_check.py) ...", flush=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "floor_check.py")], check=True)
    # Every round measures each server once, one after the other, so that a
    # slow spell of the host hits one round of all, not all rounds of one.
    rounds = []
    for number in range(ROUNDS):
        rounds.append({})
        for name, argv in servers:
            print("bench: round %d of %d: measuring %s ..." % (number + 1, ROUNDS, name), flush=True)
            rounds[-1][name] = measure(name, argv)
    rows = [median_row([r[name] for r in rounds]) for name, _ in servers]
    by_name = {row["server"]: row for row in rows}
    # Each round's ratio to the floor, then their median: a ratio of figures
    # taken minutes apart would mix in how busy the host was.
    for row in rows:
        for m in METRICS:
            per_round = [ratio(r[row["server"]][m], r["c-floor"][m]) for r in rounds if "c-floor" in r]
            finite = [v for v in per_round if v == v]
            row["vs c-floor " + m] = statistics.median(finite) if finite else float("nan")
            row["vs c-floor " + m + " rounds"] = " ".join("%.2f" % v for v in per_round)

    print("\nmachine: %s" % machine())
    load_threads = int(rows[0].get("load threads", 0))
    print("server on core(s) %s, load generator on core(s) %s: %d process(es), %d thread(s) in all; %s" % (
        cores_text(SERVER_CORES), cores_text(LOAD_CORES), LOAD_PROCESSES, load_threads, "pinned with taskset" if PIN else "not pinned"))
    print("fd limit %d; %s s per measurement; %d round(s)%s; RSS MB idle = with %d idle connections" % (
        limit, SECONDS, ROUNDS, ", the table has the medians" if ROUNDS > 1 else "", IDLE))
    print("%-10s" % "server" + "".join("%16s" % m for m in METRICS))
    for row in rows:
        # Per-request costs are fractions of a microsecond: show three decimals.
        print("%-10s" % row["server"] + "".join(("%16.3f" if "us/req" in m else "%16.1f") % row[m] for m in METRICS))
    if "python" in by_name:
        reference = by_name["python"]
        print("%-10s" % "vs python" + "  (how many times better than python: its figure over ours where lower is better)")
        for row in rows:
            if row is reference:
                continue
            ratios = [ratio(reference[m], row[m]) if any(w in m for w in LOWER_BETTER) else ratio(row[m], reference[m]) for m in METRICS]
            print("%-10s" % row["server"] + "".join("%15.1fx" % r for r in ratios))
    if "c-floor" in by_name:
        print("%-10s" % "vs c-floor" + "  (ours / the floor's, median of the rounds' ratios: costs above 1.0x are what we spend beyond it, rates below 1.0x what we miss of it)")
        for row in rows:
            if row["server"] != "c-floor":
                print("%-10s" % row["server"] + "".join("%15.2fx" % row["vs c-floor " + m] for m in METRICS))
    print("\nCPU (share of one core), load generator / server; the host's steal and other processes (oth), shares of all CPU time:")
    for key in ("c=1", "c=16", "c=256", "k=1", "k=64"):
        print("  %-6s " % key + ", ".join("%s %.0f%% / %.0f%% st %.1f%% oth %.0f%%" % (
            r["server"], 100 * r["client cpu " + key], 100 * r["server cpu " + key], 100 * r["steal " + key], 100 * r["others " + key]) for r in rows))
    print("srv us/conn = server CPU microseconds per connection at c=16; srv us/req = per request at k=64 (lower is better)")
    if "c-floor" in by_name:
        print("\nserver CPU against c-floor, each round (ratio; the host's steal, then other processes, during ours / during the floor's):")
        for m, key in (("srv us/conn", "c=16"), ("srv us/req", "k=64")):
            for name in ("async", "thread"):
                if name not in by_name:
                    continue
                print("  %-11s %-6s " % (m, name) + "; ".join("%.2fx (%.3f vs %.3f us, st %.1f%% / %.1f%%, oth %.0f%% / %.0f%%)" % (
                    ratio(r[name][m], r["c-floor"][m]), r[name][m], r["c-floor"][m], 100 * r[name]["steal " + key], 100 * r["c-floor"]["steal " + key],
                    100 * r[name]["others " + key], 100 * r["c-floor"]["others " + key])
                    for r in rounds))
        if "async" in by_name:
            verdicts = []
            for m, limit_ratio in TARGETS.items():
                got = by_name["async"]["vs c-floor " + m]
                verdicts.append("%s %.2fx (target at most %.1fx: %s)" % (m, got, limit_ratio, "met" if got <= limit_ratio else "missed"))
            print("targets, async against c-floor (median of the rounds): " + "; ".join(verdicts))
    print("\np99 ms @1000, three runs (the table has the median): " + ", ".join("%s %s" % (r["server"], r.get("p99 ms @1000 runs", "n/a")) for r in rows))
    print("  the host's steal in those runs: " + ", ".join("%s %s" % (r["server"], r.get("steal @1000 runs", "n/a")) for r in rows))
    print("idle connections held: " + ", ".join("%s %d" % (r["server"], r["idle held"]) for r in rows))
    print("seconds until the server was idle and answering again after them: " + ", ".join("%s %.1f" % (r["server"], r["settle s"]) for r in rows))
    errors = {name: {k: v for k, v in r[name].items() if k.startswith("errors") and v} for r in rounds for name in r}
    print("errors: %s" % ({k: v for k, v in errors.items() if v} or "none"))
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "servers.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=sorted({k for r in rows for k in r}, key=lambda k: (k != "server", k)))
        writer.writeheader()
        writer.writerows(rows)
    each = [dict(r[name], round=number + 1) for number, r in enumerate(rounds) for name in r]
    with open(os.path.join(RESULTS, "servers_rounds.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=sorted({k for r in each for k in r}, key=lambda k: (k not in ("round", "server"), k)))
        writer.writeheader()
        writer.writerows(each)
    svg(rows, METRICS, os.path.join(RESULTS, "servers.svg"))
    print("wrote bench/results/servers.csv (medians), servers_rounds.csv (each round) and servers.svg")


if __name__ == "__main__":
    main()
