#!/bin/sh
# bench/run.sh BUILD_DIR - build the benchmark dumps once (cached outside the
# repository, in $NTS_BENCH_DIR, default ~/.cache/ntscope-bench) and run every
# benchmark on them. Prints figures; never fails on a slow result.
set -eu
build=${1:-build}
dir=${NTS_BENCH_DIR:-$HOME/.cache/ntscope-bench}
mkdir -p "$dir"
mk="$build/tools/mkdump/nts-mkfixture"
for spec in "1G 1" "16G 1" "16G 5" "64G 5"; do
    set -- $spec
    f="$dir/fixture-$1-t$2.dmp"
    [ -f "$f" ] || "$mk" "$f" --ram "$1" --type "$2" --seed 1 >/dev/null
done
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for f in "$dir"/fixture-*.dmp; do
    printf '%s: %s bytes apparent, %s KB on disk\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(du -k "$f" | cut -f1)"
    "$build/bench_open" "$f" 21
done
for b in "$build"/bench_*; do
    case "$b" in */bench_open) continue ;; esac
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" "$dir" || true
done
