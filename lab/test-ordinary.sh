#!/usr/bin/env bash
# The ordinary build path, as most students get it (the Dockerfile: a rust
# builder stage and a debian:bookworm-slim runtime), tested on a machine that
# can pull no image: the two base images are local stand-ins made from
# Debian's packages and this machine's Rust (lab/standin-images.sh), passed as
# build arguments, never under the real names.
#
# With BuildKit and with the legacy builder: build the image through
# `lab/lab.sh images`, check its programs and environment against the
# registry-free image's, start the lab from it and run one experiment.
# Also: a rebuild with nothing changed reuses every layer; the registry-free
# path with BuildKit (the lab test builds it with the legacy builder); and
# what `make lab` says when BuildKit is asked for and buildx is missing.
#
# What it cannot show: that the real rust and debian images hold what the
# stand-ins hold (README, "Two ways to build the image").
#
# Without Docker the test is skipped, except under CI=true, where it fails.
# It leaves the lab down, like the lab test. Images it builds are kept as the
# next run's cache: progjar-lab/mesin:ordinary-buildkit, :ordinary-legacy,
# :offline-buildkit, and progjar-lab-standin/rust:old-rust-test (make
# clean-test removes them and the stand-ins).
# pass and fail always return 0, so `check && pass || fail` is an if-else here.
# shellcheck disable=SC2015
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

failures=0
passes=0
pass() { printf 'ordinary test: ok   %s\n' "$*"; passes=$((passes + 1)); }
fail() { printf 'ordinary test: FAIL %s\n' "$*"; failures=$((failures + 1)); }
info() { printf 'ordinary test: info %s\n' "$*"; }
finish() {
  echo "ordinary: $passes passed, $failures failed"
  [ "$failures" = 0 ]
  exit
}

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    echo "ordinary test: Docker is not available, and under CI=true this test is required" >&2
    fail "Docker is available"
    finish
  fi
  echo "ordinary test: SKIPPED (Docker is not available here)"
  exit 0
fi

unset SERVER LAB_IMAGE LAB_BUILDER LAB_RUST_IMAGE LAB_DEBIAN_IMAGE
# shellcheck disable=SC2317 # called by the trap
cleanup() { lab/lab.sh down >/dev/null 2>&1; rm -rf "$tmp"; }
tmp=$(mktemp -d /tmp/progjar-ordinary.XXXXXX)
trap cleanup EXIT

started=$(date +%s)
names=$(lab/standin-images.sh) || { fail "the stand-in images could be made (lab/standin-images.sh)"; finish; }
read -r debian rust <<<"$names"
info "stand-in images ready in $(($(date +%s) - started)) s: $debian, $rust"
standin=(LAB_OFFLINE=0 LAB_RUST_IMAGE="$rust" LAB_DEBIAN_IMAGE="$debian")

# A docker client with BuildKit: the default one when it has buildx (or is
# older than 23, with BuildKit built in), else another on PATH (here Debian's
# docker.io 20.10 beside a newer CLI without buildx), put first on PATH for
# the BuildKit builds only.
has_buildkit() {
  "$1" buildx version >/dev/null 2>&1 && return 0
  local v
  v=$("$1" version -f '{{.Client.Version}}' 2>/dev/null) || return 1
  [[ "$v" =~ ^([0-9]+)\. ]] && [ "${BASH_REMATCH[1]}" -lt 23 ]
}
default_docker=$(command -v docker)
buildkit_path=""
if has_buildkit "$default_docker"; then
  buildkit_path=$PATH
else
  while read -r candidate; do
    [ "$candidate" != "$default_docker" ] && has_buildkit "$candidate" || continue
    mkdir -p "$tmp/bin" && ln -sf "$candidate" "$tmp/bin/docker"
    buildkit_path=$tmp/bin:$PATH
    info "the default docker ($default_docker) has no BuildKit; BuildKit builds use $candidate"
    break
  done < <(type -ap docker | awk '!seen[$0]++')
fi

# What make lab says without buildx: what is missing and how to get it,
# never a registry problem. Checked before anything is built.
if ! has_buildkit "$default_docker"; then
  out=$(env "${standin[@]}" LAB_BUILDER=buildkit LAB_IMAGE=progjar-lab/mesin:never lab/lab.sh images 2>&1); code=$?
  [ "$code" = 1 ] && grep -q "buildx component" <<<"$out" && grep -q "docker-buildx" <<<"$out" &&
    grep -q "LAB_BUILDER=legacy" <<<"$out" && ! grep -q "LAB_OFFLINE=1" <<<"$out" &&
    pass "LAB_BUILDER=buildkit without buildx says buildx is missing and how to get it (not LAB_OFFLINE)" ||
    fail "LAB_BUILDER=buildkit without buildx (exit $code): $out"
fi

commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

