#!/usr/bin/env bash
# Installs what `make test` needs, and only what is missing, so a second run
# costs a few checks: rustfmt and clippy, cargo-nextest, the PostgreSQL server
# tools (for a throwaway cluster when no server runs, and the cluster the
# fault tests stop and start under load) and libpq's headers,
# curl and jq (the README walkthrough test runs it as written), and Python's
# aiosmtpd (the SMTP sink of the mail tests), schemathesis 4 (fuzzes the
# running server against its /openapi.json), and Debian's Chromium with
# playwright-core from npm (the browser journeys in tests/browser).
# The examples of docs/integration.md run as written
# (tests/blackbox/integration_docs.rs): Python's PyJWT 2, jsonwebtoken 9
# from npm (in tests/browser/node_modules) and Debian's php-cli.
set -euo pipefail

say() { printf 'test-setup: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# --- Rust tools ----------------------------------------------------------------
missing_components=()
cargo fmt --version >/dev/null 2>&1 || missing_components+=(rustfmt)
cargo clippy --version >/dev/null 2>&1 || missing_components+=(clippy)
if [ ${#missing_components[@]} -gt 0 ]; then
    say "rustup component add ${missing_components[*]}"
    rustup component add "${missing_components[@]}"
fi

if ! cargo nextest --version >/dev/null 2>&1; then
    say "cargo-nextest is missing; building it (a few minutes)"
    cargo install cargo-nextest --locked
fi

# --- Debian packages -----------------------------------------------------------
pg_server_tools() {
    have initdb && have pg_ctl && return 0
    # Debian keeps the server tools in a versioned directory off PATH.
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
packages=()
pg_server_tools || packages+=(postgresql)
have psql || packages+=(postgresql-client)
have curl || packages+=(curl)
have jq || packages+=(jq)
have php || packages+=(php-cli)
# Debian's Chromium for the browser journeys (crates/odr/tests/it/browser.rs).
[ -x /usr/bin/chromium ] || packages+=(chromium)
dpkg-query -W -f='${Status}' libpq-dev 2>/dev/null | grep -q 'install ok installed' ||
    packages+=(libpq-dev)
if [ ${#packages[@]} -gt 0 ]; then
    sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    say "apt-get install ${packages[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${packages[@]}"
fi

# --- Python --------------------------------------------------------------------
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    say "pip install aiosmtpd"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore aiosmtpd
fi
if ! command -v st >/dev/null 2>&1 || ! st --version 2>/dev/null | grep -q 'version 4\.'; then
    say "pip install schemathesis 4"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'schemathesis>=4,<5'
fi

if ! python3 -c 'import jwt, sys; sys.exit(not jwt.__version__.startswith("2."))' 2>/dev/null; then
    say "pip install PyJWT 2"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'PyJWT>=2,<3'
fi

# --- Browser journeys -----------------------------------------------------------
# playwright-core and axe-core at the versions tests/browser/package-lock.json
# pins; playwright-core drives /usr/bin/chromium (no browser download).
# Reinstalled when the lock file is newer than what npm last installed.
browser="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/browser"
if ! have node || ! have npm; then
    say "node and npm (Node.js 20 or later) are needed for the browser journeys in $browser"
    exit 1
fi
if [ ! -f "$browser/node_modules/.package-lock.json" ] ||
    [ "$browser/package-lock.json" -nt "$browser/node_modules/.package-lock.json" ] ||
    [ "$browser/package.json" -nt "$browser/node_modules/.package-lock.json" ]; then
    say "npm ci --prefix $browser"
    npm ci --prefix "$browser" --no-audit --no-fund --loglevel=error
fi
node -e 'require(process.argv[1])' "$browser/node_modules/playwright-core" ||
    { say "playwright-core did not install into $browser/node_modules"; exit 1; }
node -e 'require(process.argv[1])' "$browser/node_modules/axe-core" ||
    { say "axe-core did not install into $browser/node_modules"; exit 1; }
node -e 'require(process.argv[1])' "$browser/node_modules/jsonwebtoken" ||
    { say "jsonwebtoken did not install into $browser/node_modules"; exit 1; }
/usr/bin/chromium --version >/dev/null 2>&1 ||
    { say "/usr/bin/chromium does not run"; exit 1; }

say "ready"
