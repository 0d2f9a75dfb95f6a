#!/usr/bin/env bash
# Test harness: a throwaway PowerDNS Authoritative server (sqlite3 backend) on 127.0.0.1 with its HTTP API on, serving
# pdns.test (NS ns.pdns.test → 127.0.0.1) and the zones in PDNS_EXTRA_ZONES (space-separated, same NS), for the dns-01
# provider tests.
#
#   scripts/testenv/pdns.sh start DIR DNS_PORT API_PORT   # writes DIR/env (PDNS_DNS_PORT, PDNS_API_URL,
#                                                         # PDNS_API_KEY_FILE, PDNS_ZONE)
#   scripts/testenv/pdns.sh stop DIR                      # kills only the pdns_server started by `start`
#
# The Debian package also enables its own pdns.service on port 53; this server is separate (its own --config-dir).
set -euo pipefail
# shellcheck source=scripts/testenv/pidfile.sh
source "$(dirname "$0")/pidfile.sh"

usage() {
    echo "usage: $0 start DIR DNS_PORT API_PORT | stop DIR" >&2
    exit 2
}

ZONE="pdns.test"
SCHEMA=/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql

start() {
    local dir="$1" port="$2" api_port="$3" p
    for p in "$port" "$api_port"; do
        case "$p" in '' | *[!0-9]*) echo "pdns.sh: ports must be numbers, got '$p'" >&2; exit 2 ;; esac
    done
    if ! command -v pdns_server >/dev/null 2>&1 || [[ ! -f $SCHEMA ]]; then
        echo "pdns.sh: pdns_server or its sqlite3 schema missing; installing pdns-server pdns-backend-sqlite3" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pdns-server pdns-backend-sqlite3 >&2
    fi
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if is_ours "$dir/pdns.pid" pdns_server; then
        echo "pdns.sh: already running in $dir (PID $(cat "$dir/pdns.pid")); run '$0 stop $dir' first" >&2
        exit 1
    fi
    rm -f "$dir/pdns.sqlite3"
    python3 - "$dir/pdns.sqlite3" "$SCHEMA" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript(open(sys.argv[2]).read())
db.commit()
PY
    (umask 077 && openssl rand -hex 24 >"$dir/api.key")
    cat >"$dir/pdns.conf" <<CONF
launch=gsqlite3
gsqlite3-database=$dir/pdns.sqlite3
local-address=127.0.0.1
local-port=$port
socket-dir=$dir
guardian=no
daemon=no
disable-syslog=yes
loglevel=4
api=yes
api-key=$(cat "$dir/api.key")
webserver=yes
webserver-address=127.0.0.1
webserver-port=$api_port
webserver-allow-from=127.0.0.0/8
# No packet or query cache: a test changes records and asks again at once (a CNAME chased through a cached answer
# would show the previous values).
cache-ttl=0
query-cache-ttl=0
negquery-cache-ttl=0
default-soa-content=ns.$ZONE. hostmaster.@ 0 10800 3600 604800 60
CONF
    setsid pdns_server --config-dir="$dir" >"$dir/pdns.log" 2>&1 </dev/null &
    echo $! >"$dir/pdns.pid"

    local api="http://127.0.0.1:$api_port/api/v1/servers/localhost"
    local key
    key=$(cat "$dir/api.key")
    for _ in $(seq 1 50); do
        if curl -fsS -H "X-API-Key: $key" "$api" >/dev/null 2>&1; then
            local zone
            for zone in "$ZONE" ${PDNS_EXTRA_ZONES:-}; do
                curl -fsS -H "X-API-Key: $key" -H 'Content-Type: application/json' -X POST "$api/zones" -d @- >/dev/null <<JSON
{"name": "$zone.", "kind": "Native", "nameservers": ["ns.$ZONE."],
 "rrsets": [{"name": "$zone.", "type": "A", "ttl": 60, "records": [{"content": "127.0.0.1", "disabled": false}]}]}
JSON
            done
            curl -fsS -H "X-API-Key: $key" -H 'Content-Type: application/json' -X PATCH "$api/zones/$ZONE." -d @- >/dev/null <<JSON
{"rrsets": [{"name": "ns.$ZONE.", "type": "A", "ttl": 60, "changetype": "REPLACE",
             "records": [{"content": "127.0.0.1", "disabled": false}]}]}
JSON
            cat >"$dir/env" <<ENV
PDNS_DNS_PORT=$port
PDNS_API_URL=http://127.0.0.1:$api_port
PDNS_API_KEY_FILE=$dir/api.key
PDNS_ZONE=$ZONE
PDNS_EXTRA_ZONES="${PDNS_EXTRA_ZONES:-}"
ENV
            echo "pdns.sh: pdns_server PID $(cat "$dir/pdns.pid") serving $ZONE on 127.0.0.1:$port, API on 127.0.0.1:$api_port (env in $dir/env)"
            return 0
        fi
        if ! kill -0 "$(cat "$dir/pdns.pid")" 2>/dev/null; then
            echo "pdns.sh: pdns_server exited; log follows ($dir/pdns.log)" >&2
            cat "$dir/pdns.log" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "pdns.sh: the API did not answer on 127.0.0.1:$api_port within 10 s; log: $dir/pdns.log" >&2
    stop "$dir"
    exit 1
}

stop() {
    local dir="$1"
    [[ -f $dir/pdns.pid ]] || return 0
    stop_one "$dir/pdns.pid" pdns_server
    rm -f "$dir/env"
}

case "${1:-}" in
    start) [ $# -eq 4 ] || usage; start "$2" "$3" "$4" ;;
    stop) [ $# -eq 2 ] || usage; stop "$2" ;;
    *) usage ;;
esac
