#!/bin/sh
# Run every built fuzz target for a while, each on its committed seed corpus
# (fuzz/corpus/NAME/) copied into a scratch corpus. A crash fails the run and
# leaves the reproducer (crash-*) in the build folder.
# usage: fuzz/run.sh BUILD_DIR SECONDS
set -u
build=$1
secs=${2:-30}
dir=$(cd "$(dirname "$0")" && pwd)
failed=0
for t in "$build"/fuzz_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    corpus="$dir/corpus/${name#fuzz_}"
    work="$build/corpus-$name"
    mkdir -p "$work"
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
    echo "fuzz: $name for ${secs}s"
    if ! "$t" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=1048576 \
        -artifact_prefix="$build/" "$work" >"$build/$name.log" 2>&1; then
        echo "fuzz: $name FAILED"
        tail -n 30 "$build/$name.log"
        failed=1
    else
        grep -E '^Done [0-9]+ runs' "$build/$name.log" || tail -n 1 "$build/$name.log"
    fi
done
exit $failed
