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
BASE_IMAGE=${LAB_BASE_IMAGE:-progjar-lab/base:bookworm-3}
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

# Files we write belong to the user, also under `sudo make ...`. On the
# machines the student is the owner of work/ (lab/bin/lab-as-student), and a
# capture belongs to the owner of its folder (lab/bin/lab-capture), so what
# own() gives the user is what the machines act as.
OWNER="${SUDO_UID:-$(id -u)}:${SUDO_GID:-$(id -g)}"
own() { [ -n "${SUDO_UID:-}" ] && [ "$(id -u)" = 0 ] && chown -R "$OWNER" "$@"; return 0; }

# One-off containers of the image (pcap-summary, experiment, chown) get no
# network and no capability.
CONFINED=(--rm --network none --cap-drop ALL --security-opt no-new-privileges:true)

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

# Folder $1 must be the user's: the machines act as its owner.
check_owner() {
  local owner
  owner=$(stat -c %u:%g "$1" 2>/dev/null) || return 0 # no GNU stat (macOS): Docker Desktop maps owners itself
  [ "$(id -u)" = 0 ] || [ "${owner%:*}" = "${OWNER%:*}" ] ||
    die "$1/ belongs to uid ${owner%:*}, not to you (uid ${OWNER%:*}): the machines would act as uid ${owner%:*}
     and you could not change what they write there. Take it back: sudo chown -R $OWNER $1"
}

running() { [ "$(docker inspect -f '{{.State.Running}}' progjar-mesin-1 2>/dev/null)" = true ]; }

# ---- building ----------------------------------------------------------------
# Settings of the build (environment), besides LAB_OFFLINE:
#   LAB_BUILDER=auto|buildkit|legacy   which docker builder builds the image. auto
#       (default): the ordinary path takes BuildKit when this Docker has it and
#       the legacy builder otherwise (saying what is missing); the registry-free
#       path takes the legacy builder. Both paths build with either.
#   LAB_RUST_IMAGE, LAB_DEBIAN_IMAGE   other images for the ordinary path's
#       builder and runtime stages (the Dockerfile's RUST_IMAGE, DEBIAN_IMAGE);
#       lab/test-ordinary.sh passes its stand-ins this way.

host_triple() { rustc -vV | sed -n 's/^host: //p'; }

# Is version $1 (1.95.0) at least $2 (1.93)? Numeric, part by part.
version_at_least() {
  local IFS=. i
  local -a have want
  read -ra have <<<"$1"
  read -ra want <<<"$2"
  for i in 0 1 2; do
    [ "${have[i]:-0}" -gt "${want[i]:-0}" ] 2>/dev/null && return 0
    [ "${have[i]:-0}" -lt "${want[i]:-0}" ] 2>/dev/null && return 1
  done
  return 0
}

# The oldest Rust that builds the lab: Cargo.toml's rust-version.
rust_version_needed() { sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml | head -n1; }

