#!/usr/bin/env bash
# Pebble (ACME test CA) + pebble-challtestsrv harness for certkeeper integration tests.
#
# Usage: scripts/testenv/pebble.sh start DIR | stop DIR | status DIR
#
# start: generates (once per DIR) a TLS CA + leaf for localhost/127.0.0.1 and 5 EAB MAC keys, writes a pebble
#        config, starts pebble-challtestsrv (mock DNS) and pebble in the background, waits for the directory,
#        fetches Pebble's issuing roots into DIR/pebble-roots.pem and writes DIR/env (source it in tests).
# stop:  kills the processes recorded in DIR/*.pid (only those), idempotent.
#
# Environment (defaults): PEBBLE_PORT=14000 PEBBLE_MGMT_PORT=15000 PEBBLE_HTTP_PORT=5002 PEBBLE_TLS_PORT=5001
#   PEBBLE_EAB_REQUIRED=false PEBBLE_VALIDITY=<seconds, unset = pebble default> PEBBLE_CHALLTESTSRV=1
#   CHALLTESTSRV_PORT=8055 CHALLTESTSRV_DNS_PORT=8053 PEBBLE_DNS=127.0.0.1:$CHALLTESTSRV_DNS_PORT
#   PEBBLE_WFE_NONCEREJECT=20 PEBBLE_AUTHZREUSE=50 PEBBLE_TLS_EXTRA_SANS= (e.g. "DNS:acme.proxy.test": more names
#   in Pebble's TLS certificate)
set -euo pipefail

die() { echo "pebble.sh: $*" >&2; exit 1; }

usage() { die "usage: $0 start DIR | stop DIR | status DIR"; }

