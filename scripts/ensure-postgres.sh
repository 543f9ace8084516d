#!/usr/bin/env bash
# Runs a command with ODR_TEST_POSTGRES_URL pointing at a PostgreSQL server the
# tests may create and drop databases on:
#
#   scripts/ensure-postgres.sh cargo nextest run ...
#
# 1. ODR_TEST_POSTGRES_URL already set: used as it is (it must answer).
# 2. A server answering on 127.0.0.1:5432 that lets `postgres` in: used.
# 3. Otherwise a throwaway cluster (initdb under the target dir, fsync off,
#    127.0.0.1 only, port ODR_TEST_PG_PORT or 54329 upwards), stopped and
#    removed when the command ends. ODR_FORCE_OWN_POSTGRES=1 skips 1 and 2.
#
# The PostgreSQL tests are never skipped: if no server can be had, this fails.
set -euo pipefail

cd "$(dirname "$0")/.."

say() { printf 'ensure-postgres: %s\n' "$*" >&2; }
die() {
    {
        printf '\n==================== NO POSTGRESQL FOR THE TESTS ====================\n'
        printf '%s\n' "$@"
        printf 'The PostgreSQL tests are not skipped; fix the above and run again.\n'
        printf '=====================================================================\n\n'
    } >&2
    exit 1
}

[ $# -gt 0 ] || die "usage: scripts/ensure-postgres.sh COMMAND [ARGS...]"

answers() { psql "$1" -X -q -t -A -c 'select 1' >/dev/null 2>&1; }

if [ "${ODR_FORCE_OWN_POSTGRES:-0}" != 1 ]; then
    if [ -n "${ODR_TEST_POSTGRES_URL:-}" ]; then
        answers "$ODR_TEST_POSTGRES_URL" ||
            die "ODR_TEST_POSTGRES_URL=$ODR_TEST_POSTGRES_URL does not answer \`select 1\`."
        say "using ODR_TEST_POSTGRES_URL=$ODR_TEST_POSTGRES_URL"
        exec "$@"
    fi
    machine_url=postgres://postgres@127.0.0.1:5432/postgres
    if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        if answers "$machine_url"; then
            say "using the server on 127.0.0.1:5432"
            export ODR_TEST_POSTGRES_URL=$machine_url
            exec "$@"
        fi
        say "127.0.0.1:5432 answers but does not let user postgres in without a password; starting a cluster of our own"
    fi
fi

# --- a throwaway cluster ------------------------------------------------------

pg_bin() {
    local tool=$1 dir
    if command -v "$tool" >/dev/null 2>&1; then
        command -v "$tool"
        return
    fi
    # Debian keeps the server tools off PATH.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/$tool" ]; then
            echo "$dir/$tool"
            return
        fi
    done
    return 1
}
initdb=$(pg_bin initdb) || die "initdb not found (on PATH or in /usr/lib/postgresql/*/bin)." \
    "Install the server: apt-get install -y postgresql (scripts/test-setup.sh does)."
pg_ctl=$(pg_bin pg_ctl) || die "pg_ctl not found next to initdb ($initdb)."

# PostgreSQL refuses to run as root: run the cluster as a plain user.
as_owner=()
if [ "$(id -u)" = 0 ]; then
    owner=postgres
    if ! id -u "$owner" >/dev/null 2>&1; then
        owner=odrtest
        id -u "$owner" >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /usr/sbin/nologin "$owner" ||
            die "running as root, and neither user postgres exists nor could user odrtest be made."
    fi
    as_owner=(runuser -u "$owner" --)
fi

cluster=
started=0
stop_cluster() {
    local rc=$?
    if [ "$started" = 1 ]; then
        say "stopping the throwaway cluster on port $port"
        "${as_owner[@]}" "$pg_ctl" -D "$data" -m immediate -w -t 60 stop >/dev/null 2>&1 ||
            say "pg_ctl stop failed; see $cluster/postgres.log"
    fi
    if [ -z "$cluster" ]; then
        :
    elif [ "$rc" = 0 ] || [ "$started" = 1 ]; then
        rm -rf "$cluster"
    else
        say "keeping $cluster for a look at what went wrong"
    fi
    exit "$rc"
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

target_dir=${CARGO_TARGET_DIR:-target}
mkdir -p "$target_dir"
cluster=$(mktemp -d "$(cd "$target_dir" && pwd)/pg-test.XXXXXX")
if [ ${#as_owner[@]} -gt 0 ]; then
    chown "$owner" "$cluster"
    # The owner may not be able to reach the target dir (a checkout under /root).
    if ! "${as_owner[@]}" test -w "$cluster"; then
        rmdir "$cluster"
        cluster=$(mktemp -d /tmp/odr-pg-test.XXXXXX)
        chown "$owner" "$cluster"
    fi
fi
data=$cluster/data

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=${ODR_TEST_PG_PORT:-54329}
last_port=$((port + 20))
while port_taken "$port"; do
    # Perhaps another run's cluster: take the next port.
    port=$((port + 1))
    [ "$port" -le "$last_port" ] || die "ports ${ODR_TEST_PG_PORT:-54329}..$last_port are all taken."
done

say "starting a throwaway cluster in $cluster on 127.0.0.1:$port"
"${as_owner[@]}" "$initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync \
    >"$cluster/initdb.log" 2>&1 || {
    cat "$cluster/initdb.log" >&2
    die "initdb failed (log above)."
}
cat >>"$data/postgresql.conf" <<EOF
# Throwaway cluster for the tests: speed over durability.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
started=1
"${as_owner[@]}" "$pg_ctl" -D "$data" -l "$cluster/postgres.log" -w -t 60 start >/dev/null || {
    tail -n 30 "$cluster/postgres.log" >&2 || true
    die "the throwaway cluster did not start (log above)."
}

export ODR_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres
answers "$ODR_TEST_POSTGRES_URL" || die "the throwaway cluster started but does not answer on port $port."
say "ODR_TEST_POSTGRES_URL=$ODR_TEST_POSTGRES_URL"

# Not exec: the cluster must be stopped when the command ends. In the
# background, so that a signal reaches the trap at once (bash would otherwise
# wait for the command); the command gets TERM before the cluster stops.
set +e
"$@" &
child=$!
forward() {
    kill -TERM "$child" 2>/dev/null
    wait "$child" 2>/dev/null
    exit "$1"
}
trap 'forward 130' INT
trap 'forward 143' TERM
wait "$child"
