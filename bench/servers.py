"""make bench: each time-server mode and the Python reference, on loopback.

Measures, for each server, in one run:
  - new connections per second (connect, TIME, QUIT, close) with 1, 16, 256 clients;
  - TIME requests per second on long-lived connections, 1 and 64 in flight;
  - p99 latency with 1000 connected clients, each one request per 100 ms (median of 3 runs);
  - peak RSS while 10,000 idle connections are held open.
Prints a table with ratios against the Python reference and writes
bench/results/servers.csv and bench/results/servers.svg. The load generator is
`time-client load`; its own CPU use is printed so one can see it is not the
bottleneck. BENCH_SECONDS (default 3) sets each measurement's length.
"""
import csv
import json
import os
import resource
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")
RESULTS = os.path.join(ROOT, "bench", "results")
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
IDLE = int(os.environ.get("BENCH_IDLE", "10000"))


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


# Two cores: the server gets core 0, the load generator core 1, so that
# neither steals the other's CPU and the ratios compare servers, not luck.
PIN = os.path.exists("/usr/bin/taskset") and (os.cpu_count() or 1) >= 2
SERVER_CPU = ["taskset", "-c", "0"] if PIN else []
CLIENT_CPU = ["taskset", "-c", "1"] if PIN else []


def cpu_seconds(pid):
    """User + system CPU time of a process, all its threads (Linux /proc)."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks():
    """The machine's CPU time so far (/proc/stat "cpu" line): (all, steal).

    Steal is time the VM's virtual CPUs were ready but the host ran something
    else: a figure measured while it is high says more about the host than
    about the server.
    """
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return sum(fields), (fields[7] if len(fields) > 7 else 0)


def load_measured(port, pid, *args):
    """Runs the load and adds the server's CPU use during it to the result."""
    before = cpu_seconds(pid)
    r = load(port, *args)
    r["server_cpu_seconds"] = cpu_seconds(pid) - before
    return r


def load(port, *args):
    cmd = CLIENT_CPU + [os.path.join(RELEASE, "time-client"), "load", "127.0.0.1", str(port), "--json"] + [str(a) for a in args]
    all_before, steal_before = machine_ticks()
    out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, RUST_LOG="error"))
    all_after, steal_after = machine_ticks()
    try:
        r = json.loads(out.stdout)
    except ValueError:
        r = {"requests_per_second": 0, "connections_per_second": 0, "latency_ms": {"p99": float("nan")}, "errors": {"no result": 1}, "client_cpu": 0}
    r["steal"] = (steal_after - steal_before) / max(all_after - all_before, 1)
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
    proc = subprocess.Popen(SERVER_CPU + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, RUST_LOG="warn"))
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
            r = load_measured(port, proc.pid, "--connections", clients, "--requests", 1, "--duration", SECONDS)
            row["conn/s c=%d" % clients] = r["connections_per_second"]
            row["client cpu c=%d" % clients] = r["client_cpu"]
            row["steal c=%d" % clients] = r["steal"]
            row["server cpu c=%d" % clients] = r["server_cpu_seconds"] / max(r["seconds"], 1e-9)
            row["errors c=%d" % clients] = sum(r["errors"].values())
            if clients == 16:
                # Server CPU per connection: what a connection costs the server,
                # whether or not the load generator could saturate it.
                row["srv us/conn"] = 1e6 * r["server_cpu_seconds"] / max(r["connections"], 1)
        long_lived = 1 if iterative else 16
        for depth in (1, 64):
            r = load_measured(port, proc.pid, "--connections", long_lived, "--requests", 10**12, "--pipeline", depth, "--duration", SECONDS)
            row["req/s k=%d" % depth] = r["requests_per_second"]
            row["client cpu k=%d" % depth] = r["client_cpu"]
            row["steal k=%d" % depth] = r["steal"]
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
                r = load(port, "--connections", 1000, "--requests", 10**12, "--interval", 0.1, "--duration", max(SECONDS, 3), "--timeout", 10)
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
           '<text x="10" y="20">progjar-lab time-server modes vs the Python reference (longer is better, except p99 and RSS)</text>']
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