# The rust-version check: this machine's Rust (for the registry-free path,
# which builds the programs here) is new enough, or a message says what to do.
check_rust_version() {
  local need have
  need=$(rust_version_needed)
  [ -n "$need" ] || return 0
  command -v rustc >/dev/null 2>&1 || die "the registry-free path builds the programs on this machine and needs Rust $need or newer;
     rustc is not installed. Install Rust with rustup (https://rustup.rs, or your distribution's rustup package),
     or take the ordinary path, which needs only Docker and a registry: LAB_OFFLINE=0 make lab"
  have=$(rustc --version | cut -d' ' -f2)
  version_at_least "${have%%-*}" "$need" ||
    die "this machine has Rust $have; the lab's programs need Rust $need or newer (rust-version in Cargo.toml).
     Update it: rustup update stable (or your distribution's newer rustc), or take the ordinary path, which
     builds inside Docker: LAB_OFFLINE=0 make lab"
}

# The commit the programs are built from, for --version: "unknown" without git,
# "+changes" when a file the build reads differs from it (README edits do not count).
build_commit() {
  local commit
  commit=$(git rev-parse --short=12 HEAD 2>/dev/null) || { echo unknown; return 0; }
  git diff --quiet HEAD -- Cargo.toml Cargo.lock protocol common server client pcap-summary experiment testkit lab/bin lab/packages.txt 2>/dev/null ||
    commit="$commit+changes"
  echo "$commit"
}

# Does this Docker have BuildKit? Through the buildx component (Docker 23 and
# newer need it for BuildKit), or built into a client older than 23.
buildkit_available() {
  docker buildx version >/dev/null 2>&1 && return 0
  local version
  version=$(docker version -f '{{.Client.Version}}' 2>/dev/null) || return 1
  [[ "$version" =~ ^([0-9]+)\. ]] && [ "${BASH_REMATCH[1]}" -lt 23 ]
}

# What is missing for BuildKit and how to get it; with $1 = legacy, also the
# way around it.
buildx_missing() {
  printf '%s' "BuildKit needs Docker's buildx component, and this Docker has none ('docker buildx version' fails;
     since Docker 23 BuildKit comes only through buildx). Install it: with Docker's own packages
     'sudo apt-get install docker-buildx-plugin'; on Debian 13 or Ubuntu 'sudo apt-get install docker-buildx';
     on Arch 'sudo pacman -S docker-buildx'; Docker Desktop has it."
  [ "${1:-}" = legacy ] && printf '%s' " Or build with the legacy builder,
     which needs nothing more: LAB_BUILDER=legacy make lab"
  printf '\n'
}

# Sets BUILDER_ENV (DOCKER_BUILDKIT=0|1) for `docker build`; $1: the path's
# default for LAB_BUILDER=auto (buildkit or legacy).
BUILDER_ENV=""
pick_builder() {
  case "${LAB_BUILDER:-auto}" in
    buildkit)
      buildkit_available || die "LAB_BUILDER=buildkit: $(buildx_missing legacy)"
      BUILDER_ENV=DOCKER_BUILDKIT=1 ;;
    legacy) BUILDER_ENV=DOCKER_BUILDKIT=0 ;;
    auto | "")
      if [ "$1" = buildkit ] && buildkit_available; then
        BUILDER_ENV=DOCKER_BUILDKIT=1
      else
        [ "$1" = buildkit ] && say "building with the legacy builder (slower, but it needs nothing more). $(buildx_missing)"
        BUILDER_ENV=DOCKER_BUILDKIT=0
      fi ;;
    *) die "LAB_BUILDER=$LAB_BUILDER: use buildkit, legacy or auto" ;;
  esac
  say "builder: $([ "$BUILDER_ENV" = DOCKER_BUILDKIT=1 ] && echo BuildKit || echo legacy)"
}

# Static binaries built on this machine, for the registry-free image:
# +crt-static with an explicit --target links glibc in, so they run on any glibc.
dist() {
  command -v cargo >/dev/null 2>&1 || die "cargo is needed to build the programs for the registry-free image"
  check_rust_version
  local triple commit
  triple=$(host_triple)
  commit=$(build_commit)
  say "building static binaries for $triple (commit $commit)"
  # Stripped: the image carries no debug symbols. The same flags as the
  # Dockerfile's builder stage, so both paths make the same programs.
  PROGJAR_BUILD_COMMIT=$commit PROGJAR_BUILD_PATH=registry-free \
    CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_STRIP=symbols \
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target "$triple" --bins ||
    die "building the programs failed"
  rm -rf dist/bin && mkdir -p dist/bin
  # Globs, not find -executable/-printf (GNU only) nor ls: also on macOS.
  local file names=""
  for file in "target/$triple/release"/*; do
    if [ -f "$file" ] && [ -x "$file" ]; then
      cp "$file" dist/bin/ || die "could not copy $file into dist/bin"
      names="$names ${file##*/}"
    fi
  done
  say "dist/bin:$names"
}

offline_wanted() {
  case "${LAB_OFFLINE:-}" in
    1 | yes | true) return 0 ;;
    0 | no | false) return 1 ;;
  esac
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 &&
    ! docker image inspect debian:bookworm-slim >/dev/null 2>&1 &&
    ! docker image inspect "${LAB_DEBIAN_IMAGE:-debian:bookworm-slim}" >/dev/null 2>&1
}

# Removes untagged images of our builds (label progjar-lab.stage): with no
# argument the replaced final images only; with a legacy build's log ($1) also
# every stage image that build did not use (the ids it printed stay: its cache).
prune_stages() {
  local id
  if [ -z "$1" ]; then
    docker image prune -f --filter label=progjar-lab.stage=runtime >/dev/null 2>&1
    return 0
  fi
  for id in $(docker images -q --filter dangling=true --filter label=progjar-lab.stage); do
    grep -q -- "---> $id" "$1" || docker image rm "$id" >/dev/null 2>&1
  done
  return 0
}

