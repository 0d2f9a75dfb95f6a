#!/usr/bin/env bash
# Benchmark: ACME requests per certificate and wall time to install all N, counted by the ACME test double
# (scripts/testenv/acme-double.py) in front of a fresh Pebble for each run. Prints a table; asserts nothing.
#
#   clean-20    N=20,  no nonce rejection (PEBBLE_WFE_NONCEREJECT=0), PEBBLE_VA_NOSLEEP=1, chaos off
#   clean-100   N=100, the same
#   chaos-100   N=100, PEBBLE_WFE_NONCEREJECT=50, chaos error_rate 0.10 / drop_rate 0.05 on every request kind:
#               time to converge and newOrder per certificate (orders Pebble created, and newOrder POSTs received)
#
# Each run: fresh state directory, one account, N single-name http-01 specs (built-in responder), the daemon built
# with `release_build` from scripts/lib.sh (CERTKEEPER_BIN=PATH uses that binary instead and builds
# nothing; then the figures are not release figures). Every wait is bounded (12 minutes per run).
#
# Usage: bench/requests.sh [WORKDIR=/tmp/certkeeper-bench-requests]
#   (everything on 127.0.0.1; Pebble block 3: ACME 14300, management 15300, challtestsrv 8355/DNS 8353,
#    http-01 5302, tls-alpn-01 5301; the double on 14310, control 14311. scripts/testenv/test-acme-double.sh
#    uses the same Pebble ports by default: do not run both at once.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

work=${1:-/tmp/certkeeper-bench-requests}
install_packages
if [[ -n ${CERTKEEPER_BIN:-} ]]; then
    bin=$CERTKEEPER_BIN
    echo "using $bin (not built here)"
else
    bin=$(release_build)
