#!/usr/bin/env bash
# Test harness: a throw-away PostgreSQL 15 cluster (Debian `postgresql`) on 127.0.0.1, made with initdb and started
# with pg_ctl as the `postgres` user, never the system cluster. It holds one database `certkeeper` and a login role
# `certkeeper` that owns nothing in `public` (PostgreSQL 15's default) and may only create schemas in that database,
# so the tests see the least privileges docs/fleet.md asks operators to grant.
#
#   scripts/testenv/postgres.sh start DIR PORT   # writes DIR/env (CERTKEEPER_TEST_POSTGRES_URL, ..._PASSWORD_FILE)
#   scripts/testenv/postgres.sh stop DIR         # pg_ctl stop -m fast; then only the postmaster whose PID it wrote
#   scripts/testenv/postgres.sh pause DIR        # stops the server, keeping the cluster (an outage)
#   scripts/testenv/postgres.sh resume DIR       # starts it again on the same port
#
# Then: source DIR/env; swift test --skip-build --filter Postgres
set -euo pipefail
# shellcheck source=scripts/testenv/pidfile.sh
source "$(dirname "$0")/pidfile.sh"

usage() {
    echo "usage: $0 start DIR PORT | stop DIR | pause DIR | resume DIR" >&2
    exit 2
}

bindir() {
    local dir
    for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        if [[ -x $dir/initdb ]]; then
            echo "$dir"
            return
        fi
    done
    return 1
}

ensure_postgres() {
    if bindir >/dev/null && id postgres >/dev/null 2>&1; then return; fi
    echo "postgres.sh: PostgreSQL server missing; installing postgresql" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

as_postgres() { runuser -u postgres -- "$@"; }

server_start() {
    local dir=$1 bin port
    bin=$(bindir)
    port=$(<"$dir/port")
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/socket" start >/dev/null
    head -n 1 "$dir/data/postmaster.pid" >"$dir/postmaster.launch.pid"
}

server_stop() {
    local dir=$1 bin
    bin=$(bindir)
    if [[ -f $dir/data/postmaster.pid ]] && is_ours "$dir/postmaster.launch.pid" postgres; then
        as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    stop_one "$dir/postmaster.launch.pid" postgres >/dev/null
}

start() {
    local dir=$1 port=$2 bin password
    case "$port" in '' | *[!0-9]*) echo "postgres.sh: PORT must be a number, got '$port'" >&2; exit 2 ;; esac
    ensure_postgres
    bin=$(bindir)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if is_ours "$dir/postmaster.launch.pid" postgres; then
        echo "postgres.sh: already running in $dir; run '$0 stop $dir' first" >&2
        exit 1
    fi
    rm -rf "$dir/data" "$dir/socket"
    mkdir -p "$dir/data" "$dir/socket"
    echo "$port" >"$dir/port"
    # The postgres user must reach DIR: every parent of a mktemp directory is 0700 root otherwise.
    chmod 0755 "$dir"
    chown postgres:postgres "$dir/data" "$dir/socket"
    touch "$dir/server.log"
    chown postgres:postgres "$dir/server.log"
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    umask 077
    printf '%s\n' "$password" >"$dir/password"
    umask 022
    # The superuser gets the same password (TCP needs one); initdb reads it from a file only postgres can read.
    install -m 0600 -o postgres -g postgres "$dir/password" "$dir/socket/superuser-password"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A scram-sha-256 --pwfile="$dir/socket/superuser-password" \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/socket/superuser-password"
    # Local socket as the superuser for the set-up below; TCP needs the password.
    sed -i 's/^local\(\s\+all\s\+all\s\+\)scram-sha-256/local\1trust/' "$dir/data/pg_hba.conf"
    server_start "$dir"
    as_postgres "$bin/psql" -h "$dir/socket" -p "$port" -U postgres -v ON_ERROR_STOP=1 -q -d postgres <<SQL
CREATE ROLE certkeeper LOGIN PASSWORD '$password';
CREATE DATABASE certkeeper OWNER postgres;
REVOKE ALL ON DATABASE certkeeper FROM PUBLIC;
GRANT CONNECT, CREATE, TEMPORARY ON DATABASE certkeeper TO certkeeper;
SQL
    cat >"$dir/env" <<ENV
export CERTKEEPER_TEST_POSTGRES_URL=postgresql://certkeeper@127.0.0.1:$port/certkeeper
export CERTKEEPER_TEST_POSTGRES_PASSWORD_FILE=$dir/password
export CERTKEEPER_TEST_POSTGRES_DIR=$dir
ENV
    echo "postgres.sh: PostgreSQL on 127.0.0.1:$port (cluster $dir/data, PID $(<"$dir/postmaster.launch.pid"))"
}

# psql_admin DIR SQL: runs SQL as the superuser over the cluster's socket (tests use it to look at the tables).
psql_admin() {
    local dir=$1
    as_postgres "$(bindir)/psql" -h "$dir/socket" -p "$(<"$dir/port")" -U postgres -d certkeeper -X -A -t \
        -v ON_ERROR_STOP=1 -c "$2"
}

case "${1:-}" in
    start) [[ $# -eq 3 ]] || usage; start "$2" "$3" ;;
    stop) [[ $# -eq 2 ]] || usage; server_stop "$(cd "$2" && pwd)" ;;
    pause) [[ $# -eq 2 ]] || usage; server_stop "$(cd "$2" && pwd)" ;;
    resume) [[ $# -eq 2 ]] || usage; server_start "$(cd "$2" && pwd)" ;;
    psql) [[ $# -eq 3 ]] || usage; psql_admin "$(cd "$2" && pwd)" "$3" ;;
    *) usage ;;
esac
