#!/usr/bin/env bash
# Fuzzes the request-body path (limits scanner, JSON parser, event envelope, event codec, decider) with
# libFuzzer, for SECONDS (default 600), starting from Fuzz/RequestBody/corpus. See docs/security.md.
# New inputs go to a scratch corpus under .build-fuzz/; a crash is written there as crash-* and the
# script exits non-zero. Replay one with: .build-fuzz/debug/ehcp-fuzz-request-body FILE (a normal build).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
echo "==> Building the fuzz target with -sanitize=fuzzer,address (its own build folder, .build-fuzz)"
swift build --scratch-path .build-fuzz --product ehcp-fuzz-request-body \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -parse-as-library
binary=$(swift build --scratch-path .build-fuzz --show-bin-path)/ehcp-fuzz-request-body
work=.build-fuzz/corpus
mkdir -p "$work"
echo "==> Fuzzing for ${seconds}s (corpus: Fuzz/RequestBody/corpus, new inputs in $work)"
"$binary" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=4096 -artifact_prefix=.build-fuzz/ \
  -print_final_stats=1 "$work" Fuzz/RequestBody/corpus