images() {
  local log="" code
  local -a args=()
  if offline_wanted; then
    say "registry-free build: base image from Debian's packages, binaries built here"
    pick_builder legacy
    lab/base-image.sh "$BASE_IMAGE" || die "could not make the base image $BASE_IMAGE"
    dist
    # The context: only what Dockerfile.offline reads (dist/ is in .dockerignore).
    # The legacy builder keeps a failed step's container unless told not to.
    [ "$BUILDER_ENV" = DOCKER_BUILDKIT=0 ] && args+=(--force-rm)
    tar -cf - Dockerfile.offline lab/bin dist/bin |
      env "$BUILDER_ENV" docker build -q ${args[@]+"${args[@]}"} -f Dockerfile.offline --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$IMAGE" - >/dev/null ||
      die "docker build -f Dockerfile.offline failed"
  else
    say "ordinary build: a rust builder stage and a debian:bookworm-slim runtime (pulls them the first time)"
    pick_builder buildkit
    args=(--build-arg "PROGJAR_BUILD_COMMIT=$(build_commit)")
    [ "$BUILDER_ENV" = DOCKER_BUILDKIT=0 ] && args+=(--force-rm)
    [ -n "${LAB_RUST_IMAGE:-}" ] && args+=(--build-arg "RUST_IMAGE=$LAB_RUST_IMAGE")
    [ -n "${LAB_DEBIAN_IMAGE:-}" ] && args+=(--build-arg "DEBIAN_IMAGE=$LAB_DEBIAN_IMAGE")
    mkdir -p .lab && own .lab
    log=.lab/build.log
    # The legacy builder knows no RUN --mount: it gets the Dockerfile without
    # them (its target folder is then a layer; see the Dockerfile).
    if [ "$BUILDER_ENV" = DOCKER_BUILDKIT=1 ]; then
      cat Dockerfile
    else
      sed 's/--mount=[^ ]* //g' Dockerfile
    fi | env "$BUILDER_ENV" docker build -f - "${args[@]}" -t "$IMAGE" . 2>&1 | tee "$log"
    code=${PIPESTATUS[1]}
    if [ "$code" != 0 ]; then
      if grep -q "buildx component is missing" "$log"; then
        die "$(buildx_missing legacy)"
      elif grep -q "progjar-lab: the builder image has Rust" "$log"; then
        die "the rust image on this machine is older than the lab needs (see above): docker pull rust:1-bookworm, then make images"
      elif grep -qiE "pull access denied|failed to resolve|manifest unknown|not found: manifest|no such host|i/o timeout|TLS handshake|connection refused|failed to do request|toomanyrequests|dial tcp" "$log"; then
        die "building the image failed: Docker could not pull an image (see above). Without a registry,
     use the registry-free path, which builds the programs on this machine with Rust $(rust_version_needed) or newer:
     LAB_OFFLINE=1 make lab"
      fi
      die "building the image failed (see above; the whole output is in $log)"
    fi
  fi
  # What earlier builds left: the image this one replaced, and after a legacy
  # build the stages of earlier ones that it did not use (its cache stays).
  if [ "$BUILDER_ENV" = DOCKER_BUILDKIT=0 ] && [ -n "$log" ]; then
    prune_stages "$log"
  else
    prune_stages ""
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
  printf '  on the machines you are uid %s, the owner of work/ (make shell ROOT=1: root, for tcpdump and ip route)\n' \
    "$(stat -c %u work 2>/dev/null || echo "${OWNER%:*}")"
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
  check_owner work
  check_owner captures
  [ "$(stat -c %u work 2>/dev/null)" != 0 ] ||
    say "note: work/ belongs to root (you run the lab as root, not under sudo), so on the machines you are root
     too, with the machines' capabilities; to work there as a normal user, run the lab as your own user
     (a member of the docker group)"
  printf 'LAB_NET=%s\nLAB_BRIDGE=%s\nLAB_TZ=%s\n' "$LAB_NET" "$LAB_BRIDGE" "$LAB_TZ" >"$STATE"
  compose up -d mesin-1 mesin-2 mesin-3 || die "starting the machines failed (see above)"
  docker exec progjar-mesin-1 labctl wait ||
    die "the servers on mesin-1 did not start; see: make logs"
  say "the lab is up"
  table
}

