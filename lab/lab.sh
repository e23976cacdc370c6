#!/usr/bin/env bash
# The three-machine lab behind `make lab`, `make capture`, `make down`, ...
#
#   lab/lab.sh up | down | clean | status | logs | shell M | capture | scenario | scenarios | check | images | dist | save | load
#
# Settings (environment):
#   LAB_NET=10.77.0     first three octets of the lab subnet (default 172.16.16)
#   LAB_BRIDGE=name     Linux bridge name, at most 15 characters (default progjar0)
#   LAB_OFFLINE=1|0     1: registry-free build (local debootstrap base image, static
#                       binaries built here); 0: ordinary build (pulls debian and rust);
#                       unset: offline only if the local base image exists and
#                       debian:bookworm-slim does not. Nothing is probed on the network.
#   LAB_TZ=Asia/Jakarta time zone of the machines
# Exit codes: 0 done, 1 failed (the message says what to do), 2 bad usage.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

IMAGE=${LAB_IMAGE:-progjar-lab/mesin:latest}
BASE_IMAGE=${LAB_BASE_IMAGE:-progjar-lab/base:bookworm-2}
NETWORK=progjar-lab
PROJECT=progjar
MACHINES=(mesin-1 mesin-2 mesin-3)
STATE=.lab/env

# Settings chosen at `make lab` time stay in force for later commands,
# unless given again explicitly.
if [ -f "$STATE" ]; then
  while IFS='=' read -r key value; do
    case "$key" in
      LAB_NET | LAB_BRIDGE | LAB_TZ) [ -n "${!key:-}" ] || export "$key=$value" ;;
    esac
  done <"$STATE"
fi
export LAB_NET=${LAB_NET:-172.16.16}
export LAB_BRIDGE=${LAB_BRIDGE:-progjar0}
export LAB_TZ=${LAB_TZ:-Asia/Jakarta}

# Files we write belong to the user, also under `sudo make ...`.
OWNER="${SUDO_UID:-$(id -u)}:${SUDO_GID:-$(id -g)}"
own() { [ -n "${SUDO_UID:-}" ] && [ "$(id -u)" = 0 ] && chown -R "$OWNER" "$@"; return 0; }

say() { printf 'lab: %s\n' "$*"; }
die() { printf 'lab: %s\n' "$*" >&2; exit 1; }

# ---- checks ------------------------------------------------------------------

COMPOSE=()
find_compose() {
  if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose -p "$PROJECT")
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose -p "$PROJECT")
  else
    die "Docker Compose is missing. Install the compose plugin (package docker-compose-plugin, gives 'docker compose') or docker-compose."
  fi
}
compose() { "${COMPOSE[@]}" "$@"; }

preflight() {
  command -v docker >/dev/null 2>&1 || die "Docker is not installed. Install Docker Engine or Docker Desktop,
     or run the programs on one machine without the lab (README: 'Running on one machine, without the lab')."
  local out
  if ! out=$(docker info 2>&1); then
    case "$out" in
      *"permission denied"*)
        die "permission denied on the Docker socket: add yourself to the docker group
     (sudo usermod -aG docker \$USER, then log out and in again), or run make with sudo." ;;
      *"Cannot connect"* | *"daemon running"* | *"No such file"*)
        die "the Docker daemon is not running: start it (sudo systemctl start docker, or open Docker Desktop)." ;;
      *) die "docker does not work: $out" ;;
    esac
  fi
  find_compose
  [[ "$LAB_NET" =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] ||
    die "LAB_NET=$LAB_NET is not three octets like 172.16.16 or 10.77.0"
  [ "${#LAB_BRIDGE}" -le 15 ] || die "LAB_BRIDGE=$LAB_BRIDGE is longer than 15 characters (a Linux limit)"
}

ip_to_int() { local IFS=.; read -r a b c d <<<"$1"; echo $(((a << 24) + (b << 16) + (c << 8) + d)); }

