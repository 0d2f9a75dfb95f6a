#!/usr/bin/env bash
# Regenerates link/certkeeper.order, the symbol ordering file the release link uses (Package.swift,
# releaseLinkerSettings): the names of every function the daemon executes, recorded under valgrind's callgrind, in
# two groups. First what a start runs: the daemon starts with certificates already installed, reads and schedules
# them, and idles (callgrind_control dumps the profile there). Then the rest: a reload adds specs it issues from a
# local Pebble, one is renewed, status is answered and the daemon stops. The linker places the functions in that
# order at the start of .text, so the pages an idle daemon touched are the first few megabytes and the pages an
# issuing daemon touches follow them, instead of runs of 64 KB (the kernel's fault-around) spread over 30 MB of
# text. Names that no longer exist are ignored by the linker; rerun this after large changes (bench/peers.sh and
# bench/scale.sh print what is resident). SwiftPM does not track the file, so this removes the release binary at
# the end: the next release build links again with the new order. The run's files are kept in
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
DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind python3-cryptography >/dev/null
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
# The start: installed certificates only (bench/lib/installed_certs.py), adopted and scheduled.
write_bench_config "$work/etc" 0 order 127.0.0.1:5992
python3 bench/lib/installed_certs.py "$work/state" "$work/etc" idle 1 20 127.0.0.1:5992
export RUNTIME_DIRECTORY=$work/run
# --demangle=no: the names as they are in the symbol table, which is what the linker matches.
valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/callgrind.out.%p" \
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
started() { grep -q 'certkeeper .* started' "$work/daemon.log" 2>/dev/null; }
scheduled() { [[ $( (find "$work/state/certs" -mindepth 2 -maxdepth 2 -name state.json 2>/dev/null || true) | wc -l) -ge 20 ]]; }
wait_for started
wait_for scheduled
"$work/certkeeper" status >/dev/null
callgrind_control --dump "$daemon_pid" >/dev/null 2>&1
# The rest: issuing, renewing, reloading, status, stopping.
write_specs "$work/etc" "$count" order order.bench.test 127.0.0.1:5992
"$work/certkeeper" reload >/dev/null
all_installed() { [[ $( (find "$work/state/live" -mindepth 1 -maxdepth 1 -name 'order*' 2>/dev/null || true) | wc -l) -ge $count ]]; }
wait_for all_installed
renewed() { [[ $(grep -c 'certificate renewed' "$work/daemon.log") -ge 1 ]]; }
"$work/certkeeper" renew order1 --force >"$work/renew.log" 2>&1 || { cat "$work/renew.log" >&2; exit 1; }
wait_for renewed
"$work/certkeeper" reload >/dev/null
"$work/certkeeper" status >/dev/null
stop_pid "$daemon_pid"
daemon_pid=

mkdir -p "$repo/link"
# functions FILE...: each function once, sorted by name so that a regeneration diffs well, from callgrind's
# "fn=(id) name" and "cfn=(id) name" lines; addresses without a symbol ("0x...") are dropped.
functions() { grep -ohE '^c?fn=\([0-9]+\) .+' "$@" | sed -E 's/^c?fn=\([0-9]+\) //' | grep -v '^0x' | LC_ALL=C sort -u; }
dumps=("$work"/callgrind.out.*)
first=$(printf '%s\n' "${dumps[@]}" | grep -E '\.[0-9]+\.1$' || true)
[[ -n $first ]] || { echo "link-order: no dump of the start in $work" >&2; exit 1; }
functions "$first" >"$work/start.txt"
functions "${dumps[@]}" | LC_ALL=C comm -23 - "$work/start.txt" >"$work/rest.txt"
cat "$work/start.txt" "$work/rest.txt" >"$work/profiled.txt"
# Each listed function's siblings (the other partial functions of an async function, suffixed clones) follow it.
nm --defined-only "$bin" | awk 'NF == 3 && $2 ~ /^[tTwW]$/ { print $3 }' >"$work/symbols.txt"
python3 scripts/lib/order_partials.py "$work/profiled.txt" "$work/symbols.txt" >"$repo/link/certkeeper.order"
rm -f "$bin"
echo "link/certkeeper.order: $(wc -l <"$work/start.txt") functions of the start, then $(wc -l <"$work/rest.txt") more;" \
    "$(($(wc -l <"$repo/link/certkeeper.order") - $(wc -l <"$work/profiled.txt"))) siblings added"
ok=1
