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

test: lint test-rust ## Everything CI runs