# Does CIDR $1 overlap CIDR $2?
overlaps() {
  local n1=${1%/*} l1=${1#*/} n2=${2%/*} l2=${2#*/}
  [ "$l1" = "$1" ] && l1=32
  [ "$l2" = "$2" ] && l2=32
  local len=$((l1 < l2 ? l1 : l2))
  local mask=$(((0xFFFFFFFF << (32 - len)) & 0xFFFFFFFF))
  [ $(($(ip_to_int "$n1") & mask)) -eq $(($(ip_to_int "$n2") & mask)) ]
}

check_network() {
  docker network inspect "$NETWORK" >/dev/null 2>&1 && return 0
  local subnet=$LAB_NET.0/24 name cidr
  while read -r name cidr; do
    [ -n "$cidr" ] && [[ "$cidr" != *:* ]] && overlaps "$subnet" "$cidr" &&
      die "subnet $subnet overlaps Docker network '$name' ($cidr).
     Remove it (docker network rm $name) or choose another subnet: LAB_NET=10.77.0 make lab"
  done < <(docker network ls -q | xargs -r docker network inspect \
    -f '{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{end}}' 2>/dev/null |
    awk '{for (i = 2; i <= NF; i++) print $1, $i}')
  if command -v ip >/dev/null 2>&1; then
    while read -r cidr _; do
      [ "$cidr" = default ] && continue
      overlaps "$subnet" "$cidr" &&
        die "subnet $subnet overlaps a route of this host ($cidr: $(ip -4 route show "$cidr" | head -n1)).
     Choose another subnet: LAB_NET=10.77.0 make lab"
    done < <(ip -4 route show | awk '{print $1}')
    ip link show "$LAB_BRIDGE" >/dev/null 2>&1 &&
      die "a network interface named $LAB_BRIDGE already exists on this host.
     Choose another bridge name: LAB_BRIDGE=progjar1 make lab"
  fi
  return 0
}

running() { [ "$(docker inspect -f '{{.State.Running}}' progjar-mesin-1 2>/dev/null)" = true ]; }

# ---- building ----------------------------------------------------------------

host_triple() { rustc -vV | sed -n 's/^host: //p'; }

# Static binaries built on this machine, for the registry-free image:
# +crt-static with an explicit --target links glibc in, so they run on any glibc.
dist() {
  command -v cargo >/dev/null 2>&1 || die "cargo is needed to build the programs for the registry-free image"
  local triple; triple=$(host_triple)
  say "building static binaries for $triple"
  # Stripped: the image carries no debug symbols.
  CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_STRIP=symbols \
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target "$triple" --bins ||
    die "building the programs failed"
  rm -rf dist/bin && mkdir -p dist/bin
  find "target/$triple/release" -maxdepth 1 -type f -executable -exec cp {} dist/bin/ \;
  say "dist/bin: $(find dist/bin -maxdepth 1 -type f -printf '%f ')"
}

offline_wanted() {
  case "${LAB_OFFLINE:-}" in
    1 | yes | true) return 0 ;;
    0 | no | false) return 1 ;;
  esac
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 &&
    ! docker image inspect debian:bookworm-slim >/dev/null 2>&1
}

images() {
  if offline_wanted; then
    say "registry-free build: base image from Debian's packages, binaries built here"
    lab/base-image.sh "$BASE_IMAGE" || die "could not make the base image $BASE_IMAGE"
    dist
    DOCKER_BUILDKIT=0 docker build -q --target offline --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$IMAGE" . >/dev/null ||
      die "docker build --target offline failed"
  else
    say "ordinary build: FROM debian:bookworm-slim with a rust builder stage (pulls images)"
    DOCKER_BUILDKIT=1 docker build --target runtime -t "$IMAGE" . ||
      die "building the image failed. If this machine cannot pull from a registry,
     use the registry-free path: LAB_OFFLINE=1 make lab"
  fi
  say "image $IMAGE: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
}

