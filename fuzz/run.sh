#!/bin/sh
# Run every built fuzz target for a while, each on its committed seed corpus
# (fuzz/corpus/NAME/) copied into a scratch corpus. A crash, a leak or a slow
# input (-timeout) fails the run and leaves the reproducer (crash-*, leak-*,
# timeout-*) in the build folder. Prints the executions of each target.
# usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# fuzz_cli gets a realistic dump when the build has ntscope-mkdump (a small
# default-scenario machine: kernel, processes, PEBs, modules) through
# NTS_FUZZ_DUMP; without it the target builds a synthetic one.
set -u
build=$1
secs=${2:-30}
if [ $# -ge 2 ]; then shift 2; else shift $#; fi
dir=$(cd "$(dirname "$0")" && pwd)
failed=0
total_runs=0
start=$(date +%s)
if [ -z "${NTS_FUZZ_DUMP:-}" ] && [ -x "$build/tools/mkdump/ntscope-mkdump" ]; then
    if "$build/tools/mkdump/ntscope-mkdump" "$build/fuzz-cli.dmp" --ram 256M >/dev/null 2>&1; then
        NTS_FUZZ_DUMP="$build/fuzz-cli.dmp"
        export NTS_FUZZ_DUMP
    fi
fi
for t in "$build"/fuzz_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    if [ $# -gt 0 ]; then
        case " $* " in *" $name "* | *" ${name#fuzz_} "*) ;; *) continue ;; esac
    fi
    corpus="$dir/corpus/${name#fuzz_}"
    work="$build/corpus-$name"
    mkdir -p "$work"
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
    # Per-input time limit: a slow input is a finding. Loaded CI machines
    # get room; the hostile-dump suite holds commands to 1 s.
    timeout=25
    echo "fuzz: $name for ${secs}s"
    if ! "$t" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=1048576 -timeout="$timeout" \
        -artifact_prefix="$build/" "$work" >"$build/$name.log" 2>&1; then
        echo "fuzz: $name FAILED"
        tail -n 30 "$build/$name.log"
        failed=1
    else
        line=$(grep -E '^Done [0-9]+ runs' "$build/$name.log" || tail -n 1 "$build/$name.log")
        echo "fuzz: $name: $line"
        runs=$(echo "$line" | sed -n 's/^Done \([0-9]*\) runs.*/\1/p')
        total_runs=$((total_runs + ${runs:-0}))
    fi
done
echo "fuzz: $total_runs executions in $(($(date +%s) - start)) s"
exit $failed
