#!/usr/bin/env bash
# Every experiment of the course, run in the lab (smaller counts), with each
# report checked two ways: findings.json must say the run showed what the
# experiment is about, and a few facts are worked out again here, with
# python3 in the image, from pcap-summary's JSON and compared with REPORT.md.
# Then the runs that go wrong on purpose: a student's server, one that waits
# for CR LF, an iterative time server, and a lossy link (packets dropped in
# mesin-2's network namespace); and the SERVER= mistakes lab.sh refuses.
# Called by lab/test-lab.sh while the lab is up; prints ok/FAIL lines.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
IMAGE=${LAB_IMAGE:-progjar-lab/mesin:latest}
# SERVER left exported (e.g. from make check) would change every run below.
unset SERVER

# t3-loss at 10%: the ~100 packets of its file echo all but surely lose some.
export T1_INTERVAL=1 T2_CLIENTS=2 T3_LOSS=10
S=all lab/lab.sh scenario >/tmp/progjar-scenarios.log 2>&1
echo "info scenarios exit: $?"

latest() { find captures -maxdepth 1 -type d -name "*-$1" | sort | tail -n1; }
names=$(docker run --rm "$IMAGE" experiment names)

# check NAME FOLDER: python checks of one folder, run in the image.
check() {
  docker run --rm -i -v "$PWD/captures:/captures:ro" "$IMAGE" python3 - "$1" "/captures/$(basename "$2")" "${3:-expected}" <<'PY' 2>&1 |
import json, sys
name, folder, want = sys.argv[1], sys.argv[2], sys.argv[3]
def load(f): return json.load(open(folder + "/" + f))
d, findings = load("summary.json"), load("findings.json")
report = open(folder + "/REPORT.md").read()
def port(c): return int(c["server"].rsplit(":", 1)[1])
def say(ok, what): print(("ok   " if ok else "FAIL ") + name + ": " + what)
stats = load("capture-stats.json")
say(set(stats) <= {"captured", "received", "dropped"} and stats.get("captured") == d["packets"],
    "capture-stats.json holds tcpdump's counts %s; captured = the %d packets in the capture" % (json.dumps(stats), d["packets"]))
if want == "expected":
    say(findings["as_expected"] is True and "This run showed what the experiment is about." in report,
        "findings.json and REPORT.md say the run showed what it is about")
if name == "t2-concurrent" and want == "iterative":
    say(findings["as_expected"] is False and "handled several clients concurrently" not in report,
        "an iterative time server: findings.json says as_expected false, REPORT.md does not say it handled clients concurrently")
elif name == "t2-concurrent":
    # Being answered: from a connection's first reply to its end.
    convs = [c for c in d["conversations"] if port(c) == 45000]
    served = [(min(s["time"] for s in c["segments"] if s["dir"] == "s2c"), c["end"])
              for c in convs if any(s["dir"] == "s2c" for s in c["segments"])]
    events = sorted([(a, 1) for a, b in served] + [(max(b, a + 1e-9), -1) for a, b in served])
    openn = most = 0
    for _, change in events:
        openn += change; most = max(most, openn)
    say(most >= 2 and ("Up to %d of the %d connections" % (most, len(convs))) in report,
        "REPORT.md states the service overlap the capture shows (%d answered at once)" % most)
elif name == "t1-iterative":
    convs = [c for c in d["conversations"] if port(c) == 10000 and any(s["dir"] == "s2c" for s in c["segments"])]
    convs.sort(key=lambda c: min(s["time"] for s in c["segments"] if s["dir"] == "s2c"))
    fin = min(s["time"] for s in convs[0]["teardown"] if "FIN" in s["flags"])
    byte = min(s["time"] for s in convs[1]["segments"] if s["dir"] == "s2c")
    say(byte >= fin and ("only at %.3f s" % byte) in report and "one client at a time" in report,
        "second client's first echo byte (%.3f s) after the first client's FIN (%.3f s), stated in REPORT.md" % (byte, fin))
elif name == "t2-crlf" and want == "expected":
    say("got ERROR" in report and "got a reply: `JAM" in report and "Only the line that ends in CR LF" in report,
        "REPORT.md pairs the bare LF and HELLO with ERROR and TIME with JAM")
elif name == "t2-crlf":
    say("Only the line that ends in CR LF" not in report and "does not answer as the assignment asks" in report
        and "got nothing within" in report and findings["as_expected"] is False,
        "a server that waits for CR LF: REPORT.md says what it did instead (nothing within N s)")
elif name in ("t1-echo", "t1-file"):
    p = 10000 if name == "t1-echo" else 32444
    c = [c for c in d["conversations"] if port(c) == p][0]
    sent, back = c["stream_bytes"]["client_to_server"], c["stream_bytes"]["server_to_client"]
    wire = c["payload_bytes"]["client_to_server"] + c["payload_bytes"]["server_to_client"]
    say(sent == back and sent > 0 and ("sent %d bytes to port %d and got the same %d back" % (sent, p, back)) in report,
        "%d stream bytes echoed, stated in REPORT.md" % sent)
    resent = sum(c2["retransmissions"] for c2 in d["conversations"] if port(c2) == p)
    if want == "lossy":
        print("info %s: capture shows %d retransmitted segments, %d wire bytes for %d stream bytes" % (name, resent, wire, 2 * sent))
        say(resent == 0 or ("segment was sent again" in report or "segments were sent again" in report),
            "retransmissions in the capture (%d) are named in REPORT.md" % resent)
        say(findings["facts"]["clients"][0]["result"]["bytes_received"] == sent,
            "the byte count stated is what echo-client read (stream bytes, not wire bytes)")
elif name == "t3-loss":
    a = {}
    for c in d["conversations"]:
        if port(c) == 32444:
            for k, v in c["analysis"].items():
                a[k] = a.get(k, 0) + v
    n = a.get("retransmission", 0)
    print("info t3-loss: the capture's analysis %s" % json.dumps(a))
    say(n > 0 and ("TCP sent %d segment" % n) in report and "still the file arrived intact" in report,
        "REPORT.md names the %d retransmissions the capture's analysis shows, and the file intact" % n)
    say(findings["facts"]["loss_percent"] == 10, "the lossy link of the run (10%) is in findings.json")
elif name == "t3-flow":
    zw = sum(c["analysis"]["zero_window"] for c in d["conversations"] if port(c) == 32444)
    up = sum(c["analysis"]["window_update"] for c in d["conversations"] if port(c) == 32444)
    print("info t3-flow: %d zero windows, %d window updates in the capture" % (zw, up))
    say(zw > 0 and ("announced a zero window %d time" % zw) in report and "This is flow control" in report,
        "REPORT.md states the %d zero windows the capture shows and why (flow control)" % zw)
elif name == "t2-time":
    c = [c for c in d["conversations"] if port(c) == 45000][0]
    jams = [s for s in c["segments"] if s["payload"].startswith("JAM ")]
    say(len(jams) == 2 and "got 2 JAM replies" in report and "Three-way handshake" in report,
        "TIME, TIME, QUIT with 2 JAM replies and the walk-through")
elif name == "t1-socket-info":
    ok = "getaddrinfo entr" in report and "On mesin-2" in report
    if d["packets"] == 0:
        ok = ok and "The capture holds no packets" in report
    say(ok, "socket-info from mesin-1 and mesin-2 reported; an empty capture explained (%d packets)" % d["packets"])
PY
    sed 's/^Traceback.*/FAIL '"$1"': the check raised an error/' | grep -E '^(ok|FAIL|info)' |
    awk -v name="$1" '{ print } /^(ok|FAIL)/ { n++ } END { if (!n) print "FAIL " name ": the python checks printed nothing" }'
}

