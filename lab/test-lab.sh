#!/usr/bin/env bash
# End-to-end lab test: real containers, a real capture, checks from the pcap.
#
# Brings the lab up, runs time-client on mesin-2 and mesin-3 at the same time
# and echo-client on mesin-2 while capturing, then reads the pcap with
# `tcpdump -r` inside the image and checks, for each client machine: SYN,
# SYN-ACK and ACK with 172.16.16.101:45000, the TIME and JAM hh:mm:ss
# payloads, and FINs both ways; every experiment (lab/test-scenarios.sh);
# the privileges of each container (lab/test-privileges.sh). Finally
# `make down` must leave no container, network or bridge behind. The lab is
# taken down even when a step fails.
#
# Without Docker the test is skipped, except under CI=true, where it fails.
# pass and fail always return 0, so `check && pass || fail` is an if-else here.
# shellcheck disable=SC2015
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

failures=0
passes=0
pass() { printf 'lab test: ok   %s\n' "$*"; passes=$((passes + 1)); }
fail() { printf 'lab test: FAIL %s\n' "$*"; failures=$((failures + 1)); }

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    echo "lab test: Docker is not available, and under CI=true the lab test is required" >&2
    echo "lab: 0 passed, 1 failed"
    exit 1
  fi
  echo "lab test: SKIPPED (Docker is not available here; the loopback tests above still ran)"
  exit 0
fi

IMAGE=${LAB_IMAGE:-progjar-lab/mesin:latest}
NET=${LAB_NET:-172.16.16}
BRIDGE=${LAB_BRIDGE:-progjar0}
export LAB_NET=$NET LAB_BRIDGE=$BRIDGE

# Run as root, the test is a student who typed `sudo make`: the lab then
# acts as uid 1000 (or SUDO_UID), and the folders it chowns for them are
# given back to their owner at the end.
folders_owner=$(stat -c %u:%g work)
if [ "$(id -u)" = 0 ] && [ -z "${SUDO_UID:-}" ]; then export SUDO_UID=1000 SUDO_GID=1000; fi
cleanup() {
  lab/lab.sh down >/dev/null 2>&1
  [ "$(id -u)" = 0 ] && chown -R "$folders_owner" work captures .lab 2>/dev/null
}
trap cleanup EXIT

lab/lab.sh down >/dev/null 2>&1

# Friendly failures: a subnet that another Docker network already uses.
docker network rm progjar-test-overlap >/dev/null 2>&1
if docker network create --subnet 10.231.7.0/24 progjar-test-overlap >/dev/null 2>&1; then
  out=$(LAB_NET=10.231.7 lab/lab.sh up 2>&1); code=$?
  docker network rm progjar-test-overlap >/dev/null 2>&1
  if [ "$code" = 1 ] && grep -q "overlaps Docker network 'progjar-test-overlap'" <<<"$out" && grep -q "LAB_NET=" <<<"$out"; then
    pass "a taken subnet is refused with a hint (LAB_NET=...)"
  else
    fail "a taken subnet was not refused clearly (exit $code): $out"
  fi
fi
out=$(LAB_NET=172.16 lab/lab.sh up 2>&1) && fail "LAB_NET=172.16 was accepted" ||
  { grep -q "not three octets" <<<"$out" && pass "a malformed LAB_NET is refused" || fail "malformed LAB_NET message: $out"; }

# A fresh image of the current code, then a fresh lab.
lab/lab.sh images || { echo "lab: 0 passed, 1 failed"; exit 1; }
lab/lab.sh up || { echo "lab: 0 passed, 1 failed"; exit 1; }

# labctl on mesin-1, as the README has students use it: another mode, and back.
out=$(docker exec progjar-mesin-1 labctl restart time --mode thread 2>&1); code=$?
if [ "$code" = 0 ]; then pass "labctl restart time --mode thread"; else fail "labctl restart time --mode thread (exit $code): $out"; fi
line=$(docker exec progjar-mesin-1 labctl status 2>&1 | awk '$1 == "time"')
mode=$(awk '{ for (i = 7; i < NF; i++) if ($i == "--mode") m = $(i + 1) } END { print m }' <<<"$line")
if [ "$(awk '{ print $2 }' <<<"$line")" = running ] && [ "$mode" = thread ]; then
  pass "labctl status: time runs with --mode thread last"
