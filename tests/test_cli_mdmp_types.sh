#!/bin/sh
# tests/test_cli_mdmp_types.sh - dt on a process dump without ntdll's PDB:
# the built-in layouts of the dump's build answer for types only (ntdll's
# addresses keep no symbols), and $teb / $peb evaluate from the ThreadList.
#
# tiny-exe-fastfail_win10_x64.dmp is build 19042 (19041's layouts) with its
# PEB and TEBs captured. Expected values come from LLVM's obj2yaml: the
# first thread's TEB ("Environment Block"), the first module's base (the
# PEB's ImageBaseAddress) and the build number. An x86 dump must say that
# the built-in layouts are x64 only. Skips (77) without the data or obj2yaml.
set -eu
build=${NTS_BUILD_DIR:?}
nts=${NTSCOPE:?}
data=${NTS_SHARED_DATA:-../shared/data}
md="$data/minidumps"
dmp="$md/tiny-exe-fastfail_win10_x64.dmp"
dir="$build/scratch/cli_mdmp_types"
rm -rf "$dir"; mkdir -p "$dir"
[ -f "$dmp" ] || { echo "SKIP: ../shared/data/minidumps is absent"; exit 77; }
command -v obj2yaml >/dev/null 2>&1 || { echo "SKIP: LLVM's obj2yaml (the oracle) is not installed"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
hex() { printf '%x' "$1"; } # 0xD2DE29D000 -> d2de29d000

obj2yaml "$dmp" > "$dir/dump.yaml"
teb=$(hex "$(grep -m1 'Environment Block:' "$dir/dump.yaml" | awk '{print $NF}')")
base=$(hex "$(grep -m1 'Base of Image:' "$dir/dump.yaml" | awk '{print $NF}')")
bld=$(grep -m1 'Build Number:' "$dir/dump.yaml" | awk '{print $3}')
[ -n "$teb" ] && [ -n "$base" ] && [ "$bld" = 19042 ] || fail "obj2yaml's output not understood"
# WinDbg's 64-bit layout: 00007ff7`53540000
bq() { printf '%016x' "0x$1" | sed 's/^\(........\)/\1`/'; }

# Offline, with an empty symbol path: ntdll has no PDB.
run() { "$nts" -q --offline -y "" "$@"; }
run -c '~0s; ? @$teb; ? $teb; dt _TEB @$teb ProcessEnvironmentBlock; ? @$peb; dt ntdll!_PEB @$peb ImageBaseAddress; dt _PEB; dt _LIST_ENTRY; dt _HEAP Signature; lm m ntdll; ln ntdll+0x1000; x ntdll!PsActiveProcessHead' \
    "$dmp" > "$dir/x64.txt" 2>&1 || fail "exit status $?"

grep -q "^Evaluate expression: .* = $(bq "$teb")\$" "$dir/x64.txt" || fail "\$teb is not thread 0's TEB $teb: $(cat "$dir/x64.txt")"
[ "$(grep -c "= $(bq "$teb")\$" "$dir/x64.txt")" -ge 2 ] || fail "@\$teb and \$teb differ"
# the PEB is TEB+0x60's pointer: dt's field and @$peb agree
peb_dt=$(sed -n 's/^ *+0x060 ProcessEnvironmentBlock : 0x\([0-9a-f`]*\) _PEB$/\1/p' "$dir/x64.txt")
[ -n "$peb_dt" ] || fail "dt _TEB @\$teb ProcessEnvironmentBlock: $(cat "$dir/x64.txt")"
grep -q "^Evaluate expression: .* = $peb_dt\$" "$dir/x64.txt" || fail "@\$peb is not TEB.ProcessEnvironmentBlock ($peb_dt)"
grep -q "^   +0x010 ImageBaseAddress : 0x$(bq "$base") Void\$" "$dir/x64.txt" || fail "PEB.ImageBaseAddress is not the first module's base $base"
grep -q "using built-in layouts of builtin 10.0.19041.* (the dump's build: 19042)" "$dir/x64.txt" || fail "no line naming the built-in layouts"
grep -q "^ntdll!_PEB\$" "$dir/x64.txt" || fail "dt _PEB: no header"
grep -q "^   +0x018 Ldr  *: Ptr64 _PEB_LDR_DATA\$" "$dir/x64.txt" || fail "dt _PEB: Ldr"
grep -q "^   +0x008 Blink  *: Ptr64 _LIST_ENTRY\$" "$dir/x64.txt" || fail "dt _LIST_ENTRY"
grep -q "^   +0x[0-9a-f]* Signature : Uint4B\$" "$dir/x64.txt" || fail "dt _HEAP Signature"
# types only: ntdll's addresses get no kernel names, ntdll lists no kernel symbols
grep -q "^(.*)   ntdll+0x1000\$" "$dir/x64.txt" || fail "ln ntdll+0x1000 is not 'ntdll+0x1000': $(grep -A1 'ln ntdll' "$dir/x64.txt")"
grep -q "ntdll  *(\(no\|export\) symbols)" "$dir/x64.txt" || fail "lm m ntdll: $(grep -A2 'lm m ntdll' "$dir/x64.txt")"
grep -v "^0:000> " "$dir/x64.txt" | grep -q "ntdll!PsActiveProcessHead" && fail "a kernel symbol in ntdll"

# --json: the layout's source is named, the field has its value
run --json -c 'dt ntdll!_PEB @$peb ImageBaseAddress' "$dmp" > "$dir/x64.json" || fail "--json: exit $?"
grep -q '"types_source":"builtin 10.0.19041' "$dir/x64.json" || fail "--json: no types_source: $(cat "$dir/x64.json")"
grep -q "\"raw\":\"0x$base\"" "$dir/x64.json" || fail "--json: ImageBaseAddress"

# an x86 process dump: no x86 layouts, said clearly
x86="$md/null_read_av_win7_x86.dmp"
if [ -f "$x86" ]; then
    run -c 'dt _PEB' "$x86" > "$dir/x86.txt" 2>&1 || true
    grep -q "x86 process dump: the built-in layouts are x64 only" "$dir/x86.txt" || fail "x86: $(cat "$dir/x86.txt")"
fi
echo "PASS: dt _PEB/_TEB/_HEAP/_LIST_ENTRY from build 19041's layouts, \$teb=$teb, ImageBaseAddress=$base"
