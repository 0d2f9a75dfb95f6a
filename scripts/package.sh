#!/usr/bin/env bash
# Builds the Debian package with `dpkg-buildpackage -us -uc -b` in this tree and checks it with lintian (no error
# allowed; warnings are printed). The .deb files end up in .build-deb/ (the path of the package is the last line).
#
# Usage: scripts/package.sh [--debug]
#   --debug  DEB_BUILD_OPTIONS=noopt: package the debug build (what the end-to-end tests install; the release build
#            takes about 6 minutes more on 2 cores). Without it: the release build, as shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

install_packages >&2
missing=()
for pkg in debhelper dpkg-dev lintian; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

options=${DEB_BUILD_OPTIONS:-}
[[ ${1:-} == --debug ]] && options="$options noopt"
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
parent=$(cd .. && pwd)
out=$(pwd)/.build-deb
mkdir -p "$out"
rm -f "$parent/certkeeper_${version}_${arch}".{deb,buildinfo,changes} "$parent/certkeeper-dbgsym_${version}_${arch}.deb"

echo "== dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=$options)" >&2
if ! DEB_BUILD_OPTIONS=$options dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    exit 1
fi
for file in "certkeeper_${version}_${arch}.deb" "certkeeper-dbgsym_${version}_${arch}.deb" \
    "certkeeper_${version}_${arch}.buildinfo" "certkeeper_${version}_${arch}.changes"; do
    [[ -e $parent/$file ]] && mv "$parent/$file" "$out/"
done
deb=$out/certkeeper_${version}_${arch}.deb
[[ -s $deb ]] || { echo "package.sh: no $deb after the build" >&2; exit 1; }

echo "== lintian" >&2
lintian --tag-display-limit 0 "$deb" >"$out/lintian.log" 2>&1 || true
cat "$out/lintian.log" >&2
if grep -q '^E: ' "$out/lintian.log"; then
    echo "package.sh: lintian reports errors" >&2
    exit 1
fi
echo "$deb"