# ---- the lab -----------------------------------------------------------------

table() {
  printf '\n  %-8s %-15s %-58s %s\n' machine address "what runs there" "shell"
  printf '  %-8s %-15s %-58s %s\n' mesin-1 "$LAB_NET.101" \
    "time-server :45000 (async), echo-server :10000 :32444 (iter.)" "make shell M=mesin-1"
  printf '  %-8s %-15s %-58s %s\n' mesin-2 "$LAB_NET.102" "clients: time-client, echo-client, socket-info" "make shell M=mesin-2"
  printf '  %-8s %-15s %-58s %s\n' mesin-3 "$LAB_NET.103" "clients: time-client, echo-client, socket-info" "make shell M=mesin-3"
  printf '\n  shared folder: ./work on this host = /work on every machine\n'
  printf '  try: make capture RUN="mesin-2 time-client"\n\n'
}

up() {
  preflight
  if running; then
    say "the lab is already running"
    table
    return 0
  fi
  check_network
  if [ "${LAB_REBUILD:-0}" = 1 ] || ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    images
  else
    say "using the existing image $IMAGE (make images rebuilds it)"
  fi
  mkdir -p work captures .lab && own work captures .lab
  printf 'LAB_NET=%s\nLAB_BRIDGE=%s\nLAB_TZ=%s\n' "$LAB_NET" "$LAB_BRIDGE" "$LAB_TZ" >"$STATE"
  compose up -d mesin-1 mesin-2 mesin-3 || die "starting the machines failed (see above)"
  docker exec progjar-mesin-1 labctl wait ||
    die "the servers on mesin-1 did not start; see: make logs"
  say "the lab is up"
  table
}

down() {
  preflight
  if [ -z "$(docker ps -aq --filter label=com.docker.compose.project=$PROJECT)" ] &&
    ! docker network inspect "$NETWORK" >/dev/null 2>&1; then
    rm -f "$STATE"
    say "the lab is not running: nothing to remove"
    return 0
  fi
  compose --profile capture down --remove-orphans --timeout 5 || die "compose down failed"
  rm -f "$STATE"
  say "the lab is down"
}

clean() {
  down
  docker image rm -f "$IMAGE" "$BASE_IMAGE" >/dev/null 2>&1
  rm -rf dist
  say "images removed"
}

status() {
  preflight
  if ! running; then
    say "the lab is not running (make lab starts it)"
    return 0
  fi
  compose ps
  docker exec progjar-mesin-1 labctl status
}

logs() {
  preflight
  compose logs --tail=200 mesin-1 mesin-2 mesin-3
}

shell() {
  local machine=${1:-}
  [ -n "$machine" ] || die "which machine? make shell M=mesin-1 (the machines: ${MACHINES[*]})"
  [[ " ${MACHINES[*]} " == *" $machine "* ]] || die "'$machine' is not a lab machine: make shell M=mesin-1 (the machines: ${MACHINES[*]})"
  preflight
  running || die "the lab is not running: make lab"
  local flags=-i
  [ -t 0 ] && flags=-it
  exec docker exec "$flags" "progjar-$machine" bash
}

# ---- capturing ---------------------------------------------------------------

start_capture() {
  docker rm -f progjar-capture >/dev/null 2>&1
  CAPTURE_FILE=$1 CAPTURE_OWNER="$OWNER" \
    compose --profile capture up -d --no-deps capture >/dev/null 2>&1 ||
    die "could not start the capture sidecar"
  local _
  for _ in $(seq 100); do
    docker logs progjar-capture 2>&1 | grep -q "listening on" && return 0
    [ "$(docker inspect -f '{{.State.Running}}' progjar-capture 2>/dev/null)" = true ] || break
    sleep 0.1
  done
  docker logs progjar-capture >&2
  die "tcpdump did not start on $LAB_BRIDGE (see above)"
}