[[ $# -eq 2 ]] || usage
cmd=$1
dir=$2

PEBBLE_PORT=${PEBBLE_PORT:-14000}
PEBBLE_MGMT_PORT=${PEBBLE_MGMT_PORT:-15000}
PEBBLE_HTTP_PORT=${PEBBLE_HTTP_PORT:-5002}
PEBBLE_TLS_PORT=${PEBBLE_TLS_PORT:-5001}
PEBBLE_EAB_REQUIRED=${PEBBLE_EAB_REQUIRED:-false}
PEBBLE_CHALLTESTSRV=${PEBBLE_CHALLTESTSRV:-1}
CHALLTESTSRV_PORT=${CHALLTESTSRV_PORT:-8055}
CHALLTESTSRV_DNS_PORT=${CHALLTESTSRV_DNS_PORT:-8053}
PEBBLE_DNS=${PEBBLE_DNS:-127.0.0.1:${CHALLTESTSRV_DNS_PORT}}

# shellcheck source=scripts/testenv/pidfile.sh
source "$(dirname "$0")/pidfile.sh"

# adopt_pid PIDFILE PATTERN: when the recorded PID is gone, record the one process whose command line contains
# PATTERN instead (true when found).
adopt_pid() {
    local pid
    pid=$(pgrep -f -- "$2" | head -n 1)
    [[ -n $pid ]] || return 1
    echo "$pid" >"$1"
}

do_stop() {
    [[ -d $dir ]] || return 0
    stop_one "$dir/pebble.pid" pebble
    stop_one "$dir/challtestsrv.pid" pebble-challtestsrv
}

b64u_random32() {
    openssl rand 32 | openssl base64 -A | tr '+/' '-_' | tr -d '='
}

make_tls() {
    [[ -s $dir/tls-ca.pem && -s $dir/tls-cert.pem && -s $dir/tls-key.pem ]] && return 0
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
        -subj "/CN=certkeeper test TLS CA" -keyout "$dir/tls-ca.key" -out "$dir/tls-ca.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
        -keyout "$dir/tls-key.pem" -out "$dir/tls.csr" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1${PEBBLE_TLS_EXTRA_SANS:+,$PEBBLE_TLS_EXTRA_SANS}" "basicConstraints=CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$dir/tls.ext"
    openssl x509 -req -in "$dir/tls.csr" -CA "$dir/tls-ca.pem" -CAkey "$dir/tls-ca.key" -CAcreateserial \
        -days 3650 -extfile "$dir/tls.ext" -out "$dir/tls-cert.pem" 2>/dev/null
    rm -f "$dir/tls.csr" "$dir/tls.ext"
    chmod 600 "$dir/tls-key.pem" "$dir/tls-ca.key"
}

make_eab() {
    mkdir -p "$dir/eab"
    chmod 700 "$dir/eab"
    local n
    for n in 1 2 3 4 5; do
        if [[ ! -s $dir/eab/kid-$n.hmac ]]; then
            (umask 077 && b64u_random32 >"$dir/eab/kid-$n.hmac")
        fi
    done
}

write_config() {
    local validity="" n sep="" keys=""
    for n in 1 2 3 4 5; do
        keys+="${sep}\"kid-$n\": \"$(<"$dir/eab/kid-$n.hmac")\""
        sep=", "
    done
    if [[ -n ${PEBBLE_VALIDITY:-} ]]; then
        [[ $PEBBLE_VALIDITY =~ ^[0-9]+$ ]] || die "PEBBLE_VALIDITY must be seconds, got '$PEBBLE_VALIDITY'"
        validity=", \"certificateValidityPeriod\": $PEBBLE_VALIDITY"
    fi
    case $PEBBLE_EAB_REQUIRED in true | false) ;; *) die "PEBBLE_EAB_REQUIRED must be true or false" ;; esac
    cat >"$dir/pebble-config.json" <<JSON
{
  "pebble": {
    "listenAddress": "127.0.0.1:${PEBBLE_PORT}",
    "managementListenAddress": "127.0.0.1:${PEBBLE_MGMT_PORT}",
    "certificate": "${dir}/tls-cert.pem",
    "privateKey": "${dir}/tls-key.pem",
    "httpPort": ${PEBBLE_HTTP_PORT},
    "tlsPort": ${PEBBLE_TLS_PORT},
    "ocspResponderURL": "",
    "externalAccountBindingRequired": ${PEBBLE_EAB_REQUIRED},
    "externalAccountMACKeys": { ${keys} }${validity}
  }
}
JSON
    chmod 600 "$dir/pebble-config.json"
}

write_env() {
    cat >"$dir/env" <<ENV
export CERTKEEPER_TEST_ACME_DIRECTORY=https://127.0.0.1:${PEBBLE_PORT}/dir
export CERTKEEPER_TEST_ACME_TLS_ROOTS=${dir}/tls-ca.pem
export CERTKEEPER_TEST_PEBBLE_MGMT=https://127.0.0.1:${PEBBLE_MGMT_PORT}
export CERTKEEPER_TEST_PEBBLE_ROOTS=${dir}/pebble-roots.pem
export CERTKEEPER_TEST_CHALLTESTSRV=http://127.0.0.1:${CHALLTESTSRV_PORT}
export CERTKEEPER_TEST_EAB_KID=kid-1
export CERTKEEPER_TEST_EAB_HMAC_FILE=${dir}/eab/kid-1.hmac
export CERTKEEPER_TEST_PEBBLE_HTTP_PORT=${PEBBLE_HTTP_PORT}
export CERTKEEPER_TEST_PEBBLE_TLS_PORT=${PEBBLE_TLS_PORT}
ENV
}

fetch_roots() {
    local mgmt="https://127.0.0.1:${PEBBLE_MGMT_PORT}" tmp="$dir/pebble-roots.pem.tmp"
    {
        curl -fsS --max-time 5 --cacert "$dir/tls-ca.pem" "$mgmt/roots/0"
        echo
        curl -fsS --max-time 5 --cacert "$dir/tls-ca.pem" "$mgmt/intermediates/0"
        echo
    } >"$tmp" || die "cannot fetch roots from $mgmt (see $dir/pebble.log)"
    mv "$tmp" "$dir/pebble-roots.pem"
}

