#!/usr/bin/env bash
# Shared helpers for certkeeper's scripts: system packages, build, waiting.

# Swift comes with the machine at /opt/swift.
if [[ -d /opt/swift/usr/bin && :$PATH: != *:/opt/swift/usr/bin:* ]]; then
    export PATH=/opt/swift/usr/bin:$PATH
fi

# install_packages: the Debian packages the build, the demo and the tests need (idempotent).
install_packages() {
    local wanted=(pebble bind9 bind9-dnsutils systemd-container openssl curl python3 python3-cryptography
        python3-venv scdoc groff-base postgresql pdns-server pdns-backend-sqlite3 squid lego)
    local missing=()
    local pkg
    for pkg in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        echo "installing: ${missing[*]}"
        if [[ $(id -u) -ne 0 ]]; then
            echo "need root to apt-get install ${missing[*]}" >&2
            return 1
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
        # The tests start their own PowerDNS and squid on loopback ports; the packages' units would listen on
        # ports 53 and 3128.
        local unit
        for unit in pdns squid; do
            if [[ -d /run/systemd/system && " ${missing[*]} " == *" ${unit/pdns/pdns-server} "* ]]; then
                systemctl disable --now "$unit.service" >/dev/null 2>&1 || true
            fi
        done
    fi
    command -v swift >/dev/null || { echo "swift is not on PATH (expected /opt/swift/usr/bin)" >&2; return 1; }
}