def main():
    limit = raise_fd_limit()
    servers = [
        ("async", [os.path.join(RELEASE, "time-server"), "--bind", "127.0.0.1", "--port", "PORT", "--mode", "async"]),
        ("thread", [os.path.join(RELEASE, "time-server"), "--bind", "127.0.0.1", "--port", "PORT", "--mode", "thread"]),
        ("iterative", [os.path.join(RELEASE, "time-server"), "--bind", "127.0.0.1", "--port", "PORT", "--mode", "iterative"]),
        ("python", [sys.executable, os.path.join(ROOT, "bench", "reference_server.py"), "PORT"]),
    ]
    rows = []
    for name, argv in servers:
        print("bench: measuring %s ..." % name, flush=True)
        rows.append(measure(name, argv))
    reference = rows[-1]
    metrics = ["conn/s c=1", "conn/s c=16", "conn/s c=256", "req/s k=1", "req/s k=64", "p99 ms @1000", "RSS MB idle", "srv us/conn", "srv us/req"]
    # Lower is better for these: their ratio is python's figure over ours.
    lower_better = ("ms", "RSS", "srv us")
    print("\nmachine: %s, %d cores (%s); fd limit %d; %s s per measurement; RSS MB idle = with %d idle connections" % (
        os.uname().machine, os.cpu_count(), "server on core 0, load on core 1" if PIN else "not pinned", limit, SECONDS, IDLE))
    print("%-10s" % "server" + "".join("%16s" % m for m in metrics))
    for row in rows:
        # Per-request costs are fractions of a microsecond: show three decimals.
        print("%-10s" % row["server"] + "".join(("%16.3f" if "us/req" in m else "%16.1f") % row[m] for m in metrics))
    print("%-10s" % "vs python")
    for row in rows[:-1]:
        ratios = []
        for m in metrics:
            a, b = row[m], reference[m]
            lower = any(word in m for word in lower_better)
            ratios.append(float("nan") if not b or a != a or b != b else (b / a if a else float("nan")) if lower else a / b)
        print("%-10s" % row["server"] + "".join("%15.1fx" % r for r in ratios))
    print("\nCPU (share of one core), load generator / server, and the host's steal (share of all CPU time):")
    for key in ("c=1", "c=16", "c=256", "k=1", "k=64"):
        print("  %-6s " % key + ", ".join("%s %.0f%% / %.0f%% st %.1f%%" % (r["server"], 100 * r["client cpu " + key], 100 * r["server cpu " + key], 100 * r["steal " + key]) for r in rows))
    print("srv us/conn = server CPU microseconds per connection at c=16; srv us/req = per request at k=64 (lower is better; ratio = python / ours)")
    print("p99 ms @1000, three runs (the table has the median): " + ", ".join("%s %s" % (r["server"], r.get("p99 ms @1000 runs", "n/a")) for r in rows))
    print("  the host's steal in those runs: " + ", ".join("%s %s" % (r["server"], r.get("steal @1000 runs", "n/a")) for r in rows))
    print("idle connections held: " + ", ".join("%s %d" % (r["server"], r["idle held"]) for r in rows))
    print("seconds until the server was idle and answering again after them: " + ", ".join("%s %.1f" % (r["server"], r["settle s"]) for r in rows))
    errors = {r["server"]: {k: v for k, v in r.items() if k.startswith("errors") and v} for r in rows}
    print("errors: %s" % errors)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "servers.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=sorted({k for r in rows for k in r}, key=lambda k: (k != "server", k)))
        writer.writeheader()
        writer.writerows(rows)
    svg(rows, metrics, os.path.join(RESULTS, "servers.svg"))
    print("wrote bench/results/servers.csv and bench/results/servers.svg")


if __name__ == "__main__":
    main()