do_start() {
    if ! command -v pebble >/dev/null || ! command -v pebble-challtestsrv >/dev/null; then
        echo "installing pebble with apt-get" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y pebble >/dev/null || die "apt-get install pebble failed"
    fi
    command -v curl >/dev/null || die "curl is required"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)

    if is_ours "$dir/pebble.pid" pebble; then
        echo "pebble already running in $dir (pid $(<"$dir/pebble.pid")); env: $dir/env"
        return 0
    fi
    do_stop >/dev/null

    make_tls
    make_eab
    write_config

    if [[ $PEBBLE_CHALLTESTSRV != 0 ]]; then
        setsid pebble-challtestsrv \
            -management "127.0.0.1:${CHALLTESTSRV_PORT}" \
            -dns01 "127.0.0.1:${CHALLTESTSRV_DNS_PORT}" \
            -http01 "" -https01 "" -tlsalpn01 "" \
            -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
            </dev/null >"$dir/challtestsrv.log" 2>&1 &
        echo $! >"$dir/challtestsrv.pid"
    fi

    PEBBLE_VA_NOSLEEP=1 \
        PEBBLE_WFE_NONCEREJECT=${PEBBLE_WFE_NONCEREJECT:-20} \
        PEBBLE_AUTHZREUSE=${PEBBLE_AUTHZREUSE:-50} \
        setsid pebble -config "$dir/pebble-config.json" -dnsserver "$PEBBLE_DNS" \
        </dev/null >"$dir/pebble.log" 2>&1 &
    echo $! >"$dir/pebble.pid"

    local i ok=0
    for ((i = 0; i < 300; i++)); do
        if curl -fsS --max-time 2 --cacert "$dir/tls-ca.pem" -o /dev/null "https://127.0.0.1:${PEBBLE_PORT}/dir" 2>/dev/null; then
            ok=1
            break
        fi
        # setsid forks when started as a process group leader (a shell with job control): then $! is gone and the
        # server runs under another PID. Record the real ones (found by their unique arguments) so stop works.
        is_ours "$dir/pebble.pid" pebble || adopt_pid "$dir/pebble.pid" "pebble -config $dir/pebble-config.json" || break
        if [[ $PEBBLE_CHALLTESTSRV != 0 ]]; then
            is_ours "$dir/challtestsrv.pid" pebble-challtestsrv ||
                adopt_pid "$dir/challtestsrv.pid" "pebble-challtestsrv -management 127.0.0.1:${CHALLTESTSRV_PORT} " || true
        fi
        sleep 0.1
    done
    if [[ $ok != 1 ]]; then
        tail -n 20 "$dir/pebble.log" >&2 || true
        do_stop >/dev/null
        die "pebble did not answer on https://127.0.0.1:${PEBBLE_PORT}/dir within 30 s (log: $dir/pebble.log)"
    fi
    if [[ $PEBBLE_CHALLTESTSRV != 0 ]] && ! is_ours "$dir/challtestsrv.pid" pebble-challtestsrv; then
        tail -n 20 "$dir/challtestsrv.log" >&2 || true
        do_stop >/dev/null
        die "pebble-challtestsrv exited (log: $dir/challtestsrv.log)"
    fi
    fetch_roots
    write_env
    echo "pebble running: https://127.0.0.1:${PEBBLE_PORT}/dir (pid $(<"$dir/pebble.pid")); source $dir/env"
}

do_status() {
    local rc=0
    if is_ours "$dir/pebble.pid" pebble; then echo "pebble: running (pid $(<"$dir/pebble.pid"))"; else echo "pebble: stopped"; rc=1; fi
    if is_ours "$dir/challtestsrv.pid" pebble-challtestsrv; then
        echo "pebble-challtestsrv: running (pid $(<"$dir/challtestsrv.pid"))"
    else
        echo "pebble-challtestsrv: stopped"
    fi
    return $rc
}

case $cmd in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    *) usage ;;
esac
