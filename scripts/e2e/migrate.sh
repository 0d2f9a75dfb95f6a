#!/usr/bin/env bash
# End to end (issue 17): `certkeeper migrate certbot` with a real certbot (PyPI, in a virtualenv) against Pebble:
#
#   a. certbot creates two lineages: "web" (webroot, two names, ECDSA, a deploy hook) and "solo" (standalone on
#      127.0.0.1, RSA 2048);
#   b. `migrate certbot --dry-run` prints both specs and writes nothing;
#   c. `migrate certbot` writes two specs that `check` accepts and imports certbot's account (onlyReturnExisting);
#   d. the daemon starts and adopts both certificates: zero newAccount and zero newOrder at Pebble;
#   e. `renew NAME --force --wait` renews each at the same paths certbot's web server config names (a new serial in
#      live/NAME/cert.pem), and the migrated deploy hook runs.
#   f. the same with a real lego (Debian): two certificates (webroot; ECDSA with two names, RSA 2048) migrated with
#      `migrate lego --server URL --webroot DIR` into a fresh configuration; check passes, the daemon adopts both with
#      zero newAccount and zero newOrder, and a forced renewal writes lego's certificates/NAME.crt in place.
#
# Usage: scripts/e2e/migrate.sh WORKDIR   (root; Pebble 14260/15260, http-01 5262, tls 5261, challtestsrv 8315/8313,
#        on 127.0.0.1; certbot in /var/cache/certkeeper-test/certbot-venv)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper
venv=${CERTBOT_VENV:-/var/cache/certkeeper-test/certbot-venv}
if [[ $("$venv/bin/certbot" --version 2>/dev/null) != "certbot 5.8.0" ]]; then
    echo "installing certbot into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'certbot==5.8.0' >&2
fi

rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run,www,le,le-work,le-logs}
work=$(cd "$work" && pwd)
export RUNTIME_DIRECTORY=$work/run
daemon_pid=
web_pid=
cleanup() {
    stop_pid "$daemon_pid"
    stop_pid "$web_pid"
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1 || true
}
trap cleanup EXIT
show_context() { tail -n 20 "$work/daemon.log" 2>/dev/null; tail -n 20 "$work/le-logs/letsencrypt.log" 2>/dev/null; }

PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0 start_pebble_at 260 "$work/pebble" "$work/pebble-start.log"
write_main_config "$work/etc" pebble "$CERTKEEPER_TEST_ACME_DIRECTORY" "$CERTKEEPER_TEST_ACME_TLS_ROOTS" mig@example.com

certbot() {
    REQUESTS_CA_BUNDLE=$CERTKEEPER_TEST_ACME_TLS_ROOTS "$venv/bin/certbot" --config-dir "$work/le" \
        --work-dir "$work/le-work" --logs-dir "$work/le-logs" --server "$CERTKEEPER_TEST_ACME_DIRECTORY" \
        --non-interactive --agree-tos -m mig@example.com --no-eff-email "$@"
}
# The web server certbot's webroot (and later certkeeper's) writes into, on Pebble's http-01 port.
python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$PEBBLE_HTTP_PORT" >"$work/www.log" 2>&1 &
web_pid=$!
wait_for "the webroot server" 40 curl -fsS -o /dev/null "http://127.0.0.1:$PEBBLE_HTTP_PORT/" || fail "no web server"

echo "== a. certbot creates two lineages"
certbot certonly --cert-name web --webroot -w "$work/www" -d a.mig.test -d b.mig.test --key-type ecdsa \
    --deploy-hook "echo deployed \$RENEWED_LINEAGE >> $work/hook.log" >"$work/certbot-web.log" 2>&1 ||
    fail "certbot (webroot) failed: $(tail -n 5 "$work/certbot-web.log")"
stop_pid "$web_pid"
web_pid=
certbot certonly --cert-name solo --standalone --http-01-address 127.0.0.1 --http-01-port "$PEBBLE_HTTP_PORT" \
    -d c.mig.test --key-type rsa --rsa-key-size 2048 >"$work/certbot-solo.log" 2>&1 ||
    fail "certbot (standalone) failed: $(tail -n 5 "$work/certbot-solo.log")"
check "certbot wrote two renewal confs" test -s "$work/le/renewal/web.conf" -a -s "$work/le/renewal/solo.conf"
serial() { openssl x509 -noout -serial -in "$work/le/live/$1/cert.pem" | cut -d= -f2; }
web_serial=$(serial web)
solo_serial=$(serial solo)
python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$PEBBLE_HTTP_PORT" >>"$work/www.log" 2>&1 &
web_pid=$!
wait_for "the webroot server" 40 curl -fsS -o /dev/null "http://127.0.0.1:$PEBBLE_HTTP_PORT/" || fail "no web server"

