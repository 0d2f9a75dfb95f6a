#!/usr/bin/env bash
# End-to-end: `certkeeper revoke` and `certkeeper delete` (issue 14) against a real Pebble, with and without a
# running daemon:
#
#  a. revoke r1 --reason keyCompromise while the daemon runs: Pebble reports the serial revoked with reason 1, signed
#     with the certificate's own key (as Let's Encrypt requires for that reason), and the daemon replaces it at once;
#  b. bad input: an unknown reason, an unknown name, delete of a name whose spec exists or that the running daemon
#     still manages (spec removed, no reload yet): each refused with what to do, nothing changed;
#  c. delete r2 --revoke after its spec is gone and the daemon reloaded: revoked at Pebble, its state, live/r2 and
#     archive/r2 removed; deleting it again says nothing is stored;
#  d. `renew r1 --force --wait` prints the order's progress (started, order created, authorizations valid,
#     finalized, installed) and exits 0; for a spec whose webroot nobody serves it prints the failure and exits 1;
#  e. revoke without a daemon, run as root on a state directory that belongs to another user (as under the shipped
#     unit): revoked with the account key, the state records it, and `run --once` replaces it; everything written
#     stays the directory owner's.
#
# Usage: scripts/e2e/revoke.sh WORKDIR   (root; Pebble 14140/15140, challtestsrv 8195/8193, http-01 5142,
#        tls-alpn 5141, on 127.0.0.1)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper

export PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0
rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run}
work=$(cd "$work" && pwd)
export RUNTIME_DIRECTORY=$work/run
daemon_pid=
cleanup() {
    stop_pid "$daemon_pid"
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1 || true
}
trap cleanup EXIT
show_context() { tail -n 20 "$work/daemon.log" 2>/dev/null; cat "$work/last.err" 2>/dev/null; }
start_pebble_at 140 "$work/pebble" "$work/pebble-start.log"
write_main_config "$work/etc" pebble "$CERTKEEPER_TEST_ACME_DIRECTORY" "$CERTKEEPER_TEST_ACME_TLS_ROOTS" revoke@example.com
write_specs "$work/etc" 2 r r.revoke.test "127.0.0.1:$PEBBLE_HTTP_PORT"
dirs=(--config-dir "$work/etc" --state-dir "$work/state")

serial() { openssl x509 -noout -serial -in "$work/state/live/$1/cert.pem" | cut -d= -f2; }
# pebble_status SERIAL: Pebble's management API view of a certificate ("Valid" or "Revoked", then the reason).
pebble_status() {
    local hex
    hex=$(tr 'A-F' 'a-f' <<<"$1" | sed 's/^0*//')
    curl -sk "https://127.0.0.1:$PEBBLE_MGMT_PORT/cert-status-by-serial/$hex" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Status"), d.get("Reason"))'
}
# ck ARGS...: certkeeper ARGS with output in $work/last.out and $work/last.err and the exit status in $status.
ck() {
    set +e
    "$bin" "$@" >"$work/last.out" 2>"$work/last.err"
    status=$?
    set -e
}

start_daemon() {
    "$bin" run "${dirs[@]}" >>"$work/daemon.log" 2>&1 &
    daemon_pid=$!
    wait_for "the control socket" 60 test -S "$work/run/control.sock" || fail "the daemon did not start"
}
start_daemon
installed() { [[ -s $work/state/live/r1/cert.pem && -s $work/state/live/r2/cert.pem ]]; }
wait_for "two certificates installed" 120 installed || fail "the daemon did not install r1 and r2"

echo "== a. revoke r1 while the daemon runs"
old=$(serial r1)
[[ $(pebble_status "$old") == "Valid None" ]] || fail "Pebble does not list r1's serial $old as valid: $(pebble_status "$old")"
ck revoke r1 --reason keyCompromise "${dirs[@]}"
[[ $status -eq 0 ]] || fail "revoke r1 exited $status: $(cat "$work/last.err")"
cat "$work/last.out"
grep -q "^r1: certificate .* revoked (keyCompromise) at .*, signed with the certificate.s own key" "$work/last.out" ||
    fail "a keyCompromise revocation was not signed with the certificate key"
[[ $(pebble_status "$old") == "Revoked 1" ]] || fail "Pebble says '$(pebble_status "$old")' for $old, not Revoked 1"
replaced() { [[ $(serial r1) != "$old" ]]; }
wait_for "the daemon to replace r1" 60 replaced || fail "the daemon did not replace the revoked r1"
[[ $(pebble_status "$(serial r1)") == "Valid None" ]] || fail "r1's new certificate is not valid at Pebble"
echo "ok: $old revoked (reason 1) at Pebble; replaced by $(serial r1)"

echo "== b. bad input is refused, nothing changes"
ck revoke r2 --reason bogus "${dirs[@]}"
[[ $status -ne 0 ]] && grep -q "unknown reason 'bogus'; use one of unspecified, keyCompromise" "$work/last.err" ||
    fail "an unknown reason was not refused with the list of reasons"
ck revoke nosuch "${dirs[@]}"
[[ $status -ne 0 ]] && grep -q "no certificate 'nosuch' in $work/etc/certs.d (known: r1, r2)" "$work/last.err" ||
    fail "an unknown name was not refused with the known names"
