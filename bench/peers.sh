#!/usr/bin/env bash
# Benchmark: certkeeper beside the peers, each issuing N single-name P-256 certificates (http-01) from its own fresh
# Pebble (PEBBLE_VA_NOSLEEP=1, no nonce rejection) on this machine. The peers run once per certificate, as from cron;
# certkeeper runs as one daemon issuing all N. Prints wall time, CPU time (user + system of every process the client
# started), peak RSS and ACME requests per certificate (counted in Pebble's log), with ratios to certkeeper, and
# writes the table to bench/results/peers-DATE-N.md. Asserts nothing.
#
# Usage: bench/peers.sh [N=20] [PEERS="uacme certbot lego dehydrated"] [WORKDIR=/tmp/certkeeper-peers]
#   certbot comes from PyPI, installed in a venv under WORKDIR.
# Ports: Pebble 14960/15960, challtestsrv 8985/8983, http-01 5962 (Pebble's VA), tls-alpn 5961.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

count=${1:-20}
peers=${2:-uacme certbot lego dehydrated}
work=${3:-/tmp/certkeeper-peers}
repo=$(pwd)
install_packages
DEBIAN_FRONTEND=noninteractive apt-get install -y -q uacme lego dehydrated time python3-venv >/dev/null
bin=$(release_build)

export PEBBLE_PORT=14960 PEBBLE_MGMT_PORT=15960 CHALLTESTSRV_PORT=8985 CHALLTESTSRV_DNS_PORT=8983
export PEBBLE_DNS=127.0.0.1:8983 PEBBLE_HTTP_PORT=5962 PEBBLE_TLS_PORT=5961 PEBBLE_WFE_NONCEREJECT=0
export PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0
http_port=5962

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
daemon_pid=
server_pid=
cleanup() {
    set +e
    stop_pid "$daemon_pid"
    stop_pid "$server_pid"
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1
}
trap cleanup EXIT

# fresh_pebble: a new Pebble (and challtestsrv) for the next client, so nothing is shared or reused.
fresh_pebble() {
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1 || true
    rm -rf "$work/pebble"
    scripts/testenv/pebble.sh start "$work/pebble" >/dev/null
    # shellcheck disable=SC1091
    source "$work/pebble/env"
    # The system bundle plus Pebble's TLS root, for clients that only read the system bundle (uacme's libcurl).
    cat /etc/ssl/certs/ca-certificates.crt "$CERTKEEPER_TEST_ACME_TLS_ROOTS" >"$work/bundle.pem"
}

# requests: ACME requests Pebble answered so far.
requests() { grep -c -- '-> calling handler()' "$work/pebble/pebble.log" || true; }

# serve_webroot DIR: a static server for DIR/.well-known/acme-challenge on the http-01 port.
serve_webroot() {
    mkdir -p "$1/.well-known/acme-challenge"
    python3 -m http.server --bind 127.0.0.1 --directory "$1" "$http_port" >/dev/null 2>&1 &
    server_pid=$!
    for ((i = 0; i < 100; i++)); do
        curl -fs -o /dev/null "http://127.0.0.1:$http_port/" && return 0
        sleep 0.05
    done
    echo "webroot server did not start" >&2
    exit 1
}

results=()
# record NAME WALL CPU RSS_KB REQUESTS INSTALLED
record() {
    results+=("$1 $2 $3 $4 $5 $6")
    printf '%-11s installed %s/%s  wall %.2f s  cpu %.2f s  peak RSS %.1f MB  requests/cert %.2f\n' \
        "$1" "$6" "$count" "$2" "$3" "$(awk -v k="$4" 'BEGIN { print k / 1024 }')" \
        "$(awk -v r="$5" -v n="$count" 'BEGIN { print r / n }')"
}