dirs=(--config-dir "$work/etc" --state-dir "$work/state")
echo "== b. migrate --dry-run"
"$bin" migrate certbot --certbot-dir "$work/le" --dry-run "${dirs[@]}" >"$work/dry.out" 2>&1 || fail "dry run failed: $(cat "$work/dry.out")"
check "the dry run shows both specs" bash -c "grep -q 'certs.d/web.toml (would be written)' '$work/dry.out' && grep -q 'certs.d/solo.toml (would be written)' '$work/dry.out'"
check "the dry run wrote nothing" test -z "$(ls "$work/etc/certs.d")"

echo "== c. migrate"
accounts_before=$(grep -c 'POST /sign-me-up' "$work/pebble/pebble.log" || true)
"$bin" migrate certbot --certbot-dir "$work/le" "${dirs[@]}" >"$work/migrate.out" 2>&1 || fail "migrate failed: $(cat "$work/migrate.out")"
cat "$work/migrate.out"
cat "$work/etc/certs.d/web.toml" "$work/etc/certs.d/solo.toml"
check "certkeeper check accepts the migrated specs" "$bin" check --config-dir "$work/etc"
check "web: names, key, webroot, install paths and hook" bash -c "
    grep -q 'domains = \[\"a.mig.test\", \"b.mig.test\"\]' '$work/etc/certs.d/web.toml' &&
    grep -q 'key = \"ecdsa-p256\"' '$work/etc/certs.d/web.toml' && grep -q 'webroot = \"$work/www\"' '$work/etc/certs.d/web.toml' &&
    grep -q 'fullchain = \"$work/le/live/web/fullchain.pem\"' '$work/etc/certs.d/web.toml' &&
    grep -q 'run = \[\[\"/bin/sh\", \"-c\"' '$work/etc/certs.d/web.toml'"
check "solo: RSA 2048 on the built-in responder at 127.0.0.1:$PEBBLE_HTTP_PORT" bash -c "
    grep -q 'key = \"rsa-2048\"' '$work/etc/certs.d/solo.toml' && grep -q 'listen = \"127.0.0.1:$PEBBLE_HTTP_PORT\"' '$work/etc/certs.d/solo.toml'"
check "the account was looked up once (onlyReturnExisting)" \
    test "$(grep -c 'POST /sign-me-up' "$work/pebble/pebble.log")" -eq $((accounts_before + 1))
certbot_account=$(python3 -c 'import glob, json, sys; print(json.load(open(glob.glob(sys.argv[1] + "/accounts/*/*/*/regr.json")[0]))["uri"])' "$work/le")
check "the imported account is certbot's ($certbot_account), not a new one" grep -qF "imported $certbot_account as account" "$work/migrate.out"
"$bin" migrate certbot --certbot-dir "$work/le" "${dirs[@]}" >"$work/migrate-again.out" 2>&1 ||
    fail "a second migrate failed: $(cat "$work/migrate-again.out")"
check "a second migrate changes nothing and says so" bash -c "
    grep -qF '$certbot_account is already certkeeper' '$work/migrate-again.out' &&
    test \$(grep -c 'exists; left as it is' '$work/migrate-again.out') -eq 2"

echo "== d. the daemon adopts both: no newAccount, no newOrder"
accounts=$(grep -c 'POST /sign-me-up' "$work/pebble/pebble.log" || true)
orders=$(grep -c 'POST /order-plz' "$work/pebble/pebble.log" || true)
"$bin" run "${dirs[@]}" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
wait_for "the control socket" 60 test -S "$work/run/control.sock" || fail "the daemon did not start"
adopted() { [[ $(grep -c 'adopted the installed certificate' "$work/daemon.log") -eq 2 ]]; }
wait_for "both certificates adopted" 60 adopted || fail "the daemon did not adopt both certificates"
check "no newAccount since the migration" test "$(grep -c 'POST /sign-me-up' "$work/pebble/pebble.log")" -eq "$accounts"
check "no newOrder since the migration" test "$(grep -c 'POST /order-plz' "$work/pebble/pebble.log")" -eq "$orders"
check "certbot's certificates are untouched" test "$(serial web)" = "$web_serial" -a "$(serial solo)" = "$solo_serial"

echo "== e. renewed at the same paths"
# solo answers with certkeeper's own responder on the port the webroot server holds: stop that server meanwhile.
stop_pid "$web_pid"
web_pid=
"$bin" renew solo --force --wait >"$work/renew-solo.out" 2>&1 || fail "renew solo: $(cat "$work/renew-solo.out")"
python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$PEBBLE_HTTP_PORT" >>"$work/www.log" 2>&1 &
web_pid=$!
wait_for "the webroot server" 40 curl -fsS -o /dev/null "http://127.0.0.1:$PEBBLE_HTTP_PORT/" || fail "no web server"
"$bin" renew web --force --wait >"$work/renew-web.out" 2>&1 || fail "renew web: $(cat "$work/renew-web.out")"
check "solo: a new certificate at $work/le/live/solo/cert.pem" test "$(serial solo)" != "$solo_serial"
check "web: a new certificate at $work/le/live/web/cert.pem" test "$(serial web)" != "$web_serial"
check "web: the key at live/web/privkey.pem belongs to the new certificate" bash -c "
    test \"\$(openssl pkey -in '$work/le/live/web/privkey.pem' -pubout | sha256sum)\" = \"\$(openssl x509 -in '$work/le/live/web/cert.pem' -noout -pubkey | sha256sum)\""
