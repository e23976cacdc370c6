#!/usr/bin/env bash
# Local stand-ins for the ordinary path's two base images, for
# lab/test-ordinary.sh on a machine that reaches no container registry (this
# project's CI): made from Debian's packages (debootstrap) and this machine's
# Rust toolchain, then `docker import`ed.
#
#   progjar-lab-standin/debian:bookworm-slim   debootstrap minbase of bookworm with
#       what the official slim image adds (its apt and dpkg settings: no docs,
#       no man pages, no package cache; deb822 sources; PATH; CMD bash)
#   progjar-lab-standin/rust:1-bookworm        the same plus build-essential,
#       pkg-config, git, ca-certificates, and this machine's Rust toolchain under
#       /usr/local/rustup and /usr/local/cargo with the official image's ENV
#       (RUSTUP_HOME, CARGO_HOME, PATH, RUST_VERSION), and this machine's CA
#       certificates (here TLS from inside containers needs them)
#
# Their names can never shadow a real image: nothing pulls progjar-lab-standin/,
# and the Dockerfile uses them only when the test passes them as build
# arguments (LAB_RUST_IMAGE, LAB_DEBIAN_IMAGE). They are kept between runs and
# made again when this script, the package list or the host's Rust changes
# (label progjar-lab.standin-key), or with FORCE=1.
#
#   lab/standin-images.sh            make what is missing; prints the two names
#   DEBIAN_MIRROR=URL                override the mirror (default: the one apt uses here)
#
# They cannot show what the real images hold: see README, "Two ways to build the image".
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1

DEBIAN=progjar-lab-standin/debian:bookworm-slim
RUST=progjar-lab-standin/rust:1-bookworm
suite=bookworm
rust_packages=build-essential,pkg-config,git,ca-certificates