# run_peer NAME COMMAND...: runs COMMAND once per certificate (DOMAIN replaced by the name) under GNU time and
# records the totals: wall time of the whole loop, summed CPU, the largest peak RSS.
run_peer() {
    local name=$1
    shift
    local times=$work/$name.times start end installed=0 domain args
    : >"$times"
    start=$(date +%s.%N)
    for ((i = 1; i <= count; i++)); do
        domain=p$i.$name.bench.test
        args=("${@//DOMAIN/$domain}")
        if /usr/bin/time -f '%e %U %S %M' -a -o "$times" "${args[@]}" >>"$work/$name.log" 2>&1; then
            installed=$((installed + 1))
        fi
    done
    end=$(date +%s.%N)
    local wall cpu rss
    wall=$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')
    cpu=$(awk '$1 ~ /^[0-9.]+$/ { c += $2 + $3 } END { print c + 0 }' "$times")
    rss=$(awk '$1 ~ /^[0-9.]+$/ && $4 > m { m = $4 } END { print m + 0 }' "$times")
    record "$name" "$wall" "$cpu" "$rss" "$(requests)" "$installed"
}

# ---------------------------------------------------------------------------------------------------------------
echo "== certkeeper (one daemon, $count certificates)"
fresh_pebble
mkdir -p "$work/ck"/{etc/certs.d,state,run}
write_bench_config "$work/ck/etc" "$count" certkeeper "127.0.0.1:$http_port"
start=$(date +%s.%N)
RUNTIME_DIRECTORY=$work/ck/run "$bin" run --config-dir "$work/ck/etc" --state-dir "$work/ck/state" \
    >"$work/ck/daemon.log" 2>&1 &
daemon_pid=$!
installed=0
for ((t = 0; t < 2400; t++)); do
    installed=$( (find "$work/ck/state/live" -mindepth 1 -maxdepth 1 2>/dev/null || true) | wc -l)
    ((installed >= count)) && break
    sleep 0.05
done
end=$(date +%s.%N)
peak=$(awk '/VmHWM/ { print $2 }' "/proc/$daemon_pid/status")
# What holds the memory once all are installed: anonymous (heap, stacks) against file-backed (mostly the binary).
memory=$(awk '/^(RssAnon|RssFile|Threads):/ { v[$1] = $2 } END {
    printf "RssAnon %.1f MB, RssFile %.1f MB, %d threads", v["RssAnon:"] / 1024, v["RssFile:"] / 1024, v["Threads:"] }' \
    "/proc/$daemon_pid/status")
echo "certkeeper memory after the last install: $memory"
cpu=$(awk '{ print ($14 + $15) / 100 }' "/proc/$daemon_pid/stat")
stop_pid "$daemon_pid"
daemon_pid=
record certkeeper "$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')" "$cpu" "$peak" "$(requests)" "$installed"
# Where an order's time goes: the mean of each phase over the daemon's "order timings" log lines.
phases=$(awk '/order timings:/ {
        for (i = 1; i <= NF; i++) if ($i ~ /^[a-zA-Z]+=[0-9]+ms$/) {
            split($i, kv, "="); sub(/ms$/, "", kv[2]); sum[kv[1]] += kv[2]; n[kv[1]]++
        }
    } END {
        split("newOrder authorizations challenges validation finalize download install", order, " ")
        for (k = 1; k <= 7; k++) if (n[order[k]]) printf "%s %.1f ms, ", order[k], sum[order[k]] / n[order[k]]
    }' "$work/ck/daemon.log")
phases=${phases%, }
echo "certkeeper mean per order: ${phases:-no order timings logged}"