ck delete r2 "${dirs[@]}"
[[ $status -ne 0 ]] && grep -q "certs.d/r2.toml still exists: remove it, run \`systemctl reload certkeeper\`" "$work/last.err" ||
    fail "delete of a configured certificate was not refused"
mv "$work/etc/certs.d/r2.toml" "$work/r2.toml.removed"
ck delete r2 "${dirs[@]}"
[[ $status -ne 0 ]] && grep -q "the running daemon still manages r2" "$work/last.err" ||
    fail "delete of a certificate the running daemon still manages was not refused"
[[ -s $work/state/live/r2/cert.pem && -s $work/state/certs/r2/state.json ]] || fail "a refused delete removed files"
[[ $(pebble_status "$(serial r2)") == "Valid None" ]] || fail "a refused delete revoked r2"
echo "ok: unknown reason, unknown name, configured spec, not reloaded: refused"

echo "== c. delete r2 --revoke after the spec is gone and the daemon reloaded"
"$bin" reload >/dev/null || fail "reload after removing r2's spec failed"
r2_serial=$(serial r2)
ck delete r2 --revoke "${dirs[@]}"
[[ $status -eq 0 ]] || fail "delete r2 --revoke exited $status: $(cat "$work/last.err")"
cat "$work/last.out"
[[ $(pebble_status "$r2_serial") == "Revoked 5" ]] || fail "Pebble says '$(pebble_status "$r2_serial")' for r2, not Revoked 5"
for path in "certs/r2" "live/r2" "archive/r2"; do
    [[ ! -e $work/state/$path && ! -L $work/state/$path ]] || fail "delete left $path"
    grep -q "^removed $work/state/$path$" "$work/last.out" || fail "delete did not report removing $path"
done
[[ -s $work/state/live/r1/cert.pem ]] || fail "delete r2 touched r1"
ck delete r2 "${dirs[@]}"
[[ $status -ne 0 ]] && grep -q "nothing is stored for 'r2'" "$work/last.err" || fail "a second delete did not say nothing is stored"
echo "ok: revoked (reason 5), state, live and archive removed; a second delete finds nothing"

echo "== d. renew --wait reports the attempt and its outcome"
before=$(serial r1)
ck renew r1 --force --wait
[[ $status -eq 0 ]] || fail "renew r1 --force --wait exited $status: $(cat "$work/last.err")"
cat "$work/last.out"
for line in "r1: renewal of r1 scheduled now (forced)" "r1: attempt started (forced)" "r1: order created: https://127.0.0.1:14140/" \
    "r1: authorizations valid (1)" "r1: order finalized, certificate issued" "r1: installed at $work/state/live/r1/fullchain.pem"; do
    grep -qF "$line" "$work/last.out" || fail "renew --wait did not print '$line'"
done
[[ $(serial r1) != "$before" ]] || fail "renew --wait exited 0 but r1 was not replaced"
printf 'domains = ["bad.revoke.test"]\n[challenge]\ntype = "http-01"\nwebroot = "%s"\n' "$work" >"$work/etc/certs.d/bad.toml"
"$bin" reload >/dev/null || fail "reload with the bad spec failed"
ck renew bad --force --wait
[[ $status -eq 1 ]] || fail "renew bad --wait exited $status, not 1"
grep -q "^bad: failed: http-01 validation of bad.revoke.test failed" "$work/last.out" || fail "renew --wait printed no failure line"
grep -q "certkeeper: bad: renewal failed: http-01 validation" "$work/last.err" || fail "renew --wait did not end with the error"
rm "$work/etc/certs.d/bad.toml"
"$bin" reload >/dev/null || fail "reload without the bad spec failed"
echo "ok: progress lines and exit 0 for r1; the failure and exit 1 for bad"

echo "== e. revoke without a daemon, then run --once replaces it"
stop_pid "$daemon_pid"
daemon_pid=
old=$(serial r1)
chown -R daemon:daemon "$work/state"
ck revoke r1 "${dirs[@]}"
[[ $status -eq 0 ]] || fail "revoke without a daemon exited $status: $(cat "$work/last.err")"
grep -q "^r1: certificate .* revoked (unspecified) at .*, signed with account " "$work/last.out" ||
    fail "revoke did not sign with the account key"
grep -q "no daemon answered on $work/run/control.sock" "$work/last.out" || fail "revoke did not say no daemon answered"
[[ $(pebble_status "$old") == "Revoked 0" ]] || fail "Pebble says '$(pebble_status "$old")' for $old, not Revoked 0"
grep -q "\"revokedSerial\"" "$work/state/certs/r1/state.json" || fail "the state does not record the revocation"
ck run --once "${dirs[@]}"
[[ $status -eq 0 ]] || fail "run --once after the revocation exited $status: $(cat "$work/last.out")"
grep -q '^r1: ok; ' "$work/last.out" || fail "run --once did not replace r1: $(cat "$work/last.out")"
[[ $(serial r1) != "$old" ]] || fail "r1 still has the revoked certificate"
not_theirs=$(find "$work/state" ! -user daemon)
[[ -z $not_theirs ]] || fail "revoke or run --once as root left files the state directory's owner does not own: $not_theirs"
echo "ok: revoked without a daemon; run --once installed $(serial r1)"
echo "revoke: all checks passed"
