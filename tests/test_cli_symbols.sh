#!/bin/sh
# tests/test_cli_symbols.sh - the symbol commands end to end.
#
# A PE file as the target (ntscope FILE.exe, as WinDbg -z): lm before and
# after its PDB is loaded (found in a plain folder, then in a symbol store),
# x, ln, dt on its own types, ? and db and dps through the image. The real
# triage dump: nt!PsActiveProcessHead (base 0xfffff8047ba00000 + RVA
# 0xc1e200 of the built-in 19041.804 layouts), dt layouts and values, the
# Tcb->Teb path in the seed walkthrough's layout, x patterns, lm, !analyze's
# faulting module, .sympath/_NT_SYMBOL_PATH, !sym noisy, --json documents.
# Skips (77) when ../shared/data is absent.
set -eu
build=${NTS_BUILD_DIR:?}
nts=${NTSCOPE:?}
data=${NTS_SHARED_DATA:-../shared/data}
dir="$build/scratch/cli_symbols"
rm -rf "$dir"; mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
# has TEXT LINE: the exact line is in TEXT
has() { printf '%s\n' "$1" | grep -qxF -- "$2" || fail "missing line: [$2] in:
$1"; }

exe="$data/pe/CrashWithException.exe"
pdbdir="$data/pdb"
triage="$data/kernel-dumps/triage_x64.dmp"
[ -f "$exe" ] && [ -f "$pdbdir/CrashWithException.pdb" ] && [ -f "$triage" ] || {
    echo "SKIP: ../shared/data (pe/, pdb/, kernel-dumps/) is absent"; exit 77; }

# ---- a PE image as the target, its PDB in a plain folder ----
out=$("$nts" -q -y "$pdbdir" -c 'lm; x CrashWithException!main; ln CrashWithException!main+3; lm; ? CrashWithException!main; db CrashWithException L4; dt CrashWithException!_ldiv_t; dt -v _EXCEPTION_POINTERS; x CrashWithException!*security_c*cookie' "$exe")
has "$out" '0:000> lm'
has "$out" 'start             end                 module name'
has "$out" '00000001`40000000 00000001`40009000   CrashWithException   (deferred)             '
has "$out" '00000001`40001170 CrashWithException!main (main)'
has "$out" '(00000001`40001170)   CrashWithException!main+0x3   |  (00000001`40001190)   CrashWithException!__security_check_cookie'
has "$out" "00000001\`40000000 00000001\`40009000   CrashWithException   (private pdb symbols)  $pdbdir/CrashWithException.pdb"
has "$out" 'Evaluate expression: 5368713584 = 00000001`40001170'
has "$out" '00000001`40000000  4d 5a 90 00                                      MZ..'
has "$out" '   +0x000 quot             : Int4B'
has "$out" '   +0x004 rem              : Int4B'
has "$out" 'CrashWithException!_EXCEPTION_POINTERS'
has "$out" 'struct _EXCEPTION_POINTERS, 2 elements, 0x10 bytes'
has "$out" '   +0x000 ExceptionRecord  : Ptr64 _EXCEPTION_RECORD'
has "$out" '00000001`40001190 CrashWithException!__security_check_cookie (__security_check_cookie)'

# main's address is the PDB's: llvm-pdbutil's S_GPROC32 for main, if the tool is here.
if command -v llvm-pdbutil >/dev/null 2>&1; then
    llvm-pdbutil dump -symbols "$pdbdir/CrashWithException.pdb" 2>/dev/null | grep -A2 'S_GPROC32.*`main`' |
        grep -q 'addr = 0001:0368' || fail "llvm-pdbutil does not place main at 0001:0368 (.text+0x170)"
else
    echo "note: llvm-pdbutil absent, main's address not cross-checked"
fi

# dps: the symbol column (std::exception's vtable holds its methods' addresses)
out=$("$nts" -q -y "$pdbdir" -c 'dps CrashWithException!??_7exception@std@@6B@ L2' "$exe")
has "$out" "00000001\`40003260  00000001\`40001090 CrashWithException!std::exception::what"

# ---- the same PDB in a symbol store (offline: the server is never asked) ----
key=F535C5FB2AE84BB8AA206C30BE566C5A1
mkdir -p "$dir/store/CrashWithException.pdb/$key"
cp "$pdbdir/CrashWithException.pdb" "$dir/store/CrashWithException.pdb/$key/"
out=$("$nts" -q --offline -y "srv*$dir/store*https://127.0.0.1:9/symbols" -c '.reload /f; lm' "$exe")
has "$out" "00000001\`40000000 00000001\`40009000   CrashWithException   (private pdb symbols)  $dir/store/CrashWithException.pdb/$key/CrashWithException.pdb"
# without a PDB: no symbols (the image has no exports), module+offset names
out=$("$nts" -q -y "$dir/nothing" -c 'ln CrashWithException+1170; lm' "$exe")
has "$out" '(00000001`40000000)   CrashWithException+0x1170'
has "$out" '00000001`40000000 00000001`40009000   CrashWithException   (no symbols)           '

# ---- the triage dump: kernel symbols from the built-in 19041.804 layouts ----
out=$("$nts" -q -c '? nt!PsActiveProcessHead; dq nt!PsActiveProcessHead L1; x nt!Ps*ProcessHead; lm m nt; dt nt!_EPROCESS; dt nt!_EPROCESS ffffc08bdce94180 ImageFileName; dt nt!_EPROCESS ffffc08bdce94180 UniqueProcessId ImageFileName ActiveProcessLinks; dt nt!_ETHREAD ffffc08bde9e1640 Tcb->Teb; dt nt!_KTHREAD ffffc08bde9e1640 ApcState.Process; ln nt!PsActiveProcessHead; dt nt!_KPRCB poi(nt!KiProcessorBlock) CurrentThread' "$triage")
has "$out" 'Evaluate expression: -8776826363392 = fffff804`7c61e200'
has "$out" 'fffff804`7c61e200 nt!PsActiveProcessHead = <no type information>'
has "$out" 'fffff804`7ba00000 fffff804`7ca46000   nt         (builtin symbols)      builtin 10.0.19041.804 (same build; the kernel'"'"'s PDB GUID is not readable in this dump; 11 of the 11 globals KDBG locates sit at its symbol RVAs)'
has "$out" '   +0x000 Pcb              : _KPROCESS'
has "$out" '   +0x438 ProcessLock      : _EX_PUSH_LOCK'
has "$out" '   +0x440 UniqueProcessId  : Ptr64 Void'
has "$out" '   +0x448 ActiveProcessLinks : _LIST_ENTRY'
has "$out" '   +0x460 DefaultPagePriority : Pos 12, 3 Bits'
has "$out" '   +0x5a8 ImageFileName    : [15] UChar'
has "$out" '   +0x5a8 ImageFileName : [15]  "System"'
has "$out" '   +0x440 UniqueProcessId    : 0x00000000`00000004 Void'
has "$out" '   +0x448 ActiveProcessLinks : _LIST_ENTRY [ 0xffffc08b`dcf0f488 - 0xfffff804`7c61e200 ]'
has "$out" '   +0x5a8 ImageFileName      : [15]  "System"'
has "$out" '   +0x000 Tcb      : '
has "$out" '      +0x0f0 Teb      : (null) '
# the seed's spelling: ntdll!_ETHREAD in a kernel session is the kernel's type
out2=$("$nts" -q -c 'dt ntdll!_ETHREAD ffffc08bde9e1640 Tcb->Teb' "$triage")
has "$out2" '      +0x0f0 Teb      : (null) '
has "$out" '   +0x098 ApcState         : '
has "$out" '      +0x020 Process          : 0xffffc08b`dce94180 _KPROCESS'
has "$out" '(fffff804`7c61e200)   nt!PsActiveProcessHead'
has "$out" 'Exact matches:'
has "$out" '    nt!PsActiveProcessHead = <no type information>'
has "$out" '   +0x008 CurrentThread : 0xffffc08b`de9e1640 _KTHREAD'
# the dq above read the list head through the symbol: its Flink is the System process's link
has "$out" 'fffff804`7c61e200  ffffc08b`dce945c8'

# a process's values, the unloaded modules, the faulting module in !analyze -v
out=$("$nts" -q -c 'dt nt!_EPROCESS ffffc08bdce94180; lm; !analyze -v' "$triage")
has "$out" '   +0x460 DefaultPagePriority : 0y101'
has "$out" '   +0x4b0 ExceptionPortData : (null) '
has "$out" '   +0x5b7 PriorityClass    : 0x2 '"''"
has "$out" 'Unloaded modules:'
has "$out" 'fffff804`79440000 fffff804`79446000   hal        (deferred)             '
has "$out" 'SYMBOL_NAME:  amdppm+334c'
has "$out" 'MODULE_NAME: amdppm'
has "$out" 'IMAGE_NAME:  amdppm.sys'

# errors, as WinDbg words them
out=$("$nts" -q -c 'dt nt!_NO_SUCH_TYPE; dt nt!_EPROCESS ffffc08bdce94180 NoSuchField; ? nt!NoSuchSymbol; x nosuchmodule!*' "$triage")
has "$out" 'Symbol nt!_NO_SUCH_TYPE not found.'
has "$out" 'Cannot find specified field members.'
printf '%s\n' "$out" | grep -q "Couldn't resolve error at 'nt!NoSuchSymbol'" || fail "unknown symbol: $out"
has "$out" "Couldn't resolve error at 'nosuchmodule!*'"

# ---- the symbol path: _NT_SYMBOL_PATH, .sympath(+), .symfix, !sym ----
out=$(_NT_SYMBOL_PATH="$dir/a" "$nts" -q -c ".sympath; .sympath+ $dir/b; .symfix $dir/cache; .sympath; !sym noisy; .reload /f nt; !sym quiet" "$triage")
has "$out" "Symbol search path is: $dir/a"
has "$out" "Symbol search path is: $dir/a;$dir/b"
has "$out" "Symbol search path is: srv*$dir/cache*https://msdl.microsoft.com/download/symbols"
has "$out" 'noisy mode - symbol prompts on'
printf '%s\n' "$out" | grep -q '^DBGHELP: nt - builtin 10.0.19041.804' || fail "!sym noisy line: $out"
has "$out" 'quiet mode - symbol prompts on'
out=$("$nts" -q -y "$dir/x" -c '.sympath' "$triage")
has "$out" "Symbol search path is: $dir/x"

# ---- JSON: one document per command ----
if command -v python3 >/dev/null 2>&1; then
    "$nts" --json -c 'x nt!Ps*ProcessHead; lm m nt; ln nt!PsActiveProcessHead+8; dt nt!_EPROCESS ffffc08bdce94180 ImageFileName; .sympath; dps nt!KiProcessorBlock L1' "$triage" >"$dir/out.json"
    python3 - "$dir/out.json" <<'PY' || fail "json"
import json, sys
d = [json.loads(l) for l in open(sys.argv[1])]
assert len(d) == 6, d
x = d[0]["symbols"]
assert x == [{"address": "0xfffff8047c61e200", "module": "nt", "name": "PsActiveProcessHead", "function": False,
              "export": False, "size": x[0]["size"], "text": "= <no type information>"}], x
assert d[1]["modules"][0]["name"] == "nt" and d[1]["modules"][0]["start"] == "0xfffff8047ba00000", d[1]
assert d[2]["symbol"] == "nt!PsActiveProcessHead+0x8" and d[2]["displacement"] == 8, d[2]
f = d[3]["fields"][0]
assert f["name"] == "ImageFileName" and f["offset"] == "0x5a8" and f["value"] == '[15]  "System"', f
assert "sympath" in d[4], d[4]
assert "symbols" in d[5] and len(d[5]["symbols"]) == 1, d[5]
PY
fi
echo "cli symbols test passed"
