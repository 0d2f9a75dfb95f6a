#!/usr/bin/env bash
# ACME test double (scripts/testenv/acme-double.py) in front of a Pebble started by pebble.sh.
#
# Usage: scripts/testenv/acme-double.sh start DIR | stop DIR | status DIR
#
# start: starts the double in the background (PID in DIR/double.pid, request log DIR/double.log), waits until
#        https://127.0.0.1:DOUBLE_PORT/dir answers (bounded, 15 s), and writes DIR/env (source it in tests).
# stop:  kills the recorded PID only (after checking it runs acme-double.py), idempotent.
#
# Environment: PEBBLE_DIR (required for start: the pebble.sh DIR; its TLS cert/key/CA and port are reused)
#   DOUBLE_PORT=14443 DOUBLE_CONTROL_PORT=14480 DOUBLE_FLAGS="" (e.g. "--single-use-eab --ari --profiles tlsserver,shortlived")
set -euo pipefail

die() { echo "acme-double.sh: $*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: $0 start DIR | stop DIR | status DIR"
cmd=$1
dir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

DOUBLE_PORT=${DOUBLE_PORT:-14443}
DOUBLE_CONTROL_PORT=${DOUBLE_CONTROL_PORT:-14480}
DOUBLE_FLAGS=${DOUBLE_FLAGS:-}

# shellcheck source=scripts/testenv/pidfile.sh
source "$(dirname "$0")/pidfile.sh"

double_running() { is_ours "$dir/double.pid" acme-double.py; }

do_stop() {
    [[ -d $dir ]] || return 0
    stop_one "$dir/double.pid" acme-double.py
}

do_start() {
    [[ -n ${PEBBLE_DIR:-} ]] || die "PEBBLE_DIR must name the pebble.sh directory"
    PEBBLE_DIR=$(cd "$PEBBLE_DIR" && pwd) || die "PEBBLE_DIR $PEBBLE_DIR does not exist"
    local f
    for f in tls-cert.pem tls-key.pem tls-ca.pem env; do
        [[ -s $PEBBLE_DIR/$f ]] || die "$PEBBLE_DIR/$f missing; start Pebble first with scripts/testenv/pebble.sh start $PEBBLE_DIR"
    done
    local pebble_dir_url pebble_port
    pebble_dir_url=$(sed -n 's/^export CERTKEEPER_TEST_ACME_DIRECTORY=//p' "$PEBBLE_DIR/env")
    pebble_port=$(sed -E 's#^https://[^:/]+:([0-9]+)/.*$#\1#' <<<"$pebble_dir_url")
    [[ $pebble_port =~ ^[0-9]+$ ]] || die "cannot read Pebble's port from $PEBBLE_DIR/env ($pebble_dir_url)"

    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if double_running; then
        echo "acme-double already running in $dir (pid $(<"$dir/double.pid")); env: $dir/env"
        return 0
    fi
    rm -f "$dir/double.pid"

    # shellcheck disable=SC2086 # DOUBLE_FLAGS is a list of flags on purpose
    setsid python3 "$here/acme-double.py" \
        --port "$DOUBLE_PORT" --control-port "$DOUBLE_CONTROL_PORT" --pebble-port "$pebble_port" \
        --cert "$PEBBLE_DIR/tls-cert.pem" --key "$PEBBLE_DIR/tls-key.pem" --upstream-ca "$PEBBLE_DIR/tls-ca.pem" \
        --log "$dir/double.log" $DOUBLE_FLAGS \
        </dev/null >"$dir/double.stderr" 2>&1 &
    echo $! >"$dir/double.pid"

    # Bounded by time (60 s) and count: a busy CI machine once took longer than 150 quick tries (about 15 s).
    local i ok=0 last_error= deadline=$((SECONDS + 60))
    for ((i = 0; i < 600 && SECONDS < deadline; i++)); do
        if last_error=$(curl -fsS --max-time 2 --cacert "$PEBBLE_DIR/tls-ca.pem" -o /dev/null \
            "https://127.0.0.1:${DOUBLE_PORT}/dir" 2>&1) &&
            last_error=$(curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:${DOUBLE_CONTROL_PORT}/health" 2>&1); then
            ok=1
            break
        fi
        # Gone, not "not ours yet": between fork and exec the child's cmdline is still this script's, and matching it
        # by name (double_running) gave up after 0 tries in a CI run.
        kill -0 "$(<"$dir/double.pid")" 2>/dev/null || break
        sleep 0.1
    done
    if [[ $ok != 1 ]]; then
        tail -n 20 "$dir/double.stderr" >&2 || true
        echo "acme-double: after $i tries: process $(double_running && echo running || echo exited); last error: $last_error" >&2
        ss -ltnp 2>/dev/null | grep -E ":(${DOUBLE_PORT}|${DOUBLE_CONTROL_PORT}|${pebble_port}) " >&2 || true
        do_stop >/dev/null
        die "acme-double did not answer on https://127.0.0.1:${DOUBLE_PORT}/dir within 60 s (stderr: $dir/double.stderr)"
    fi
    cat >"$dir/env" <<ENV
export CERTKEEPER_TEST_DOUBLE_DIRECTORY=https://127.0.0.1:${DOUBLE_PORT}/dir
export CERTKEEPER_TEST_DOUBLE_CONTROL=http://127.0.0.1:${DOUBLE_CONTROL_PORT}
export CERTKEEPER_TEST_DOUBLE_TLS_ROOTS=${PEBBLE_DIR}/tls-ca.pem
export CERTKEEPER_TEST_DOUBLE_LOG=${dir}/double.log
ENV
    echo "acme-double running: https://127.0.0.1:${DOUBLE_PORT}/dir -> Pebble :${pebble_port} (pid $(<"$dir/double.pid")); source $dir/env"
}

do_status() {
    if double_running; then echo "acme-double: running (pid $(<"$dir/double.pid"))"; else echo "acme-double: stopped"; return 1; fi
}

case $cmd in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    *) die "usage: $0 start DIR | stop DIR | status DIR" ;;
esac