# Offloads a killed capture sidecar left off on a bridge (its record in
# captures/, see lab/bin/lab-capture) are turned back on.
restore_offloads() {
  local record bridge
  for record in captures/.offloads-*; do
    [ -f "$record" ] || continue
    bridge=${record#captures/.offloads-}
    docker image inspect "$IMAGE" >/dev/null 2>&1 ||
      { say "warning: $record names offloads to turn back on on $bridge, but the image $IMAGE is gone"; continue; }
    # The sidecar's restore alone, by docker run: compose would take LAB_BRIDGE
    # for the lab network's bridge too. NET_ADMIN for ethtool, SETUID and
    # SETGID to remove the record as the owner of captures/.
    docker run --rm --network host --cap-drop ALL --cap-add NET_ADMIN --cap-add SETUID --cap-add SETGID \
      --security-opt no-new-privileges:true -e LAB_BRIDGE="$bridge" -v "$PWD/captures:/captures" "$IMAGE" \
      lab-capture restore | sed 's/^lab-capture: /lab: /'
    [ "${PIPESTATUS[0]}" = 0 ] || say "warning: the offloads named in $record could not be turned back on on $bridge"
  done
}

# Files a root shell (make shell ROOT=1) made in work/ go to the owner of
# work/, as the machines' own files do; in a container with CHOWN alone.
give_back_work() {
  docker image inspect "$IMAGE" >/dev/null 2>&1 || return 0
  local n
  n=$(docker run "${CONFINED[@]}" --cap-add CHOWN -v "$PWD/work:/work" "$IMAGE" bash -c \
    '[ "$(stat -c %u /work)" = 0 ] && { echo 0; exit 0; }
     find /work -xdev -uid 0 -print -exec chown -h --reference=/work {} + 2>/dev/null | wc -l')
  [ "${n:-0}" = 0 ] || say "work/: gave $n file$([ "$n" = 1 ] || echo s) that root made to uid $(stat -c %u:%g work 2>/dev/null), the owner of work/"
}

down() {
  preflight
  restore_offloads
  give_back_work
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
  # What earlier builds left: replaced images and the legacy builder's stages
  # (untagged, labelled progjar-lab.stage), then Docker's build cache, where
  # BuildKit keeps the stages (it has no per-project filter: this also drops
  # other projects' unused build cache, which only costs them a slower build).
  docker image prune -f --filter label=progjar-lab.stage >/dev/null 2>&1
  docker builder prune -f >/dev/null 2>&1
  rm -rf dist .lab/build.log
  say "images, their build stages and Docker's unused build cache removed"
}

status() {
  preflight
  if ! running; then
    say "the lab is not running (make lab starts it)"
    return 0
  fi
  compose ps
  docker exec progjar-mesin-1 labctl status
  lab/impair.sh show
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
  if [ "${ROOT:-0}" != 1 ]; then
    exec docker exec "$flags" "progjar-$machine" lab-as-student bash
  fi
  say "a root shell on $machine with NET_RAW, NET_ADMIN (tcpdump, ip route, tc), KILL, SETUID and SETGID, and no other capability;
     what it makes in /work is given to the owner of work/ when it ends"
  docker exec "$flags" "progjar-$machine" bash
  local code=$?
  give_back_work
  return $code
}

# ---- capturing ---------------------------------------------------------------

# Starts the sidecar writing captures/$1; $2: a tcpdump filter expression.
start_capture() {
  docker rm -f progjar-capture >/dev/null 2>&1
  CAPTURE_FILE=$1 CAPTURE_FILTER=${2:-} \
    compose --profile capture up -d --no-deps capture >/dev/null 2>&1 ||
    die "could not start the capture sidecar"
  local _
  for _ in $(seq 100); do
    docker logs progjar-capture 2>&1 | grep -q "listening on" && return 0
    [ "$(docker inspect -f '{{.State.Running}}' progjar-capture 2>/dev/null)" = true ] || break
    sleep 0.1
  done
  docker logs progjar-capture >&2
  local log
  log=$(docker logs progjar-capture 2>&1)
  docker rm -f progjar-capture >/dev/null 2>&1
  # The file the sidecar opened before tcpdump failed: empty, and ours.
  [ -s "captures/$1" ] || rm -f "captures/$1"
  grep -qE "syntax error|can't parse filter|illegal" <<<"$log" &&
    die "FILTER=$2 is not a tcpdump filter expression (tcpdump's message is above), e.g. FILTER=\"tcp port 45000\""
  die "tcpdump did not start on $LAB_BRIDGE (see above)"
}

# Stops tcpdump and shows its counts. With a folder ($1), also writes them to
# its capture-stats.json: {"captured":N,"received":N,"dropped":N}, with only
# the numbers tcpdump printed ("N packets captured", "N packets received by
# filter", "N packets dropped by kernel").
stop_capture() {
  local dir=${1:-} code counts key n json=""
  docker stop -t 10 progjar-capture >/dev/null 2>&1
  # Empty when there was no sidecar (it did not start).
  code=$(docker inspect -f '{{.State.ExitCode}}' progjar-capture 2>/dev/null)
  counts=$(docker logs progjar-capture 2>&1 | grep -E "^[0-9]+ packets? (captured|received by filter|dropped by kernel)")
  [ -n "$counts" ] && printf '%s\n' "$counts" | sed 's/^/  tcpdump: /'
  docker rm -f progjar-capture >/dev/null 2>&1
  [ -z "$code" ] || [ "$code" = 0 ] || say "warning: tcpdump exited with code $code"
  if [ -n "$dir" ]; then
    for key in captured received dropped; do
      n=$(printf '%s\n' "$counts" | sed -n "s/^\([0-9][0-9]*\) packets\{0,1\} $key.*/\1/p" | head -n1)
      [ -n "$n" ] && json="$json${json:+,}\"$key\":$n"
    done
    printf '{%s}\n' "$json" >"$dir/capture-stats.json"
  fi
  return 0
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
        docker exec "progjar-$machine" lab-as-student bash -c "$rest" 2>&1 | sed -u "s/^/[$machine] /"
        code=${PIPESTATUS[0]}
        [ "$code" = 0 ] || say "[$machine] \`$rest\` exited with code $code"
        exit "$code"
      ) &
      pids+=($!)
    done
    for pid in ${pids[@]+"${pids[@]}"}; do wait "$pid" || failed=1; done
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
  start_capture "$name" "${FILTER:-}"
  say "capturing on $LAB_BRIDGE into captures/$name${FILTER:+ (only packets that match: $FILTER)}"
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
  docker run "${CONFINED[@]}" -v "$PWD/captures:/captures:ro" -w /captures "$IMAGE" pcap-summary "$name" ||
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
  exec docker exec progjar-mesin-2 lab-as-student time-client check "$host" "$port"
}

# ---- experiments ---------------------------------------------------------------
# What each experiment runs, and its report, live in the experiment crate
# (experiment/src/scenarios/, one file each). Here we only run its plan:
# `experiment plan NAME` prints one line per fact, fields separated by tabs,
#   server LABCTL-NAME PORT LOG CMDLINE-FILE
#   student COMMAND
#   run STEP ID MACHINE LOG RESULT COMMAND
# and the commands of one STEP run at the same time.

# `experiment ARGS` in the image, without a folder; its output on stdout.
# Dies with what to do when the image is older than the program.
image_experiment() {
  local err out code
  err=$(mktemp) || die "mktemp failed"
  out=$(docker run "${CONFINED[@]}" "$IMAGE" experiment "$@" 2>"$err")
  code=$?
  if [ "$code" != 0 ]; then
    if [ "$code" = 126 ] || [ "$code" = 127 ] || grep -q 'executable file not found' "$err"; then
      rm -f "$err"
      die "the image $IMAGE has no 'experiment' program (built before it existed):
     rebuild it with: make down && LAB_REBUILD=1 make lab"
    fi
    cat "$err" >&2
    rm -f "$err"
    die "'experiment $*' failed in the image $IMAGE (exit $code)"
  fi
  rm -f "$err"
  printf '%s\n' "$out"
}

# The settings the experiments take (`experiment params`), passed on to
# `experiment` when set. Called once, in the main shell, before any run.
EXPERIMENT_ENV=()
experiment_env() {
  local params name
  params=$(image_experiment params) || exit 1
  EXPERIMENT_ENV=(-e REPORT_LANG)
  while IFS= read -r name; do
    [ -n "$name" ] && [ -n "${!name:-}" ] && EXPERIMENT_ENV+=(-e "$name")
  done <<<"$params"
}

# `experiment ...` from the image, in captures/, as the user, with those settings.
experiment() {
  docker run "${CONFINED[@]}" --user "$OWNER" -v "$PWD/captures:/captures" -w /captures \
    "${EXPERIMENT_ENV[@]}" "$IMAGE" experiment "$@"
}

# Seconds since 1970 for runs.jsonl: bash's EPOCHREALTIME (bash 5; a locale
# may write it with a comma), else whole seconds (`date +%s.%N` is GNU only).
now() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    printf '%s\n' "${EPOCHREALTIME/,/.}"
  else
    date +%s
  fi
}

