#!/usr/bin/env bash
# Shared helpers for certkeeper's scripts: system packages, build, waiting.

# install_packages: the Debian packages the build, the demo and the tests need (idempotent).
install_packages() {
    local wanted=(pebble bind9 bind9-dnsutils systemd-container libsystemd-dev openssl curl python3 python3-cryptography)
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
