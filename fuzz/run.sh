#!/bin/sh
# Run every built fuzz target for a while, each on its committed seed corpus.
# usage: fuzz/run.sh BUILD_DIR SECONDS
set -eu
build=$1
secs=${2:-30}
dir=$(cd "$(dirname "$0")" && pwd)
for t in "$build"/fuzz_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    corpus="$dir/corpus/${name#fuzz_}"
    work="$build/corpus-$name"
    mkdir -p "$work"
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
    echo "fuzz: $name for ${secs}s"
    "$t" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=1048576 "$work" 2>&1 | tail -n 2
done