else
  fail "labctl status does not show time running in thread mode: $line"
fi
started=$(docker exec progjar-mesin-1 grep "listening on" /var/log/lab/time.log 2>&1 | tail -n1)
if grep -q "(thread mode)" <<<"$started"; then pass "time-server's log: $started"; else fail "time-server's last start is not in thread mode: $started"; fi
out=$(docker exec progjar-mesin-2 time-client --count 1 2>&1); code=$?
if [ "$code" = 0 ]; then pass "time-client on mesin-2 gets a reply from the thread-mode server"; else fail "time-client against the thread-mode server (exit $code): $out"; fi
out=$(docker exec progjar-mesin-1 labctl restart time 2>&1); code=$?
if [ "$code" = 0 ] && grep -q "async mode" <<<"$out"; then pass "labctl restart time: back to async mode"; else fail "labctl restart time (exit $code): $out"; fi

capture_log=$(mktemp)
LABEL=labtest RUN="mesin-2 time-client --count 2 --interval 0.2 & mesin-3 time-client --count 2 --interval 0.2 & mesin-2 echo-client" \
  lab/lab.sh capture | tee "$capture_log"
status=${PIPESTATUS[0]}
[ "$status" = 0 ] && pass "clients on mesin-2 and mesin-3 succeeded during the capture" ||
  fail "a client failed during the capture (exit $status)"
pcap=$(grep -E '^captures/.*\.pcap$' "$capture_log" | tail -n1)
rm -f "$capture_log"
if [ -z "$pcap" ] || [ ! -s "$pcap" ]; then
  fail "no capture file was written"
  echo "lab: $passes passed, $failures failed"
  exit 1
fi
pass "capture written: $pcap"

# Mistakes a student makes get a message that says what to do, and leave nothing behind.
before=$(find captures -maxdepth 1 -name '*.pcap' | wc -l)
out=$(RUN="mesin-9 ls" lab/lab.sh capture 2>&1); code=$?
after=$(find captures -maxdepth 1 -name '*.pcap' | wc -l)
[ "$code" = 1 ] && [ "$before" = "$after" ] && grep -q "'mesin-9' is not a lab machine" <<<"$out" &&
  pass "RUN with an unknown machine is refused before capturing (no empty pcap)" ||
  fail "RUN=\"mesin-9 ls\": exit $code, pcaps $before -> $after: $out"
out=$(RUN="mesin-2 false" LABEL=labtest-fail lab/lab.sh capture 2>&1); code=$?
# shellcheck disable=SC2016 # the backquotes are text to find
[ "$code" = 1 ] && grep -q '\[mesin-2\] `false` exited with code 1' <<<"$out" &&
  pass "a failed RUN command is named with its exit code" ||
  fail "a failed RUN command was not named with its exit code (exit $code): $out"
out=$(lab/lab.sh shell mesin-9 2>&1 </dev/null); code=$?
[ "$code" = 1 ] && grep -q "mesin-1 mesin-2 mesin-3" <<<"$out" &&
  pass "make shell M=mesin-9 lists the machines" || fail "make shell M=mesin-9 (exit $code): $out"

# Read it back with tcpdump in the image; a cut-off file would say "truncated".
text=$(docker run --rm -v "$PWD/captures:/c:ro" "$IMAGE" tcpdump -nn -r "/c/$(basename "$pcap")" -A 2>/tmp/lab-test-tcpdump.err)
if grep -qi truncated /tmp/lab-test-tcpdump.err; then fail "tcpdump -r reports a truncated file"; else pass "tcpdump -r reads the file cleanly"; fi

# One line per fact: "<flags> <src> > <dst>" for headers, "DATA <src> > <dst> <payload line>" for payloads.
facts=$(awk '
  /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]+ IP / {
    src = $3; dst = $5; sub(/:$/, "", dst)
    flags = ""; for (i = 6; i <= NF; i++) if ($i == "Flags") { flags = $(i + 1); break }
    sub(/,$/, "", flags)
    ack = ($0 ~ /, ack 1, /) ? " ack1" : ""
    print "HDR " flags ack " " src " > " dst
    next
  }
  /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\./ { src = ""; next }
  src != "" { print "DATA " src " > " dst " " $0 }
' <<<"$text")

