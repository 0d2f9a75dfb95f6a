#!/usr/bin/env bash
# Self-test of the ACME test double: starts a throwaway Pebble (pebble.sh, nonce rejection off so counters are
# exact) and the double with --single-use-eab --ari --profiles tlsserver,shortlived, checks the directory with
# curl, runs test_acme_double.py (real ES256/EAB JWS flow, ARI, faults, chaos, dns-01 + finalize), then checks the
# chaos CLI flags on a second double (--chaos-error-rate 1 --chaos-kinds newNonce) with curl, then stops all three.
#
# Usage: scripts/testenv/test-acme-double.sh [WORKDIR]      (default: a new mktemp -d, removed on success)
# Ports (override if busy): PEBBLE_PORT=14300 PEBBLE_MGMT_PORT=15300 CHALLTESTSRV_PORT=8355 CHALLTESTSRV_DNS_PORT=8353
#   PEBBLE_HTTP_PORT=5302 PEBBLE_TLS_PORT=5301 DOUBLE_PORT=14543 DOUBLE_CONTROL_PORT=14580
#   CHAOS_DOUBLE_PORT=14544 CHAOS_DOUBLE_CONTROL_PORT=14581
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${1:-$(mktemp -d /tmp/acme-double-test.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)

export PEBBLE_PORT=${PEBBLE_PORT:-14300} PEBBLE_MGMT_PORT=${PEBBLE_MGMT_PORT:-15300}
export CHALLTESTSRV_PORT=${CHALLTESTSRV_PORT:-8355} CHALLTESTSRV_DNS_PORT=${CHALLTESTSRV_DNS_PORT:-8353}
export PEBBLE_DNS=127.0.0.1:${CHALLTESTSRV_DNS_PORT} PEBBLE_HTTP_PORT=${PEBBLE_HTTP_PORT:-5302} PEBBLE_TLS_PORT=${PEBBLE_TLS_PORT:-5301}
export PEBBLE_WFE_NONCEREJECT=0
export DOUBLE_PORT=${DOUBLE_PORT:-14543} DOUBLE_CONTROL_PORT=${DOUBLE_CONTROL_PORT:-14580}
export DOUBLE_FLAGS="--single-use-eab --ari --profiles tlsserver,shortlived"
CHAOS_DOUBLE_PORT=${CHAOS_DOUBLE_PORT:-14544} CHAOS_DOUBLE_CONTROL_PORT=${CHAOS_DOUBLE_CONTROL_PORT:-14581}
export PEBBLE_DIR=$work/pebble

cleanup() {
    "$here/acme-double.sh" stop "$work/double" >/dev/null 2>&1 || true
    "$here/acme-double.sh" stop "$work/chaos-double" >/dev/null 2>&1 || true
    "$here/pebble.sh" stop "$PEBBLE_DIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT

python3 -c "import cryptography" 2>/dev/null || { echo "test-acme-double: python3 'cryptography' is required" >&2; exit 2; }

"$here/pebble.sh" start "$PEBBLE_DIR"
"$here/acme-double.sh" start "$work/double"
# shellcheck disable=SC1091
source "$work/double/env"

fail=0
dir_json=$(curl -fsS --max-time 5 --cacert "$CERTKEEPER_TEST_DOUBLE_TLS_ROOTS" "$CERTKEEPER_TEST_DOUBLE_DIRECTORY")
if grep -q "\"renewalInfo\": \"https://127.0.0.1:${DOUBLE_PORT}/renewal-info\"" <<<"$dir_json"; then
    echo "ok   curl: directory has renewalInfo"
else
    echo "FAIL curl: directory lacks renewalInfo: $dir_json"
    fail=1
fi
if openssl s_client -connect "127.0.0.1:${DOUBLE_PORT}" -CAfile "$CERTKEEPER_TEST_DOUBLE_TLS_ROOTS" -verify_return_error \
    -verify_ip 127.0.0.1 </dev/null 2>/dev/null | grep -q "Verify return code: 0 (ok)"; then
    echo "ok   openssl: double's TLS certificate verifies with Pebble's TLS CA"
else
    echo "FAIL openssl: TLS verification against $CERTKEEPER_TEST_DOUBLE_TLS_ROOTS"
    fail=1
fi

DOUBLE_DIRECTORY=$CERTKEEPER_TEST_DOUBLE_DIRECTORY DOUBLE_CONTROL=$CERTKEEPER_TEST_DOUBLE_CONTROL \
    TLS_CA=$CERTKEEPER_TEST_DOUBLE_TLS_ROOTS EAB_DIR=$PEBBLE_DIR/eab CHALLTESTSRV=http://127.0.0.1:${CHALLTESTSRV_PORT} \
    timeout 120 python3 "$here/test_acme_double.py" || fail=1

# Chaos from the command line: every newNonce gets a 500 problem, the directory (not in --chaos-kinds) is relayed.
DOUBLE_PORT=$CHAOS_DOUBLE_PORT DOUBLE_CONTROL_PORT=$CHAOS_DOUBLE_CONTROL_PORT \
    DOUBLE_FLAGS="--chaos-error-rate 1 --chaos-drop-rate 0 --chaos-seed 5 --chaos-kinds newNonce" \
    "$here/acme-double.sh" start "$work/chaos-double" >/dev/null
chaos_ctl=http://127.0.0.1:${CHAOS_DOUBLE_CONTROL_PORT}
nonce_reply=$(curl -sS --max-time 5 --cacert "$CERTKEEPER_TEST_DOUBLE_TLS_ROOTS" -X POST -w ' %{http_code}' \
    "https://127.0.0.1:${CHAOS_DOUBLE_PORT}/nonce-plz" || true)
chaos_stats=$(curl -fsS --max-time 5 "$chaos_ctl/stats")
if [[ $nonce_reply == *'"type": "urn:ietf:params:acme:error:serverInternal"'*' 500' ]] &&
    python3 -c 'import json,sys; s=json.loads(sys.argv[1]); assert s["chaos"] == {"error_rate": 1.0, "drop_rate": 0.0, "seed": 5, "kinds": ["newNonce"]}, s["chaos"]
assert s["chaos_injected"]["newNonce"] == {"500": 1, "drop": 0, "drop-before": 0} and s["chaos_injected_total"] == 1, s
assert s["requests_by_kind"]["directory"] >= 1 and s["chaos_injected"]["directory"]["500"] == 0, s' "$chaos_stats"; then
    echo "ok   curl: --chaos-error-rate 1 --chaos-kinds newNonce -> 500 serverInternal, counted; directory relayed"
else
    echo "FAIL curl: chaos from the command line: reply '$nonce_reply', stats $chaos_stats"
    fail=1
fi
curl -fsS --max-time 5 -X POST "$chaos_ctl/chaos" -H 'Content-Type: application/json' -d '{"error_rate": 0.0}' >/dev/null
curl -fsS --max-time 5 -X POST "$chaos_ctl/reset" >/dev/null
if [[ $(curl -fsS --max-time 5 "$chaos_ctl/chaos") == *'"seed": 5'* ]]; then
    echo "ok   curl: POST /reset returns chaos to the command-line setting"
else
    echo "FAIL curl: POST /reset did not restore the command-line chaos setting"
    fail=1
fi

if [[ $fail == 0 ]]; then
    echo "test-acme-double: PASS"
    [[ $# -ge 1 ]] || { cleanup; trap - EXIT; rm -rf "$work"; }
else
    echo "test-acme-double: FAIL (logs: $work/double/double.log, $PEBBLE_DIR/pebble.log)" >&2
fi
exit $fail
