#!/usr/bin/env bash
# End-to-end: documentation and shell integration (issue 14) as an operator gets them from `make install`:
#
#  a. the man pages certkeeper(8) and certkeeper.toml(5) build from docs/man/*.scd (`make man`), render with
#     `groff -ww` without a warning, and `man` finds them after installation;
#  b. every `man:certkeeper...` link in the shipped units and journal catalog names a page that is installed, and
#     every `file:` link a file that is installed; the catalog no longer mentions a ".1 suffix";
#  c. every subcommand of `certkeeper --help` is described in certkeeper(8), and every key certkeeper.toml and a spec
#     accept (the parsers' key lists) in certkeeper.toml(5);
#  d. the bash, zsh and fish completions generated from the argument parser (`make completions`) parse in their
#     shells, and the bash one completes `certkeeper ren` to `renew` and `certkeeper account ro` to `rollover`.
#
# Usage: scripts/e2e/docs.sh WORKDIR   (root; starts no server, listens nowhere)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
DEBIAN_FRONTEND=noninteractive apt-get install -y -q man-db zsh fish >/dev/null
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
stage=$work/stage
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

echo "== make man completions install DESTDIR=$stage (debug binary)"
rm -rf .build-doc
make man completions install DESTDIR="$stage" SWIFT_BUILD_FLAGS= >"$work/make.log" 2>&1 || {
    tail -n 20 "$work/make.log"
    exit 1
}
for file in usr/share/man/man8/certkeeper.8 usr/share/man/man5/certkeeper.toml.5 \
    usr/share/bash-completion/completions/certkeeper usr/share/zsh/vendor-completions/_certkeeper \
    usr/share/fish/vendor_completions.d/certkeeper.fish; do
    [[ -s $stage/$file ]] || fail "make install did not install /$file"
done

echo "== a. man pages render without warnings, and man finds them"
for page in "$stage"/usr/share/man/man8/certkeeper.8 "$stage"/usr/share/man/man5/certkeeper.toml.5; do
    warnings=$(groff -ww -z -man -Tutf8 "$page" 2>&1) || fail "groff failed on $page"
    [[ -z $warnings ]] || fail "groff -ww warns on $(basename "$page"): $warnings"
