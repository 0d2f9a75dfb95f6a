#!/usr/bin/env bash
# Benchmark: the daemon at scale with certificates already installed. Starts with SMALL specs (default 1,000) whose
# certificates are installed and valid (written by bench/lib/installed_certs.py, adopted by certkeeper), measures
# the idle daemon for IDLE seconds twice (RSS split into anonymous and file-backed, threads, wake-ups = context switches
# of all its threads), then adds specs up to LARGE (default 10,000) and times `certkeeper reload` plus the work it
# triggers (every new certificate read, checked and scheduled), then RSS again. Prints figures; asserts nothing.
#
# Usage: bench/scale.sh [SMALL=1000] [LARGE=10000] [IDLE=60] [WORKDIR=/tmp/certkeeper-scale]
#        (SCALE_PERF=FILE records a CPU profile during the reload, for `perf report -i FILE --comm certkeeper`)
# Ports: Pebble 14970/15970, challtestsrv 8995/8993, http-01 5972.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

small=${1:-1000}
large=${2:-10000}
idle_seconds=${3:-60}
work=${4:-/tmp/certkeeper-scale}
repo=$(pwd)
install_packages
DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-cryptography linux-perf >/dev/null
bin=$(release_build)

export PEBBLE_PORT=14970 PEBBLE_MGMT_PORT=15970 CHALLTESTSRV_PORT=8995 CHALLTESTSRV_DNS_PORT=8993
export PEBBLE_DNS=127.0.0.1:8993 PEBBLE_HTTP_PORT=5972 PEBBLE_TLS_PORT=5971 PEBBLE_WFE_NONCEREJECT=0
listen=127.0.0.1:5972

rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run}
work=$(cd "$work" && pwd)
daemon_pid=
cleanup() {
    set +e
    stop_pid "$daemon_pid"
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1
}
trap cleanup EXIT
scripts/testenv/pebble.sh start "$work/pebble" >/dev/null
# shellcheck disable=SC1091
source "$work/pebble/env"
write_bench_config "$work/etc" 0 s "$listen"

now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.2f", e - s }'; }
cpu() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$daemon_pid/stat"; }
kb() { awk '/^'"$1"':/ { print $2 }' "/proc/$daemon_pid/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
requests() { grep -c -- '-> calling handler()' "$work/pebble/pebble.log" || true; }
state_files() { (find "$work/state/certs" -mindepth 2 -maxdepth 2 -name state.json 2>/dev/null || true) | wc -l; }
# settle N SINCE: waits until the daemon's CPU time has not grown for a second and N certificates have a state file
# (each was read, checked and scheduled); prints the seconds from SINCE to the last growth. The state files are
# counted only once the CPU time stands still: counting 10,000 of them while the daemon works took a sixth of the
# machine's CPU from it.
settle() {
    local want=$1 since=$2 t last=-1 c steady=0 finished
    finished=$(now)
    for ((t = 0; t < 3000; t++)); do
        c=$(cpu)
        if [[ $c == "$last" ]]; then
            steady=$((steady + 1))
            ((steady >= 5)) && (($(state_files) >= want)) && break
        else
            steady=0
            last=$c
            finished=$(now)
        fi
        sleep 0.2
    done
    elapsed "$since" "$finished"
}
# thread_switches: "TID NAME SWITCHES" for every thread of the daemon (voluntary and involuntary context switches).
thread_switches() {
    local task
    for task in /proc/"$daemon_pid"/task/*; do
        printf '%s %s %s\n' "${task##*/}" "$(tr ' ' _ <"$task/comm")" \
            "$(awk '/ctxt_switches/ { s += $2 } END { print s }' "$task/status")"
    done 2>/dev/null || true
}
memory() {
    local label=$1
    printf '%-28s RSS %s MB (anonymous %s MB, file-backed %s MB), peak %s MB, %s threads\n' "$label" \
        "$(mb "$(kb VmRSS)")" "$(mb "$(kb RssAnon)")" "$(mb "$(kb RssFile)")" "$(mb "$(kb VmHWM)")" \
        "$(kb Threads)"
}

