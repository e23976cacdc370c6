# progjar-lab: every command a student or CI types. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help build release setup test test-rust lint fmt

help: ## List the targets with one line each
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-16s %s\n", $$1, $$2}'

build: ## Build every program (debug) into target/debug/
	$(CARGO) build --workspace --all-targets

release: ## Build optimized programs into target/release/
	$(CARGO) build --workspace --release

# Debian packages the tests need, as command:package (or /file:package): shellcheck
# for make lint; tshark (with dumpcap) and nft to check pcap-summary's expert analysis
# against tshark on real lossy loopback captures (pcap-summary/tests/expert_vs_tshark.rs);
# chromium to open report.html in a real browser and DejaVu for the PNG ladder's labels
# (experiment/tests/report.rs, pcap-summary/tests/ladder.rs).
SETUP_TOOLS := shellcheck:shellcheck tshark:tshark dumpcap:tshark nft:nftables chromium:chromium \
  /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf:fonts-dejavu-core

setup: ## Install what the tests need from Debian's packages when missing (shellcheck, tshark, nftables, chromium, DejaVu fonts); as root or with sudo
	@missing=""; \
	for t in $(SETUP_TOOLS); do need="$${t%%:*}"; \
	  case "$$need" in /*) [ -e "$$need" ];; *) command -v "$$need" >/dev/null 2>&1;; esac || missing="$$missing $${t#*:}"; done; \
	if [ -z "$$missing" ]; then echo "setup: nothing to install ($(foreach t,$(SETUP_TOOLS),$(notdir $(firstword $(subst :, ,$(t))))) present)"; exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "setup: missing:$$missing; this machine has no apt-get, so install it with your system's package manager" >&2; exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then as_root=""; \
	elif command -v sudo >/dev/null 2>&1; then as_root="sudo"; \
	else echo "setup: missing:$$missing; installing needs root: run 'make setup' as root, or install sudo" >&2; exit 1; fi; \
	echo "setup: missing:$$missing; running: $${as_root:+$$as_root }apt-get update"; \
	$$as_root apt-get update -qq || { echo "setup: apt-get update failed (is Debian's package mirror reachable?)" >&2; exit 1; }; \
	echo "setup: running: $${as_root:+$$as_root }apt-get install -y$$missing"; \
	$$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
	  { echo "setup: apt-get install$$missing failed; see the messages above" >&2; exit 1; }; \
	echo "setup: installed$$missing"

# Shell scripts are found by their first line (#!...bash or sh), not by a list.
lint: setup ## cargo fmt --check, clippy with warnings as errors (missing docs too), shellcheck on every shell script
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@scripts=$$( { git ls-files --cached --others --exclude-standard 2>/dev/null || find . -type f -not -path './target/*' -not -path './.git/*'; } | \
	  while read -r f; do [ -f "$$f" ] && head -n1 "$$f" | grep -qE '^#!.*[/ ](ba|da)?sh([[:space:]]|$$)' && echo "$$f"; done); \
	echo "shellcheck" $$scripts; \
	shellcheck $$scripts && echo "shellcheck: $$(echo $$scripts | wc -w) scripts clean"

fmt: ## Format the code
	$(CARGO) fmt --all

test-rust: ## Unit, property and loopback integration tests
	$(CARGO) test --workspace

test: setup lint test-rust test-lab test-ordinary ## Everything CI runs (the lab tests need Docker; skipped without it unless CI=true)

# ---- the three-machine lab (lab/lab.sh does the work) ----------------------
.PHONY: lab down clean status logs shell capture scenario scenarios check images offline-images dist save load test-lab test-ordinary clean-test pin-images

lab: ## Build what is missing, start mesin-1/2/3 and the servers, print a table
	@lab/lab.sh up

down: ## Remove the lab's containers and network
	@lab/lab.sh down

clean: ## make down, and remove the lab's images and dist/
	@lab/lab.sh clean

status: ## Show the machines and which servers run on mesin-1
	@lab/lab.sh status

logs: ## Show the machines' logs (servers on mesin-1)
	@lab/lab.sh logs

shell: ## Open a shell on a machine as you: make shell M=mesin-2 (ROOT=1: as root, for tcpdump and ip route)
	@lab/lab.sh shell $(M)

capture: ## Capture the lab bridge into captures/; RUN="mesin-2 time-client" LABEL=name FILTER="tcp port 45000"
	@lab/lab.sh capture

scenario: ## Run an experiment with capture and REPORT.md: make scenario S=t2-concurrent (or S=all)
	@lab/lab.sh scenario

scenarios: ## List the experiments, what each shows, and their settings
	@lab/lab.sh scenarios

.PHONY: impair
impair: ## Impair a machine's link: make impair M=mesin-2 LOSS=5% (DELAY=100ms JITTER= RATE=1mbit; CLEAR=1)
	@lab/impair.sh apply

check: ## Check a time server from mesin-2: make check SERVER=172.16.16.101:45000
	@lab/lab.sh check

images: ## (Re)build the mesin image (ordinary or registry-free, see README)
	@lab/lab.sh images

offline-images: ## Build the image without any registry: debootstrap base + static binaries
	@LAB_OFFLINE=1 lab/lab.sh images

dist: ## Build static binaries into dist/bin/ (for the registry-free image)
	@lab/lab.sh dist

save: ## Save the built image to a file for a USB stick: make save FILE=x.tar.gz
	@lab/lab.sh save

load: ## Load images saved by make save: make load FILE=x.tar.gz
	@lab/lab.sh load

test-lab: ## End-to-end lab test: real containers, capture, checks from the pcap
	@lab/test-lab.sh

test-ordinary: ## The ordinary build path (Dockerfile) with BuildKit and the legacy builder, on local stand-in base images
	@lab/test-ordinary.sh

clean-test: ## Remove the images test-ordinary keeps between runs (its stand-ins and the images built from them)
	@docker image rm -f progjar-lab/mesin:ordinary-buildkit progjar-lab/mesin:ordinary-legacy progjar-lab/mesin:offline-buildkit \
	  progjar-lab-standin/rust:old-rust-test progjar-lab-standin/rust:1-bookworm progjar-lab-standin/debian:bookworm-slim >/dev/null 2>&1; \
	  docker image prune -f --filter label=progjar-lab.stage >/dev/null; echo "clean-test: test images removed"

pin-images: ## Pin the Dockerfile's base images to the digests their tags name now (needs a registry)
	@lab/pin-images.sh

.PHONY: bench-summary
bench-summary: ## Time pcap-summary against tshark, tcpdump and cat on a ~1 GB capture; its memory on a SYN flood and on a 5 GB stream from stdin
	@bench/summary.sh

.PHONY: bench bench-check
bench: ## Benchmark time-server modes against the kernel floor (C) and the course's threaded Python model
	$(CARGO) build --release -q -p progjar-server -p progjar-client
	python3 bench/servers.py

bench-check: ## Check the kernel-floor server (bench/c_floor_server.c) with time-client check and against our replies
	$(CARGO) build --release -q -p progjar-server -p progjar-client
	python3 bench/floor_check.py
