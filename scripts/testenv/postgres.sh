#!/usr/bin/env bash
# Test harness: a throw-away PostgreSQL 15 cluster (Debian `postgresql`) on 127.0.0.1, made with initdb and started
# with pg_ctl as the `postgres` user, never the system cluster. It holds one database `certkeeper` and a login role
# `certkeeper` that owns nothing in `public` (PostgreSQL 15's default) and may only create schemas in that database,
# so the tests see the least privileges docs/fleet.md asks operators to grant.
#
#   scripts/testenv/postgres.sh start DIR PORT   # writes DIR/env (CERTKEEPER_TEST_POSTGRES_URL, ..._PASSWORD_FILE)
#   scripts/testenv/postgres.sh stop DIR         # pg_ctl stop -m fast (then only the postmaster whose PID it
#                                                # wrote), and the cluster's directory is removed
#   scripts/testenv/postgres.sh pause DIR        # stops the server, keeping the cluster (an outage)
#   scripts/testenv/postgres.sh resume DIR       # starts it again on the same port
#   scripts/testenv/postgres.sh psql DIR SQL     # runs SQL as the superuser (tests look at the tables with it)
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

# The cluster lives in a directory of its own under /tmp owned by postgres (DIR/root names it): DIR itself may sit
# in a directory only root can enter, as the test work directories do.
root_of() { cat "$1/root"; }

server_start() {
    local dir=$1 bin port root
    bin=$(bindir)
    port=$(<"$dir/port")
    root=$(root_of "$dir")
    as_postgres "$bin/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $root/socket -c max_connections=200 -c ssl=on -c ssl_cert_file=$root/server.crt -c ssl_key_file=$root/server.key" \
        start >/dev/null
    head -n 1 "$root/data/postmaster.pid" >"$dir/postmaster.launch.pid"
}

server_stop() {
    local dir=$1 bin root
    bin=$(bindir)
    [[ -f $dir/root ]] || return 0
    root=$(root_of "$dir")
    if [[ -f $root/data/postmaster.pid ]] && is_ours "$dir/postmaster.launch.pid" postgres; then
        as_postgres "$bin/pg_ctl" -D "$root/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    stop_one "$dir/postmaster.launch.pid" postgres >/dev/null
}

# stop DIR: the server, then its cluster directory.
stop() {
    local dir=$1 root
    server_stop "$dir"
    if [[ -f $dir/root ]]; then
        root=$(root_of "$dir")
        [[ $root == /tmp/certkeeper-pg.* ]] && rm -rf "$root"
        rm -f "$dir/root"
    fi
}

start() {
    local dir=$1 port=$2 bin password root
    case "$port" in '' | *[!0-9]*) echo "postgres.sh: PORT must be a number, got '$port'" >&2; exit 2 ;; esac
    ensure_postgres
    bin=$(bindir)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if is_ours "$dir/postmaster.launch.pid" postgres; then
        echo "postgres.sh: already running in $dir; run '$0 stop $dir' first" >&2
        exit 1
    fi
    [[ -f $dir/root ]] && stop "$dir"
    root=$(mktemp -d /tmp/certkeeper-pg.XXXXXX)
    echo "$root" >"$dir/root"
    mkdir -p "$root/data" "$root/socket"
    echo "$port" >"$dir/port"
    # TLS offered (not required): a CA of its own and a server certificate for localhost and 127.0.0.1, so the tests
    # can connect with verify-full against DIR/ca.crt.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=certkeeper test PostgreSQL CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
        -keyout "$root/server.key" -out "$root/server.csr" 2>/dev/null
    openssl x509 -req -in "$root/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
        -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n') -out "$root/server.crt" 2>/dev/null
    chmod 600 "$root/server.key"
    chown -R postgres:postgres "$root"
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    umask 077
    printf '%s\n' "$password" >"$dir/password"
    umask 022
    # The superuser gets the same password (TCP needs one); initdb reads it from a file only postgres can read.
    install -m 0600 -o postgres -g postgres "$dir/password" "$root/superuser-password"
    as_postgres "$bin/initdb" -D "$root/data" -U postgres -A scram-sha-256 --pwfile="$root/superuser-password" \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$root/superuser-password"
    # Local socket as the superuser for the set-up below; TCP needs the password.
    sed -i 's/^local\(\s\+all\s\+all\s\+\)scram-sha-256/local\1trust/' "$root/data/pg_hba.conf"
    server_start "$dir"
    as_postgres "$bin/psql" -h "$root/socket" -p "$port" -U postgres -v ON_ERROR_STOP=1 -q -d postgres <<SQL
CREATE ROLE certkeeper LOGIN PASSWORD '$password';
CREATE DATABASE certkeeper OWNER postgres;
REVOKE ALL ON DATABASE certkeeper FROM PUBLIC;
GRANT CONNECT, CREATE, TEMPORARY ON DATABASE certkeeper TO certkeeper;
SQL
    cat >"$dir/env" <<ENV
export CERTKEEPER_TEST_POSTGRES_URL=postgresql://certkeeper@127.0.0.1:$port/certkeeper
export CERTKEEPER_TEST_POSTGRES_PASSWORD_FILE=$dir/password
export CERTKEEPER_TEST_POSTGRES_DIR=$dir
export CERTKEEPER_TEST_POSTGRES_CA_FILE=$dir/ca.crt
ENV
    echo "postgres.sh: PostgreSQL on 127.0.0.1:$port (cluster $root/data, PID $(<"$dir/postmaster.launch.pid"))"
}

# psql_admin DIR SQL: runs SQL as the superuser over the cluster's socket (tests use it to look at the tables).
psql_admin() {
    local dir=$1
    as_postgres "$(bindir)/psql" -h "$(root_of "$dir")/socket" -p "$(<"$dir/port")" -U postgres -d certkeeper -X -A -t \
        -v ON_ERROR_STOP=1 -c "$2"
}

case "${1:-}" in
    start) [[ $# -eq 3 ]] || usage; start "$2" "$3" ;;
    stop) [[ $# -eq 2 ]] || usage; stop "$(cd "$2" && pwd)" ;;
    pause) [[ $# -eq 2 ]] || usage; server_stop "$(cd "$2" && pwd)" ;;
    resume) [[ $# -eq 2 ]] || usage; server_start "$(cd "$2" && pwd)" ;;
    psql) [[ $# -eq 3 ]] || usage; psql_admin "$(cd "$2" && pwd)" "$3" ;;
    *) usage ;;
esac