for peer in $peers; do
    echo "== $peer (once per certificate, $count certificates)"
    fresh_pebble
    case $peer in
    uacme)
        # uacme trusts only the system bundle: a private mount namespace shows it one with Pebble's root in it.
        mkdir -p "$work/uacme/conf"
        serve_webroot "$work/uacme/www"
        export UACME_CHALLENGE_PATH=$work/uacme/www/.well-known/acme-challenge
        uacme_cmd=(unshare -m sh -c 'mount --bind "$0" /etc/ssl/certs/ca-certificates.crt && shift && exec "$@"'
            "$work/bundle.pem" -- uacme -a "$CERTKEEPER_TEST_ACME_DIRECTORY" -c "$work/uacme/conf" -y -t EC
            -h /usr/share/uacme/uacme.sh)
        "${uacme_cmd[@]}" new bench@example.com >>"$work/uacme.log" 2>&1
        run_peer uacme "${uacme_cmd[@]}" issue DOMAIN
        stop_pid "$server_pid"
        server_pid=
        ;;
    lego)
        run_peer lego env LEGO_CA_CERTIFICATES="$CERTKEEPER_TEST_ACME_TLS_ROOTS" lego \
            --server "$CERTKEEPER_TEST_ACME_DIRECTORY" --accept-tos --email bench@example.com --path "$work/lego" \
            --key-type ec256 --http --http.port "127.0.0.1:$http_port" -d DOMAIN run
        ;;
    dehydrated)
        mkdir -p "$work/dehydrated"
        serve_webroot "$work/dehydrated/www"
        cat >"$work/dehydrated/config" <<CONF
CA="$CERTKEEPER_TEST_ACME_DIRECTORY"
BASEDIR="$work/dehydrated"
WELLKNOWN="$work/dehydrated/www/.well-known/acme-challenge"
CHALLENGETYPE="http-01"
KEY_ALGO="prime256v1"
CONTACT_EMAIL="bench@example.com"
CONF
        CURL_CA_BUNDLE=$CERTKEEPER_TEST_ACME_TLS_ROOTS dehydrated -f "$work/dehydrated/config" --register \
            --accept-terms >>"$work/dehydrated.log" 2>&1
        run_peer dehydrated env CURL_CA_BUNDLE="$CERTKEEPER_TEST_ACME_TLS_ROOTS" dehydrated \
            -f "$work/dehydrated/config" -c -d DOMAIN
        stop_pid "$server_pid"
        server_pid=
        ;;
    certbot)
        if [[ ! -x $work/venv/bin/certbot ]]; then
            python3 -m venv "$work/venv"
            "$work/venv/bin/pip" install -q certbot >/dev/null
        fi
        run_peer certbot env REQUESTS_CA_BUNDLE="$CERTKEEPER_TEST_ACME_TLS_ROOTS" "$work/venv/bin/certbot" certonly \
            --standalone --http-01-address 127.0.0.1 --http-01-port "$http_port" --non-interactive --agree-tos \
            -m bench@example.com --server "$CERTKEEPER_TEST_ACME_DIRECTORY" --key-type ecdsa \
            --config-dir "$work/certbot/etc" --work-dir "$work/certbot/work" --logs-dir "$work/certbot/logs" -d DOMAIN
        ;;
    *)
        echo "unknown peer '$peer' (uacme, lego, dehydrated, certbot)" >&2
        exit 2
        ;;
    esac
done

# ---------------------------------------------------------------------------------------------------------------
mkdir -p "$repo/bench/results"
out=$repo/bench/results/peers-$(date -u +%Y%m%d)-n$count.md
{
    echo "# bench/peers.sh $count on $(date -u '+%Y-%m-%d %H:%M') UTC ($(nproc) cores); certkeeper $("$bin" --version)"
    echo
    echo "| client | installed | wall s | wall ÷ certkeeper | CPU s | peak RSS MB | requests/cert |"
    echo "|---|---|---|---|---|---|---|"
    read -r _ ck_wall _ <<<"${results[0]}"
    for row in "${results[@]}"; do
        read -r name wall cpu rss reqs installed <<<"$row"
        awk -v n="$name" -v w="$wall" -v c="$cpu" -v r="$rss" -v q="$reqs" -v i="$installed" -v k="$count" \
            -v base="$ck_wall" 'BEGIN {
                printf "| %s | %d/%d | %.2f | %.1f× | %.2f | %.1f | %.2f |\n", n, i, k, w, w / base, c, r / 1024, q / k
            }'
    done
    echo
    echo "certkeeper, mean time per order in each phase: ${phases:-not logged}."
    echo
    echo "certkeeper memory after the last install: $memory."
} | tee "$out"
echo "written to ${out#"$repo"/}"
