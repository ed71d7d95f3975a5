#!/usr/bin/env bash
# Issue 13's acceptance check, measured: the hostile corpus of tests/integration/hostile.rs (PDFs
# with a looping outline, a recursive drawing, decompression bombs, a truncated PDF, a YAML alias
# bomb, a reference list of 100,000 entries, HTML nested 50,000 deep) beside the bundled corpus,
# indexed by a release build under a 3 GB address-space limit. Prints standard error, the exit
# code (2 expected), wall time and peak memory, then checks that the rest is searchable.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

CITEDEX_HOSTILE_CORPUS="$work/kb" cargo test --locked --quiet --test integration \
    -- --exact hostile::write_the_hostile_corpus_for_the_benchmark >/dev/null
cargo build --locked --release --quiet
citedex="$PWD/target/release/citedex"

status=0
(
    ulimit -v 3000000
    /usr/bin/time -f 'time: %e s wall, %M KB peak RSS' "$citedex" --index "$work/index" index "$work/kb"
) 2>"$work/stderr" || status=$?
cat "$work/stderr"
echo "exit code: $status"
for query in "numbness below the knees diabetes" herons storks otters; do
    printf '%s -> ' "$query"
    "$citedex" --index "$work/index" search --json -n 1 "$query" | grep -o '"path": *"[^"]*"' | head -1
done