for name in $names; do
  dir=$(latest "$name")
  if [ -z "$dir" ]; then echo "FAIL $name: no folder"; continue; fi
  missing=""
  for f in capture.pcap capture-stats.json plan.json runs.jsonl summary.json findings.json timeline.svg REPORT.md report.html; do
    [ -s "$dir/$f" ] || missing="$missing $f"
  done
  [ -z "$missing" ] && echo "ok   $name: the folder has the capture and its counts, plan, runs, summary, findings and REPORT.md" ||
    echo "FAIL $name: missing$missing"
  check "$name" "$dir"
done

# S=all's index page links every experiment's report.html.
linked=0
for name in $names; do
  dir=$(latest "$name")
  [ -n "$dir" ] && grep -qF "$(basename "$dir")/report.html" captures/index.html 2>/dev/null && linked=$((linked + 1))
done
[ "$linked" = "$(wc -w <<<"$names")" ] && echo "ok   S=all: captures/index.html links all $linked reports" ||
  echo "FAIL S=all: captures/index.html links $linked of $(wc -w <<<"$names") reports"

# The ladder pictures of a real run, and report.html in a real browser (headless
# Chromium from Debian's packages, from the host: make setup installs it).
dir=$(latest t2-concurrent)
for f in ladder.svg ladder.png overview.svg overview.png; do
  [ -s "$dir/$f" ] && echo "ok   t2-concurrent: $f drawn" || echo "FAIL t2-concurrent: no $f"
