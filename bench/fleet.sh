#!/usr/bin/env bash
# Benchmark: a fleet of NODES release daemons sharing one PostgreSQL 15 store issue N certificates from a local Pebble
# (every node has the same N specs; Pebble's DNS sends every http-01 validation to the last node, which answers tokens
# the others placed). Beside it, for comparison, one daemon on the file store issues the same N. Prints wall time
# until every certificate is installed on every node, orders and accounts at Pebble, each node's CPU time and peak
# RSS, and the database's transactions; keeps the summary in bench/results/. Asserts nothing.
#
# Usage: bench/fleet.sh [N=300] [NODES=3] [WORKDIR=/tmp/certkeeper-bench-fleet]
#        (Pebble 14960/15960, challtestsrv 8985/8983, http-01 5962 on 127.0.0.21-2N; PostgreSQL 127.0.0.1:14969)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

count=${1:-300}
nodes=${2:-3}
work=${3:-/tmp/certkeeper-bench-fleet}
install_packages
bin=$(release_build)
http_port=5962
pg_port=14969

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
pids=()
cleanup() {
    set +e
    local pid
    for pid in "${pids[@]}"; do stop_pid "$pid"; done
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1
    scripts/testenv/postgres.sh stop "$work/pg" >/dev/null 2>&1
}
trap cleanup EXIT
export PEBBLE_PORT=14960 PEBBLE_MGMT_PORT=15960 CHALLTESTSRV_PORT=8985 CHALLTESTSRV_DNS_PORT=8983 \
    PEBBLE_DNS=127.0.0.1:8983 PEBBLE_HTTP_PORT=$http_port PEBBLE_TLS_PORT=5961 PEBBLE_WFE_NONCEREJECT=0 \
    PEBBLE_AUTHZREUSE=0 PEBBLE_VA_NOSLEEP=1
scripts/testenv/pebble.sh start "$work/pebble" >/dev/null
# shellcheck disable=SC1091
source "$work/pebble/env"
scripts/testenv/postgres.sh start "$work/pg" "$pg_port" >/dev/null
head -c 32 /dev/urandom | base64 >"$work/store.key"
chmod 600 "$work/store.key"
psql_admin() { scripts/testenv/postgres.sh psql "$work/pg" "$1"; }
orders() { grep -c 'POST /order-plz -> calling handler' "$work/pebble/pebble.log" || true; }
accounts() { grep -c 'POST /sign-me-up -> calling handler' "$work/pebble/pebble.log" || true; }

# setup DIR ADDRESS [STORE]: a node's configuration with COUNT specs on the built-in responder at ADDRESS.
setup() {
    local dir=$1 address=$2 i
    mkdir -p "$dir/etc/certs.d" "$dir/state" "$dir/run"
    write_main_config "$dir/etc" pebble "$CERTKEEPER_TEST_ACME_DIRECTORY" "$CERTKEEPER_TEST_ACME_TLS_ROOTS" \
        bench@example.com
    for ((i = 1; i <= count; i++)); do
        printf 'domains = ["b%s.fleet.bench.test"]\n[challenge]\ntype = "http-01"\nlisten = "%s"\n' "$i" "$address" \
            >"$dir/etc/certs.d/b$i.toml"
    done
}
# installed DIR: how many certificates are installed under DIR's state.
installed() { (find "$1/state/live" -mindepth 1 -maxdepth 1 2>/dev/null || true) | wc -l; }

# run_until_installed DIRS...: waits (at most 20 minutes) until every DIR has COUNT certificates installed, sampling
# each daemon's peak RSS into peak[PID]; sets wall (seconds). Not in a subshell: it fills the globals.
declare -A peak
wall=0
run_until_installed() {
    local start end t dir all n pid rss
    start=$(date +%s.%N)
    for ((t = 0; t < 4800; t++)); do
        all=1
        n=0
        for dir in "$@"; do
            (($(installed "$dir") >= count)) || all=0
        done
        for pid in "${pids[@]}"; do
            rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
            ((rss > ${peak[$pid]:-0})) && peak[$pid]=$rss
            n=$((n + 1))
        done
        ((all)) && break
        sleep 0.25
    done
    end=$(date +%s.%N)
    wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')
}
cpu_of() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }

