#!/usr/bin/env bash
# Test harness: moto's standalone AWS emulator (PyPI `moto[server]`) on 127.0.0.1, for the Route 53 provider tests.
# moto and boto3 are installed into a virtualenv under $MOTO_VENV (default /var/cache/certkeeper-test/moto-venv,
# created on first use; Debian's python3 refuses system-wide pip installs).
#
#   scripts/testenv/moto.sh start DIR PORT   # writes DIR/env (MOTO_URL, MOTO_PYTHON)
#   scripts/testenv/moto.sh stop DIR
set -euo pipefail
# shellcheck source=scripts/testenv/pidfile.sh
source "$(dirname "$0")/pidfile.sh"

MOTO_VENV=${MOTO_VENV:-/var/cache/certkeeper-test/moto-venv}

usage() {
    echo "usage: $0 start DIR PORT | stop DIR | venv" >&2
    exit 2
}

ensure_venv() {
    if [[ -x $MOTO_VENV/bin/moto_server && -x $MOTO_VENV/bin/python ]] &&
        "$MOTO_VENV/bin/python" -c 'import boto3, botocore, moto' 2>/dev/null; then
        return
    fi
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    fi
    echo "moto.sh: installing moto[server] and boto3 into $MOTO_VENV" >&2
    mkdir -p "$(dirname "$MOTO_VENV")"
    rm -rf "$MOTO_VENV"
    python3 -m venv "$MOTO_VENV"
    "$MOTO_VENV/bin/pip" install -q 'moto[server]>=5,<6' 'boto3>=1.28' >&2
}

start() {
    local dir="$1" port="$2"
    case "$port" in '' | *[!0-9]*) echo "moto.sh: PORT must be a number, got '$port'" >&2; exit 2 ;; esac
    ensure_venv
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if is_ours "$dir/moto.pid" moto_server; then
        echo "moto.sh: already running in $dir; run '$0 stop $dir' first" >&2
        exit 1
    fi
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        echo "moto.sh: something already listens on 127.0.0.1:$port" >&2
        exit 1
    fi
    cd "$dir"
    "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 </dev/null &
    echo $! >"$dir/moto.pid"
    cd - >/dev/null
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then
            cat >"$dir/env" <<ENV
MOTO_URL=http://127.0.0.1:$port
MOTO_PYTHON=$MOTO_VENV/bin/python
ENV
            echo "moto.sh: moto_server PID $(cat "$dir/moto.pid") on 127.0.0.1:$port (env in $dir/env)"
            return 0
        fi
        if ! kill -0 "$(cat "$dir/moto.pid")" 2>/dev/null; then
            echo "moto.sh: moto_server exited; log follows ($dir/moto.log)" >&2
            cat "$dir/moto.log" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "moto.sh: moto_server did not answer on 127.0.0.1:$port within 20 s; log: $dir/moto.log" >&2
    stop "$dir"
    exit 1
}

stop() {
    local dir="$1"
    [[ -f $dir/moto.pid ]] || return 0
    stop_one "$dir/moto.pid" moto_server
    rm -f "$dir/env"
}

case "${1:-}" in
    start) [ $# -eq 3 ] || usage; start "$2" "$3" ;;
    stop) [ $# -eq 2 ] || usage; stop "$2" ;;
    venv) ensure_venv ;;
    *) usage ;;
esac