done
export MANPATH=$stage/usr/share/man
for ref in "8 certkeeper" "5 certkeeper.toml"; do
    # shellcheck disable=SC2086
    found=$(man -w $ref 2>/dev/null) || true
    [[ $found == "$stage"/* ]] || fail "man -w $ref found '${found:-nothing}', not the installed page"
done
man 8 certkeeper 2>/dev/null | col -b >"$work/certkeeper.8.txt"
man 5 certkeeper.toml 2>/dev/null | col -b >"$work/certkeeper.toml.5.txt"
grep -q 'EXIT STATUS' "$work/certkeeper.8.txt" || fail "certkeeper(8) as rendered by man has no EXIT STATUS section"
grep -q 'max_concurrent_orders' "$work/certkeeper.toml.5.txt" || fail "certkeeper.toml(5) as rendered lacks keys"

echo "== b. man: and file: links in units and catalog resolve to installed files"
links=$(grep -ohE '(man|file):[^ ]+' systemd/certkeeper.service systemd/certkeeper-reload@.path \
    systemd/certkeeper-reload@.service systemd/certkeeper.catalog | sort -u)
[[ -n $links ]] || fail "found no Documentation links in systemd/"
for link in $links; do
    case $link in
    man:*)
        page=${link#man:}
        name=${page%(*}
        section=${page##*(}
        section=${section%)}
        # certkeeper's own pages must be installed; systemd's belong to the systemd package.
        if [[ $name == certkeeper* ]]; then
            [[ -s $stage/usr/share/man/man$section/$name.$section ]] ||
                fail "$link: no installed page man$section/$name.$section"
        fi
        ;;
    file:*)
        [[ -s $stage${link#file:} ]] || fail "$link: not installed by make install"
        ;;
    esac
    echo "   $link"
done
if grep -n 'suffix \.1' systemd/certkeeper.catalog; then
    fail "the catalog mentions a .1 suffix the installer never writes"
fi

echo "== c. every subcommand and every configuration key is documented"
commands=$("$bin" --help | awk '/^SUBCOMMANDS:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
account_commands=$("$bin" account --help | awk '/^SUBCOMMANDS:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[[ $(wc -w <<<"$commands") -ge 6 && $(wc -w <<<"$account_commands") -ge 6 ]] ||
    fail "could not read the subcommands from --help: '$commands' / '$account_commands'"
for command in $commands; do
    grep -qE "^\\*$command[* ]" docs/man/certkeeper.8.scd || fail "certkeeper(8) does not describe '$command'"
done
for command in $account_commands; do
    grep -qE "^\\*account $command\\*" docs/man/certkeeper.8.scd || fail "certkeeper(8) does not describe 'account $command'"
done
# The keys each parser accepts, from its source (static let ...Keys = [...]), every one as *key* in certkeeper.toml(5).
keys=$(python3 - Sources/CertkeeperConfig/MainConfigParser.swift Sources/CertkeeperConfig/SpecParser.swift \
    Sources/CertkeeperConfig/SolverParser.swift Sources/CertkeeperConfig/StoreSettingsParser.swift \
    Sources/CertkeeperConfig/DNSProviderParser.swift <<'PY'
import re, sys
keys = set()
for path in sys.argv[1:]:
    text = open(path).read()
    for body in re.findall(r"static let \w*[kK]eys = \[(.*?)\]", text, re.S):
        keys.update(re.findall(r'"([a-z_0-9]+)"', body))
    # DNSProviderParser: static let keys: [String: [String]] = [ "provider": [...], ... ] (values only)
    for body in re.findall(r"static let keys: \[String: \[String\]\] = \[(.*?)\n    \]", text, re.S):
        for values in re.findall(r":\s*\[(.*?)\]", body, re.S):
            keys.update(re.findall(r'"([a-z_0-9]+)"', values))
print("\n".join(sorted(keys)))
PY
)
[[ $(wc -l <<<"$keys") -ge 40 ]] || fail "read only $(wc -l <<<"$keys") configuration keys from the parsers"
for key in $keys; do
    grep -qF "*${key//_/\\_}*" docs/man/certkeeper.toml.5.scd || grep -qF "*$key*" docs/man/certkeeper.toml.5.scd ||
        grep -qF "[$key" docs/man/certkeeper.toml.5.scd || fail "certkeeper.toml(5) does not describe '$key'"
done
echo "   $(wc -w <<<"$commands") commands, $(wc -w <<<"$account_commands") account commands, $(wc -l <<<"$keys") keys"

echo "== d. completions parse and complete"
comp=$stage/usr/share
bash -n "$comp/bash-completion/completions/certkeeper" || fail "bash -n rejects the bash completion"
zsh -n "$comp/zsh/vendor-completions/_certkeeper" || fail "zsh -n rejects the zsh completion"
fish --no-execute "$comp/fish/vendor_completions.d/certkeeper.fish" || fail "fish --no-execute rejects the fish completion"
# Completing in bash for real: the function the script registers for `certkeeper`, called as bash calls it.
complete_bash() {
    bash -c '
        source "$1"; shift
        function=$(complete -p certkeeper | sed -E "s/.*-F ([^ ]+).*/\1/")
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        "$function" certkeeper "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}"
    ' complete_bash "$comp/bash-completion/completions/certkeeper" "$@"
}
got=$(complete_bash certkeeper ren)
[[ $got == renew ]] || fail "bash completion of 'certkeeper ren' gave '$got', not 'renew'"
got=$(complete_bash certkeeper account ro)
[[ $got == rollover ]] || fail "bash completion of 'certkeeper account ro' gave '$got', not 'rollover'"
got=$(complete_bash certkeeper status --js)
[[ $got == --json ]] || fail "bash completion of 'certkeeper status --js' gave '$got', not '--json'"
# fish: ask fish itself what it completes.
got=$(fish -c "source $comp/fish/vendor_completions.d/certkeeper.fish; complete -C 'certkeeper rel'" | cut -f1)
[[ $got == reload ]] || fail "fish completion of 'certkeeper rel' gave '$got', not 'reload'"

if ((failures)); then
    echo "docs: $failures failure(s)"
    exit 1
fi
echo "docs: all checks passed"
