#!/usr/bin/env bash
# End to end (issue 16): dns-01 through DNS provider APIs, each issuing a wildcard plus apex certificate from Pebble,
# whose DNS is a real PowerDNS Authoritative server:
#
#   a. provider = "powerdns" against PowerDNS itself (HTTP API, sqlite3 backend), zone pdns.test;
#   b. provider = "route53" against moto's Route 53 emulator (PyPI moto[server]), behind a double that checks every
#      request's AWS SigV4 signature with botocore, reports each change PENDING once (the client must wait for
#      INSYNC) and copies TXT changes into PowerDNS zone r53.test;
#   c. provider = "cloudflare" against a Cloudflare API v4 double (scripts/testenv/dns_api_doubles.py) that copies
#      TXT records into PowerDNS zone cf.test.
#   For each: the certificate holds exactly both names; an unrelated TXT record planted at the challenge name before
#   survives while the challenge records are gone afterwards.
#   g. CNAME delegation across providers: _acme-challenge.alias.pdns.test (PowerDNS) is a CNAME to alias.cf.test;
#      the spec's provider is Cloudflare (a token for cf.test only): the records are created at alias.cf.test.
#   d. a wrong credential for each provider: the failure names the provider, the API, the zone or record and what to
#      check (status --json and the log), and the secret appears nowhere in the log or status.
#   e. `certkeeper check` reports a missing api_url, plain http to a remote API, an unreadable key file and a Route 53
#      key id without its secret at FILE:LINE:COLUMN.
#
# Usage: scripts/e2e/dns-providers.sh WORKDIR   (root; Pebble 14180/15180 with http 5182, tls 5181, challtestsrv
#        off; PowerDNS DNS 14185, API 14186; moto 14187; Route 53 double 14188; Cloudflare double 14189; 127.0.0.1)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
echo "== building certkeeper"
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper

rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run,secrets,bad/certs.d}
work=$(cd "$work" && pwd)
export RUNTIME_DIRECTORY=$work/run
daemon_pid=
r53_pid=
cf_pid=
cleanup() {
    set +e
    stop_pid "$daemon_pid"
    stop_pid "$r53_pid"
    stop_pid "$cf_pid"
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1
    scripts/testenv/moto.sh stop "$work/moto" >/dev/null 2>&1
    scripts/testenv/pdns.sh stop "$work/pdns" >/dev/null 2>&1
}
trap cleanup EXIT
show_context() {
    tail -n 30 "$work/daemon.log" 2>/dev/null
    tail -n 5 "$work"/*-double.out 2>/dev/null
}

echo "== PowerDNS (DNS 127.0.0.1:14185, API 14186), moto (14187), the Route 53 (14188) and Cloudflare (14189) doubles"
PDNS_EXTRA_ZONES="r53.test cf.test" scripts/testenv/pdns.sh start "$work/pdns" 14185 14186
# shellcheck disable=SC1091
source "$work/pdns/env"
scripts/testenv/moto.sh start "$work/moto" 14187
# shellcheck disable=SC1091
source "$work/moto/env"
pdns_key=$(cat "$PDNS_API_KEY_FILE")

# Route 53 credentials: the double knows this key pair; the daemon reads it from files.
key_id="AKIA$(openssl rand -hex 8 | tr 'a-f' 'A-F')"
aws_secret=$(openssl rand -base64 30 | tr -d '/+=')
printf '%s %s\n' "$key_id" "$aws_secret" >"$work/secrets/r53-known"
(umask 077 && printf '%s\n' "$key_id" >"$work/secrets/aws-key-id" && printf '%s\n' "$aws_secret" >"$work/secrets/aws-secret")
cf_token=$(openssl rand -hex 20)
(umask 077 && printf '%s\n' "$cf_token" >"$work/secrets/cf-token" && cp "$PDNS_API_KEY_FILE" "$work/secrets/pdns-key")
# Wrong ones, of the right shapes.
wrong_pdns=$(openssl rand -hex 24)
wrong_aws=$(openssl rand -base64 30 | tr -d '/+=')
wrong_cf=$(openssl rand -hex 20)
(umask 077 && printf '%s\n' "$wrong_pdns" >"$work/secrets/pdns-wrong" && printf '%s\n' "$wrong_aws" >"$work/secrets/aws-wrong" &&
    printf '%s\n' "$wrong_cf" >"$work/secrets/cf-wrong")

"$MOTO_PYTHON" scripts/testenv/dns_api_doubles.py route53 --port 14188 --upstream "$MOTO_URL" \
    --credentials "$work/secrets/r53-known" --pdns-url "$PDNS_API_URL" --pdns-key-file "$PDNS_API_KEY_FILE" \
    --log "$work/r53-requests.jsonl" >"$work/r53-double.out" 2>&1 &
r53_pid=$!
python3 scripts/testenv/dns_api_doubles.py cloudflare --port 14189 --token-file "$work/secrets/cf-token" \
    --zone cf.test --zone-id-file "$work/cf-zone-id" --pdns-url "$PDNS_API_URL" \
    --pdns-key-file "$PDNS_API_KEY_FILE" --log "$work/cf-requests.jsonl" >"$work/cf-double.out" 2>&1 &
cf_pid=$!
wait_for "the Route 53 double" 40 curl -s -o /dev/null http://127.0.0.1:14188/ || fail "the Route 53 double did not start"
wait_for "the Cloudflare double" 40 curl -s -o /dev/null http://127.0.0.1:14189/ || fail "the Cloudflare double did not start"

# The hosted zone r53.test in moto, and the unrelated TXT records planted at each challenge name (through the APIs,
# so the doubles copy them into PowerDNS too).
"$MOTO_PYTHON" - "$key_id" "$aws_secret" <<'PY'
import sys, boto3
client = boto3.client("route53", endpoint_url="http://127.0.0.1:14188", region_name="us-east-1",
                      aws_access_key_id=sys.argv[1], aws_secret_access_key=sys.argv[2])
zone = client.create_hosted_zone(Name="r53.test.", CallerReference="certkeeper-e2e")["HostedZone"]["Id"]
client.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT",
    "ResourceRecordSet": {"Name": "_acme-challenge.r53.test.", "Type": "TXT", "TTL": 60,
                          "ResourceRecords": [{"Value": '"keep-me"'}]}}]})
PY
curl -fsS -H "X-API-Key: $pdns_key" -H 'Content-Type: application/json' -X PATCH \
    "$PDNS_API_URL/api/v1/servers/localhost/zones/pdns.test." -d @- <<'JSON'
{"rrsets": [{"name": "_acme-challenge.pdns.test.", "type": "TXT", "ttl": 60, "changetype": "REPLACE",
             "records": [{"content": "\"keep-me\"", "disabled": false}]}]}
JSON
curl -fsS -o /dev/null -H "Authorization: Bearer $cf_token" -H 'Content-Type: application/json' -X POST \
    "http://127.0.0.1:14189/client/v4/zones/$(cat "$work/cf-zone-id")/dns_records" \
    -d '{"type": "TXT", "name": "_acme-challenge.cf.test", "content": "keep-me", "ttl": 60}'
# g. The alias for CNAME delegation, in PowerDNS's pdns.test zone.
curl -fsS -H "X-API-Key: $pdns_key" -H 'Content-Type: application/json' -X PATCH \
    "$PDNS_API_URL/api/v1/servers/localhost/zones/pdns.test." -d @- <<'JSON'
{"rrsets": [{"name": "_acme-challenge.alias.pdns.test.", "type": "CNAME", "ttl": 60, "changetype": "REPLACE",
             "records": [{"content": "alias.cf.test.", "disabled": false}]}]}
JSON
dig_txt() { dig @127.0.0.1 -p 14185 +short +norecurse +time=2 +tries=1 TXT "$1" | sort | tr '\n' ' '; }
for zone in pdns.test r53.test cf.test; do
    check "unrelated TXT record planted at _acme-challenge.$zone" test "$(dig_txt "_acme-challenge.$zone")" = '"keep-me" '
done

echo "== Pebble on 127.0.0.1:14180 resolving through PowerDNS"
PEBBLE_DNS=127.0.0.1:14185 PEBBLE_CHALLTESTSRV=0 PEBBLE_AUTHZREUSE=0 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
    start_pebble_at 180 "$work/pebble" "$work/pebble-start.log"
write_main_config "$work/etc" pebble "$CERTKEEPER_TEST_ACME_DIRECTORY" "$CERTKEEPER_TEST_ACME_TLS_ROOTS" dns@example.com

# spec NAME ZONE PROVIDER-SETTINGS: a wildcard plus apex spec for ZONE (or one name under it for the bad ones).
spec() {
    local name=$1 domains=$2 settings=$3
    cat >"$work/etc/certs.d/$name.toml" <<TOML
domains = $domains
[challenge]
type = "dns-01"
$settings
propagation_servers = ["127.0.0.1:14185"]
propagation_timeout = "30s"
TOML
}
powerdns() { printf 'provider = "powerdns"\napi_url = "%s"\napi_key_file = "%s"\n' "$PDNS_API_URL" "$1"; }
route53() {
    printf 'provider = "route53"\napi_url = "http://127.0.0.1:14188"\naccess_key_id_file = "%s"\nsecret_access_key_file = "%s"\n' \
        "$work/secrets/aws-key-id" "$1"
}
cloudflare() {
    printf 'provider = "cloudflare"\napi_url = "http://127.0.0.1:14189/client/v4"\napi_token_file = "%s"\n' "$1"
}
spec pd '["pdns.test", "*.pdns.test"]' "$(powerdns "$work/secrets/pdns-key")"
spec r53 '["r53.test", "*.r53.test"]' "$(route53 "$work/secrets/aws-secret")"
spec cf '["cf.test", "*.cf.test"]' "$(cloudflare "$work/secrets/cf-token")"
spec alias '["alias.pdns.test", "*.alias.pdns.test"]' "$(cloudflare "$work/secrets/cf-token")
resolver = \"127.0.0.1:14185\""
spec pd-bad '["bad.pdns.test"]' "$(powerdns "$work/secrets/pdns-wrong")"
spec r53-bad '["bad.r53.test"]' "$(route53 "$work/secrets/aws-wrong")"
spec cf-bad '["bad.cf.test"]' "$(cloudflare "$work/secrets/cf-wrong")"
check "certkeeper check accepts the seven provider specs" "$bin" check --config-dir "$work/etc"

echo "== certkeeper run (log: $work/daemon.log)"
"$bin" run --config-dir "$work/etc" --state-dir "$work/state" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
status_json() { "$bin" status --json --config-dir "$work/etc" --state-dir "$work/state" 2>/dev/null; }
failures_recorded() {
    status_json >"$work/status.poll" || return 1
    python3 - "$work/status.poll" <<'PY'
import json, sys
rows = {c["name"]: c for c in json.load(open(sys.argv[1]))["certificates"]}
sys.exit(0 if all(rows[n]["failureCount"] >= 1 for n in ("pd-bad", "r53-bad", "cf-bad")) else 1)
PY
}
done_all() {
    local name
    for name in pd r53 cf alias; do [[ -s $work/state/live/$name/fullchain.pem ]] || return 1; done
    [[ -s $work/status.json ]] || { failures_recorded && mv "$work/status.poll" "$work/status.json"; }
}
if ! wait_for "three certificates and three failures" 240 done_all; then
    show_context
    fail "the provider certificates (pd r53 cf alias) were not all issued, or the bad ones did not fail"
fi

echo "== a-c. issued through each provider; the challenge records are gone, the planted ones stay"
for pair in pd:pdns.test r53:r53.test cf:cf.test; do
    name=${pair%%:*}
    zone=${pair#*:}
    sans=$(openssl x509 -noout -ext subjectAltName -in "$work/state/live/$name/cert.pem" | tail -n 1 | tr -d ' ')
    check "$name: the certificate names exactly $zone and *.$zone" test "$sans" = "DNS:$zone,DNS:*.$zone"
    # Cleanup runs once each authorization is settled; wait (bounded) until only the planted record is left.
    only_planted() { [[ $(dig_txt "_acme-challenge.$zone") == '"keep-me" ' ]]; }
    wait_for "only the planted TXT at _acme-challenge.$zone" 40 only_planted ||
        fail "$name: TXT at _acme-challenge.$zone is now '$(dig_txt "_acme-challenge.$zone")'"
    echo "ok: $name: only the planted TXT record is left at _acme-challenge.$zone"
done
# The provider's own view, not only DNS: PowerDNS's RRset, moto's RRset (read directly), the Cloudflare double's list.
pdns_values=$(curl -fsS -H "X-API-Key: $pdns_key" "$PDNS_API_URL/api/v1/servers/localhost/zones/pdns.test." |
    python3 -c 'import json,sys; print(sorted(r["content"] for s in json.load(sys.stdin)["rrsets"] if s["type"] == "TXT" and s["name"] == "_acme-challenge.pdns.test." for r in s["records"]))')
check "PowerDNS's RRset holds only the planted value" test "$pdns_values" = "['\"keep-me\"']"
moto_values=$("$MOTO_PYTHON" - "$MOTO_URL" <<'PY'
import sys, boto3
c = boto3.client("route53", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
zone = c.list_hosted_zones_by_name(DNSName="r53.test.")["HostedZones"][0]["Id"]
sets = c.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
print(sorted(r["Value"] for s in sets if s["Type"] == "TXT" and s["Name"] == "_acme-challenge.r53.test." for r in s["ResourceRecords"]))
PY
)
check "moto's Route 53 RRset holds only the planted value" test "$moto_values" = "['\"keep-me\"']"
cf_values=$(curl -fsS -H "Authorization: Bearer $cf_token" \
    "http://127.0.0.1:14189/client/v4/zones/$(cat "$work/cf-zone-id")/dns_records?type=TXT&name=_acme-challenge.cf.test" |
    python3 -c 'import json,sys; print(sorted(r["content"] for r in json.load(sys.stdin)["result"]))')
check "the Cloudflare double holds only the planted record" test "$cf_values" = "['keep-me']"
# Route 53: every change was polled until INSYNC (the double answers PENDING once per change).
r53_counts=$(python3 - "$work/r53-requests.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
changes = sum(1 for r in rows if r["method"] == "POST" and r["path"].endswith("/rrset/") and r["status"] == 200)
polls = sum(1 for r in rows if r["method"] == "GET" and r["path"].startswith("/2013-04-01/change/") and r["status"] == 200)
print(changes, polls)
PY
)
read -r r53_changes r53_polls <<<"$r53_counts"
echo "Route 53 double: $r53_changes changes (1 planted), $r53_polls GetChange polls"
check "route53: 4 changes by certkeeper (2 adds, 2 deletes) plus the planted one" test "$r53_changes" -eq 5
check "route53: each of certkeeper's changes was polled at least twice (PENDING, then INSYNC)" test "$r53_polls" -ge 8

echo "== g. CNAME delegation: PowerDNS alias, Cloudflare writes"
sans=$(openssl x509 -noout -ext subjectAltName -in "$work/state/live/alias/cert.pem" | tail -n 1 | tr -d ' ')
check "alias: the certificate names exactly alias.pdns.test and *.alias.pdns.test" \
    test "$sans" = "DNS:alias.pdns.test,DNS:*.alias.pdns.test"
alias_posts=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) for r in [json.loads(l)] if r["method"] == "POST" and r.get("name") == "alias.cf.test" and r["status"] == 200))' "$work/cf-requests.jsonl")
check "alias: both records were created at alias.cf.test through the Cloudflare API ($alias_posts)" test "$alias_posts" -eq 2
alias_clean() { [[ -z $(dig_txt alias.cf.test) ]]; }
wait_for "nothing left at alias.cf.test" 40 alias_clean || fail "alias: TXT left at alias.cf.test: $(dig_txt alias.cf.test)"
echo "ok: alias: nothing left at alias.cf.test"
check "alias: the CNAME in PowerDNS is unchanged" \
    test "$(dig @127.0.0.1 -p 14185 +short +norecurse CNAME _acme-challenge.alias.pdns.test)" = "alias.cf.test."

echo "== d. wrong credentials"
cp "$work/status.json" "$work/status-failures.json"
python3 - "$work/status.json" <<'PY' || fail "the failures do not say what they should"
import json, sys
rows = {c["name"]: c for c in json.load(open(sys.argv[1]))["certificates"]}
expect = {
    "pd-bad": ["powerdns API at http://127.0.0.1:14186", "HTTP 401", "check api_key_file"],
    "r53-bad": ["route53 API at http://127.0.0.1:14188", "HTTP 403", "SignatureDoesNotMatch",
                "check secret_access_key_file"],
    "cf-bad": ["cloudflare API at http://127.0.0.1:14189/client/v4", "HTTP 403", "Authentication error",
               "check api_token_file"],
}
bad = 0
for name, parts in expect.items():
    error = rows[name].get("lastError") or ""
    print(f"{name}: {error}")
    for part in parts:
        if part not in error:
            print(f"FAIL: {name}'s error lacks {part!r}")
            bad += 1
sys.exit(1 if bad else 0)
PY
echo "ok: each wrong credential is reported with the provider, its API and what to check"
for secret in "$wrong_pdns" "$wrong_aws" "$wrong_cf" "$pdns_key" "$aws_secret" "$cf_token"; do
    if grep -qF -- "$secret" "$work/daemon.log" "$work/status.json"; then
        fail "a secret appears in the daemon log or status"
    fi
done
echo "ok: no API key, AWS secret or token in the log or status"

echo "== e. certkeeper check: provider settings"
cp "$work/etc/certkeeper.toml" "$work/bad/certkeeper.toml"
cat >"$work/bad/certs.d/nourl.toml" <<'TOML'
domains = ["a.pdns.test"]
[challenge]
type = "dns-01"
provider = "powerdns"
api_key_file = "/etc/hostname"
TOML
cat >"$work/bad/certs.d/remotehttp.toml" <<'TOML'
domains = ["b.cf.test"]
[challenge]
type = "dns-01"
provider = "cloudflare"
api_url = "http://dns.example.com/client/v4"
api_token_file = "/etc/hostname"
TOML
cat >"$work/bad/certs.d/missingkey.toml" <<TOML
domains = ["c.pdns.test"]
[challenge]
type = "dns-01"
provider = "powerdns"
api_url = "http://127.0.0.1:8081"
api_key_file = "$work/secrets/does-not-exist"
TOML
cat >"$work/bad/certs.d/halfaws.toml" <<TOML
domains = ["d.r53.test"]
[challenge]
type = "dns-01"
provider = "route53"
access_key_id_file = "$work/secrets/aws-key-id"
TOML
check_rejected "check exits non-zero" "$work/bad" "$work/check-bad.out"
check "nourl.toml: api_url missing, at FILE:LINE:COLUMN" \
    grep -qE 'certs\.d/nourl\.toml:[0-9]+:[0-9]+: .*needs api_url' "$work/check-bad.out"
check "remotehttp.toml: plain http to a remote API refused at the value" \
    grep -qE 'certs\.d/remotehttp\.toml:5:[0-9]+: .*must use https://' "$work/check-bad.out"
check "missingkey.toml: the key file does not exist, at its line" \
    grep -qE 'certs\.d/missingkey\.toml:6:[0-9]+: .*does-not-exist does not exist' "$work/check-bad.out"
check "halfaws.toml: a key id without its secret" \
    grep -qE 'certs\.d/halfaws\.toml:5:[0-9]+: .*needs its secret' "$work/check-bad.out"

echo "dns-providers: all checks passed (${SECONDS}s)"