echo "== one daemon, file store, $count certificates"
curl -fsS -d '{"ip":"127.0.0.20"}' "$CERTKEEPER_TEST_CHALLTESTSRV/set-default-ipv4" >/dev/null
setup "$work/single" "127.0.0.20:$http_port"
orders_before=$(orders)
RUNTIME_DIRECTORY=$work/single/run "$bin" run --config-dir "$work/single/etc" --state-dir "$work/single/state" \
    >"$work/single.log" 2>&1 &
pids=($!)
run_until_installed "$work/single"
single_wall=$wall
single_cpu=$(cpu_of "${pids[0]}")
single_peak=$((${peak[${pids[0]}]} / 1024))
single_orders=$(($(orders) - orders_before))
stop_pid "${pids[0]}"
pids=()
echo "wall ${single_wall} s, CPU ${single_cpu} s, peak RSS ${single_peak} MiB, ${single_orders} orders"

echo "== $nodes daemons, one PostgreSQL store, $count certificates"
curl -fsS -d "{\"ip\":\"127.0.0.2$nodes\"}" "$CERTKEEPER_TEST_CHALLTESTSRV/set-default-ipv4" >/dev/null
dirs=()
for ((n = 1; n <= nodes; n++)); do
    setup "$work/node$n" "127.0.0.2$n:$http_port"
    write_store_config "$work/node$n/etc" "$work/pg" "$pg_port" "$work/store.key" "node$n" "127.0.0.2$n:$http_port"
    dirs+=("$work/node$n")
done
orders_before=$(orders)
accounts_before=$(accounts)
xact_before=$(psql_admin "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'certkeeper'")
for ((n = 1; n <= nodes; n++)); do
    RUNTIME_DIRECTORY=$work/node$n/run "$bin" run --config-dir "$work/node$n/etc" --state-dir "$work/node$n/state" \
        >"$work/node$n.log" 2>&1 &
    pids+=($!)
done
run_until_installed "${dirs[@]}"
fleet_wall=$wall
fleet_orders=$(($(orders) - orders_before))
fleet_accounts=$(($(accounts) - accounts_before))
xact_after=$(psql_admin "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'certkeeper'")
node_lines=""
for ((n = 1; n <= nodes; n++)); do
    pid=${pids[$((n - 1))]}
    ordered=$(psql_admin "SELECT count(*) FROM certkeeper.certificates WHERE published_by LIKE 'node$n:%'")
    node_lines+="| node$n | $(installed "$work/node$n") | $ordered | $(cpu_of "$pid") | $((${peak[$pid]} / 1024)) |"$'\n'
done
db_size=$(psql_admin "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'certkeeper'")
fleet_per_cert=$(awk -v w="$fleet_wall" -v n="$count" 'BEGIN { printf "%.1f", w * 1000 / n }')
single_per_cert=$(awk -v w="$single_wall" -v n="$count" 'BEGIN { printf "%.1f", w * 1000 / n }')

summary=$(
    cat <<EOF
# Fleet benchmark, $(date -u +%Y-%m-%d): $nodes nodes, $count certificates

Release build, one local Pebble (no sleep, no nonce rejection, no authorization reuse), PostgreSQL 15 on loopback,
single-name P-256 http-01 certificates; $(nproc) cores. Every node has the same $count specs; every validation goes
to node$nodes, which answers the tokens the other nodes placed.

| set-up | wall s (all installed everywhere) | ms per certificate | orders at Pebble | newAccount |
|---|---|---|---|---|
| 1 daemon, file store | $single_wall | $single_per_cert | $single_orders | 1 |
| $nodes daemons, PostgreSQL | $fleet_wall | $fleet_per_cert | $fleet_orders | $fleet_accounts |

| node | installed | ordered by it | CPU s | peak RSS MiB |
|---|---|---|---|---|
${node_lines}
Database: $((xact_after - xact_before)) transactions during the run ($(awk -v x=$((xact_after - xact_before)) -v n="$count" 'BEGIN { printf "%.1f", x / n }') per certificate), schema size $db_size.
The single daemon: CPU ${single_cpu} s, peak RSS ${single_peak} MiB.
EOF
)
echo "$summary"
mkdir -p bench/results
echo "$summary" >"bench/results/fleet-$(date -u +%Y%m%d)-n$count.md"