stop_capture() {
  docker stop -t 10 progjar-capture >/dev/null 2>&1
  local code
  code=$(docker inspect -f '{{.State.ExitCode}}' progjar-capture 2>/dev/null)
  docker logs progjar-capture 2>&1 | grep -E "packets (captured|received|dropped)" | sed 's/^/  tcpdump: /'
  docker rm -f progjar-capture >/dev/null 2>&1
  [ "${code:-1}" = 0 ] || say "warning: tcpdump exited with code $code"
}

# RUN="mesin-2 time-client & mesin-3 time-client ; mesin-2 echo-client"
# runs the commands of each ';'-step at once, one step after another.

# Every command of RUN names a lab machine first (checked before capturing).
check_run() {
  local step cmd machine rest
  local -a steps cmds
  IFS=';' read -ra steps <<<"$1"
  for step in "${steps[@]}"; do
    IFS='&' read -ra cmds <<<"$step"
    for cmd in "${cmds[@]}"; do
      read -r machine rest <<<"$cmd"
      [ -z "$machine" ] && continue
      [[ " ${MACHINES[*]} " == *" $machine "* ]] ||
        die "RUN: '$machine' is not a lab machine (${MACHINES[*]}), in: $cmd"
      [ -n "$rest" ] || die "RUN: no command after '$machine'"
    done
  done
}

run_steps() {
  local failed=0 step cmd machine rest
  local -a steps cmds pids
  IFS=';' read -ra steps <<<"$1"
  for step in "${steps[@]}"; do
    IFS='&' read -ra cmds <<<"$step"
    pids=()
    for cmd in "${cmds[@]}"; do
      read -r machine rest <<<"$cmd"
      [ -z "$machine" ] && continue
      say "[$machine] \$ $rest"
      (
        docker exec "progjar-$machine" bash -c "$rest" 2>&1 | sed -u "s/^/[$machine] /"
        code=${PIPESTATUS[0]}
        [ "$code" = 0 ] || say "[$machine] \`$rest\` exited with code $code"
        exit "$code"
      ) &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  done
  return $failed
}

