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

.PHONY: help run test fmt lint clean test-steps nextest screenshots bench

help:
	@echo 'make run     build odr, migrate, seed the demo data and serve (sqlite://data/odr.db)'
	@echo 'make test    everything CI checks: setup, fmt, clippy, all tests on SQLite and PostgreSQL'
	@echo 'make fmt     format the code'
	@echo 'make lint    check formatting and run clippy with warnings as errors'
	@echo 'make clean   remove build output (keeps data/)'
	@echo 'make screenshots  run the browser journeys and refresh docs/screenshots/'
	@echo 'make bench   load test odr serve on SQLite and PostgreSQL against the databases'\'' own limit (docs/benchmarks.md)'

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

# The browser journeys (crates/odr/tests/it/browser.rs) screenshot every page
# under $(TARGET_DIR)/browser/; the README shows the ones in docs/screenshots/.
BROWSER_OUT := $(abspath $(TARGET_DIR))/browser
screenshots:
	bash scripts/test-setup.sh
	ODR_BROWSER_OUT=$(BROWSER_OUT) $(CARGO) nextest run $(WORKSPACE) -E 'test(browser::)'
	rm -f docs/screenshots/*.png
	mkdir -p docs/screenshots
	cp $(BROWSER_OUT)/docs/*.png docs/screenshots/
	@ls -l docs/screenshots/

# Not part of `make test`: release builds, a few minutes of load, databases
# odr_bench_* on the PostgreSQL server of ensure-postgres.sh (127.0.0.1:5432
# when it answers). Knobs (see docs/benchmarks.md): ODR_BENCH_SECS (20),
# ODR_BENCH_CLIENTS (32), ODR_BENCH_BACKENDS (sqlite,postgres),
# ODR_BENCH_LIST_SIZES (10000,1000000; empty skips the list), BENCH_ARGS.
BENCH_ARGS ?=
bench:
	$(CARGO) build --release -p odr -p odr-bench
	@command -v pgbench >/dev/null || ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 || \
		{ echo 'bench: installing pgbench (postgresql-client)'; apt-get install -y postgresql-client >/dev/null; }
	bash scripts/ensure-postgres.sh bash -c 'ODR_BENCH_PG=$${ODR_BENCH_PG:-$${ODR_TEST_POSTGRES_URL%/*}} \
		$(TARGET_DIR)/release/odr-bench --odr $(TARGET_DIR)/release/odr $(BENCH_ARGS)'
