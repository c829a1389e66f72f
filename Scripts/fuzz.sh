#!/usr/bin/env bash
# Builds every libFuzzer target under Fuzz/Targets and runs each one for a bounded time.
#
#   Scripts/fuzz.sh [seconds-per-target] [target ...]
#
# The library is compiled once with `-sanitize=fuzzer,address` into a static library (with
# -enable-testing, so targets can reach internal entry points), and each target is linked
# against it together with Fuzz/Support.swift. Seeds come from Fuzz/Corpus/<format>/, the
# bundled papers page, and two small index files that the CLI writes at the start.
# IndexSections needs no index seed: it edits sections of an index it builds itself.
#
# Each target keeps its growing corpus in $BUILD/corpus/<target>/ between runs. A crashing
# input is saved in Fuzz/Crashes/<target>/ (ignored by git: turn it into a regression test
# under Tests/Fixtures/fuzz/). The summary lists executions per target from libFuzzer's
# final statistics; the script exits 1 if any target crashed.
#
# Environment: SEMBLANCE_FUZZ_BUILD (default .build-fuzz), SWIFTC (default swiftc on PATH),
# SEMBLANCE_EXECUTABLE (a built `semblance`, to skip building the CLI for the seed indexes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-60}
shift || true
BUILD=${SEMBLANCE_FUZZ_BUILD:-$ROOT/.build-fuzz}
SWIFTC=${SWIFTC:-swiftc}
ALL_TARGETS=(CorpusText CorpusJSONLines CorpusJSON CorpusCSV CorpusTSV IndexFile IndexSections)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi

BLAS_CFLAGS=$(pkg-config --cflags openblas 2>/dev/null || true)
BLAS_LIBS=$(pkg-config --libs-only-L openblas 2>/dev/null || true)
CLANG_FLAGS=()
for flag in $BLAS_CFLAGS; do CLANG_FLAGS+=(-Xcc "$flag"); done
# -assert-config Debug keeps the library's internal `assert`s (bounds of Storage, ByteWriter
# capacity) in the optimised build: a logic error there is a finding even when the bytes it
# would touch happen to be mapped.
SANITIZE=(-sanitize=fuzzer,address -O -assert-config Debug -g -parse-as-library -package-name semblance)
mkdir -p "$BUILD/lib" "$BUILD/bin" "$BUILD/seeds"

echo "== building the library with -sanitize=fuzzer,address"
mapfile -t SOURCES < <(find Sources/Semblance -name '*.swift' | sort)
"$SWIFTC" -emit-library -static -module-name Semblance -enable-testing -wmo \
  -emit-module -emit-module-path "$BUILD/lib/Semblance.swiftmodule" \
  "${SANITIZE[@]}" -I Sources/COpenBLAS "${CLANG_FLAGS[@]}" \
  "${SOURCES[@]}" -o "$BUILD/lib/libSemblance.a"

for target in "${TARGETS[@]}"; do
  echo "== building $target"
  "$SWIFTC" -module-name "Fuzz$target" "${SANITIZE[@]}" -use-ld=lld \
    -I "$BUILD/lib" -I Sources/COpenBLAS "${CLANG_FLAGS[@]}" \
    -L "$BUILD/lib" -lSemblance $BLAS_LIBS -lopenblas \
    Fuzz/Support.swift "Fuzz/Targets/$target.swift" -o "$BUILD/bin/$target"
done

# Seed index files, written by the CLI from the small JSON Lines sample.
if [[ " ${TARGETS[*]} " == *" IndexFile "* ]]; then
  SEMBLANCE=${SEMBLANCE_EXECUTABLE:-}
  if [ -z "$SEMBLANCE" ]; then
    echo "== building the CLI for the seed indexes"
    swift build --scratch-path "$BUILD/spm" --product semblance
    SEMBLANCE="$BUILD/spm/debug/semblance"
  fi
  mkdir -p "$BUILD/seeds/index"
  "$SEMBLANCE" index Fuzz/Corpus/jsonl/papers.jsonl -o "$BUILD/seeds/index/default.idx" \
    --dimensions 4
  "$SEMBLANCE" index Fuzz/Corpus/jsonl/papers.jsonl -o "$BUILD/seeds/index/sklearn.idx" \
    --sklearn-compatible --dimensions 3
fi
mkdir -p "$BUILD/seeds/txt"
cp Sources/semblance/Resources/hf-daily-papers.txt "$BUILD/seeds/txt/"

# target → seed directories, dictionary, longest input
settings() {
  case "$1" in
    CorpusText) echo "Fuzz/Corpus/txt $BUILD/seeds/txt|-|16384" ;;
    CorpusJSONLines) echo "Fuzz/Corpus/jsonl|Fuzz/Dictionaries/json.dict|4096" ;;
    CorpusJSON) echo "Fuzz/Corpus/json|Fuzz/Dictionaries/json.dict|4096" ;;
    CorpusCSV) echo "Fuzz/Corpus/csv|Fuzz/Dictionaries/delimited.dict|4096" ;;
    CorpusTSV) echo "Fuzz/Corpus/tsv|Fuzz/Dictionaries/delimited.dict|4096" ;;
    IndexFile) echo "$BUILD/seeds/index|Fuzz/Dictionaries/index.dict|32768" ;;
    IndexSections) echo "Fuzz/Corpus/index-edits|Fuzz/Dictionaries/index.dict|4096" ;;
  esac
}

export OPENBLAS_NUM_THREADS=1
# The index target writes a scratch file per input: keep it in memory when possible.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
SUMMARY="$BUILD/fuzz-summary.txt"
: > "$SUMMARY"
failed=0
for target in "${TARGETS[@]}"; do
  IFS='|' read -r seeds dictionary maxlen <<<"$(settings "$target")"
  corpus="$BUILD/corpus/$target"
  crashes="$ROOT/Fuzz/Crashes/$target"
  log="$BUILD/logs/$target-$(date +%Y%m%d-%H%M%S).log"
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  options=(-max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -max_len="$maxlen"
    -timeout=20 -rss_limit_mb=4096 -artifact_prefix="$crashes/")
  [ "$dictionary" != "-" ] && options+=(-dict="$dictionary")
  echo "== fuzzing $target for ${SECONDS_PER_TARGET}s (log: $log)"
  # shellcheck disable=SC2086
  if "$BUILD/bin/$target" "${options[@]}" "$corpus" $seeds >"$log" 2>&1; then
    status=ok
  else
    status=CRASHED
    failed=1
  fi
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  seconds=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  line="$target: $status, ${executions:-?} executions in ${seconds:-?}s (${rate:-?}/s), corpus $(find "$corpus" -type f | wc -l) inputs"
  if [ "$status" = CRASHED ]; then
    line+="; crash saved under Fuzz/Crashes/$target/"
    grep -m 3 -E 'ERROR|Fatal error|SUMMARY' "$log" || true
  fi
  echo "$line" | tee -a "$SUMMARY"
done
echo "== summary ($SUMMARY)"
cat "$SUMMARY"
exit $failed