capture() {
  preflight
  running || die "the lab is not running: make lab"
  mkdir -p captures
  local label=${LABEL:-} run=${RUN:-}
  label=${label//[^A-Za-z0-9_.-]/-}
  [ -n "$run" ] && check_run "$run"
  local name; name="$(date -u +%Y%m%dT%H%M%SZ)${label:+-$label}.pcap"
  start_capture "$name"
  say "capturing on $LAB_BRIDGE into captures/$name"
  local status=0
  if [ -n "$run" ]; then
    run_steps "$run" || status=1
    sleep 0.5 # let the last ACKs of the teardown arrive
  else
    say "press Ctrl-C to stop"
    trap ' ' INT
    sleep infinity &
    wait $! 2>/dev/null
    kill $! 2>/dev/null
    trap - INT
  fi
  stop_capture
  # The summary of what was captured, by pcap-summary inside the image.
  docker run --rm -v "$PWD/captures:/captures:ro" -w /captures "$IMAGE" pcap-summary "$name" ||
    say "pcap-summary could not read the capture (exit $?)"
  say "capture written: captures/$name"
  echo "captures/$name"
  [ $status = 0 ] || say "a command of RUN failed: its exit code is above, after its output"
  return $status
}

# ---- checking a student's server ---------------------------------------------

# SERVER=host:port (default mesin-1's time server), checked from mesin-2.
check() {
  preflight
  running || die "the lab is not running: make lab"
  local server=${SERVER:-$LAB_NET.101:45000}
  local host=${server%:*} port=${server##*:}
  [ "$host" != "$server" ] || port=45000
  exec docker exec progjar-mesin-2 time-client check "$host" "$port"
}

# ---- experiments ---------------------------------------------------------------
# What each experiment runs, and its report, live in the experiment crate
# (experiment/src/scenarios/, one file each). Here we only run its plan:
# `experiment plan NAME` prints one line per fact, fields separated by tabs,
#   server LABCTL-NAME PORT LOG CMDLINE-FILE
#   student COMMAND
#   run STEP ID MACHINE LOG RESULT COMMAND
# and the commands of one STEP run at the same time.

# `experiment ...` from the image, in captures/, as the user, with the
# settings the experiments take (`experiment params`) passed on when set.
EXPERIMENT_ENV=()
experiment() {
  if [ ${#EXPERIMENT_ENV[@]} = 0 ]; then
    EXPERIMENT_ENV=(-e REPORT_LANG)
    local name
    while read -r name; do
      [ -n "${!name:-}" ] && EXPERIMENT_ENV+=(-e "$name")
    done < <(docker run --rm "$IMAGE" experiment params)
  fi
  docker run --rm --user "$OWNER" -v "$PWD/captures:/captures" -w /captures \
    "${EXPERIMENT_ENV[@]}" "$IMAGE" experiment "$@"
}

# One planned command: its output to its log, its --json result (through
# PROGJAR_JSON, so the command stays what a student types) to its result
# file, and one line of numbers to runs.jsonl.
run_planned() {
  local dir=$1 id=$2 machine=$3 log=$4 result=$5 command=$6
  local inside=/tmp/progjar-result-$id.json started code
  started=$(date +%s.%N)
  say "[$machine] \$ $command"
  docker exec -e PROGJAR_JSON="$inside" "progjar-$machine" bash -c "rm -f $inside; $command" 2>&1 |
    tee "$dir/$log" | sed -u "s/^/[$machine] /"
  code=${PIPESTATUS[0]}
  docker exec "progjar-$machine" bash -c "cat $inside 2>/dev/null; rm -f $inside" >"$dir/$result"
  printf '{"id":%d,"exit":%d,"started":%s,"ended":%s}\n' "$id" "$code" "$started" "$(date +%s.%N)" >>"$dir/runs.jsonl"
  [ "$code" = 0 ] || say "[$machine] \`$command\` exited with code $code"
  return "$code"
}

# Runs the `run` lines of a plan, step by step.
run_plan() {
  local dir=$1 plan=$2 failed=0 current="" pid
  local kind step id machine log result command
  local -a pids=()
  while IFS=$'\t' read -r kind step id machine log result command; do
    [ "$kind" = run ] || continue
    if [ "$step" != "$current" ]; then
      for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
      pids=()
      current=$step
    fi
    run_planned "$dir" "$id" "$machine" "$log" "$result" "$command" &
    pids+=($!)
  done <<<"$plan"
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return $failed
}

listens_on() { docker exec progjar-mesin-1 bash -c "ss -Hltn 'sport = :$1' | grep -q ."; }
log_lines() { docker exec progjar-mesin-1 bash -c "wc -l < /var/log/lab/$1.log 2>/dev/null || echo 0"; }

one_scenario() {
  local name=$1
  local folder; folder="$(date -u +%Y%m%dT%H%M%SZ)-$name"
  local dir=captures/$folder
  mkdir -p "$dir/logs" "$dir/results" && own "$dir"
  local plan
  if ! plan=$(experiment plan "$name" --write "$folder"); then
    rm -rf "$dir"
    return 1
  fi
  local kind a b c d server="" port="" server_log="" cmdline="" student=""
  while IFS=$'\t' read -r kind a b c d; do
    case "$kind" in
      server) server=$a port=$b server_log=$c cmdline=$d ;;
      student) student=$a ;;
    esac
  done <<<"$plan"
  local log_name=$server before=0 listening=false
  if [ -n "$server" ]; then
    if [ -n "$student" ]; then
      # The student's own server takes the place of ours for this experiment.
      docker exec progjar-mesin-1 labctl stop "$server" >/dev/null
      log_name=student
      docker exec -d progjar-mesin-1 bash -c "cd /work && echo \$\$ > /run/lab/student.pid && exec $student > /var/log/lab/student.log 2>&1"
      printf '%s\n' "$student" >"$dir/$cmdline"
    else
      docker exec progjar-mesin-1 bash -c "tr '\0' ' ' < /proc/\$(cat /run/lab/$server.pid)/cmdline" >"$dir/$cmdline" 2>/dev/null
    fi
    local _
    for _ in $(seq 50); do
      listens_on "$port" && { listening=true; break; }
      sleep 0.2
    done
    [ $listening = true ] || say "warning: nothing listens on mesin-1 port $port"
    printf '{"listening":%s}\n' "$listening" >"$dir/server-status.json"
    before=$(log_lines "$log_name")
  fi
  start_capture "$folder/capture.pcap"
  say "experiment $name: capturing into $dir/"
  local status=0
  run_plan "$dir" "$plan" || status=1
  sleep 0.5 # let the last ACKs of the teardown arrive
  stop_capture
  if [ -n "$server" ]; then
    docker exec progjar-mesin-1 tail -n "+$((before + 1))" "/var/log/lab/$log_name.log" >"$dir/$server_log"
    if [ -n "$student" ]; then
      docker exec progjar-mesin-1 bash -c 'kill $(cat /run/lab/student.pid) 2>/dev/null; rm -f /run/lab/student.pid'
      docker exec progjar-mesin-1 labctl start "$server" >/dev/null
      docker exec progjar-mesin-1 labctl wait
    fi
  fi
  own "$dir"
  say "experiment $name: findings"
  experiment report "$folder" || { say "the report of $dir could not be written"; status=1; }
  say "experiment $name: report in $dir/REPORT.md"
  return $status
}

scenarios() {
  preflight
  docker image inspect "$IMAGE" >/dev/null 2>&1 || die "no image $IMAGE yet: make lab first"
  docker run --rm "$IMAGE" experiment list
}

scenario() {
  preflight
  running || die "the lab is not running: make lab"
  local which=${S:-} status=0 name
  local -a names
  mapfile -t names < <(docker run --rm "$IMAGE" experiment names)
  [ -n "$which" ] || die "which experiment? make scenario S=<name>: ${names[*]} or all"
  if [ "$which" = all ]; then
    for name in "${names[@]}"; do one_scenario "$name" || status=1; done
  elif [[ " ${names[*]} " == *" $which "* ]]; then
    one_scenario "$which" || status=1
  else
    die "unknown experiment '$which': one of ${names[*]} or all"
  fi
  return $status
}

# ---- moving images -----------------------------------------------------------

save() {
  preflight
  local file=${FILE:-progjar-lab-images.tar.gz}
  docker image inspect "$IMAGE" >/dev/null 2>&1 || die "no $IMAGE yet: make lab (or make images) first"
  docker save "$IMAGE" | gzip -1 >"$file" || die "docker save failed"
  say "saved $IMAGE to $file ($(du -h "$file" | cut -f1)); on the other machine: make load FILE=$file"
}

load() {
  preflight
  local file=${FILE:-progjar-lab-images.tar.gz}
  [ -f "$file" ] || die "no such file: $file (make load FILE=path)"
  gunzip -c "$file" | docker load || die "docker load failed"
  say "loaded; make lab uses the loaded image when it exists (LAB_OFFLINE=1 to rebuild offline)"
}

cmd=${1:-}
shift || true
case "$cmd" in
  up) up ;;
  down) down ;;
  clean) clean ;;
  status) status ;;
  logs) logs ;;
  shell) shell "${1:-${M:-}}" ;;
  capture) capture ;;
  scenario) scenario ;;
  scenarios) scenarios ;;
  check) check ;;
  images) preflight && images ;;
  dist) dist ;;
  save) save ;;
  load) load ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
