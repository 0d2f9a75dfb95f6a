#!/usr/bin/env bash
# End-to-end: `certkeeper run --once` (issue 14), as cron, a systemd timer, a container or CI uses it, against a real
# Pebble:
#
#  a. three new certificates: one run issues and installs all three, prints one line each and exits 0;
#  b. run again: nothing is due, nothing is sent to the CA beyond the directory, the files stay, exit 0;
#  c. --force: every certificate is renewed (new serials), exit 0;
#  d. a spec whose http-01 webroot nobody serves: that run exits 1 and names it FAILED with the CA's error, the
#     others are "not due"; the next run still exits 1 (the certificate is still failing, attempted again or
#     waiting on its back-off); with the spec removed the run exits 0 again;
#  e. --force without --once is refused with a hint.
#
# Usage: scripts/e2e/oneshot.sh WORKDIR   (root; Pebble block 1: 14100/15100, challtestsrv 8155/8153,
#        http-01 5102, tls-alpn 5101)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper

export PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0
rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,webroot}
work=$(cd "$work" && pwd)
cleanup() { scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1 || true; }
trap cleanup EXIT
start_pebble_at 100 "$work/pebble" "$work/pebble-start.log"
show_context() { tail -n 30 "$work/last.err" 2>/dev/null; }

write_main_config "$work/etc" pebble "$CERTKEEPER_TEST_ACME_DIRECTORY" "$CERTKEEPER_TEST_ACME_TLS_ROOTS" once@example.com
write_specs "$work/etc" 3 ok ok.oneshot.test "127.0.0.1:$PEBBLE_HTTP_PORT"

# once [ARGS...]: runs `certkeeper run --once ARGS`; its report in $work/last.out, its log in $work/last.err, its
# exit status in $status.
once() {
    set +e
    "$bin" run --once --config-dir "$work/etc" --state-dir "$work/state" "$@" >"$work/last.out" 2>"$work/last.err"
    status=$?
    set -e
    sed 's/^/   | /' "$work/last.out"
}
requests() { grep -c -- '-> calling handler()' "$work/pebble/pebble.log" || true; }
serials() {
    local i
    for i in 1 2 3; do openssl x509 -noout -serial -in "$work/state/live/ok$i/cert.pem"; done
}

echo "== a. three new certificates in one run"
once
[[ $status -eq 0 ]] || fail "run --once exited $status issuing three certificates"
for i in 1 2 3; do
    grep -q "^ok$i: ok; next check " "$work/last.out" || fail "no 'ok$i: ok' line"
    openssl verify -CAfile "$CERTKEEPER_TEST_PEBBLE_ROOTS" -untrusted "$work/state/live/ok$i/fullchain.pem" \
        "$work/state/live/ok$i/cert.pem" >/dev/null || fail "ok$i's chain does not verify"
done
grep -q '^3 certificate(s): 3 attempted, 0 failing$' "$work/last.out" || fail "wrong summary line"
echo "ok: three issued, installed and verified; exit 0"
first_serials=$(serials)

echo "== b. nothing due"
before=$(requests)
once
[[ $status -eq 0 ]] || fail "run --once exited $status with nothing due"
grep -q '^3 certificate(s): 0 attempted, 0 failing$' "$work/last.out" || fail "a run with nothing due attempted something"
sent=$(($(requests) - before))
((sent == 0)) || fail "a run with nothing due sent $sent ACME requests"
[[ $(serials) == "$first_serials" ]] || fail "a run with nothing due changed an installed certificate"
echo "ok: 0 attempted, $sent ACME requests, certificates unchanged; exit 0"

echo "== c. --force renews every certificate"
once --force
[[ $status -eq 0 ]] || fail "run --once --force exited $status"
grep -q '^3 certificate(s): 3 attempted, 0 failing$' "$work/last.out" || fail "--force did not attempt all three"
new_serials=$(serials)
for i in 1 2 3; do
    [[ $(sed -n "${i}p" <<<"$new_serials") != $(sed -n "${i}p" <<<"$first_serials") ]] || fail "ok$i was not renewed"
done
echo "ok: three new serials; exit 0"

echo "== d. a certificate that cannot be validated fails the run, and every run after it until it is fixed"
printf 'domains = ["bad.oneshot.test"]\n[challenge]\ntype = "http-01"\nwebroot = "%s"\n' "$work/webroot" \
    >"$work/etc/certs.d/bad.toml"
once
[[ $status -eq 1 ]] || fail "run --once exited $status with a certificate that cannot be validated (want 1)"
grep -q '^bad: FAILED (1 in a row): http-01 validation of bad.oneshot.test failed' "$work/last.out" || fail "no FAILED line with the CA's error for bad"
grep -q '^ok1: not due' "$work/last.out" || fail "ok1 is not reported as not due"
grep -q '^4 certificate(s): 1 attempted, 1 failing' "$work/last.out" || fail "wrong summary line"
echo "ok: exit 1, bad FAILED with the CA's error"
once
[[ $status -eq 1 ]] || fail "the run after a failure exited $status while bad still fails (want 1)"
grep -qE '^bad: (FAILED \(2 in a row\)|FAILING, not retried before)' "$work/last.out" || fail "bad is not reported failing"
echo "ok: still exit 1 on the next run"
rm "$work/etc/certs.d/bad.toml"
once
[[ $status -eq 0 ]] || fail "run --once exited $status after the failing spec was removed"
echo "ok: exit 0 once the failing spec is gone"

echo "== e. --force without --once"
set +e
"$bin" run --force --config-dir "$work/etc" --state-dir "$work/state" >/dev/null 2>"$work/force.err"
status=$?
set -e
[[ $status -ne 0 ]] && grep -q -- '--force goes with --once' "$work/force.err" || fail "run --force without --once was not refused"
echo "ok: refused (exit $status)"
echo "oneshot: all checks passed"