# One planned command: its output to its log, its --json result (through
# PROGJAR_JSON, so the command stays what a student types) to its result
# file, and one line of numbers to runs.jsonl. Inside the machine it is a
# process group of its own (docker exec starts a session), whose id is kept
# in /tmp/progjar-run-ID.pid so that an interrupted run can stop it.
run_planned() {
  local dir=$1 id=$2 machine=$3 log=$4 result=$5 command=$6
  local inside=/tmp/progjar-result-$id.json pidfile=/tmp/progjar-run-$id.pid started code
  started=$(now)
  say "[$machine] \$ $command"
  docker exec -e PROGJAR_JSON="$inside" "progjar-$machine" lab-as-student bash -c "echo \$\$ >$pidfile; rm -f $inside; $command" 2>&1 |
    tee "$dir/$log" | sed -u "s/^/[$machine] /"
  code=${PIPESTATUS[0]}
  docker exec "progjar-$machine" lab-as-student bash -c "cat $inside 2>/dev/null; rm -f $inside $pidfile" >"$dir/$result"
  printf '{"id":%d,"exit":%d,"started":%s,"ended":%s}\n' "$id" "$code" "$started" "$(now)" >>"$dir/runs.jsonl"
  [ "$code" = 0 ] || say "[$machine] \`$command\` exited with code $code"
  return "$code"
}

