#!/usr/bin/env bash
# Self-test of the ACME test double: starts a throwaway Pebble (pebble.sh, nonce rejection off so counters are
# exact) and the double with --single-use-eab --ari --profiles tlsserver,shortlived, checks the directory with
# curl, runs test_acme_double.py (real ES256/EAB JWS flow, ARI, faults, dns-01 + finalize), then stops both.
#
# Usage: scripts/testenv/test-acme-double.sh [WORKDIR]      (default: a new mktemp -d, removed on success)
# Ports (override if busy): PEBBLE_PORT=14300 PEBBLE_MGMT_PORT=15300 CHALLTESTSRV_PORT=8355 CHALLTESTSRV_DNS_PORT=8353
#   PEBBLE_HTTP_PORT=5302 PEBBLE_TLS_PORT=5301 DOUBLE_PORT=14543 DOUBLE_CONTROL_PORT=14580
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
export PEBBLE_DIR=$work/pebble

cleanup() {
    "$here/acme-double.sh" stop "$work/double" >/dev/null 2>&1 || true
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

if [[ $fail == 0 ]]; then
    echo "test-acme-double: PASS"
    [[ $# -ge 1 ]] || { cleanup; trap - EXIT; rm -rf "$work"; }
else
    echo "test-acme-double: FAIL (logs: $work/double/double.log, $PEBBLE_DIR/pebble.log)" >&2
fi
exit $fail
