# progjar-lab: every command a student or CI types. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help build release test test-rust lint fmt

help: ## List the targets with one line each
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-16s %s\n", $$1, $$2}'

build: ## Build every program (debug) into target/debug/
	$(CARGO) build --workspace --all-targets

release: ## Build optimized programs into target/release/
	$(CARGO) build --workspace --release

lint: ## cargo fmt --check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

test-rust: ## Unit, property and loopback integration tests
	$(CARGO) test --workspace

test: lint test-rust test-lab ## Everything CI runs (the lab test needs Docker; skipped without it unless CI=true)

# ---- the three-machine lab (lab/lab.sh does the work) ----------------------
.PHONY: lab down clean status logs shell capture scenario check images offline-images dist save load test-lab

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

shell: ## Open a shell on a machine: make shell M=mesin-2
	@lab/lab.sh shell $(M)

capture: ## Capture the lab bridge into captures/; RUN="mesin-2 time-client" LABEL=name
	@lab/lab.sh capture

scenario: ## Run an experiment with capture and REPORT.md: make scenario S=t2-concurrent (or S=all)
	@lab/lab.sh scenario

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

.PHONY: bench-summary
bench-summary: ## Time pcap-summary against tshark, tcpdump and cat on a ~1 GB capture
	@bench/summary.sh

.PHONY: bench
bench: ## Benchmark time-server modes against the course's threaded Python model
	$(CARGO) build --release -q -p progjar-server -p progjar-client
	python3 bench/servers.py