fi
[[ -x $bin ]] || { echo "no certkeeper binary at $bin" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
export DOUBLE_PORT=14310 DOUBLE_CONTROL_PORT=14311 DOUBLE_FLAGS=""
daemon_pid=
run_dir=
cleanup() {
    set +e
    stop_pid "$daemon_pid"
    daemon_pid=
    if [[ -n $run_dir ]]; then
        scripts/testenv/acme-double.sh stop "$run_dir/double" >/dev/null 2>&1
        scripts/testenv/pebble.sh stop "$run_dir/pebble" >/dev/null 2>&1
    fi
}
trap cleanup EXIT

# bench_run NAME N NONCEREJECT ERROR_RATE DROP_RATE: one run; appends its figures to $work/results.jsonl.
bench_run() {
    local name=$1 n=$2 noncereject=$3 error_rate=$4 drop_rate=$5 i poll done_count=0 t0 t1
    run_dir=$work/$name
    mkdir -p "$run_dir"/{etc/certs.d,state,run}
    echo "== $name: $n certificates, PEBBLE_WFE_NONCEREJECT=$noncereject, chaos $error_rate/$drop_rate"
    local busy
    busy=$(ss -Hltnu | awk '{print $5}' | grep -E ':(14300|15300|8355|8353|5302|5301|14310|14311)$' | sort -u | tr '\n' ' ' || true)
    [[ -z $busy ]] || { echo "ports of block 3 already in use by another process: $busy" >&2; exit 1; }
    PEBBLE_WFE_NONCEREJECT=$noncereject PEBBLE_VA_NOSLEEP=1 start_pebble_block 3 "$run_dir/pebble" "$run_dir/pebble-start.log"
    if grep -q 'address already in use' "$run_dir/pebble/challtestsrv.log"; then
        echo "pebble-challtestsrv could not bind (another block 3?): $run_dir/pebble/challtestsrv.log" >&2
        exit 1
    fi
    PEBBLE_DIR=$run_dir/pebble scripts/testenv/acme-double.sh start "$run_dir/double" >/dev/null
    # shellcheck disable=SC1091
    source "$run_dir/double/env"
    local ctl=$CERTKEEPER_TEST_DOUBLE_CONTROL
    write_double_config "$run_dir/etc" bench@example.com "$n" r bench.test
    curl -fsS --max-time 5 -X POST "$ctl/reset/stats" >/dev/null
    if [[ $error_rate != 0 || $drop_rate != 0 ]]; then
        curl -fsS --max-time 5 -X POST -H 'Content-Type: application/json' \
            -d "{\"error_rate\": $error_rate, \"drop_rate\": $drop_rate, \"seed\": 1}" "$ctl/chaos" >/dev/null
    fi

    t0=$(date +%s.%N)
    RUNTIME_DIRECTORY=$run_dir/run "$bin" run --config-dir "$run_dir/etc" --state-dir "$run_dir/state" >"$run_dir/daemon.log" 2>&1 &
    daemon_pid=$!
    for ((poll = 0; poll < 2880; poll++)); do # 12 minutes of 0.25 s
        done_count=$( (find "$run_dir/state/live" -mindepth 1 -maxdepth 1 2>/dev/null || true) | wc -l)
        ((done_count >= n)) && break
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.25
    done
    t1=$(date +%s.%N)
    sleep 2 # requests still on the wire land in the counters
    curl -fsS --max-time 5 "$ctl/stats" >"$run_dir/stats.json"
    python3 - "$run_dir/stats.json" "$name" "$n" "$done_count" "$t0" "$t1" >>"$work/results.jsonl" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
name, n, done, t0, t1 = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
print(json.dumps({"name": name, "n": n, "installed": done, "seconds": t1 - t0, "stats": s}))
PY
    echo "   $done_count / $n installed in $(python3 -c "print(f'{$t1 - $t0:.1f}')") s"
    cleanup
    run_dir=
}

bench_run clean-20 20 0 0 0
bench_run clean-100 100 0 0 0
bench_run chaos-100 100 50 0.10 0.05

echo
echo "== requests per certificate (counted by the double; chaos-100 includes injected faults and badNonce retries)"
python3 - "$work/results.jsonl" <<'PY'
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
kinds = ["directory", "newNonce", "newAccount", "newOrder", "authz", "challenge", "finalize", "order", "cert"]
extra = sorted({k for r in runs for k in r["stats"]["requests_by_kind"]} - set(kinds))
kinds += extra
head = f"{'run':<10} {'N':>4} {'installed':>9} {'wall s':>7} {'total/cert':>10} " + " ".join(f"{k[:9]:>9}" for k in kinds)
print(head)
for r in runs:
    s, n = r["stats"], r["n"]
    per = " ".join(f"{s['requests_by_kind'].get(k, 0) / n:>9.2f}" for k in kinds)
    print(f"{r['name']:<10} {n:>4} {r['installed']:>9} {r['seconds']:>7.1f} {s['requests_total'] / n:>10.2f} {per}")
print()
print(f"{'run':<10} {'orders/cert':>11} {'newOrder POST/cert':>18} {'badNonce':>9} {'chaos 500':>9} {'drop':>5} {'drop-bef':>8} "
      f"{'faults on newOrder+finalize':>27}")
for r in runs:
    s, n = r["stats"], r["n"]
    created = s["upstream_status"].get("newOrder", {}).get("201", 0)
    ci = s["chaos_injected"]
    tot = {f: sum(v.get(f, 0) for v in ci.values()) for f in ("500", "drop", "drop-before")}
    of = sum(ci.get(k, {}).get(f, 0) for k in ("newOrder", "finalize") for f in ("500", "drop", "drop-before"))
    print(f"{r['name']:<10} {created / n:>11.2f} {s['new_order'] / n:>18.2f} {sum(s['upstream_bad_nonce'].values()):>9} "
          f"{tot['500']:>9} {tot['drop']:>5} {tot['drop-before']:>8} {of:>27}")
chaos = [r for r in runs if r["name"].startswith("chaos")]
for r in chaos:
    state = "converged" if r["installed"] >= r["n"] else f"NOT converged ({r['installed']}/{r['n']})"
    print(f"\n{r['name']}: {state}, time to converge {r['seconds']:.1f} s, "
          f"newOrder per certificate {r['stats']['upstream_status'].get('newOrder', {}).get('201', 0) / r['n']:.2f} (orders created), "
          f"{r['stats']['new_order'] / r['n']:.2f} (POSTs received)")
PY
echo "(raw: $work/results.jsonl, daemon logs: $work/*/daemon.log)"
