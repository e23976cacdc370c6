# The "mesin" image: the lab's programs plus the tools a student uses on a
# lab machine (bash, ip, ping, telnet, nc, tcpdump, ps, tzdata, python3).
#
# Two ways to build it, both driven by `make lab`:
#
#  - ordinary (a machine that can pull images):
#        DOCKER_BUILDKIT=1 docker build -t progjar-lab/mesin .
#    builds the programs in a rust stage and copies them onto debian:bookworm-slim.
#
#  - registry-free (this project's CI, a classroom without internet):
#        lab/base-image.sh                       # debootstrap + docker import
#        make dist                               # static binaries, built on the host
#        docker build --target offline -t progjar-lab/mesin .
#    uses only a local base image and the binaries in dist/bin/.
#
# The offline stage comes first on purpose: the legacy builder builds every
# stage up to the --target, so it must not have to pull the rust image.
# There is no `# syntax=` line: it would make BuildKit pull a frontend.

ARG BASE_IMAGE=progjar-lab/base:bookworm-2

# ---- registry-free path ---------------------------------------------------
FROM ${BASE_IMAGE} AS offline
COPY lab/bin/ /usr/local/bin/
COPY dist/bin/ /usr/local/bin/
WORKDIR /work
CMD ["sleep", "infinity"]

# ---- ordinary path: build ---------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --workspace --bins \
 && mkdir -p /out \
 && find target/release -maxdepth 1 -type f -executable -exec cp {} /out/ \;

# ---- ordinary path: runtime (the default target) ----------------------------
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends bash iproute2 iputils-ping telnet \
      netcat-openbsd tcpdump procps tzdata python3 tini ca-certificates ethtool \
 && rm -rf /var/lib/apt/lists/*
COPY lab/bin/ /usr/local/bin/
COPY --from=builder /out/ /usr/local/bin/
WORKDIR /work
CMD ["sleep", "infinity"]
