#!/usr/bin/env bash
# Builds the libFuzzer targets under Fuzz/ (scratch path .build-fuzz, fuzzer and address sanitizers) and runs
# each on a copy of its seed corpus (Fuzz/corpus/TARGET; the repository is not modified), for a bounded number of
# executions. Prints executions, coverage and crashes per target, then `fuzz: N passed, M failed`. Any crash, leak,
# timeout (-timeout=10) or out-of-memory (-rss_limit_mb=2048) fails its target and the script.
#
# Usage: scripts/fuzz.sh [RUNS]            RUNS executions per target (default 20000), at most 30 s each (CI: about
#                                          3 minutes after the build)
#        scripts/fuzz.sh --long [N]        longer: N seconds per target (default 300), or N executions if N ends in r
#                                          (e.g. --long 2000000r)
#        FUZZ_TARGETS="FuzzDNS FuzzPEM" scripts/fuzz.sh ...   only these targets
#        FUZZ_KEEP=DIR scripts/fuzz.sh ...  keep work files (grown corpora, logs, crash inputs) in DIR
#
# A crashing input is kept as WORK/artifacts/TARGET-crash-*; replay it under the sanitizers with
# `.build-fuzz/debug/TARGET INPUT`, or without them from a plain `swift build` with `.build/debug/TARGET INPUT`.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

all_targets=(FuzzConfig FuzzACMEJSON FuzzDNS FuzzPEM FuzzControlRequest FuzzHTTP01)
read -r -a targets <<<"${FUZZ_TARGETS:-${all_targets[*]}}"

# Bounded by executions, and by time so that a slow or busy machine still finishes in a few minutes.
bound=(-runs=20000 -max_total_time=30)
describe="20000 executions or 30 s per target"
if [[ ${1:-} == --long ]]; then
    n=${2:-300}
    if [[ $n == *r ]]; then
        bound=(-runs="${n%r}")
        describe="${n%r} executions per target"
    else
        bound=(-runs=-1 -max_total_time="$n")
        describe="$n s per target"
    fi
elif [[ -n ${1:-} ]]; then
    bound=(-runs="$1" -max_total_time=30)
    describe="$1 executions or 30 s per target"
fi

# Longest input per target: a few KiB of TOML, JSON or PEM; DNS messages, control lines and HTTP heads are smaller.
max_len() {
    case $1 in
        FuzzDNS | FuzzHTTP01) echo 1024 ;;
        FuzzControlRequest) echo 512 ;;
        *) echo 4096 ;;
    esac
}

if [[ -n ${FUZZ_KEEP:-} ]]; then
    work=$FUZZ_KEEP
    mkdir -p "$work"
else
    work=$(mktemp -d /tmp/certkeeper-fuzz.XXXXXX)
    # Kept when a target fails, for its crash input and logs.
    trap '[[ ${failed:-1} -eq 0 ]] && rm -rf "$work"' EXIT
fi
mkdir -p "$work/artifacts"
echo "fuzz: ${targets[*]} ($describe); work directory $work"

# Swift's backtracer would spend up to 30 s symbolicating each crash; libFuzzer and ASan report crashes themselves.
export SWIFT_BACKTRACE=enable=no
# LeakSanitizer stays on (libFuzzer's -detect_leaks=1): it reports no leaks from the Swift runtime or Foundation in
# these targets. Leaks in dependencies are suppressed by name in Fuzz/lsan.supp (with the reason).
export LSAN_OPTIONS=suppressions=$PWD/Fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}

# Flags for one target.
extra_flags() {
    case $1 in
        # TOMLKit leaks every parsed document (Fuzz/lsan.supp). With -detect_leaks=1 libFuzzer would run a full leak
        # scan after every input (each one leaks), about 3 s apiece; the suppressed scan still runs at exit.
        FuzzConfig) echo -detect_leaks=0 ;;
    esac
}

# swiftc honours only the last -sanitize= option, and `swift build --sanitize=fuzzer --sanitize=address` passes the
# two in no fixed order: when address comes last nothing gets coverage instrumentation (libFuzzer fuzzes blind), and
# every change of order changes every command line, so each invocation may rebuild everything. So: one --sanitize
# (it makes SwiftPM compile main.swift as a library and link libFuzzer), the combined option for Swift, ASan for C.
sanitize=(--sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address)

passed=0
failed=0
for target in "${targets[@]}"; do
    echo "-- $target"
    SECONDS=0
    if ! swift build --scratch-path .build-fuzz --product "$target" "${sanitize[@]}" >"$work/build-$target.log" 2>&1; then
        echo "   build FAILED (log: $work/build-$target.log)"
        grep -E 'error:' "$work/build-$target.log" | sort -u | head -n 20 | sed 's/^/   | /'
        failed=$((failed + 1))
        continue
    fi
    build_seconds=$SECONDS
    corpus=$work/corpus-$target
    mkdir -p "$corpus"
    cp -R "Fuzz/corpus/$target/." "$corpus/"
    dict=()
    [[ -f Fuzz/dicts/$target.dict ]] && dict=(-dict="Fuzz/dicts/$target.dict")
    SECONDS=0
    # shellcheck disable=SC2046
    ".build-fuzz/debug/$target" "${bound[@]}" -max_len="$(max_len "$target")" -timeout=10 -rss_limit_mb=2048 \
        $(extra_flags "$target") -print_final_stats=1 -artifact_prefix="$work/artifacts/$target-" "${dict[@]}" "$corpus" \
        >"$work/run-$target.log" 2>&1
    status=$?
    run_seconds=$SECONDS
    log=$work/run-$target.log
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    coverage=$(grep -E '^#[0-9]+[[:space:]].*cov: ' "$log" | tail -n 1 | sed -E 's/.*(cov: [0-9]+ ft: [0-9]+ corp: [^ ]+).*/\1/')
    crashes=$(find "$work/artifacts" -name "$target-*" -type f | wc -l)
    echo "   executions: ${executions:-?}, ${coverage:-no coverage line}, crashes: $crashes" \
        "(build ${build_seconds}s, run ${run_seconds}s)"
    if [[ $status -eq 0 && $crashes -eq 0 && -n $executions ]]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "   FAILED (exit status $status; log: $log)"
        grep -E 'ERROR: |SUMMARY: |fuzz invariant violated|Fatal error|Test unit written' "$log" | head -n 20 |
            sed 's/^/   | /'
    fi
done
echo "fuzz: $passed passed, $failed failed"
[[ $failed -eq 0 ]] || echo "fuzz: logs and crash inputs kept in $work"
[[ $failed -eq 0 ]]