check "the migrated deploy hook ran with RENEWED_LINEAGE set (certbot's run plus certkeeper's)" \
    test "$(grep -cx "deployed $work/le/live/web" "$work/hook.log")" -eq 2

stop_pid "$daemon_pid"
daemon_pid=

echo "== f. lego"
command -v lego >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lego >/dev/null
lego_run() {
    LEGO_CA_CERTIFICATES=$CERTKEEPER_TEST_ACME_TLS_ROOTS lego --server "$CERTKEEPER_TEST_ACME_DIRECTORY" \
        --email mig@example.com --accept-tos --path "$work/lego" --http --http.webroot "$work/www" "$@" run
}
lego_run --domains d.mig.test --domains e.mig.test --key-type ec256 >"$work/lego-1.log" 2>&1 ||
    fail "lego (two names) failed: $(tail -n 5 "$work/lego-1.log")"
lego_run --domains f.mig.test --key-type rsa2048 >"$work/lego-2.log" 2>&1 ||
    fail "lego (RSA) failed: $(tail -n 5 "$work/lego-2.log")"
lego_serial() { openssl x509 -noout -serial -in "$work/lego/certificates/$1.crt" | cut -d= -f2; }
d_serial=$(lego_serial d.mig.test)
mkdir -p "$work/lego-etc/certs.d" "$work/lego-state" "$work/lego-run"
write_main_config "$work/lego-etc" pebble "$CERTKEEPER_TEST_ACME_DIRECTORY" "$CERTKEEPER_TEST_ACME_TLS_ROOTS" mig@example.com
ldirs=(--config-dir "$work/lego-etc" --state-dir "$work/lego-state")
accounts_before=$(grep -c 'POST /sign-me-up' "$work/pebble/pebble.log" || true)
"$bin" migrate lego --path "$work/lego" --server "$CERTKEEPER_TEST_ACME_DIRECTORY" --webroot "$work/www" "${ldirs[@]}" \
    >"$work/migrate-lego.out" 2>&1 || fail "migrate lego failed: $(cat "$work/migrate-lego.out")"
cat "$work/migrate-lego.out" "$work/lego-etc/certs.d/d.mig.test.toml"
check "lego: check accepts the migrated specs" "$bin" check --config-dir "$work/lego-etc"
check "lego: names, key and install paths" bash -c "
    grep -q 'domains = \[\"d.mig.test\", \"e.mig.test\"\]' '$work/lego-etc/certs.d/d.mig.test.toml' &&
    grep -q 'key = \"ecdsa-p256\"' '$work/lego-etc/certs.d/d.mig.test.toml' &&
    grep -q 'key = \"rsa-2048\"' '$work/lego-etc/certs.d/f.mig.test.toml' &&
    grep -q 'fullchain = \"$work/lego/certificates/d.mig.test.crt\"' '$work/lego-etc/certs.d/d.mig.test.toml'"
check "lego: the account was looked up once (onlyReturnExisting)" \
    test "$(grep -c 'POST /sign-me-up' "$work/pebble/pebble.log")" -eq $((accounts_before + 1))
lego_account=$(python3 -c 'import glob, json, sys; print(json.load(open(glob.glob(sys.argv[1] + "/accounts/*/*/account.json")[0]))["registration"]["uri"])' "$work/lego")
check "lego: the imported account is lego's ($lego_account)" grep -qF "imported $lego_account as account" "$work/migrate-lego.out"
accounts=$(grep -c 'POST /sign-me-up' "$work/pebble/pebble.log" || true)
orders=$(grep -c 'POST /order-plz' "$work/pebble/pebble.log" || true)
RUNTIME_DIRECTORY=$work/lego-run "$bin" run "${ldirs[@]}" >"$work/lego-daemon.log" 2>&1 &
daemon_pid=$!
wait_for "the lego daemon's control socket" 60 test -S "$work/lego-run/control.sock" || fail "the daemon did not start"
lego_adopted() { [[ $(grep -c 'adopted the installed certificate' "$work/lego-daemon.log") -eq 2 ]]; }
wait_for "both lego certificates adopted" 60 lego_adopted || fail "the daemon did not adopt both lego certificates"
check "lego: no newAccount since the migration" test "$(grep -c 'POST /sign-me-up' "$work/pebble/pebble.log")" -eq "$accounts"
check "lego: no newOrder since the migration" test "$(grep -c 'POST /order-plz' "$work/pebble/pebble.log")" -eq "$orders"
RUNTIME_DIRECTORY=$work/lego-run "$bin" renew d.mig.test --force --wait >"$work/renew-lego.out" 2>&1 ||
    fail "renew d.mig.test: $(cat "$work/renew-lego.out")"
check "lego: a new certificate at $work/lego/certificates/d.mig.test.crt" test "$(lego_serial d.mig.test)" != "$d_serial"

echo "migrate: all checks passed (${SECONDS}s)"