# wait_for DESCRIPTION TRIES COMMAND...: run COMMAND every 0.5 s until it succeeds, at most TRIES times.
wait_for() {
    local what=$1 tries=$2 i
    shift 2
    for ((i = 0; i < tries; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    echo "timed out waiting for $what" >&2
    return 1
}

# write_main_config ETC_DIR CA_NAME DIRECTORY TLS_ROOTS CONTACT: certkeeper.toml whose default CA is CA_NAME at
# DIRECTORY (trusting TLS_ROOTS), P-256 keys.
write_main_config() {
    mkdir -p "$1/certs.d"
    cat >"$1/certkeeper.toml" <<TOML
[defaults]
ca = "$2"
contact = "$5"
key = "ecdsa-p256"

[ca.$2]
directory = "$3"
trust_roots = "$4"
TOML
}

# write_specs ETC_DIR COUNT PREFIX DOMAIN LISTEN: COUNT single-name http-01 specs PREFIX1..PREFIXCOUNT for
# PREFIXn.DOMAIN on the built-in responder at LISTEN.
write_specs() {
    local i
    for ((i = 1; i <= $2; i++)); do
        printf 'domains = ["%s%s.%s"]\n[challenge]\ntype = "http-01"\nlisten = "%s"\n' "$3" "$i" "$4" "$5" \
            >"$1/certs.d/$3$i.toml"
    done
}

# write_store_config ETC_DIR PG_DIR PORT KEY_FILE NODE HTTP01_ADDRESS [EXTRA_LINES]: appends a [store] on the
# throw-away PostgreSQL of scripts/testenv/postgres.sh (PG_DIR, 127.0.0.1:PORT, no TLS) to ETC_DIR/certkeeper.toml,
# for node NODE answering other nodes' http-01 tokens on HTTP01_ADDRESS; EXTRA_LINES (e.g. 'schema = "x"') follow.
write_store_config() {
    cat >>"$1/certkeeper.toml" <<TOML

[store]
backend = "postgresql"
url = "postgresql://certkeeper@127.0.0.1:$3/certkeeper"
tls = "disable"
password_file = "$2/password"
encryption_key_file = "$4"
node_name = "$5"
http01_address = "$6"
${7:-}
TOML
}

# write_double_config ETC_DIR CONTACT [COUNT PREFIX DOMAIN]: certkeeper.toml whose default CA is the ACME test
# double ($CERTKEEPER_TEST_DOUBLE_DIRECTORY, its TLS roots); with COUNT, also COUNT specs (write_specs) on the
# built-in responder at 127.0.0.1:$PEBBLE_HTTP_PORT.
write_double_config() {
    write_main_config "$1" double "$CERTKEEPER_TEST_DOUBLE_DIRECTORY" "$CERTKEEPER_TEST_DOUBLE_TLS_ROOTS" "$2"
    write_specs "$1" "${3:-0}" "${4:-}" "${5:-}" "127.0.0.1:$PEBBLE_HTTP_PORT"
}

# stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL. Only for processes this script started.
stop_pid() {
    local pid=$1 i
    [[ -n $pid ]] || return 0
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true  # a killed child waits with 128+signal; that is what stopping it means
    return 0
}

# For the end-to-end scenarios. fail MESSAGE: print it, then what the scenario's show_context function prints
# (the end of a daemon log, the journal), if it defines one, and exit 1.
fail() {
    echo "FAIL: $*" >&2
    if declare -F show_context >/dev/null; then show_context >&2; fi
    exit 1
}

# check_rejected DESCRIPTION CONFIG_DIR OUT: `$bin check --config-dir CONFIG_DIR` must exit non-zero (checked as
# DESCRIPTION); its output is written to OUT and shown.
check_rejected() {
    local what=$1 dir=$2 out=$3 status=0
    "$bin" check --config-dir "$dir" >"$out" 2>&1 || status=$?
    cat "$out"
    check "$what" test "$status" -ne 0
}

# check DESCRIPTION COMMAND...: run COMMAND; print "ok: DESCRIPTION (Ns)" or fail with DESCRIPTION.
check() {
    local what=$1
    shift
    if "$@"; then echo "ok: $what (${SECONDS}s)"; else fail "$what"; fi
}

# start_pebble_block N PEBBLE_DIR LOG: starts Pebble (scripts/testenv/pebble.sh) on a port block of its own, so an
# end-to-end scenario can run beside the default one: ACME on 14N00, management 15N00, challtestsrv 8N55 (DNS 8N53),
# http-01 5N02, tls-alpn-01 5N01 (N=6: 14600 ...). Exports the ports and sources Pebble's env file into this shell.
start_pebble_block() {
    start_pebble_at $(($1 * 100)) "$2" "$3"
}

# start_pebble_at OFFSET PEBBLE_DIR LOG: start_pebble_block at any offset below 1000 (blocks are OFFSET = N*100; the
# blocks 0-9 are taken, so newer scenarios use offsets inside block 1: 120 gives 14120, 15120, 8175/8173, 5122/5121).
start_pebble_at() {
    local offset=$1 dir=$2 log=$3
    export PEBBLE_PORT=$((14000 + offset)) PEBBLE_MGMT_PORT=$((15000 + offset)) \
        CHALLTESTSRV_PORT=$((8055 + offset)) CHALLTESTSRV_DNS_PORT=$((8053 + offset)) \
        PEBBLE_HTTP_PORT=$((5002 + offset)) PEBBLE_TLS_PORT=$((5001 + offset))
    scripts/testenv/pebble.sh start "$dir" >"$log" 2>&1 || {
        cat "$log" "$dir"/*.log >&2
        exit 1
    }
    # shellcheck disable=SC1091
    source "$dir/env"
}

# settled DESCRIPTION QUIET MAX COMMAND...: run COMMAND (it prints a value: a counter, a line count) every 0.25 s until
# its output has stayed the same for QUIET seconds, then print that value. Returns 1 when it keeps changing (or COMMAND
# keeps failing) for MAX seconds. For exact counts and "nothing more happened" checks: a bounded quiet period measured
# by the count itself, after waiting for the event that proves the thing being counted happened, never a fixed sleep.
settled() {
    local what=$1 quiet_s=$2 max_s=$3 quiet max start now changed value last
    quiet=$(awk -v s="$quiet_s" 'BEGIN { printf "%d", s * 1000000 }')
    max=$(awk -v s="$max_s" 'BEGIN { printf "%d", s * 1000000 }')
    shift 3
    start=${EPOCHREALTIME/./}
    last=$("$@" 2>/dev/null) || last="<command failed>"
    changed=$start
    while :; do
        sleep 0.25
        now=${EPOCHREALTIME/./}
        value=$("$@" 2>/dev/null) || value="<command failed>"
        if [[ $value != "$last" ]]; then
            last=$value
            changed=$now
        fi
        if ((now - changed >= quiet)) && [[ $last != "<command failed>" ]]; then
            printf '%s\n' "$last"
            return 0
        fi
        if ((now - start >= max)); then
            echo "timed out after $max_s s waiting for $what to stay unchanged for $quiet_s s (last value: $last)" >&2
            return 1
        fi
    done
}

# release_build: builds the release binary the way `make build` and the package do and prints its path: the Swift
# runtime and Foundation linked statically (no libFoundation/ICU mapped), each function in its own section so that the
# link order in link/certkeeper.order applies (Package.swift, Makefile SECTION_FLAGS).
release_flags=(-c release --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections
    -Xcxx -ffunction-sections)
release_build() {
    swift build "${release_flags[@]}" --product certkeeper 2>&1 | tail -n 1 >&2
    echo "$(swift build "${release_flags[@]}" --show-bin-path)/certkeeper"
}

# write_bench_config ETC COUNT PREFIX LISTEN: certkeeper.toml for the Pebble in $CERTKEEPER_TEST_ACME_DIRECTORY and
# COUNT specs PREFIX1..PREFIXCOUNT for PREFIXi.PREFIX.bench.test on the built-in responder at LISTEN (benchmarks).
write_bench_config() {
    write_main_config "$1" pebble "$CERTKEEPER_TEST_ACME_DIRECTORY" "$CERTKEEPER_TEST_ACME_TLS_ROOTS" bench@example.com
    write_specs "$1" "$2" "$3" "$3.bench.test" "$4"
}

# dispatch_threads PID: the names of PID's libdispatch threads (its workers are named after their root queue,
# "com.apple.root.default-qos.overcommit" and the like, of which the kernel keeps 15 bytes). certkeeper runs Swift
# concurrency on NIO's event loops: libdispatch's pool, whose monitor wakes the process every second once it has
# run, must never start while the CA is reached by address.
dispatch_threads() {
    local comm
    for comm in /proc/"$1"/task/*/comm; do
        cat "$comm" 2>/dev/null || true
    done | grep -E 'qos|overcommit|dispatch|apple' || true
}
