#!/usr/bin/env bash
# Benchmark: instructions per certificate, counted with valgrind --tool=callgrind (repeatable on a shared machine,
# unlike seconds). The release daemon runs under callgrind from start to stop twice, issuing N and then 2N
# single-name P-256 certificates (http-01, built-in responder), each time from a fresh Pebble; the instructions are
# split into TLS, JSON, signing/crypto and the rest by where they were spent, and the difference between the runs
# divided by N is the cost per certificate (start-up, account registration and shutdown cancel out and are shown
# apart). Prints figures; asserts nothing.
#
# Usage: bench/callgrind.sh [N=10] [WORKDIR=/tmp/certkeeper-callgrind]
# Ports: Pebble 14980/15980, challtestsrv 9005/9003, http-01 5982.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
repo=$(pwd)

count=${1:-10}
work=${2:-/tmp/certkeeper-callgrind}
install_packages
DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind >/dev/null
bin=$(release_build)

export PEBBLE_PORT=14980 PEBBLE_MGMT_PORT=15980 CHALLTESTSRV_PORT=9005 CHALLTESTSRV_DNS_PORT=9003
export PEBBLE_DNS=127.0.0.1:9003 PEBBLE_HTTP_PORT=5982 PEBBLE_TLS_PORT=5981 PEBBLE_WFE_NONCEREJECT=0
export PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
daemon_pid=
cleanup() {
    set +e
    stop_pid "$daemon_pid"
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1
}
trap cleanup EXIT
# Debian's valgrind 3.19 cannot read the DWARF 5 debug information swiftc writes: it profiles a copy without it
# (the symbol table stays, so functions keep their names).
objcopy --strip-debug "$bin" "$work/certkeeper"

# profile N RUN: a fresh Pebble and state directory, the daemon under callgrind until N certificates are installed,
# then stopped (callgrind writes its profile at exit); leaves RUN/annotated.txt.
profile() {
    local n=$1 run=$work/$2 installed=0 t
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1 || true
    rm -rf "$work/pebble"
    scripts/testenv/pebble.sh start "$work/pebble" >/dev/null
    # shellcheck disable=SC1091
    source "$work/pebble/env"
    mkdir -p "$run"/{state,run}
    write_bench_config "$run/etc" "$n" cg 127.0.0.1:5982
    RUNTIME_DIRECTORY=$run/run valgrind --tool=callgrind --callgrind-out-file="$run/callgrind.out" \
        "$work/certkeeper" run --config-dir "$run/etc" --state-dir "$run/state" >"$run/daemon.log" 2>&1 &
    daemon_pid=$!
    for ((t = 0; t < 3600; t++)); do
        installed=$( (find "$run/state/live" -mindepth 1 -maxdepth 1 2>/dev/null || true) | wc -l)
        ((installed >= n)) && break
        sleep 0.1
    done
    kill "$daemon_pid"
    for ((t = 0; t < 600; t++)); do
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.1
    done
    wait "$daemon_pid" || true
    daemon_pid=
    echo "run with $n certificates: $installed installed under callgrind"
    ((installed >= n)) || { echo "not all installed; see $run/daemon.log" >&2; exit 1; }
    callgrind_annotate --tree=caller --inclusive=no --threshold=100 "$run/callgrind.out" 2>/dev/null |
        swift demangle --simplified >"$run/annotated.txt"
}

mkdir -p "$repo/bench/results"
out=$repo/bench/results/callgrind-$(date -u +%Y%m%d).md
# Everything printed from here on is the run's summary, kept in bench/results/.
exec > >(tee "$out")
echo "# bench/callgrind.sh $* on $(date -u '+%Y-%m-%d %H:%M') UTC ($(nproc) cores); certkeeper $("$bin" --version)"
echo '```'
trap 'echo "\`\`\`"; cleanup' EXIT
profile "$count" small
profile "$((2 * count))" large
python3 bench/lib/callgrind_split.py "$count" "$work/small/annotated.txt" "$((2 * count))" "$work/large/annotated.txt"
