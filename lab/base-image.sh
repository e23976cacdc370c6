#!/usr/bin/env bash
# Builds the lab's base image from Debian's packages alone, for machines that
# cannot pull from a container registry (this project's CI, a classroom with
# poor internet). debootstrap makes a minimal Debian bookworm root file system
# with the tools a student uses on a lab machine; `docker import` turns it
# into an image. Students with internet never need this: the Dockerfile's
# ordinary path starts FROM debian:bookworm-slim.
#
#   lab/base-image.sh [IMAGE]      default IMAGE: progjar-lab/base:bookworm-3
#   DEBIAN_MIRROR=URL              override the mirror (default: the one apt uses here)
set -euo pipefail

image=${1:-progjar-lab/base:bookworm-3}
suite=bookworm
# The packages: lab/packages.txt, which the Dockerfile's runtime stage installs
# too, so both paths have the same tools. The tag carries a number: change it
# when that list changes, so that an old base image is not reused.
packages=$(grep -v '^#' "$(dirname "$0")/packages.txt" | paste -sd, -)
[ -n "$packages" ] || { echo "base-image: no packages in $(dirname "$0")/packages.txt" >&2; exit 1; }

say() { printf '[base-image] %s\n' "$*"; }

if docker image inspect "$image" >/dev/null 2>&1 && [ "${FORCE:-0}" != 1 ]; then
  say "$image already exists (FORCE=1 to rebuild)"
  exit 0
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

# The mirror apt already uses on this machine, so nothing new is contacted.
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$( { grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}';
              grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'; } |
            grep -v -- '-security' | head -n1 ) || true
fi
if [ -z "$mirror" ]; then
  echo "base-image: no Debian mirror found in /etc/apt; set DEBIAN_MIRROR=<your Debian mirror URL>" >&2
  exit 1
fi

rootfs=$(mktemp -d /tmp/progjar-rootfs.XXXXXX)
trap 'as_root rm -rf "$rootfs"' EXIT
say "debootstrap $suite (minbase + $packages) from $mirror; takes a few minutes"
as_root debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" \
  > /tmp/progjar-debootstrap.log 2>&1 || {
  echo "base-image: debootstrap failed; last lines of /tmp/progjar-debootstrap.log:" >&2
  tail -n 20 /tmp/progjar-debootstrap.log >&2
  exit 1
}

# Keep the image small: no package caches, docs or man pages.
as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old

say "importing into docker as $image"
as_root tar -C "$rootfs" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["bash"]' \
  - "$image" >/dev/null
say "done: $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