server="$NET\\.101"
for c in 102 103; do
  client="$NET\\.$c\\.[0-9]+"
  check() { grep -qE "$1" <<<"$facts" && pass "$NET.$c: $2" || fail "$NET.$c: $2"; }
  check "^HDR \[S\] $client > $server\.45000$" "SYN to $NET.101:45000"
  check "^HDR \[S\.\] $server\.45000 > $client$" "SYN-ACK from $NET.101:45000"
  check "^HDR \[\.\] ack1 $client > $server\.45000$" "ACK completing the handshake"
  check "^DATA $client > $server\.45000 .*TIME" "TIME request (PSH/ACK payload)"
  check "^DATA $server\.45000 > $client .*JAM [0-2][0-9]:[0-5][0-9]:[0-5][0-9]" "JAM hh:mm:ss reply"
  check "^HDR \[P\.\] $client > $server\.45000$" "PSH,ACK from the client"
  check "^HDR \[F\.\] $client > $server\.45000$" "FIN from the client"
  check "^HDR \[F\.\] $server\.45000 > $client$" "FIN from the server"
done
client="$NET\\.102\\.[0-9]+"
grep -qE "^DATA $client > $server\.10000 .*INI ADALAH DATA" <<<"$facts" && pass "echo message to $NET.101:10000" || fail "echo message to $NET.101:10000"
grep -qE "^DATA $server\.10000 > $client .*INI ADALAH DATA" <<<"$facts" && pass "echo back from $NET.101:10000" || fail "echo back from $NET.101:10000"

# The summarizer in the image tells the same story.
summary_check='
import json, sys
d = json.load(sys.stdin)
net = sys.argv[1]
for c in ("102", "103"):
    convs = [x for x in d["conversations"]
             if x["client"].startswith(net + "." + c + ":") and x["server"] == net + ".101:45000"]
    ok = any(x["handshake"] == "complete" and x["close"] == "fin"
             and any(s["payload"] == "TIME\\r\\n" and s["dir"] == "c2s" for s in x["segments"])
             and any(s["payload"].startswith("JAM ") and s["dir"] == "s2c" for s in x["segments"])
             for x in convs)
    print(("ok   " if ok else "FAIL ") + net + "." + c + ": pcap-summary shows handshake, TIME/JAM and FIN close")
'
while read -r line; do
  case "$line" in ok*) pass "${line#ok   }" ;; *) fail "${line#FAIL }" ;; esac
done < <(docker run --rm -v "$PWD/captures:/c:ro" "$IMAGE" bash -c \
  "pcap-summary --json /c/$(basename "$pcap") | python3 -c '$summary_check' $NET" 2>&1)

# Every experiment of the course, with its REPORT.md checked against the capture.
while read -r line; do
  case "$line" in
    ok*) pass "${line#ok   }" ;;
    FAIL*) fail "${line#FAIL }" ;;
  esac
done < <(lab/test-scenarios.sh)

# Who holds which privilege, checked on the running containers; ends with make down.
while read -r line; do
  case "$line" in
    ok*) pass "${line#ok   }" ;;
    FAIL*) fail "${line#FAIL }" ;;
    info*) printf 'lab test: %s\n' "$line" ;;
  esac
done < <(lab/test-privileges.sh)

# make down must leave nothing behind.
lab/lab.sh down >/dev/null || fail "lab down failed"
left=$(docker ps -a --filter label=com.docker.compose.project=progjar -q)
[ -z "$left" ] && pass "no container left after down" || fail "containers left after down: $left"
docker network inspect progjar-lab >/dev/null 2>&1 && fail "network progjar-lab left after down" || pass "no network left after down"
if command -v ip >/dev/null 2>&1; then
  ip link show "$BRIDGE" >/dev/null 2>&1 && fail "bridge $BRIDGE left after down" || pass "no bridge left after down"
fi

out=$(lab/lab.sh status 2>&1)
grep -q "the lab is not running" <<<"$out" && pass "make status with no lab says it is not running" ||
  fail "make status with no lab: $out"
out=$(lab/lab.sh down 2>&1); code=$?
[ "$code" = 0 ] && grep -q "nothing to remove" <<<"$out" && ! grep -qi "not found" <<<"$out" &&
  pass "a second make down says there is nothing to remove" || fail "a second make down (exit $code): $out"

echo "lab: $passes passed, $failures failed"
[ "$failures" = 0 ]