mkdir -p "$repo/bench/results"
out=$repo/bench/results/scale-$(date -u +%Y%m%d).md
# A smaller run (a profile, a quick check) does not replace the day's figures at the default sizes.
[[ $small == 1000 && $large == 10000 && $idle_seconds == 60 ]] || out=${out%.md}-$small-$large.md
# Everything printed from here on is the run's summary, kept in bench/results/.
exec > >(tee "$out")
echo "# bench/scale.sh $* on $(date -u '+%Y-%m-%d %H:%M') UTC ($(nproc) cores); certkeeper $("$bin" --version)"
echo '```'
trap 'echo "\`\`\`"; cleanup' EXIT
echo "== $small installed certificates, then idle for ${idle_seconds} s"
python3 bench/lib/installed_certs.py "$work/state" "$work/etc" s 1 "$small" "$listen"
start=$(now)
RUNTIME_DIRECTORY=$work/run "$bin" run --config-dir "$work/etc" --state-dir "$work/state" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
echo "start to all $small scheduled:  $(settle "$small" "$start") s, CPU $(cpu) s, $(requests) ACME requests"
memory "after start"
# Wake-ups: context switches of every thread of the daemon while it waits (perf counts threads that come and go;
# it prints "<not counted>" when no thread of the daemon ran at all in the window: none). Two windows: the first
# holds the end of the start (the HTTP client closes its idle connection to the CA after 60 s), the second is
# the daemon with nothing due.
idle_window() {
    local label=$1 wakeups by_thread cpu_before
    cpu_before=$(cpu)
    thread_switches >"$work/switches.before"
    wakeups=$(perf stat -x, -e context-switches -p "$daemon_pid" -- sleep "$idle_seconds" 2>&1 >/dev/null |
        awk -F, '/context-switches/ { print ($1 == "<not counted>" ? 0 : $1) }')
    thread_switches >"$work/switches.after"
    printf '%-28s %s wake-ups (context switches), CPU %s s\n' "$label:" "${wakeups:-?}" \
        "$(awk -v a="$cpu_before" -v b="$(cpu)" 'BEGIN { printf "%.2f", b - a }')"
    # Which threads woke: the difference per thread, by name.
    by_thread=$(awk 'NR == FNR { before[$1] = $3; next } ($3 - before[$1]) > 0 { n[$2] += $3 - before[$1] }
        END { for (t in n) { printf "%s%s %d", sep, t, n[t]; sep = ", " } }' "$work/switches.before" "$work/switches.after")
    echo "woken threads:               ${by_thread:-none}"
}
idle_window "idle ${idle_seconds} s"
idle_window "idle the next ${idle_seconds} s"
memory "idle"

echo "== $((large - small)) more specs and certificates, then reload"
python3 bench/lib/installed_certs.py "$work/state" "$work/etc" s "$((small + 1))" "$large" "$listen"
requests_before=$(requests)
cpu_before=$(cpu)
# SCALE_PERF=FILE: a CPU profile (perf record, call graphs) from the reload until it settles, system-wide: the
# daemon's worker threads come and go, and `-p` follows only the threads there when it starts (report it with
# `perf report -i FILE --comm certkeeper`).
perf_pid=
if [[ -n ${SCALE_PERF:-} ]]; then
    perf record -q -F 499 -g -a -o "$SCALE_PERF" >/dev/null 2>&1 &
    perf_pid=$!
fi
start=$(now)
"$bin" reload --socket "$work/run/control.sock" >/dev/null
reload_done=$(now)
total=$(settle "$large" "$start")
if [[ -n $perf_pid ]]; then
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
fi
echo "certkeeper reload returned:    $(elapsed "$start" "$reload_done") s"
echo "reload to all $large scheduled: $total s, daemon CPU $(awk -v a="$cpu_before" -v b="$(cpu)" 'BEGIN { printf "%.2f", b - a }') s, $(($(requests) - requests_before)) ACME requests"
memory "with $large specs"
