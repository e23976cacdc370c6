#!/usr/bin/env bash
# Pins the ordinary path's base images by digest: asks the registry for the
# digests that rust:1-bookworm and debian:bookworm-slim name now, and writes
# them into the Dockerfile's two ARG lines (RUST_IMAGE=rust:1-bookworm@sha256:...).
# Run it (`make pin-images`) on a machine that can pull, check that `make lab`
# still builds, and commit the Dockerfile. The digest is the multi-platform
# index, so the pin holds on amd64 and arm64 alike.
#
#   lab/pin-images.sh            pin the tags to what they name today
#   lab/pin-images.sh --unpin    back to plain tags (follow the tags again)
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1

say() { printf 'pin-images: %s\n' "$*"; }

# The index digest of a tag: with buildx without pulling, else by pulling it
# (RepoDigests holds the digest the tag was pulled by).
digest_of() {
  local tag=$1 out
  if out=$(docker buildx imagetools inspect --format '{{json .Manifest}}' "$tag" 2>/dev/null); then
    sed -n 's/.*"digest":"\(sha256:[0-9a-f]\{64\}\)".*/\1/p' <<<"$out" | head -n1
    return
  fi
  docker pull -q "$tag" >/dev/null || return 1
  docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$tag" |
    sed -n "s|^\(docker.io/\)\{0,1\}\(library/\)\{0,1\}${tag%%:*}@\(sha256:[0-9a-f]\{64\}\)$|\3|p" | head -n1
}

for pair in RUST_IMAGE=rust:1-bookworm DEBIAN_IMAGE=debian:bookworm-slim; do
  arg=${pair%%=*} tag=${pair#*=} value=$tag
  if [ "${1:-}" != --unpin ]; then
    digest=$(digest_of "$tag") || digest=""
    if [ -z "$digest" ]; then
      echo "pin-images: could not get the digest of $tag (can this machine pull from Docker Hub?)" >&2
      exit 1
    fi
    value=$tag@$digest
  fi
  awk -v arg="$arg" -v value="$value" '$0 ~ "^ARG " arg "=" { $0 = "ARG " arg "=" value } { print }' Dockerfile >Dockerfile.new
  mv Dockerfile.new Dockerfile
  say "ARG $arg=$value"
done
say "now: make images (check it builds), then commit the Dockerfile"