say() { printf '[standin] %s\n' "$*" >&2; }
die() { printf 'standin: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

command -v rustc >/dev/null 2>&1 || die "rustc is needed: the rust stand-in carries this machine's toolchain"
sysroot=$(rustc --print sysroot)
rust_version=$(rustc -vV | sed -n 's/^release: //p')
triple=$(rustc -vV | sed -n 's/^host: //p')
rustup_bin=$(command -v rustup || true)
[ -n "$rustup_bin" ] || die "rustup is needed: the rust stand-in carries its proxies, as the official image does"

key_of() { { cat "$0"; echo "$1"; } | sha256sum | cut -c1-16; }
debian_key=$(key_of "$suite")
rust_key=$(key_of "$suite $rust_packages $rust_version $triple $(sha256sum /etc/ssl/certs/ca-certificates.crt 2>/dev/null)")

current() { [ "${FORCE:-0}" != 1 ] && [ "$(docker image inspect -f '{{index .Config.Labels "progjar-lab.standin-key"}}' "$1" 2>/dev/null)" = "$2" ]; }

need_debian=1 need_rust=1
current "$DEBIAN" "$debian_key" && need_debian=0
current "$RUST" "$rust_key" && need_rust=0
if [ $need_debian = 0 ] && [ $need_rust = 0 ]; then
  say "$DEBIAN and $RUST are up to date (FORCE=1 to make them again)"
  echo "$DEBIAN $RUST"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

# The mirrors apt already uses on this machine, so nothing new is contacted.
sources() { { grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
  grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'; } | grep -E '/debian(-security)?/?$' || true; }
mirror=${DEBIAN_MIRROR:-$(sources | grep -v -- '-security' | head -n1)}
security=$(sources | grep -- '-security' | head -n1)
security=${security:-http://deb.debian.org/debian-security}
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt; set DEBIAN_MIRROR=<your Debian mirror URL>"

work=$(mktemp -d /tmp/progjar-standin.XXXXXX)
trap 'as_root rm -rf "$work"' EXIT

# What debian:bookworm-slim adds to a minbase (docker-library's debuerreotype):
# apt and dpkg settings for containers, deb822 sources, no caches or docs.
slim_settings() {
  local root=$1
  as_root mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/apt/apt.conf.d" "$root/etc/apt/sources.list.d"
  as_root tee "$root/etc/dpkg/dpkg.cfg.d/docker" >/dev/null <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  as_root tee "$root/etc/apt/apt.conf.d/docker-clean" >/dev/null <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' | as_root tee "$root/etc/apt/apt.conf.d/docker-no-languages" >/dev/null
  printf 'Acquire::GzipIndexes "true";\n' | as_root tee "$root/etc/apt/apt.conf.d/docker-gzip-indexes" >/dev/null
  echo 'Apt::AutoRemove::SuggestsImportant "false";' | as_root tee "$root/etc/apt/apt.conf.d/docker-autoremove-suggests" >/dev/null
  as_root rm -f "$root/etc/apt/sources.list"
  as_root tee "$root/etc/apt/sources.list.d/debian.sources" >/dev/null <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  as_root rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old
  as_root find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
}

bootstrap() { # name include-list rootfs
  local log=/tmp/progjar-standin-$1.log
  as_root debootstrap --variant=minbase ${2:+--include="$2"} "$suite" "$3" "$mirror" >"$log" 2>&1 || {
    echo "standin: debootstrap ($1) failed; last lines of $log:" >&2
    tail -n 20 "$log" >&2
    return 1
  }
}

# Both debootstraps at once: each waits on the network as much as on a core.
pids=()
if [ $need_debian = 1 ]; then
  say "debootstrap $suite minbase from $mirror for $DEBIAN"
  bootstrap debian "" "$work/debian" &
  pids+=($!)
fi
if [ $need_rust = 1 ]; then
  say "debootstrap $suite minbase + $rust_packages for $RUST"
  bootstrap rust "$rust_packages" "$work/rust" &
  pids+=($!)
fi
for pid in "${pids[@]}"; do wait "$pid" || die "debootstrap failed"; done

if [ $need_debian = 1 ]; then
  slim_settings "$work/debian"
  say "importing $DEBIAN"
  as_root tar -C "$work/debian" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL progjar-lab.standin-key=$debian_key" \
    --change 'CMD ["bash"]' - "$DEBIAN" >/dev/null
  as_root rm -rf "$work/debian"
fi

if [ $need_rust = 1 ]; then
  root=$work/rust
  slim_settings "$root"
  # The toolchain as rustup installs it in the official image: the toolchain
  # under RUSTUP_HOME (without its 800 MB of HTML docs), rustup and its proxies
  # (cargo, rustc, ...) in CARGO_HOME/bin.
  toolchain=$rust_version-$triple
  say "adding Rust $rust_version ($sysroot) as $toolchain"
  as_root mkdir -p "$root/usr/local/rustup/toolchains/$toolchain" "$root/usr/local/cargo/bin"
  tar -C "$sysroot" --exclude=./share/doc -cf - . | as_root tar -C "$root/usr/local/rustup/toolchains/$toolchain" -xf -
  as_root cp "$rustup_bin" "$root/usr/local/cargo/bin/rustup"
  for proxy in cargo cargo-clippy cargo-fmt clippy-driver rustc rustdoc rustfmt rust-gdb rust-gdbgui rust-lldb; do
    as_root ln -f "$root/usr/local/cargo/bin/rustup" "$root/usr/local/cargo/bin/$proxy"
  done
  as_root tee "$root/usr/local/rustup/settings.toml" >/dev/null <<EOF
version = "12"
default_toolchain = "$toolchain"
profile = "minimal"

[overrides]
EOF
  # This machine's trust store (with its own CAs), kept if the container runs
  # update-ca-certificates.
  as_root cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  for crt in /usr/local/share/ca-certificates/*.crt; do
    [ -f "$crt" ] && as_root cp "$crt" "$root/usr/local/share/ca-certificates/"
  done
  say "importing $RUST"
  as_root tar -C "$root" --numeric-owner -c . | docker import \
    --change 'ENV RUSTUP_HOME=/usr/local/rustup' \
    --change 'ENV CARGO_HOME=/usr/local/cargo' \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV RUST_VERSION=$rust_version" \
    --change "LABEL progjar-lab.standin-key=$rust_key" \
    --change 'CMD ["bash"]' - "$RUST" >/dev/null
fi
say "done: $DEBIAN $(docker image inspect -f '{{.Size}}' "$DEBIAN" | awk '{printf "%.0f MB", $1/1e6}'), $RUST $(docker image inspect -f '{{.Size}}' "$RUST" | awk '{printf "%.0f MB", $1/1e6}')"
echo "$DEBIAN $RUST"
