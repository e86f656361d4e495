#!/bin/sh
# tests/test_cli_mdmp_codeview.sh - a process dump's module whose image bytes
# were not captured finds its PDB by the ModuleList's CodeView record (name,
# GUID, age) on the symbol path.
#
# A synthetic minidump is written here (python3): SystemInfo (x64, 19041),
# a ModuleList naming CrashWithException.exe with the PE file's own time
# stamp, size, checksum and RSDS record (read from ../shared/data/pe), and a
# ThreadList with one thread whose rip is ?foo@X@@QEAAXXZ+4; no image memory.
# The PDB is put in a srv* store layout (NAME.pdb/GUIDAGE/NAME.pdb). The
# expected symbol and its address come from llvm-pdbutil (the publics and
# the section headers of the real PDB), and obj2yaml must read the dump.
# Skips (77) without ../shared/data, python3, llvm-pdbutil or obj2yaml.
set -eu
build=${NTS_BUILD_DIR:?}
nts=${NTSCOPE:?}
data=${NTS_SHARED_DATA:-../shared/data}
pe="$data/pe/CrashWithException.exe"
pdb="$data/pdb/CrashWithException.pdb"
dir="$build/scratch/cli_mdmp_codeview"
rm -rf "$dir"; mkdir -p "$dir"
[ -f "$pe" ] && [ -f "$pdb" ] || { echo "SKIP: ../shared/data/pe or pdb is absent"; exit 77; }
for t in python3 llvm-pdbutil obj2yaml; do
    command -v $t >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
done
fail() { echo "FAIL: $*"; exit 1; }

# The oracle: the PDB's identity, ?foo@X@@QEAAXXZ's section:offset and .text's address.
llvm-pdbutil dump -summary -publics -section-headers "$pdb" > "$dir/pdbutil.txt"
guid=$(sed -n 's/^ *GUID: {\(.*\)}$/\1/p' "$dir/pdbutil.txt" | tr -d '-')
age=$(sed -n 's/^ *Age: \([0-9]*\)$/\1/p' "$dir/pdbutil.txt")
foo_off=$(grep -A1 '`?foo@X@@QEAAXXZ`' "$dir/pdbutil.txt" | sed -n 's/.*addr = 0001:\([0-9]*\).*/\1/p')
text_va=$(grep -m1 -B0 'virtual address' "$dir/pdbutil.txt" | awk '{print $1}')
[ -n "$guid" ] && [ -n "$age" ] && [ -n "$foo_off" ] && [ -n "$text_va" ] || fail "llvm-pdbutil's output not understood"
key=$(printf '%s%X' "$guid" "$age")
mkdir -p "$dir/store/CrashWithException.pdb/$key"
cp "$pdb" "$dir/store/CrashWithException.pdb/$key/"

base=0x140000000
foo_off=$(echo "$foo_off" | sed 's/^0*\([0-9]\)/\1/') # decimal, not octal
rip=$(printf '0x%x' $((base + 0x$text_va + foo_off + 4)))
python3 - "$pe" "$dir/cv.dmp" "$base" "$rip" <<'PY'
import struct, sys
pe = open(sys.argv[1], 'rb').read()
out, base, rip = sys.argv[2], int(sys.argv[3], 16), int(sys.argv[4], 16)
nt = struct.unpack_from('<I', pe, 0x3c)[0]
assert pe[nt:nt + 4] == b'PE\0\0'
stamp = struct.unpack_from('<I', pe, nt + 8)[0]
opt = nt + 24
size, csum = struct.unpack_from('<I', pe, opt + 56)[0], struct.unpack_from('<I', pe, opt + 64)[0]
i = pe.find(b'RSDS')
cv = pe[i:pe.index(b'\0', i + 24) + 1]          # RSDS, GUID, age, the name and its NUL

blob = bytearray(32 + 4 * 12)                   # header, then the stream directory
def put(b):
    while len(blob) % 8:
        blob.append(0)
    rva = len(blob)
    blob.extend(b)
    return rva
def mdstring(s):
    u = s.encode('utf-16-le')
    return put(struct.pack('<I', len(u)) + u + b'\0\0')
csd = mdstring('')
sysinfo = struct.pack('<HHHBBIIIIIHH', 9, 6, 0x5507, 1, 1, 10, 0, 19041, 2, csd, 0, 0) + bytes(24)
name = mdstring('C:\\Program Files\\Crash\\CrashWithException.exe')
cv_rva = put(cv)
mod = struct.pack('<QIIII', base, size, csum, stamp, name) + bytes(52) + \
      struct.pack('<II', len(cv), cv_rva) + bytes(8 + 16)
