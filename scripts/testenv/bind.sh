#!/usr/bin/env bash
# Test harness: a throwaway BIND 9 primary for example.test on 127.0.0.1, with a TSIG key that may
# add/delete TXT records anywhere in the zone (RFC 2136), for the dns-01 integration tests. Also serves
# v6only.test (its only name server has only an IPv6 address) and delegated.test, the target of CNAME delegation:
# _acme-challenge.cname.example.test and _acme-challenge.cname2.example.test are CNAMEs to cname.delegated.test and
# cname2.delegated.test, and a second key (DELEGATED_KEY_NAME) may update delegated.test only.
#
#   scripts/testenv/bind.sh start DIR PORT   # writes DIR/env (BIND_PORT, TSIG_KEY_NAME, TSIG_SECRET_FILE, ZONE,
#                                            # V6_ZONE, DELEGATED_ZONE, DELEGATED_KEY_NAME, DELEGATED_SECRET_FILE)
#   scripts/testenv/bind.sh stop DIR         # kills only the named started by `start` (PID in DIR/named.launch.pid)
#
# Then: CERTKEEPER_TEST_BIND_DIR=DIR swift test --skip-build --filter DNS
set -euo pipefail
# shellcheck source=scripts/testenv/pidfile.sh
source "$(dirname "$0")/pidfile.sh"

usage() {
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
}

KEY_NAME="certkeeper-test-key"
DELEGATED_KEY_NAME="certkeeper-delegated-key"
ZONE="example.test"
V6_ZONE="v6only.test"
DELEGATED_ZONE="delegated.test"

ensure_bind() {
    if command -v named >/dev/null 2>&1 && command -v tsig-keygen >/dev/null 2>&1 && command -v dig >/dev/null 2>&1; then
        return
    fi
    echo "bind.sh: named/tsig-keygen/dig missing; installing bind9 bind9-dnsutils" >&2
    apt-get install -y bind9 bind9-dnsutils >&2
}

start() {
    local dir="$1" port="$2"
    case "$port" in '' | *[!0-9]*) echo "bind.sh: PORT must be a number, got '$port'" >&2; exit 2 ;; esac
    ensure_bind
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ -f "$dir/named.launch.pid" ] && kill -0 "$(cat "$dir/named.launch.pid")" 2>/dev/null; then
        echo "bind.sh: already running in $dir (PID $(cat "$dir/named.launch.pid")); run '$0 stop $dir' first" >&2
        exit 1
    fi
    mkdir -p "$dir/zones"
    rm -f "$dir/zones/"*.jnl

    tsig-keygen -a hmac-sha256 "$KEY_NAME" >"$dir/tsig.key"
    tsig-keygen -a hmac-sha256 "$DELEGATED_KEY_NAME" >"$dir/delegated.key"
    chmod 600 "$dir/tsig.key" "$dir/delegated.key"

    cat >"$dir/zones/$ZONE.zone" <<ZONEFILE
\$TTL 60
@       IN SOA ns.$ZONE. hostmaster.$ZONE. ( 1 3600 600 86400 60 )
        IN NS  ns.$ZONE.
        IN A   127.0.0.1
ns      IN A   127.0.0.1
*       IN A   127.0.0.1
_acme-challenge.cname  IN CNAME cname.$DELEGATED_ZONE.
_acme-challenge.cname2 IN CNAME cname2.$DELEGATED_ZONE.
_acme-challenge.loop   IN CNAME _acme-challenge.loop.$ZONE.
ZONEFILE

    # The zone challenge records are delegated to (CNAME delegation).
    cat >"$dir/zones/$DELEGATED_ZONE.zone" <<ZONEFILE
\$TTL 60
@       IN SOA ns.$ZONE. hostmaster.$DELEGATED_ZONE. ( 1 3600 600 86400 60 )
        IN NS  ns.$ZONE.
ZONEFILE

    # A zone whose name server has only an IPv6 address (AAAA ::1): propagation checks must ask it over IPv6.
    cat >"$dir/zones/$V6_ZONE.zone" <<ZONEFILE
