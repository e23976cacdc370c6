#!/usr/bin/env bash
# Every experiment of the course, run in the lab (smaller counts, through
# T1_INTERVAL and T2_CLIENTS), with each REPORT.md checked for the facts it
# must state, taken independently from the summarizer's JSON.
# Called by lab/test-lab.sh while the lab is up; prints ok/FAIL lines.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
IMAGE=${LAB_IMAGE:-progjar-lab/mesin:latest}

T1_INTERVAL=1 T2_CLIENTS=2 S=all lab/lab.sh scenario >/tmp/progjar-scenarios.log 2>&1
echo "scenarios exit: $?"

latest() { ls -d captures/*-"$1" 2>/dev/null | tail -n1; }

for name in t1-socket-info t1-echo t1-file t1-iterative t2-time t2-concurrent t2-crlf; do
  dir=$(latest "$name")
  if [ -z "$dir" ]; then echo "FAIL $name: no folder"; continue; fi
  missing=""
  for f in capture.pcap summary.txt summary.json timeline.svg REPORT.md runs.tsv; do
    [ -s "$dir/$f" ] || missing="$missing $f"
  done
  [ -z "$missing" ] && echo "ok   $name: folder has pcap, summary, svg, runs and REPORT.md" || echo "FAIL $name: missing$missing"
done

# Facts from summary.json, checked against what REPORT.md says, with python3 in the image.
check='
import json, re, sys
name, folder = sys.argv[1], sys.argv[2]
d = json.load(open(folder + "/summary.json"))
report = open(folder + "/REPORT.md").read()
def port(c): return int(c["server"].rsplit(":", 1)[1])
def say(ok, what): print(("ok   " if ok else "FAIL ") + name + ": " + what)
if name == "t2-concurrent":
    convs = [c for c in d["conversations"] if port(c) == 45000]
    events = sorted([(c["start"], 1) for c in convs] + [(c["end"], -1) for c in convs], key=lambda e: (e[0], -e[1]))
    openn = most = 0
    for _, change in events:
        openn += change; most = max(most, openn)
    say(most >= 2, "at least 2 connections open at once in the capture (%d)" % most)
    say(("Up to %d of the %d connections" % (most, len(convs))) in report, "REPORT.md states the overlap from the capture")
elif name == "t1-iterative":
    convs = [c for c in d["conversations"] if port(c) == 10000 and any(s["dir"] == "s2c" for s in c["segments"])]
    convs.sort(key=lambda c: min(s["time"] for s in c["segments"] if s["dir"] == "s2c"))
    first, second = convs[0], convs[1]
    fin = min(s["time"] for s in first["teardown"] if "FIN" in s["flags"])
    byte = min(s["time"] for s in second["segments"] if s["dir"] == "s2c")
    say(byte >= fin, "second client first echo byte (%.3f s) after the first client FIN (%.3f s)" % (byte, fin))
    say("one client at a time" in report and ("%.3f s" % byte) in report, "REPORT.md states the wait with the capture times")
elif name == "t2-crlf":
    say("got ERROR" in report and "got JAM" in report, "REPORT.md pairs requests with ERROR and JAM replies")
elif name == "t1-echo":
    c = [c for c in d["conversations"] if port(c) == 10000][0]
    n = c["payload_bytes"]["client_to_server"]
    say(n == 46 and ("received the same %d bytes" % n) in report, "46 bytes echoed, stated in REPORT.md")
elif name == "t1-file":
    c = [c for c in d["conversations"] if port(c) == 32444][0]
    n = c["payload_bytes"]["client_to_server"]
    say(n > 1000 and c["payload_bytes"]["server_to_client"] == n and str(n) in report, "the file (%d bytes) echoed, stated in REPORT.md" % n)
elif name == "t2-time":
    c = [c for c in d["conversations"] if port(c) == 45000][0]
    jams = [s for s in c["segments"] if s["payload"].startswith("JAM ")]
    say(len(jams) == 2 and "got 2 JAM replies" in report and "Three-way handshake" in report, "TIME, TIME, QUIT with 2 JAM replies and the walk-through")
elif name == "t1-socket-info":
    say("getaddrinfo entries" in report and "mesin-2" in report, "socket-info output from mesin-1 and mesin-2 reported")
'
for name in t1-socket-info t1-echo t1-file t1-iterative t2-time t2-concurrent t2-crlf; do
  dir=$(latest "$name")
  [ -n "$dir" ] || continue
  docker run --rm -v "$PWD/captures:/captures:ro" "$IMAGE" python3 -c "$check" "$name" "/captures/$(basename "$dir")" 2>&1 |
    sed 's/^Traceback.*/FAIL '"$name"': the check raised an error/' | grep -E '^(ok|FAIL)'
done

# The report in Indonesian.
REPORT_LANG=id S=t2-time lab/lab.sh scenario >/dev/null 2>&1
dir=$(latest t2-time)
grep -q "## Temuan" "$dir/REPORT.md" && grep -q "mengirim TIME 2 kali" "$dir/REPORT.md" &&
  echo "ok   t2-time: REPORT_LANG=id writes the report in Indonesian" ||
  echo "FAIL t2-time: REPORT_LANG=id did not give an Indonesian report"

# SERVER=...: a student's own server takes the place of ours.
cat >work/.lab-test-server.py <<'PY'
import datetime, socket, threading
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
rm -f work/.lab-test-server.py
dir=$(latest t2-time)
if grep -q "python3 /work/.lab-test-server.py" "$dir/REPORT.md" && grep -q "got 2 JAM replies" "$dir/REPORT.md" &&
  grep -q "connection from" "$dir/logs/mesin-1-student-server.log"; then
  echo "ok   t2-time: SERVER=... runs the student's server on mesin-1, with its log in the report"
else
  echo "FAIL t2-time: SERVER=... did not run the student's server as expected ($dir)"
fi
status=$(docker exec progjar-mesin-1 labctl status | awk '$1 == "time" {print $2}')
[ "$status" = running ] && echo "ok   t2-time: our time server is back after SERVER=..." ||
  echo "FAIL t2-time: our time server was not restarted after SERVER=..."