assert len(mod) == 108
ctx = bytearray(0x4d0)
rsp = 0x000000d0_0000f000
struct.pack_into('<I', ctx, 0x30, 0x10001f)      # CONTEXT_AMD64 | CONTROL | INTEGER | SEGMENTS | FLOAT | DEBUG
struct.pack_into('<Q', ctx, 0x98, rsp)
struct.pack_into('<Q', ctx, 0xf8, rip)
ctx_rva = put(bytes(ctx))
stack_rva = put(bytes(0x100))
thread = struct.pack('<IIIIQQIIII', 0x1234, 0, 0x20, 0, 0x000000d0_00010000, rsp, 0x100, stack_rva,
                     len(ctx), ctx_rva)
sys_rva = put(sysinfo)
mods_rva = put(struct.pack('<I', 1) + mod)
thr_rva = put(struct.pack('<I', 1) + thread)
mem = struct.pack('<IQII', 1, rsp, 0x100, stack_rva)   # the stack in a MemoryList too
mem_rva = put(mem)
struct.pack_into('<4sIIIIIQ', blob, 0, b'MDMP', 0xa793, 4, 32, 0, 0x5f000000, 0)
struct.pack_into('<III', blob, 32, 7, len(sysinfo), sys_rva)
struct.pack_into('<III', blob, 44, 4, 4 + len(mod), mods_rva)
struct.pack_into('<III', blob, 56, 3, 4 + len(thread), thr_rva)
struct.pack_into('<III', blob, 68, 5, len(mem), mem_rva)
open(out, 'wb').write(blob)
PY

# obj2yaml reads the dump: one module, its name, one thread.
obj2yaml "$dir/cv.dmp" > "$dir/cv.yaml" || fail "obj2yaml cannot read the synthetic dump"
grep -q 'CrashWithException.exe' "$dir/cv.yaml" || fail "obj2yaml does not see the module"

# Without a symbol path: no PDB, the address names the module only.
"$nts" -q --offline -y "" -c "ln $rip" "$dir/cv.dmp" > "$dir/nopath.txt" 2>&1 || fail "ln without a path: exit $?"
grep -q 'foo' "$dir/nopath.txt" && fail "a symbol without a symbol path: $(cat "$dir/nopath.txt")"

# -y srv*STORE: ln, x and k name X::foo from the PDB found by GUID and age.
foo_va=$(printf '%016x' $((base + 0x$text_va + foo_off)))
foo_va_bq=$(echo "$foo_va" | sed 's/^\(........\)/\1`/')
"$nts" -q --offline -y "srv*$dir/store" -c "ln $rip; x CrashWithException!*foo*; k; lm v m CrashWithException" \
    "$dir/cv.dmp" > "$dir/y.txt" 2>&1 || fail "-y: exit $?"
grep -q "($foo_va_bq) *CrashWithException!.*foo.*+0x4" "$dir/y.txt" || fail "ln: $(cat "$dir/y.txt")"
grep -q "^$foo_va_bq *CrashWithException!.*foo" "$dir/y.txt" || fail "x: $(cat "$dir/y.txt")"
grep -q "CrashWithException!.*foo.*+0x4" "$dir/y.txt" || fail "k"
grep -q "/$key/CrashWithException.pdb" "$dir/y.txt" || fail "lm v: not the store's PDB: $(cat "$dir/y.txt")"
grep -q "(private pdb symbols)\|(pdb symbols)" "$dir/y.txt" || fail "lm v: not (pdb symbols): $(cat "$dir/y.txt")"

# .sympath at the prompt, then .reload, does the same.
"$nts" -q --offline -y "" -c ".sympath srv*$dir/store; .reload; ln $rip" "$dir/cv.dmp" > "$dir/sp.txt" 2>&1 || fail ".sympath: exit $?"
grep -q "($foo_va_bq) *CrashWithException!.*foo.*+0x4" "$dir/sp.txt" || fail ".sympath ln: $(cat "$dir/sp.txt")"

# --json: the module's CodeView identity and the symbol.
"$nts" -q --offline --json -y "srv*$dir/store" -c "ln $rip" "$dir/cv.dmp" > "$dir/y.json" || fail "--json: exit $?"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' "$dir/y.json" || fail "--json does not parse"
grep -q 'foo' "$dir/y.json" || fail "--json ln: $(cat "$dir/y.json")"
echo "PASS: CodeView record from the ModuleList finds the PDB (GUID $guid age $age) through srv*"