done
if command -v chromium >/dev/null; then
  # The browser's own traffic off, and whatever is left only to a closed loopback port.
  quiet=(--headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$(mktemp -d)"
    --disable-background-networking --disable-component-update --disable-sync --disable-extensions
    --no-pings "--host-resolver-rules=MAP * ~NOTFOUND" --proxy-server=127.0.0.1:9)
  dom=$(chromium "${quiet[@]}" --dump-dom "file://$PWD/$dir/report.html" 2>/dev/null)
  for part in 'class="ladder"><svg' 'class="overview"><svg' 'class="timeline"><svg' 'class="conversation"'; do
    grep -qF "$part" <<<"$dom" && echo "ok   report.html: the browser shows $part" ||
      echo "FAIL report.html: the browser's DOM has no $part"
  done
  chromium "${quiet[@]}" --screenshot="$dir/report-screenshot.png" --window-size=1240,1754 \
    "file://$PWD/$dir/report.html" >/dev/null 2>&1
  [ -s "$dir/report-screenshot.png" ] && echo "ok   report.html: screenshot in $dir/report-screenshot.png" ||
    echo "FAIL report.html: no screenshot"
elif [ "${CI:-}" = true ]; then
  echo "FAIL report.html: chromium is not installed (make setup installs it)"
else
  echo "info report.html: chromium not installed, browser check skipped (make setup installs it)"
fi

# The report in Indonesian.
REPORT_LANG=id S=t2-time lab/lab.sh scenario >/dev/null 2>&1
dir=$(latest t2-time)
grep -q "## Temuan" "$dir/REPORT.md" && grep -q "mengirim TIME 2 kali" "$dir/REPORT.md" &&
  echo "ok   t2-time: REPORT_LANG=id writes the report in Indonesian" ||
  echo "FAIL t2-time: REPORT_LANG=id did not give an Indonesian report"

# SERVER=...: a student's own (correct, threaded) server takes the place of ours.
cat >work/.lab-test-server.py <<'PY'
import datetime, socket, sys, threading
lf_only = len(sys.argv) > 1 and sys.argv[1] == "--wait-for-crlf"
def serve(conn):
    buf = b""
    with conn:
        while True:
            data = conn.recv(1024)
            if not data:
                return
            buf += data
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                if line.startswith(b"QUIT"):
                    return
                if line.startswith(b"TIME"):
                    conn.sendall(("JAM " + datetime.datetime.now().strftime("%H:%M:%S") + "\r\n").encode())
                elif not lf_only:
                    conn.sendall(b"ERROR unknown\r\n")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 45000))
s.listen(10)
print("student server ready", flush=True)
while True:
    c, a = s.accept()
    print("connection from", a, flush=True)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
SERVER="python3 /work/.lab-test-server.py" S=t2-time lab/lab.sh scenario >/dev/null 2>&1
dir=$(latest t2-time)
if grep -q "A student's server stood in for ours on mesin-1: \`python3 /work/.lab-test-server.py\`" "$dir/REPORT.md" &&
  grep -q "got 2 JAM replies" "$dir/REPORT.md" && grep -q "connection from" "$dir/logs/mesin-1-server.log"; then
  echo "ok   t2-time: SERVER=... runs the student's server on mesin-1, with its log in the report"
