#!/usr/bin/env bash
# Runs the test suite under the thread sanitizer (DESIGN §9: concurrent queries must give the
# same answers as serial ones, with no data race).
#
#   Scripts/tsan.sh                             # the whole suite
#   Scripts/tsan.sh --filter ConcurrencyTests   # any `swift test` arguments
#
# Not part of .ci/run: an instrumented build plus the suite takes far longer than the plain
# run (see README, "Robustness"). The build goes to $SEMBLANCE_TSAN_BUILD (default .build-tsan).
# A reported race makes the test process exit with status 66, so the script fails.
#
# OpenBLAS is not instrumented: its own threads and memory accesses are invisible to TSan,
# which sees only what passes through intercepted calls (pthread_*, malloc, memcpy, ...).
# Semblance never shares a buffer that OpenBLAS writes across its own tasks.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${SEMBLANCE_TSAN_BUILD:-.build-tsan}
start=$(date +%s)
swift build --scratch-path "$BUILD" --build-tests --sanitize=thread
built=$(date +%s)
swift test --scratch-path "$BUILD" --sanitize=thread --skip-build "$@"
echo "tsan: build $((built - start)) s, tests $(($(date +%s) - built)) s, no race reported"
