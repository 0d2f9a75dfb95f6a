#!/usr/bin/env bash
# Benchmark: how long certkeeper takes to issue N certificates from a local Pebble, and how much memory the daemon
# uses while doing it and when idle afterwards. Prints figures; asserts nothing.
#
# Usage: bench/issue.sh [N=50] [WORKDIR=/tmp/certkeeper-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

count=${1:-50}
work=${2:-/tmp/certkeeper-bench}
install_packages
bin=$(release_build)

rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run}
daemon_pid=
cleanup() {
    set +e
    stop_pid "$daemon_pid"
    PEBBLE_PORT=14950 PEBBLE_MGMT_PORT=15950 CHALLTESTSRV_PORT=8975 CHALLTESTSRV_DNS_PORT=8973 \
        scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1
}
trap cleanup EXIT
PEBBLE_PORT=14950 PEBBLE_MGMT_PORT=15950 CHALLTESTSRV_PORT=8975 CHALLTESTSRV_DNS_PORT=8973 PEBBLE_DNS=127.0.0.1:8973 \
    PEBBLE_HTTP_PORT=5952 PEBBLE_TLS_PORT=5951 PEBBLE_WFE_NONCEREJECT=0 scripts/testenv/pebble.sh start "$work/pebble" >/dev/null
# shellcheck disable=SC1091
source "$work/pebble/env"

write_bench_config "$work/etc" "$count" b 127.0.0.1:5952

start=$(date +%s.%N)
RUNTIME_DIRECTORY=$work/run "$bin" run --config-dir "$work/etc" --state-dir "$work/state" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
peak=0
done_count=0
for ((t = 0; t < 1200; t++)); do
    done_count=$( (find "$work/state/live" -mindepth 1 -maxdepth 1 2>/dev/null || true) | wc -l)
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$daemon_pid/status" 2>/dev/null || echo 0)
    ((rss > peak)) && peak=$rss
    ((done_count >= count)) && break
    sleep 0.25
done
end=$(date +%s.%N)
sleep 2
idle=$(awk '/VmRSS/ {print $2}' "/proc/$daemon_pid/status")
cpu=$(awk '{print ($14 + $15) / 100}' "/proc/$daemon_pid/stat")
echo "certificates issued:        $done_count / $count"
awk -v s="$start" -v e="$end" -v n="$count" 'BEGIN { printf "wall time:                  %.1f s (%.2f s per certificate)\n", e - s, (e - s) / n }'
echo "daemon CPU time:            ${cpu} s"
echo "daemon peak RSS (VmHWM):    $((peak / 1024)) MiB"
echo "daemon idle RSS afterwards: $((idle / 1024)) MiB"