# Runs the `run` lines of a plan, step by step. RUN_PIDS: the runs under way.
RUN_PIDS=()
run_plan() {
  local dir=$1 plan=$2 failed=0 current="" pid
  local kind step id machine log result command
  RUN_PIDS=()
  while IFS=$'\t' read -r kind step id machine log result command; do
    [ "$kind" = run ] || continue
    if [ "$step" != "$current" ]; then
      for pid in ${RUN_PIDS[@]+"${RUN_PIDS[@]}"}; do wait "$pid" || failed=1; done
      RUN_PIDS=()
      current=$step
    fi
    run_planned "$dir" "$id" "$machine" "$log" "$result" "$command" &
    RUN_PIDS+=($!)
  done <<<"$plan"
  for pid in ${RUN_PIDS[@]+"${RUN_PIDS[@]}"}; do wait "$pid" || failed=1; done
  RUN_PIDS=()
  return $failed
}

# Stops the runs under way: their runners here (so that runs.jsonl does not
# record them: the report says they did not finish), then their process
# groups on the machines.
stop_runs() {
  local pid machine
  for pid in ${RUN_PIDS[@]+"${RUN_PIDS[@]}"}; do kill -TERM "$pid" 2>/dev/null; done
  RUN_PIDS=()
  for machine in "${MACHINES[@]}"; do
    docker exec "progjar-$machine" lab-as-student bash -c 'for f in /tmp/progjar-run-*.pid; do
      [ -f "$f" ] || continue
      g=$(cat "$f"); rm -f "$f"
      [ -n "$g" ] && kill -TERM -- "-$g" 2>/dev/null
    done' 2>/dev/null
  done
}

log_lines() { docker exec progjar-mesin-1 bash -c "wc -l < /var/log/lab/$1.log 2>/dev/null || echo 0"; }

# Whether mesin-1's port $1 is listened on: 0 yes, 1 not yet, and with
# $2 = student, 2 when the student's server (its process group) is gone.
server_state() {
  docker exec progjar-mesin-1 lab-as-student bash -c "ss -Hltn 'sport = :$1' | grep -q . && exit 0
    [ '${2:-}' = student ] || exit 1
    g=\$(cat /run/lab/student.pid 2>/dev/null) || exit 1
    kill -0 -- \"-\$g\" 2>/dev/null || exit 2
    exit 1"
}

# Starts the student's command on mesin-1, from /work, in a session and
# process group of its own (its id in /run/lab/student.pid), its output in
# /var/log/lab/student.log (emptied first).
start_student() {
  docker exec -d progjar-mesin-1 lab-as-student setsid bash -c \
    'echo $$ >/run/lab/student.pid; exec </dev/null >/var/log/lab/student.log 2>&1; cd /work || exit 1; eval "$1"' \
    student-server "$1"
}

