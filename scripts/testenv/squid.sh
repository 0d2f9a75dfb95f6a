#!/usr/bin/env bash
# Test harness: a throwaway squid forward proxy on 127.0.0.1 that resolves names from its own hosts file, so a test
# can give a CA a name only the proxy knows (a client that bypasses the proxy cannot even resolve it).
#
#   scripts/testenv/squid.sh start DIR PORT "ADDRESS NAME..." # writes DIR/env (SQUID_URL, SQUID_ACCESS_LOG)
#   scripts/testenv/squid.sh stop DIR
set -euo pipefail
# shellcheck source=scripts/testenv/pidfile.sh
source "$(dirname "$0")/pidfile.sh"

usage() {
    echo "usage: $0 start DIR PORT HOSTS_LINE | stop DIR" >&2
    exit 2
}

start() {
    local dir="$1" port="$2" hosts="$3"
    case "$port" in '' | *[!0-9]*) echo "squid.sh: PORT must be a number, got '$port'" >&2; exit 2 ;; esac
    command -v squid >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq squid >&2
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if is_ours "$dir/squid.launch.pid" squid; then
        echo "squid.sh: already running in $dir; run '$0 stop $dir' first" >&2
        exit 1
    fi
    printf '%s\n' "$hosts" >"$dir/hosts"
    # squid drops privileges to the user "proxy", which may not reach DIR (test work directories are 0700): its
    # logs and PID file go in a directory of its own under /tmp, recorded in DIR/rundir and removed by stop.
    local run
    run=$(mktemp -d /tmp/certkeeper-squid.XXXXXX)
    chmod 0755 "$run"
    chown proxy:proxy "$run"
    echo "$run" >"$dir/rundir"
    cp "$dir/hosts" "$run/hosts"
    chmod 0644 "$run/hosts"
    cat >"$dir/squid.conf" <<CONF
http_port 127.0.0.1:$port
pid_filename $run/squid.pid
access_log stdio:$run/access.log
cache_log $run/cache.log
cache_store_log none
logfile_rotate 0
coredump_dir $run
cache deny all
hosts_file $run/hosts
dns_nameservers 127.0.0.1
acl CONNECT method CONNECT
http_access allow localhost
http_access deny all
shutdown_lifetime 1 seconds
CONF
    squid -N -f "$dir/squid.conf" >"$dir/squid.out" 2>&1 </dev/null &
    echo $! >"$dir/squid.launch.pid"
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            cat >"$dir/env" <<ENV
SQUID_URL=http://127.0.0.1:$port
SQUID_ACCESS_LOG=$run/access.log
ENV
            echo "squid.sh: squid PID $(cat "$dir/squid.launch.pid") on 127.0.0.1:$port (env in $dir/env)"
            return 0
        fi
        if ! kill -0 "$(cat "$dir/squid.launch.pid")" 2>/dev/null; then
            echo "squid.sh: squid exited; output follows" >&2
            cat "$dir/squid.out" "$run/cache.log" >&2 2>/dev/null || true
            exit 1
        fi
        sleep 0.2
    done
    echo "squid.sh: squid did not listen on 127.0.0.1:$port within 20 s" >&2
    stop "$dir"
    exit 1
}

stop() {
    local dir="$1"
    [[ -f $dir/squid.launch.pid ]] || return 0
    stop_one "$dir/squid.launch.pid" squid
    if [[ -f $dir/rundir ]]; then
        local run
        run=$(<"$dir/rundir")
        # Keep the access log with the test's files, then remove squid's own directory.
        [[ $run == /tmp/certkeeper-squid.* && -d $run ]] && { cp "$run/access.log" "$dir/access.log" 2>/dev/null || true; rm -rf "$run"; }
        rm -f "$dir/rundir"
    fi
    rm -f "$dir/env"
}

case "${1:-}" in
    start) [ $# -eq 4 ] || usage; start "$2" "$3" "$4" ;;
    stop) [ $# -eq 2 ] || usage; stop "$2" ;;
    *) usage ;;
esac
