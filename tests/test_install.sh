#!/bin/sh
# tests/test_install.sh - `cmake --install` puts the program, the libraries,
# the headers, the pkg-config file and the man page under a prefix, and a
# program built with `pkg-config --cflags --libs ntscope` links and runs.
set -eu
build=${NTS_BUILD_DIR:?}
prefix="$build/scratch/install"
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/ntscope include/ntscope/ntscope.h share/man/man1/ntscope.1; do
    [ -e "$prefix/$f" ] || { echo "missing $f"; exit 1; }
done
pc=$(find "$prefix" -name ntscope.pc | head -n 1)
[ -n "$pc" ] || { echo "missing ntscope.pc"; exit 1; }
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config not installed"; exit 77; }
export PKG_CONFIG_PATH=$(dirname "$pc")
cat > "$build/scratch/use_ntscope.c" <<'C'
#include <ntscope/ntscope.h>
#include <stdio.h>
int main(void)
{
    nts_dump *d = NULL;
    nts_status st = nts_dump_open(&d, "/nonexistent.dmp", NULL);
    printf("%s %s\n", nts_status_name(st), nts_bugcheck_lookup(0xe2)->name);
    return st == NTS_E_IO ? 0 : 1;
}
C
cc ${NTS_TEST_CFLAGS:-} -o "$build/scratch/use_ntscope" "$build/scratch/use_ntscope.c" $(pkg-config --cflags --libs ntscope)
out=$(LD_LIBRARY_PATH="$(dirname "$(dirname "$pc")")" "$build/scratch/use_ntscope")
[ "$out" = "NTS_E_IO MANUALLY_INITIATED_CRASH" ] || { echo "unexpected: $out"; exit 1; }
man -l "$prefix/share/man/man1/ntscope.1" >/dev/null 2>&1 || true
echo "install test passed"