# Stops the student's server: its whole process group (TERM, KILL after 3 s),
# then waits until port $1 is free; whatever still listens there then (a
# process that left the group) is killed, since ours is stopped.
stop_student() {
  local port=$1 left
  left=$(docker exec progjar-mesin-1 lab-as-student bash -c "
    if g=\$(cat /run/lab/student.pid 2>/dev/null) && [ -n \"\$g\" ]; then
      kill -TERM -- \"-\$g\" 2>/dev/null
      for _ in \$(seq 30); do kill -0 -- \"-\$g\" 2>/dev/null || break; sleep 0.1; done
      kill -KILL -- \"-\$g\" 2>/dev/null
    fi
    rm -f /run/lab/student.pid
    for _ in \$(seq 50); do ss -Hltn 'sport = :$port' | grep -q . || exit 0; sleep 0.1; done
    for pid in \$(ss -Hltnp 'sport = :$port' | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
      echo \"pid \$pid: \$(tr '\\0' ' ' </proc/\$pid/cmdline 2>/dev/null | sed 's/ \$//')\"
      kill -KILL \"\$pid\" 2>/dev/null
    done
    sleep 0.3")
  [ -z "$left" ] || say "warning: port $port was still listened on after the student's server was stopped; killed: $left"
}

# Our server $1 (port $2) back on mesin-1 after the student's: 0 when it runs.
restore_server() {
  local server=$1 port=$2
  stop_student "$port"
  [ "$(docker exec progjar-mesin-1 labctl status | awk -v n="$server" '$1 == n { print $2 }')" = running ] && return 0
  docker exec progjar-mesin-1 labctl start "$server" >/dev/null
}

# The experiment under way, for finish_scenario; SC_FOLDER is empty when none is.
SC_FOLDER="" SC_NAME="" SC_SERVER="" SC_PORT="" SC_SERVER_LOG="" SC_LOG_NAME="" SC_BEFORE="" SC_IMPAIRED=""
SC_SWAPPED=0 SC_CAPTURING=0
# The machine whose link make scenario impaired (M=, with LOSS= ...), cleared at the end.
IMPAIRED=""

# The end of an experiment, also when it was interrupted or died midway:
# stops the capture, keeps the server's log, puts our server back, and
# writes the report of what was recorded.
finish_scenario() {
  local dir=captures/$SC_FOLDER folder=$SC_FOLDER status=0 restored=0
  if [ "$SC_CAPTURING" = 1 ]; then
    SC_CAPTURING=0
    stop_capture "$dir"
  fi
  if [ -n "$SC_SERVER" ] && [ -n "$SC_BEFORE" ]; then
    docker exec progjar-mesin-1 tail -n "+$((SC_BEFORE + 1))" "/var/log/lab/$SC_LOG_NAME.log" >"$dir/$SC_SERVER_LOG" 2>/dev/null
  fi
  if [ "$SC_SWAPPED" = 1 ]; then
    SC_SWAPPED=0
    restore_server "$SC_SERVER" "$SC_PORT" || { restored=1; status=1; }
  fi
  if [ -n "${SC_IMPAIRED:-}" ]; then
    # The experiment's own impairment ends with it.
    M=$SC_IMPAIRED lab/impair.sh clear >/dev/null || status=1
    SC_IMPAIRED=""
  fi
  own "$dir"
  SC_FOLDER=""
  say "experiment $SC_NAME: findings"
  if experiment report "$folder"; then
    say "experiment $SC_NAME: report in $dir/REPORT.md"
  else
    say "the report of $dir could not be written"
    status=1
  fi
  [ "$restored" = 0 ] ||
    die "our $SC_SERVER server did not start again on mesin-1 (its error is above).
     Fix what stops it, then: docker exec progjar-mesin-1 labctl start $SC_SERVER"
  return $status
}

# On Ctrl-C, kill, or die during an experiment: finish it with what was recorded.
on_exit() {
  local code=$?
  if [ -n "$SC_FOLDER" ]; then
    trap '' INT TERM
    printf '\n' >&2
    say "experiment $SC_NAME stopped before its end: stopping its commands and the capture, putting our server back, writing the report of what was recorded"
    stop_runs
    finish_scenario
  fi
  [ -z "$IMPAIRED" ] || M=$IMPAIRED lab/impair.sh clear
  exit "$code"
}

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
  local kind a b c d server="" port="" server_log="" cmdline="" student="" lossy="" loss=""
  while IFS=$'\t' read -r kind a b c d; do
    case "$kind" in
      server) server=$a port=$b server_log=$c cmdline=$d ;;
      student) student=$a ;;
      impair) lossy=$a loss=$b ;;
    esac
  done <<<"$plan"
  [ -n "${SERVER:-}" ] && [ -z "$server" ] && say "note: $name runs no server on mesin-1, so SERVER is not used"
  SC_FOLDER=$folder SC_NAME=$name SC_SERVER=$server SC_PORT=$port SC_SERVER_LOG=$server_log
  SC_LOG_NAME=$server SC_BEFORE="" SC_SWAPPED=0 SC_CAPTURING=0 SC_IMPAIRED=""
  if [ -n "$lossy" ]; then
    # The experiment is about a lossy link: make it so for this run, unless the
    # student already chose an impairment (make scenario M=... LOSS=...).
    if [ -n "$IMPAIRED" ]; then
      say "note: $name would make $lossy lose $loss of its packets; $IMPAIRED's impairment (M=, LOSS=...) is used instead"
    elif M=$lossy LOSS=$loss DELAY="" JITTER="" RATE="" lab/impair.sh apply; then
      SC_IMPAIRED=$lossy
    else
      SC_FOLDER=""
      rm -rf "$dir"
      return 1
    fi
  fi
  if [ -n "$server" ]; then
    local listening=false state _ ours_running=
    if [ -n "$student" ]; then
      # The student's own server takes the place of ours for this experiment.
      SC_SWAPPED=1
      docker exec progjar-mesin-1 labctl stop "$server" >/dev/null ||
        die "could not stop our $server server on mesin-1 (labctl stop $server failed)"
      stop_student "$port" # a student's server left over, if any; waits until the port is free
      SC_LOG_NAME=student SC_BEFORE=0 # its log starts empty: all of it belongs to this run
      start_student "$student" || die "could not start the student's server on mesin-1"
      printf '%s\n' "$student" >"$dir/$cmdline"
    else
      # Our server's command line, when it runs: its pid file names a live
      # process. Without one (labctl stop), whatever listens on the port is
      # someone else's program, and the report must not call it ours.
      ours_running=false
      if docker exec progjar-mesin-1 bash -c "p=\$(cat /run/lab/$server.pid 2>/dev/null) || exit 1
          case \$p in ''|*[!0-9]*) exit 1 ;; esac
          tr '\0' ' ' < /proc/\$p/cmdline" >"$dir/$cmdline" 2>/dev/null && [ -s "$dir/$cmdline" ]; then
        ours_running=true
      else
        : >"$dir/$cmdline"
        say "warning: our $server server is not running on mesin-1 (stopped with labctl stop $server?): whatever listens on port $port is what this experiment measures; start ours with labctl start $server, or name yours with SERVER=\"...\""
      fi
    fi
    for _ in $(seq 50); do
      server_state "$port" "${student:+student}"
      state=$?
      [ $state = 0 ] && { listening=true; break; }
      [ $state = 2 ] && break
      sleep 0.2
    done
    if [ $state = 2 ]; then
      say "warning: the student's server exited before it listened on mesin-1 port $port (its output is in $dir/$server_log)"
      docker exec progjar-mesin-1 grep -q "Address already in use" /var/log/lab/student.log 2>/dev/null &&
        say "hint: connections that just ended keep port $port in TIME_WAIT for up to a minute; set SO_REUSEADDR
     before bind: s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)"
    elif [ $listening = false ]; then
      say "warning: nothing listens on mesin-1 port $port"
    fi
    printf '{"listening":%s%s}\n' "$listening" "${ours_running:+,\"ours_running\":$ours_running}" >"$dir/server-status.json"
    [ -n "$student" ] || SC_BEFORE=$(log_lines "$server")
  fi
  [ -z "${SC_IMPAIRED:-$IMPAIRED}" ] || M=${SC_IMPAIRED:-$IMPAIRED} lab/impair.sh json >"$dir/impairment.json"
  SC_CAPTURING=1 # also when start_capture dies: its sidecar is removed
  start_capture "$folder/capture.pcap"
  say "experiment $name: capturing into $dir/"
  local status=0
  : >"$dir/runs.jsonl" # the runs started: each adds its line when it ends
  run_plan "$dir" "$plan" || status=1
  sleep 0.5 # let the last ACKs of the teardown arrive
  finish_scenario || status=1
  return $status
}

