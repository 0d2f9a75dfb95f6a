#!/usr/bin/env bash
# Regenerates link/certkeeper.order, the symbol ordering file the release link uses (Package.swift,
# releaseLinkerSettings): the names of every function the daemon executes while it starts, issues certificates from a
# local Pebble, renews one, reloads, answers status and stops, recorded under valgrind's callgrind. The linker places
# those functions together at the start of .text, so the pages the running daemon touches are a few megabytes in one
# run instead of runs of 64 KB (the kernel's fault-around) spread over 30 MB of text. Names that no longer exist are
# ignored by the linker; rerun this after large changes (bench/peers.sh prints what is resident), then relink
# (`touch Sources/certkeeper/main.swift && make build`: SwiftPM does not track the file). The run's files are kept in
# /tmp/certkeeper-link-order.* when it fails.
#
# Usage: scripts/link-order.sh [N=10]
# Ports: Pebble 14990/15990, challtestsrv 9015/9013, http-01 5992, tls-alpn 5991.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
repo=$(pwd)

count=${1:-10}
install_packages
DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind >/dev/null
bin=$(release_build)

export PEBBLE_PORT=14990 PEBBLE_MGMT_PORT=15990 CHALLTESTSRV_PORT=9015 CHALLTESTSRV_DNS_PORT=9013
export PEBBLE_DNS=127.0.0.1:9013 PEBBLE_HTTP_PORT=5992 PEBBLE_TLS_PORT=5991 PEBBLE_WFE_NONCEREJECT=0
export PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0
work=$(mktemp -d /tmp/certkeeper-link-order.XXXXXX)
daemon_pid=
cleanup() {
    set +e
    stop_pid "$daemon_pid"
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1
    [[ ${ok:-0} -eq 1 ]] && rm -rf "$work"
}
trap cleanup EXIT

# Debian's valgrind 3.19 cannot read the DWARF 5 debug information swiftc writes: it runs a copy without it (the
# symbol table stays, so functions keep their names).
objcopy --strip-debug "$bin" "$work/certkeeper"
scripts/testenv/pebble.sh start "$work/pebble" >/dev/null
# shellcheck disable=SC1091
source "$work/pebble/env"
mkdir -p "$work"/{state,run}
write_bench_config "$work/etc" "$count" order 127.0.0.1:5992
export RUNTIME_DIRECTORY=$work/run
# --demangle=no: the names as they are in the symbol table, which is what the linker matches.
valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/callgrind.out" \
    "$work/certkeeper" run --config-dir "$work/etc" --state-dir "$work/state" >"$work/daemon.log" 2>&1 &
daemon_pid=$!

all_installed() { [[ $( (find "$work/state/live" -mindepth 1 -maxdepth 1 2>/dev/null || true) | wc -l) -ge $count ]]; }
wait_for() {
    local t
    for ((t = 0; t < 900; t++)); do
        "$@" && return 0
        sleep 0.2
    done
    echo "link-order: timed out waiting for: $*; see $work/daemon.log" >&2
    tail -n 20 "$work/daemon.log" >&2
    exit 1
}
wait_for all_installed
renewed() { [[ $(grep -c 'certificate renewed' "$work/daemon.log") -ge 1 ]]; }
"$work/certkeeper" renew order1 --force >"$work/renew.log" 2>&1 || { cat "$work/renew.log" >&2; exit 1; }
wait_for renewed
"$work/certkeeper" reload >/dev/null
"$work/certkeeper" status >/dev/null
stop_pid "$daemon_pid"
daemon_pid=

mkdir -p "$repo/link"
# Each function once, sorted by name so that a regeneration diffs well, from callgrind's "fn=(id) name" and
# "cfn=(id) name" lines; addresses without a symbol ("0x...") are dropped.
grep -ohE '^c?fn=\([0-9]+\) .+' "$work/callgrind.out" | sed -E 's/^c?fn=\([0-9]+\) //' | grep -v '^0x' |
    LC_ALL=C sort -u >"$repo/link/certkeeper.order"
echo "link/certkeeper.order: $(wc -l <"$repo/link/certkeeper.order") functions"
ok=1
