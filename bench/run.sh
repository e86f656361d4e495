#!/bin/sh
# bench/run.sh BUILD_DIR - the benchmark harness. Builds the benchmark dumps
# once (cached outside the repository, in $NTS_BENCH_DIR, default
# ~/.cache/ntscope-bench): ntscope-mkdump seed-scenario machines of 1, 16 and
# 64 GB (sparse files) and fixture dumps; then runs a list of ntscope
# commands on each (bench_cmds: median time, private memory, peak RSS),
# beside a baseline of the same machine (reading the file with dd, memcpy in
# bench_memory), and every other bench_* program. Prints figures only.
set -eu
build=${1:-build}
dir=${NTS_BENCH_DIR:-$HOME/.cache/ntscope-bench}
runs=${NTS_BENCH_RUNS:-5}
mkdir -p "$dir"
mkdump="$build/tools/mkdump/ntscope-mkdump"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GB RAM"
for size in 1G 16G 64G; do
    f="$dir/seed-$size.dmp"
    extra=""
    [ "$size" = 16G ] && extra="--processes 300"
    [ -f "$f" ] || "$mkdump" "$f" --scenario seed --ram "$size" $extra >/dev/null
done
for f in "$dir"/seed-*.dmp; do
    printf '\n== %s: %s bytes apparent, %s KB on disk\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(du -k "$f" | cut -f1)"
    printf '  baseline: dd of the first 1 GB of the file: '
    dd if="$f" of=/dev/null bs=1M count=1024 2>&1 | tail -n 1
    "$build/bench_cmds" "$f" "$runs" ".bugcheck" "!process 0 0" "!process 0 7" "!vm" "!memusage 8" \
        "!poolused" "!reg hivelist" "!sysinfo machineid" "lm" \
        ".process /r /p ffffcb0c950ea0c0; !heap -stat" "!leak"
done
mk="$build/tools/mkdump/nts-mkfixture"
for spec in "16G 1" "64G 5"; do
    set -- $spec
    f="$dir/fixture-$1-t$2.dmp"
    [ -f "$f" ] || "$mk" "$f" --ram "$1" --type "$2" --seed 1 >/dev/null
    "$build/bench_open" "$f" 21
done
for b in "$build"/bench_*; do
    case "$b" in */bench_open | */bench_cmds | */bench_procdump) continue ;; esac
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" || true
done
echo "== bench_procdump"
"$build/bench_procdump" "$dir" || true