else
  echo "FAIL t2-time: SERVER=... did not run the student's server as expected ($dir)"
fi
check t2-time "$dir"

# Our server stopped by hand and a program started in a shell in its place,
# without SERVER=...: the report must not call that program ours.
docker exec progjar-mesin-1 labctl stop time >/dev/null
docker exec -d progjar-mesin-1 lab-as-student bash -c 'cd /work && exec python3 .lab-test-server.py >/tmp/by-hand.log 2>&1'
for _ in $(seq 50); do
  docker exec progjar-mesin-1 ss -Hltn 'sport = :45000' | grep -q . && break
  sleep 0.2
done
held=$(docker exec progjar-mesin-1 labctl status | awk '$1 == "time"')
if [[ "$held" == *"stopped  (port 45000 is held by pid "*"python3 .lab-test-server.py"* ]]; then
  echo "ok   labctl status: our time server stopped, and which program holds port 45000 instead"
else
  echo "FAIL labctl status: with a program started by hand on 45000, said: $held"
fi
said=$(S=t2-time lab/lab.sh scenario 2>&1)
dir=$(latest t2-time)
if [[ "$said" == *"warning: our time server is not running on mesin-1"* ]] &&
  grep -q "(not ours: ours was not running)" "$dir/REPORT.md" &&
  grep -q "yet a program listened on port 45000: this report shows that program, not ours" "$dir/REPORT.md" &&
  ! grep -q "(our server)" "$dir/REPORT.md"; then
  echo "ok   t2-time: with our server stopped and another program on 45000, the run warns and the report calls nothing ours"
else
  echo "FAIL t2-time: with our server stopped, the run or its report ($dir) took the program on 45000 for ours; said: $said"
fi
docker exec progjar-mesin-1 lab-as-student pkill -f lab-test-server
for _ in $(seq 50); do
  docker exec progjar-mesin-1 ss -Hltn 'sport = :45000' | grep -q . || break
  sleep 0.2
done
docker exec progjar-mesin-1 labctl start time >/dev/null ||
  echo "FAIL t2-time: our time server did not start again after the test with it stopped"

# A student's server that answers only lines ending in CR LF: the bare LF
# line is never answered. The report must say so, not claim ERROR. Started
# as `cd ... && python3 ...`: python is bash's child, and must be stopped too.
SERVER="cd /work && python3 .lab-test-server.py --wait-for-crlf" S=t2-crlf lab/lab.sh scenario >/dev/null 2>&1
check t2-crlf "$(latest t2-crlf)" student
rm -f work/.lab-test-server.py
read -r _ status _ time_pid _ < <(docker exec progjar-mesin-1 labctl status | awk '$1 == "time"')
owner=$(docker exec progjar-mesin-1 lab-as-student ss -Hltnp 'sport = :45000' | grep -o 'pid=[0-9]*' | head -n1)
left=$(docker exec progjar-mesin-1 bash -c 'ps -eo args | grep -c "[l]ab-test-server"; ls /run/lab/student.pid 2>/dev/null')
if [ "$status" = running ] && [ "$owner" = "pid=$time_pid" ] && [ "$left" = 0 ]; then
  echo "ok   t2-crlf: after SERVER=\"cd /work && python3 ...\", no process of it is left and our time server listens on 45000"
else
  echo "FAIL t2-crlf: after SERVER=...: our time server $status (pid $time_pid), port 45000 held by $owner, left: $left"
fi

