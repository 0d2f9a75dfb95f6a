#!/usr/bin/env python3
"""Splits a callgrind profile's instructions (Ir) into TLS, JSON, signing/crypto and the rest, for bench/callgrind.sh.

Reads `callgrind_annotate --tree=caller --inclusive=no` output (demangled with `swift demangle`) on stdin. Each
function's own instructions go to the category its name shows (module or symbol prefix). Functions whose name shows
no module (C helpers such as BoringSSL's internal routines, memcpy, malloc, swift_retain) are attributed to the
categories of their callers, in proportion to the instructions each caller spent in them.

Usage: callgrind_split.py N1 ANNOTATED1 N2 ANNOTATED2
  Two runs issuing N1 and N2 > N1 certificates: prints each category's instructions per certificate as the
  difference between the runs divided by N2 - N1 (start-up, account registration and shutdown cancel out), and the
  fixed cost left over.
"""
import collections
import re
import sys

CATEGORIES = [
    # TLS to the CA: swift-nio-ssl and its BoringSSL copy (handshake, record layer, AES-GCM, X25519).
    ("TLS", re.compile(r"CNIOBoringSSL|\bNIOSSL")),
    # JSON: the encoder and decoder (JWS payloads, ACME objects, state files).
    ("JSON", re.compile(r"JSON")),
    # Signing and other certificate cryptography: swift-crypto and its BoringSSL copy (ECDSA for JWS, key
    # generation, SHA-2), swift-certificates and swift-asn1 (CSR, parsing and verifying the chain, PEM).
    ("signing/crypto", re.compile(r"CCryptoBoringSSL|\bCrypto\.|_CryptoExtras|P256\.|\bX509\.|SwiftASN1|ASN1\.|"
                                  r"DER\.|PEMDocument|Certificate\b")),
]
NAMES = [name for name, _ in CATEGORIES] + ["rest"]
LINE = re.compile(r"^\s*([\d,]+)\s+\([^)]*\)\s+([<*])\s+(?:\S*?:)?(.*?)(?:\s+\(\d[\d,]*x\))?(?:\s+\[[^]]*\])?\s*$")


def category(name: str):
    for label, pattern in CATEGORIES:
        if pattern.search(name):
            return label
    # Swift functions and methods name their type or module; C helpers do not.
    if "." in name or name.startswith(("closure", "specialized", "static", "protocol witness", "merged")):
        return "rest"
    return None


def split(path: str) -> collections.Counter:
    own = collections.Counter()
    callers = collections.defaultdict(list)
    pending = []
    with open(path) as lines:
        for line in lines:
            match = LINE.match(line)
            if not match:
                pending = [] if not line.strip() else pending
                continue
            cost, kind, name = int(match.group(1).replace(",", "")), match.group(2), match.group(3)
            if kind == "<":
                pending.append((name, cost))
            else:
                own[name] += cost
                callers[name].extend(pending)
                pending = []
    shares = {name: {category(name) or "rest": 1.0} for name in own}
    unnamed = [name for name in own if category(name) is None]
    for _ in range(6):
        for name in unnamed:
            mix = collections.Counter()
            for caller, cost in callers[name]:
                for label, part in shares.get(caller, {category(caller) or "rest": 1.0}).items():
                    mix[label] += cost * part
            total = sum(mix.values())
            if total:
                shares[name] = {label: value / total for label, value in mix.items()}
    totals = collections.Counter()
    for name, cost in own.items():
        for label, part in shares[name].items():
            totals[label] += cost * part
    totals["all"] = sum(totals[label] for label in NAMES)
    return totals


def main() -> None:
    n1, first, n2, second = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    small, large = split(first), split(second)
    extra = n2 - n1
    print(f"{'instructions':<16} {'per certificate':>16} {'share':>6} {'fixed (start, account, stop)':>30}")
    per_all = (large["all"] - small["all"]) / extra
    for label in NAMES + ["all"]:
        per = (large[label] - small[label]) / extra
        fixed = small[label] - per * n1
        print(f"{label:<16} {int(per):>16,} {100 * per / per_all:>5.1f}% {int(fixed):>30,}")


if __name__ == "__main__":
    main()
