# The "mesin" image, ordinary path: the lab's programs built in a Rust stage,
# on debian:bookworm-slim with the tools a student uses on a lab machine
# (lab/packages.txt). `make lab` / `make images` build it; by hand:
#
#     docker build -t progjar-lab/mesin .
#
# It builds with BuildKit and with the legacy builder. BuildKit uses the two
# `RUN --mount=type=cache` flags; the legacy builder does not know them, so
# for it `make lab` (lab/lab.sh) feeds it this file without them:
#
#     sed 's/--mount=[^ ]* //g' Dockerfile | DOCKER_BUILDKIT=0 docker build -f - -t progjar-lab/mesin .
#
# There is no `# syntax=` line (that would make BuildKit pull a frontend
# image) and no heredoc. The registry-free path (no image pulled at all) is
# Dockerfile.offline.
#
# Rebuilds are quick: the dependencies are compiled in a layer of their own
# from the manifests alone (the `recipe` stage), so a change to the lab's
# code recompiles only the lab's crates (with BuildKit, only the crates it
# touches: the target folder is a cache mount), and a README edit nothing at
# all (.dockerignore lets in only what the build reads).
#
# The programs are the same as the registry-free path's: static (glibc linked
# in with +crt-static), stripped, built with --locked; `time-server --version`
# says which path built them.
#
# The base images are pinned when RUST_IMAGE / DEBIAN_IMAGE carry an
# @sha256 digest: `make pin-images` (lab/pin-images.sh) writes the digests of
# the current tags into the two ARG lines below, on a machine that can pull.

ARG RUST_IMAGE=rust:1-bookworm
ARG DEBIAN_IMAGE=debian:bookworm-slim

# ---- the build context, split in two ----------------------------------------
FROM ${RUST_IMAGE} AS context
LABEL progjar-lab.stage=context
COPY . /src/

# The workspace alone: a change to lab/bin/ does not reach the build below.
FROM context AS sources
RUN rm -rf /src/lab

# The recipe: manifests, build scripts and empty targets. It changes only when
# a Cargo.toml, Cargo.lock, a build.rs or the set of target files changes, so
# the dependency layer built from it stays cached while the code changes.
FROM sources AS recipe
WORKDIR /src
RUN set -eu; \
    for manifest in $(find . -name Cargo.toml); do \
      dir=${manifest%/Cargo.toml}; \
      for f in src/lib.rs src/main.rs $(cd "$dir" && find src/bin -maxdepth 1 -name '*.rs' 2>/dev/null) \
               $(sed -n 's/^path *= *"\(.*\)".*/\1/p' "$manifest"); do \
        [ -f "$dir/$f" ] && echo "$dir/${f#./}"; \
      done; \
    done | sort -u >/tmp/targets; \
    find . -type f ! -name Cargo.toml ! -name Cargo.lock ! -name build.rs | sort | comm -23 - /tmp/targets | xargs -r rm -f; \
    while read -r f; do \
      case "$f" in */lib.rs) : >"$f" ;; *) echo 'fn main() {}' >"$f" ;; esac; \
    done </tmp/targets; \
    find . -mindepth 1 -type d -empty -delete

# ---- build ------------------------------------------------------------------
FROM ${RUST_IMAGE} AS builder
LABEL progjar-lab.stage=builder
# The registry-free path's flags (lab/lab.sh dist): static, no debug info.
ENV CARGO_PROFILE_RELEASE_DEBUG=0 \
    CARGO_PROFILE_RELEASE_STRIP=symbols \
    RUSTFLAGS="-C target-feature=+crt-static" \
    CARGO_TERM_COLOR=never
WORKDIR /src
COPY --from=recipe /src/ ./
ARG RUST_IMAGE
# A Rust older than Cargo.toml's rust-version stops here with what to do.
# Then the dependencies alone, downloaded and compiled once into this layer;
# .recipe names what they were built from (manifests, lock file, rustc).
RUN --mount=type=cache,id=progjar-lab-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    set -eu; \
    need=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml | head -n1); \
    have=$(rustc --version | cut -d' ' -f2); \
    if [ -n "$need" ] && [ "$(printf '%s\n%s\n' "$need" "${have%%-*}" | sort -V | head -n1)" != "$need" ]; then \
      echo "progjar-lab: the builder image has Rust $have; the lab needs Rust $need or newer (Cargo.toml rust-version)." >&2; \
      echo "progjar-lab: an old rust image is cached on this machine: docker pull $RUST_IMAGE, then make images" >&2; \
      exit 1; \
    fi; \
    cargo build --release --locked --bins --target "$(rustc -vV | sed -n 's/^host: //p')"; \
    { rustc -vV; find . -path ./target -prune -o -type f -print | sort | xargs cat; } | sha256sum >target/.recipe
COPY --from=sources /src/ ./
# The build facts for --version (common/build.rs); lab/lab.sh passes the commit.
ARG PROGJAR_BUILD_COMMIT=unknown
ARG PROGJAR_BUILD_PATH=ordinary
# The lab's own crates. With BuildKit the target folder is a cache mount that
# outlives the build, so a change recompiles only the crates it touches; it
# starts as a copy of the dependency layer's (again when the dependencies
# change). The legacy builder has no mounts (lab/lab.sh drops the --mount
# flags for it): its target is this layer's, and every crate of the lab is
# compiled again. Which files changed is decided by content, not by the
# mtimes COPY gives: unchanged files are dated 2000, changed ones now.
RUN --mount=type=cache,id=progjar-lab-target,target=/cache/target,sharing=locked \
    --mount=type=cache,id=progjar-lab-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    set -eu; \
    triple=$(rustc -vV | sed -n 's/^host: //p'); \
    target=target; \
    if [ -d /cache/target ]; then \
      target=/cache/target; \
      if ! cmp -s target/.recipe "$target/.recipe"; then \
        find "$target" -mindepth 1 -maxdepth 1 -exec rm -rf {} +; \
        cp -a target/. "$target/"; \
      fi; \
    fi; \
    find . -path ./target -prune -o -type f -print | sort | xargs -d '\n' sha256sum >/tmp/sums; \
    cut -c67- /tmp/sums | xargs -d '\n' touch -d '2000-01-01 00:00:00'; \
    touch "$target/.sums"; \
    sort "$target/.sums" >/tmp/built; sort /tmp/sums >/tmp/now; \
    comm -13 /tmp/built /tmp/now | cut -c67- | xargs -d '\n' -r touch; \
    CARGO_TARGET_DIR=$target cargo build --release --locked --bins --target "$triple"; \
    cp /tmp/sums "$target/.sums"; \
    mkdir -p /out; \
    for f in "$target/$triple/release"/*; do \
      if [ -f "$f" ] && [ -x "$f" ]; then cp "$f" /out/; fi; \
    done; \
    ls /out

# ---- runtime (the default target) -------------------------------------------
FROM ${DEBIAN_IMAGE} AS runtime
LABEL progjar-lab.stage=runtime
COPY lab/packages.txt /tmp/packages.txt
RUN set -eu; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(grep -v '^#' /tmp/packages.txt); \
    rm -rf /var/lib/apt/lists/* /tmp/packages.txt
# The environment of the registry-free image (lab/base-image.sh).
ENV LANG=C.UTF-8
COPY lab/bin/ /usr/local/bin/
COPY --from=builder /out/ /usr/local/bin/
WORKDIR /work
CMD ["sleep", "infinity"]