# Rust older than Cargo.toml's rust-version: on the host (registry-free path)
# and in the builder image (ordinary path), a message that says what to do.
need=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml | head -n1)
# A rustc that only says it is 1.80.0: both checks run before anything else.
mkdir -p "$tmp/oldrust"
printf '#!/bin/sh\necho "rustc 1.80.0 (test stand-in)"\n' >"$tmp/oldrust/rustc"
chmod +x "$tmp/oldrust/rustc"
out=$(PATH=$tmp/oldrust:$PATH lab/lab.sh dist 2>&1); code=$?
[ "$code" = 1 ] && grep -q "this machine has Rust 1.80.0; the lab's programs need Rust $need or newer" <<<"$out" &&
  grep -q "rustup update" <<<"$out" && pass "make dist with Rust 1.80 on the host stops before building and says to update" ||
  fail "make dist with Rust 1.80 on the host (exit $code): $out"
printf 'FROM %s\nRUN rm /usr/local/cargo/bin/rustc\nCOPY rustc /usr/local/cargo/bin/rustc\n' "$rust" >"$tmp/oldrust/Dockerfile"
if DOCKER_BUILDKIT=0 docker build -q -t progjar-lab-standin/rust:old-rust-test "$tmp/oldrust" >/dev/null 2>"$tmp/old.err"; then
  out=$(env "${standin[@]}" LAB_RUST_IMAGE=progjar-lab-standin/rust:old-rust-test LAB_BUILDER=legacy \
    LAB_IMAGE=progjar-lab/mesin:never lab/lab.sh images 2>&1); code=$?
  [ "$code" = 1 ] && grep -q "the builder image has Rust 1.80.0; the lab needs Rust $need or newer" <<<"$out" &&
    grep -q "docker pull rust:1-bookworm" <<<"$out" && ! grep -q "Compiling" <<<"$out" &&
    pass "a builder image with Rust 1.80 stops before compiling and says docker pull rust:1-bookworm" ||
    fail "a builder image with Rust 1.80 (exit $code): $(tail -n 8 <<<"$out")"
else
  fail "could not make the old-Rust stand-in: $(cat "$tmp/old.err")"
fi

# Facts of an image, one per line, for comparing the two paths.
programs() { docker run --rm "$1" bash -c 'cd /usr/local/bin && ls' | sort; }
environment() { docker run --rm "$1" env | grep -vE '^(HOSTNAME|HOME|PWD|SHLVL|_)=' | sort; }

offline_image=""
if docker run --rm progjar-lab/mesin:latest time-server --version 2>/dev/null | grep -q "build: registry-free"; then
  offline_image=progjar-lab/mesin:latest
fi