# SERVER=... mistakes lab.sh refuses before it stops any server: host:port
# (what make check takes), and S=all (one command for every server).
refused() {
  local s=$1 server=$2 want=$3 before after out code status
  before=$(find captures -maxdepth 1 -type d | wc -l)
  out=$(S=$s SERVER=$server lab/lab.sh scenario 2>&1)
  code=$?
  after=$(find captures -maxdepth 1 -type d | wc -l)
  status=$(docker exec progjar-mesin-1 labctl status | awk '$1 == "time" {print $2}')
  if [ "$code" = 1 ] && [[ "$out" == *"$want"* ]] && [ "$before" = "$after" ] && [ "$status" = running ]; then
    echo "ok   scenario: S=$s SERVER=\"$server\" is refused (\"$want\"), nothing run, our time server still running"
  else
    echo "FAIL scenario: S=$s SERVER=\"$server\": exit $code, folders $before -> $after, time server $status, said: $out"
  fi
}
refused t2-time 172.16.16.101:45000 "looks like host:port"
refused all "python3 x.py" "Run one experiment at a time"

# An iterative time server (ours, in iterative mode): the clients overlap in
# the capture (the kernel accepts them), but the server did not serve them
# concurrently; the report must not say it did.
if docker exec progjar-mesin-1 labctl restart time --mode iterative >/dev/null; then
  S=t2-concurrent T2_CLIENTS=2 lab/lab.sh scenario >/dev/null 2>&1
  echo "info t2-concurrent (iterative server) exit: $?"
  docker exec progjar-mesin-1 labctl restart time >/dev/null ||
    echo "FAIL t2-concurrent: our time server did not restart in its usual (async) mode"
  check t2-concurrent "$(latest t2-concurrent)" iterative
else
  echo "FAIL t2-concurrent: labctl restart time --mode iterative failed"
  docker exec progjar-mesin-1 labctl start time >/dev/null 2>&1
fi

# A lossy link, as a student makes one: make scenario S=t1-file M=mesin-2 LOSS=10%.
# (tc netem where the kernel has it; this project's machines have none, so iptables'
# statistic match in mesin-2's network namespace, both ways.) The capture holds
# retransmissions, and the report says the link was impaired and counts stream bytes.
if lab/impair.sh show >/dev/null && { docker exec progjar-mesin-2 tc qdisc add dev eth0 root netem loss 1% 2>/dev/null ||
  { [ "$(id -u)" = 0 ] && command -v nsenter >/dev/null && command -v iptables >/dev/null; }; }; then
  docker exec progjar-mesin-2 tc qdisc del dev eth0 root 2>/dev/null
  M=mesin-2 LOSS=10% S=t1-file lab/lab.sh scenario >/dev/null 2>&1
  dir=$(latest t1-file)
  check t1-file "$dir" lossy
  grep -q "During this run mesin-2's link dropped 10% of the packets it sent" "$dir/REPORT.md" &&
    echo "ok   t1-file: M=mesin-2 LOSS=10% is applied for the run and said in REPORT.md" ||
    echo "FAIL t1-file: the impairment is not said in REPORT.md ($dir)"
  [ -z "$(lab/impair.sh show)" ] && echo "ok   t1-file: the link is clean again after the run" ||
    echo "FAIL t1-file: mesin-2's link is still impaired after the run: $(lab/impair.sh show)"
else
  echo "info t1-file: no netem, and no root, nsenter or iptables for the fallback; lossy run skipped"
fi
# DELAY needs netem: where it is missing, the message says so and nothing changes.
if ! docker exec progjar-mesin-2 tc qdisc add dev eth0 root netem delay 1ms 2>/dev/null; then
  out=$(M=mesin-2 DELAY=100ms lab/impair.sh apply 2>&1); code=$?
  [ "$code" = 1 ] && grep -q "sch_netem" <<<"$out" && [ -z "$(lab/impair.sh show)" ] &&
    echo "ok   impair: DELAY without netem fails naming sch_netem, the link stays clean" ||
    echo "FAIL impair: DELAY without netem (exit $code): $out"
else
  docker exec progjar-mesin-2 tc qdisc del dev eth0 root 2>/dev/null
  M=mesin-2 DELAY=50ms lab/impair.sh apply >/dev/null &&
    docker exec progjar-mesin-2 tc qdisc show dev eth0 | grep -q "netem.*delay 50" &&
    echo "ok   impair: DELAY=50ms puts netem on mesin-2's interface" || echo "FAIL impair: DELAY=50ms with netem"
  M=mesin-2 lab/impair.sh clear >/dev/null
fi