\$TTL 60
@       IN SOA ns6.$V6_ZONE. hostmaster.$V6_ZONE. ( 1 3600 600 86400 60 )
        IN NS  ns6.$V6_ZONE.
ns6     IN AAAA ::1
ZONEFILE

    # A root server at 127.0.0.254, where nothing listens (a system named binds 127.0.0.1 only): recursion for
    # other names is refused at once and ends in SERVFAIL.
    printf '.\t3600000\tNS\tnowhere.root.\nnowhere.root.\t3600000\tA\t127.0.0.254\n' >"$dir/root.hints"

    cat >"$dir/named.conf" <<CONF
options {
    directory "$dir";
    pid-file "$dir/named.pid";
    session-keyfile "$dir/session.key";
    managed-keys-directory "$dir";
    listen-on port $port { 127.0.0.1; };
    listen-on-v6 port $port { ::1; };
    // Recursion for loopback clients only, so a CNAME into another of these zones is followed (as a CA's
    // recursive resolver would); the zones themselves are answered authoritatively either way.
    // Root hints point nowhere (see root.hints), so a name outside these zones fails at once instead of being
    // looked up on the Internet.
    recursion yes;
    allow-recursion { 127.0.0.1; ::1; };
    dnssec-validation no;
    allow-transfer { none; };
    notify no;
};
controls { };
zone "." { type hint; file "$dir/root.hints"; };
include "$dir/tsig.key";
include "$dir/delegated.key";
zone "$ZONE" {
    type primary;
    file "$dir/zones/$ZONE.zone";
    update-policy { grant $KEY_NAME zonesub TXT; };
};
zone "$DELEGATED_ZONE" {
    type primary;
    file "$dir/zones/$DELEGATED_ZONE.zone";
    update-policy { grant $DELEGATED_KEY_NAME zonesub TXT; grant $KEY_NAME zonesub TXT; };
};
zone "$V6_ZONE" {
    type primary;
    file "$dir/zones/$V6_ZONE.zone";
    update-policy { grant $KEY_NAME zonesub TXT; };
};
CONF

    named -g -c "$dir/named.conf" >"$dir/named.log" 2>&1 &
    echo $! >"$dir/named.launch.pid"

    for _ in $(seq 1 50); do
        if dig @127.0.0.1 -p "$port" "$ZONE" SOA +short +norecurse +time=1 +tries=1 2>/dev/null | grep -q "ns.$ZONE"; then
            cat >"$dir/env" <<ENV
BIND_PORT=$port
TSIG_KEY_NAME=$KEY_NAME
TSIG_SECRET_FILE=$dir/tsig.key
ZONE=$ZONE
V6_ZONE=$V6_ZONE
DELEGATED_ZONE=$DELEGATED_ZONE
DELEGATED_KEY_NAME=$DELEGATED_KEY_NAME
DELEGATED_SECRET_FILE=$dir/delegated.key
ENV
            echo "bind.sh: named PID $(cat "$dir/named.launch.pid") serving $ZONE on 127.0.0.1:$port (env in $dir/env)"
            return 0
        fi
        if ! kill -0 "$(cat "$dir/named.launch.pid")" 2>/dev/null; then
            echo "bind.sh: named exited; log follows ($dir/named.log)" >&2
            cat "$dir/named.log" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "bind.sh: named did not answer SOA $ZONE on 127.0.0.1:$port within 10 s; log: $dir/named.log" >&2
    stop "$dir"
    exit 1
}

stop() {
    local dir="$1"
    if [ ! -f "$dir/named.launch.pid" ]; then
        echo "bind.sh: no $dir/named.launch.pid; nothing to stop" >&2
        return 0
    fi
    stop_one "$dir/named.launch.pid" named
    rm -f "$dir/env"
}

case "${1:-}" in
    start) [ $# -eq 3 ] || usage; start "$2" "$3" ;;
    stop) [ $# -eq 2 ] || usage; stop "$2" ;;
    *) usage ;;
esac