# check_image IMAGE PATH-NAME LABEL: --version, static programs, environment, packages.
check_image() {
  local image=$1 path=$2 label=$3 out
  out=$(docker run --rm "$image" time-server --version 2>&1)
  [[ "$out" == "time-server "*"(commit $commit"*", build: $path)" ]] &&
    pass "$label: time-server --version says the commit and the path: $out" ||
    fail "$label: time-server --version: $out (want commit $commit, build: $path)"
  out=$(docker run --rm "$image" bash -c 'for p in time-server echo-server time-client echo-client socket-info pcap-summary experiment; do
      printf "%s: " "$p"; ldd "/usr/local/bin/$p" 2>&1 | head -n1; done')
  [ "$(grep -cE 'not a dynamic executable|statically linked' <<<"$out")" = 7 ] &&
    pass "$label: the seven programs are static" || fail "$label: not all programs are static: $out"
  out=$(docker run --rm "$image" bash -c 'for p in time-server echo-server time-client echo-client socket-info pcap-summary experiment; do "$p" --version | head -n1; done' 2>&1)
  [ "$(grep -c "build: $path)" <<<"$out")" = 7 ] && pass "$label: every program says build: $path" ||
    fail "$label: --version of the programs: $out"
  out=$(docker run --rm -i "$image" bash -c 'missing=""; while read -r p; do case "$p" in "#"* | "") continue ;; esac
      dpkg-query -W -f "\${Status}\n" "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"; done; echo "missing:$missing"' <lab/packages.txt 2>&1)
  [ "$out" = "missing:" ] && pass "$label: every package of lab/packages.txt is installed" || fail "$label: packages $out"
  [ "$(docker run --rm "$image" bash -c 'echo "$LANG"')" = C.UTF-8 ] && pass "$label: LANG=C.UTF-8" || fail "$label: LANG is not C.UTF-8"
  if [ -n "$offline_image" ] && [ "$image" != "$offline_image" ]; then
    diff <(programs "$offline_image") <(programs "$image") >"$tmp/diff" &&
      pass "$label: the same programs in /usr/local/bin as the registry-free image" ||
      fail "$label: /usr/local/bin differs from the registry-free image's: $(tr '\n' ' ' <"$tmp/diff")"
    diff <(environment "$offline_image") <(environment "$image") >"$tmp/diff" &&
      pass "$label: the same environment as the registry-free image" ||
      fail "$label: the environment differs from the registry-free image's: $(tr '\n' ' ' <"$tmp/diff")"
  fi
  info "$label: image $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'), programs $(docker run --rm "$image" bash -c 'cd /usr/local/bin && du -ch time-server echo-server time-client echo-client socket-info pcap-summary experiment | tail -n1 | cut -f1')"
}

# run_lab IMAGE LABEL: the lab from IMAGE, one experiment, a client, down.
run_lab() {
  local image=$1 label=$2 out code dir
  lab/lab.sh down >/dev/null 2>&1
  if ! out=$(LAB_IMAGE=$image lab/lab.sh up 2>&1); then
    fail "$label: make lab starts the lab from $image: $out"
    return
  fi
  [ "$(docker inspect -f '{{.Config.Image}}' progjar-mesin-1 2>/dev/null)" = "$image" ] &&
    pass "$label: the lab is up from $image" || fail "$label: mesin-1 does not run $image"
  out=$(LAB_IMAGE=$image S=t2-concurrent T2_CLIENTS=2 lab/lab.sh scenario 2>&1); code=$?
  dir=$(find captures -maxdepth 1 -type d -name '*-t2-concurrent' | sort | tail -n1)
  [ "$code" = 0 ] && [ -n "$dir" ] && grep -q "This run showed what the experiment is about." "$dir/REPORT.md" 2>/dev/null &&
    pass "$label: make scenario S=t2-concurrent in this lab: $dir/REPORT.md shows what it is about" ||
    fail "$label: make scenario S=t2-concurrent (exit $code): $(tail -n 5 <<<"$out")"
  out=$(docker exec progjar-mesin-2 time-client --count 1 2>&1) && pass "$label: time-client on mesin-2 gets the time from mesin-1" ||
    fail "$label: time-client on mesin-2: $out"
  lab/lab.sh down >/dev/null 2>&1 || fail "$label: make down"
}

# build BUILDER-NAME PATH-FOR-DOCKER LAB_BUILDER IMAGE: make images, timed.
build() {
  local name=$1 path=$2 builder=$3 image=$4 log=$tmp/build-$1.log start seconds
  start=$(date +%s)
  if PATH=$path env "${standin[@]}" LAB_BUILDER="$builder" LAB_IMAGE="$image" lab/lab.sh images >"$log" 2>&1; then
    seconds=$(($(date +%s) - start))
    pass "$name: the ordinary path builds ($seconds s, LAB_BUILDER=$builder)"
    grep -E '^lab: (builder|building with)' "$log" | sed 's/^/    /'
    return 0
  fi
  fail "$name: the ordinary path does not build (LAB_BUILDER=$builder); the end of its output:"
  tail -n 25 "$log" | sed 's/^/    /'
  return 1
}

# ---- BuildKit ----
if [ -z "$buildkit_path" ]; then
  if [ "${CI:-}" = true ]; then
    fail "a docker client with BuildKit is on PATH (buildx, or a client before 23)"
  else
    info "SKIPPED the BuildKit half: no docker client with BuildKit here (install buildx)"
  fi
else
  image=progjar-lab/mesin:ordinary-buildkit
  if build BuildKit "$buildkit_path" buildkit "$image"; then
    grep -q 'lab: builder: BuildKit' "$tmp/build-BuildKit.log" && pass "BuildKit: lab.sh built with BuildKit" ||
      fail "BuildKit: lab.sh did not say it built with BuildKit"
    before=$(docker image inspect -f '{{.Id}}' "$image")
    build BuildKit-again "$buildkit_path" buildkit "$image" >/dev/null
    [ "$(docker image inspect -f '{{.Id}}' "$image")" = "$before" ] &&
      pass "BuildKit: a rebuild with nothing changed reuses every layer (same image)" ||
      fail "BuildKit: a rebuild with nothing changed made another image"
    check_image "$image" ordinary BuildKit
    run_lab "$image" BuildKit
  fi
  # The registry-free path with BuildKit (binaries from make dist, as in CI).
  image=progjar-lab/mesin:offline-buildkit
  if PATH=$buildkit_path LAB_OFFLINE=1 LAB_BUILDER=buildkit LAB_IMAGE=$image lab/lab.sh images >"$tmp/offline.log" 2>&1; then
    pass "BuildKit: the registry-free path builds (Dockerfile.offline)"
    check_image "$image" registry-free "BuildKit, registry-free"
  else
    fail "BuildKit: the registry-free path does not build: $(tail -n 15 "$tmp/offline.log")"
  fi
fi

# ---- the legacy builder ----
# With a default docker that lacks BuildKit, LAB_BUILDER=auto must fall back
# to it and say what is missing; otherwise ask for it.
image=progjar-lab/mesin:ordinary-legacy
if has_buildkit "$default_docker"; then legacy=legacy; else legacy=auto; fi
if build legacy "$PATH" "$legacy" "$image"; then
  if [ "$legacy" = auto ]; then
    grep -q "building with the legacy builder" "$tmp/build-legacy.log" && grep -q "docker-buildx" "$tmp/build-legacy.log" &&
      pass "legacy: without buildx, make lab builds with the legacy builder and says how to get BuildKit" ||
      fail "legacy: the fallback to the legacy builder was not explained: $(head -n 5 "$tmp/build-legacy.log")"
  fi
  check_image "$image" ordinary legacy
  run_lab "$image" legacy
fi

info "the whole ordinary-path test took $(($(date +%s) - started)) s"
finish