scenarios() {
  preflight
  docker image inspect "$IMAGE" >/dev/null 2>&1 || die "no image $IMAGE yet: make lab first"
  image_experiment list
}

scenario() {
  preflight
  running || die "the lab is not running: make lab"
  local which=${S:-} status=0 name list
  local -a names=()
  list=$(image_experiment names) || exit 1
  while IFS= read -r name; do
    [ -n "$name" ] && names+=("$name")
  done <<<"$list"
  [ -n "$which" ] || die "which experiment? make scenario S=<name>: ${names[*]} or all"
  if [ -n "${SERVER:-}" ]; then
    [[ "$SERVER" =~ ^[A-Za-z0-9.-]+:[0-9]+$ ]] &&
      die "SERVER=$SERVER looks like host:port. That is what make check takes (make check SERVER=$LAB_NET.101:45000);
     make scenario takes the command that starts your server on mesin-1, from work/, in place of ours:
     make scenario S=t2-concurrent SERVER=\"python3 server_waktu.py\". If SERVER is left exported from
     make check, run: unset SERVER"
    [ "$which" = all ] &&
      die "SERVER=... would replace every server of S=all (the echo servers too) with the same command.
     Run one experiment at a time with your server, e.g. make scenario S=t2-concurrent SERVER=\"$SERVER\""
  fi
  if [ "$which" != all ] && [[ " ${names[*]} " != *" $which "* ]]; then
    die "unknown experiment '$which': one of ${names[*]} or all"
  fi
  experiment_env
  trap on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ -n "${LOSS:-}${DELAY:-}${JITTER:-}${RATE:-}" ]; then
    # The same settings as make impair, for the time of the experiments.
    [ -n "${M:-}" ] || die "LOSS, DELAY, JITTER and RATE need the machine whose link to impair: M=mesin-2"
    lab/impair.sh apply || exit 1
    IMPAIRED=$M
  fi
  if [ "$which" = all ]; then
    for name in "${names[@]}"; do one_scenario "$name" || status=1; done
    # One page linking every run's report.html, with its verdict.
    if experiment index . >/dev/null; then
      say "all the experiments' reports: captures/index.html"
    else
      say "captures/index.html could not be written"
    fi
  else
    one_scenario "$which" || status=1
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
