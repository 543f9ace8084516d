# Entry points for people and CI. `make run` starts a local server with demo
# data; `make test` checks everything CI checks (it is what .ci/run runs).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
ODR := $(TARGET_DIR)/debug/odr
# `make run CONFIG=my.toml` passes `--config my.toml` to every odr command.
CONFIG ?=
ODR_ARGS := $(if $(CONFIG),--config $(CONFIG))
# clippy and the tests build the same feature set, so dependencies resolve once.
WORKSPACE := --workspace --all-features
# Where the `ci` nextest profile writes its report (see .config/nextest.toml).
JUNIT := target/nextest/ci/junit.xml

.PHONY: help run test fmt lint clean test-steps nextest

help:
	@echo 'make run     build odr, migrate, seed the demo data and serve (sqlite://data/odr.db)'
	@echo 'make test    everything CI checks: setup, fmt, clippy, all tests on SQLite and PostgreSQL'
	@echo 'make fmt     format the code'
	@echo 'make lint    check formatting and run clippy with warnings as errors'
	@echo 'make clean   remove build output (keeps data/)'

run:
	$(CARGO) build -p odr
	mkdir -p data
	$(ODR) $(ODR_ARGS) migrate
	$(ODR) $(ODR_ARGS) seed-demo
	@echo
	@echo "ODR serves on http://$${ODR_LISTEN:-127.0.0.1:8080} (links in mail: $${ODR_PUBLIC_URL:-http://127.0.0.1:8080}); Ctrl-C stops it"
	@if [ -z "$${ODR_SMTP_URL:-}" ]; then echo "Mail is not sent: each mail is written as an .eml file under $$(pwd)/data/mail/ (set ODR_SMTP_URL to send it)"; fi
	@echo
	$(ODR) $(ODR_ARGS) serve

test:
	@start=$$(date +%s); status=0; \
	$(MAKE) --no-print-directory test-steps || status=$$?; \
	secs=$$(( $$(date +%s) - start )); \
	verdict=passed; [ $$status -eq 0 ] || verdict=FAILED; \
	printf '\nmake test %s; wall time %dm%02ds\n' $$verdict $$((secs / 60)) $$((secs % 60)); \
	exit $$status

test-steps:
	bash scripts/test-setup.sh
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory nextest

# The PostgreSQL tests get ODR_TEST_POSTGRES_URL from ensure-postgres.sh (the
# machine's server, or a throwaway cluster stopped afterwards); they never skip.
nextest:
	@rm -f $(JUNIT)
	@status=0; \
	bash scripts/ensure-postgres.sh env RUST_BACKTRACE=1 \
		$(CARGO) nextest run $(WORKSPACE) --profile ci || status=$$?; \
	echo; python3 scripts/count-tests.py $(JUNIT); \
	exit $$status

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(WORKSPACE) --all-targets -- -D warnings

clean:
	$(CARGO) clean
