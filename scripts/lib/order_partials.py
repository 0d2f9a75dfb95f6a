#!/usr/bin/env python3
"""Completes a symbol ordering file with the sibling symbols of each function it lists: the partial functions of a
Swift async function (`...TQ3_`, `...TY12_`: one per suspension point) and the suffixed clones of a function
(`.resume.0`, `.cold`). callgrind lists the partials a profiled run resumed at; another run of the same function
resumes at others, and each one left out of the order kept a 64 KB fault-around window of scattered text resident.

Usage: order_partials.py ORDER_FILE SYMBOLS_FILE > NEW_ORDER_FILE
  SYMBOLS_FILE: the binary's function names, one per line (`nm --defined-only BINARY`, text symbols).
The listed names keep their order; each is followed by its siblings not listed yet, sorted by name.
"""
import re
import sys

SUFFIX = re.compile(r"(?:T[QYR][0-9]*_|\.resume\.[0-9]+|\.cold(?:\.[0-9]+)?)+$")


def base(name: str) -> str:
    return SUFFIX.sub("", name)


def main() -> None:
    order_path, symbols_path = sys.argv[1:3]
    order = [line.rstrip("\n") for line in open(order_path) if line.strip()]
    siblings: dict[str, list[str]] = {}
    for line in open(symbols_path):
        name = line.strip()
        if name:
            siblings.setdefault(base(name), []).append(name)
    emitted: set[str] = set()
    out = sys.stdout
    for name in order:
        if name in emitted:
            continue
        emitted.add(name)
        out.write(name + "\n")
        for sibling in sorted(siblings.get(base(name), [])):
            if sibling not in emitted:
                emitted.add(sibling)
                out.write(sibling + "\n")


if __name__ == "__main__":
    main()
