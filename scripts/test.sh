#!/usr/bin/env bash
# Every test, on a fresh Debian 12 machine: installs what it needs, builds, starts the real servers the tests use
# (Pebble + pebble-challtestsrv, BIND 9, the ACME test double in front of Pebble, PostgreSQL 15), runs `swift test`, then the
# end-to-end scripts (daemon against Pebble, crash and account tests, systemd under systemd-nspawn, unit checks).
#
# Usage: scripts/test.sh        (root; everything listens on 127.0.0.0/8 and is stopped at exit)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

install_packages
work=$(mktemp -d /tmp/certkeeper-test.XXXXXX)
echo "test work directory: $work"

started=()
cleanup() {
    local entry
    for entry in "${started[@]}"; do
        # shellcheck disable=SC2086
        $entry >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT

echo "== build (every import declared in Package.swift; warnings are errors: Package.swift treatAllWarnings)"
if ! swift build --build-tests --explicit-target-dependency-import-check error >"$work/build.log" 2>&1; then
    grep -E 'error:' "$work/build.log" | sort -u | head -n 40
    tail -n 20 "$work/build.log"
    exit 1
fi
grep -E 'warning:|Build complete' "$work/build.log" | grep -v '^ ' | sort -u || true

echo "== start Pebble, BIND and the ACME test double"
scripts/testenv/pebble.sh start "$work/pebble" >/dev/null
started+=("scripts/testenv/pebble.sh stop $work/pebble")
# shellcheck disable=SC1091
source "$work/pebble/env"

scripts/testenv/bind.sh start "$work/bind" 5353 >/dev/null
started+=("scripts/testenv/bind.sh stop $work/bind")
export CERTKEEPER_TEST_BIND_DIR=$work/bind

PEBBLE_DIR=$work/pebble DOUBLE_FLAGS="--single-use-eab --ari" scripts/testenv/acme-double.sh start "$work/double" >/dev/null
started+=("scripts/testenv/acme-double.sh stop $work/double")
# shellcheck disable=SC1091
source "$work/double/env"

# PostgreSQL 15: a throw-away cluster for the store contract tests and PostgresStoreTests (port 15432).
scripts/testenv/postgres.sh start "$work/postgres" 15432 >/dev/null
started+=("scripts/testenv/postgres.sh stop $work/postgres")
# shellcheck disable=SC1091
source "$work/postgres/env"

export CERTKEEPER_TEST_WORK=$work
echo "== swift test"
set +e
swift test --skip-build --xunit-output "$work/swift-test.xml" 2>&1 | tee "$work/swift-test.log"
swift_status=${PIPESTATUS[0]}
# Suites that change process-wide state (umask, signals, environment) or block the whole cooperative pool run alone,
# one test at a time (Tests/TestSupport/IsolatedTests.swift); all of them must have run.
echo "== swift test: isolated suites"
isolated_expected=$(cat Tests/*/*IsolatedTests.swift | grep -c '@Test')
CERTKEEPER_ISOLATED_TESTS=1 swift test --skip-build --no-parallel --filter 'IsolatedTests' 2>&1 |
    tee "$work/swift-test-isolated.log" | grep -E '✘|Test run with'
isolated_status=${PIPESTATUS[0]}
if ! grep -q "Test run with $isolated_expected tests in .* passed" "$work/swift-test-isolated.log"; then
    echo "the isolated suites did not run and pass all of their $isolated_expected tests"
    isolated_status=1
fi
[[ $isolated_status -eq 0 ]] || swift_status=1
set -e

# The Pebble, BIND, RFC 2136 and PostgreSQL suites run only when the servers above are in their environment (.enabled(if:)).
# Count the tests of each that ran (not skipped) in the xUnit report; under CI (CI=true) a zero count, or any test
# skipped for want of a CERTKEEPER_TEST_* variable, fails the run.
echo "== integration tests that ran"
integration_status=0
python3 - "$work/swift-test-swift-testing.xml" "${CI:-}" <<'PY' || integration_status=1
import sys
import xml.etree.ElementTree as ET

report, ci = sys.argv[1], sys.argv[2] == "true"
suites = {"Pebble": "PebbleIntegrationTests", "BIND": "BINDIntegrationTests", "RFC 2136": "DNS01RFC2136SolverTests",
          "PostgreSQL": "PostgresStoreTests"}
try:
    cases = list(ET.parse(report).getroot().iter("testcase"))
except (OSError, ET.ParseError) as error:
    print(f"no xUnit report from swift test: {error}")
    sys.exit(1 if ci else 0)
ran = {label: 0 for label in suites}
gated_skips = []
for case in cases:
    skipped = case.find("skipped")
    if skipped is not None:
        if "CERTKEEPER_TEST_" in (skipped.text or ""):
            gated_skips.append(f"{case.get('classname')}.{case.get('name')}: {skipped.text}")
        continue
    for label, suite in suites.items():
        if suite in case.get("classname", "").split("."):
            ran[label] += 1
print("integration tests run: " + ", ".join(f"{label} {count}" for label, count in ran.items()))
for skip in gated_skips:
    print(f"skipped for a missing test environment: {skip}")
zero = [label for label, count in ran.items() if count == 0]
if zero or gated_skips:
    print(("FAIL (CI): " if ci else "warning: ") + "no " + ", ".join(zero) + " integration test ran" if zero else
          ("FAIL (CI): " if ci else "warning: ") + f"{len(gated_skips)} test(s) skipped for a missing environment")
    sys.exit(1 if ci else 0)
PY

# The end-to-end scenarios start their own servers (some on the default ports used above).
cleanup
started=()

# The ACME test double's own self-test (its own Pebble and doubles, ports in scripts/testenv/test-acme-double.sh).
echo "== ACME test double self-test"
double_status=0
bash scripts/testenv/test-acme-double.sh "$work/acme-double-selftest" >"$work/acme-double-selftest.log" 2>&1 ||
    double_status=$?
grep -E '^(FAIL|test-acme-double:)' "$work/acme-double-selftest.log" || tail -n 20 "$work/acme-double-selftest.log"

echo "== end-to-end"
passed=0
failed=0
shopt -s nullglob
for script in scripts/e2e/*.sh; do
    name=$(basename "$script" .sh)
    echo "-- $name"
    if bash "$script" "$work/e2e-$name" >"$work/e2e-$name.log" 2>&1; then
        passed=$((passed + 1))
        echo "   ok"
    else
        failed=$((failed + 1))
        echo "   FAILED (log: $work/e2e-$name.log)"
        tail -n 40 "$work/e2e-$name.log" | sed 's/^/   | /'
    fi
done
echo "end-to-end: $passed passed, $failed failed"

# -- fuzzing: bounded libFuzzer runs of the Fuzz/ targets (scripts/fuzz.sh); a crash, leak or timeout fails the run.
echo "== fuzz"
fuzz_status=0
bash scripts/fuzz.sh >"$work/fuzz.log" 2>&1 || fuzz_status=$?
grep -E '^(-- |   |fuzz: )' "$work/fuzz.log" || tail -n 20 "$work/fuzz.log"
# -- end of fuzzing

if [[ $swift_status -ne 0 || $failed -ne 0 || $fuzz_status -ne 0 || $integration_status -ne 0 || $double_status -ne 0 ]]; then
    echo "swift test exit status: $swift_status, fuzz exit status: $fuzz_status (log: $work/fuzz.log)"
    echo "integration counts: $integration_status, test double self-test: $double_status (log: $work/acme-double-selftest.log)"
    exit 1
fi
