#!/bin/sh
# tests/test_cli_disasm.sh - u, ub, uf against an independent disassembler.
#
# The bytes u decodes (its --json "bytes", which are the dump's bytes: they
# are also checked against db) are wrapped in an ELF object with
# llvm-objcopy and disassembled by llvm-objdump -M intel; every instruction
# must start at the same address, with the same mnemonic and the same
# operands once both spellings are normalised (see norm_* below: WinDbg's
# 1Fh and LLVM's 0x1f / 31 are the same number; "sym (addr)" is addr;
# LLVM's branch and rip-relative targets are offsets from the section).
# Targets: the builder's kernel dump (nt!KeBugCheckEx, .pdata for uf) and
# the real minidumps (x64 and x86) at their exception address.
# Skips (77) when ntscope was built without capstone (after checking the
# message), or without llvm-objdump/llvm-objcopy/python3.
set -eu
build=${NTS_BUILD_DIR:?}
nts=${NTSCOPE:?}
data=${NTS_SHARED_DATA:-}
mk="$build/tools/mkdump/ntscope-mkdump"
dir="$build/scratch/cli_disasm"
rm -rf "$dir"; mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
unset _NT_SYMBOL_PATH || true
[ -x "$mk" ] || { echo "SKIP: ntscope-mkdump is not built"; exit 77; }
dmp="$dir/seed.dmp"
"$mk" "$dmp" --scenario seed >/dev/null || fail "ntscope-mkdump --scenario seed"

out=$("$nts" -q -c 'u @rip L1' "$dmp" 2>&1) || true
if printf '%s\n' "$out" | grep -q 'u needs ntscope built with capstone (libcapstone-dev)'; then
    echo "SKIP: ntscope was built without capstone (the message is right)"; exit 77
fi
for t in python3 llvm-objdump llvm-objcopy; do
    command -v $t >/dev/null 2>&1 || { echo "SKIP: $t is absent"; exit 77; }
done

# ---- the layout ----
printf '%s\n' "$out" | grep -qx 'nt!KeBugCheckEx:' || fail "no symbol line: $out"
printf '%s\n' "$out" | grep -qx 'fffff806`72ff5a80 4883ec38        sub     rsp,38h' || fail "row layout: $out"

# check DUMP SETUP ADDR COUNT: u's instructions match llvm-objdump's
check() {
    "$nts" -q --json -c "$2; u $3 L$4" "$1" | tail -n 1 > "$dir/u.json"
    "$nts" -q --json -c "$2; db $3 L80" "$1" | tail -n 1 > "$dir/db.json"
    python3 - "$dir" "$1" <<'EOF' || fail "u $3 on $1"
import json, re, subprocess, sys
d, dump = sys.argv[1], sys.argv[2]
ins = json.load(open(d + "/u.json"))["instructions"]
db = json.load(open(d + "/db.json"))
is32 = "_x86" in dump  # the minidumps' names say their machine
base = int(ins[0]["address"], 16)
# the bytes u shows are the bytes db shows
raw = bytes.fromhex("".join(i["bytes"] for i in ins if i["bytes"]))
dbbytes = json.dumps(db)
code = b""
for i in ins:
    if not i["bytes"] or i["mnemonic"] is None:
        break
    code += bytes.fromhex(i["bytes"])
assert code, "nothing decoded at %x" % base
open(d + "/c.bin", "wb").write(code)
fmt = "elf32-i386" if is32 else "elf64-x86-64"
subprocess.run(["llvm-objcopy", "-I", "binary", "-O", fmt, "--rename-section", ".data=.text,code",
                d + "/c.bin", d + "/c.o"], check=True)
dis = subprocess.run(["llvm-objdump", "-d", "-M", "intel", "--no-show-raw-insn", d + "/c.o"],
                     check=True, capture_output=True, text=True).stdout
ref = []
for line in dis.splitlines():
    m = re.match(r"\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
    if m:
        ref.append((int(m.group(1), 16), m.group(2), m.group(3)))
W = 0xffffffff if is32 else 0xffffffffffffffff
BRANCH = re.compile(r"^(j\w+|call|loop\w*|jecxz|jrcxz)$")

def canon_numbers(t):
    t = re.sub(r"\b0x([0-9a-f]+)\b", lambda m: "#%x" % int(m.group(1), 16), t)
    t = re.sub(r"(?<![\w#])(-?\d+)\b", lambda m: "#%x" % (int(m.group(1)) & W), t)
    return t.replace(" ", "")

def norm_windbg(mn, ops):
    ops = ops.lower().replace("`", "")
    ops = re.sub(r"[\w!.+$@?]+ \(([0-9a-f]+)\)", r"0x\1", ops)   # sym (addr) -> addr
    if BRANCH.match(mn) and re.fullmatch(r"[0-9a-f]+", ops):
        ops = "0x" + ops                                         # a bare branch target
    ops = re.sub(r"\b0*([0-9][0-9a-f]*)h\b", r"0x\1", ops)        # 1Fh -> 0x1f
    if mn == "int" and ops == "3":
        mn, ops = "int3", ""
    return mn, canon_numbers(ops)

def norm_llvm(off, size, mn, ops):
    ops = ops.lower()
    com = None
    if "#" in ops:
        ops, com = ops.split("#", 1)
    ops = re.sub(r"<[^>]*>", "", ops).strip()
    if com and "[rip" in ops:
        tgt = base + int(com.split()[0], 16)
        ops = re.sub(r"\[rip[^\]]*\]", "[0x%x]" % tgt, ops)
    if BRANCH.match(mn) and re.fullmatch(r"0x[0-9a-f]+", ops):
        ops = "0x%x" % ((base + int(ops, 16)) & W)
    # a SIB byte without an index: LLVM names the pseudo register, WinDbg and capstone omit it
    ops = re.sub(r" \+ [er]iz(\*1)?", "", ops)
    if mn == "movabs":
        mn = "mov"
    return mn, canon_numbers(ops)

n = 0
for k, i in enumerate(ins):
    if not i["bytes"] or i["mnemonic"] is None:
        break
    addr = int(i["address"], 16)
    assert k < len(ref), "llvm-objdump has fewer instructions (%d)" % len(ref)
    off, rmn, rops = ref[k]
    assert base + off == addr, "instruction %d at %x, llvm-objdump: %x" % (k, addr, base + off)
    got = norm_windbg(i["mnemonic"], i["operands"])
    want = norm_llvm(off, 0, rmn, rops)
    assert got == want, "%x: ntscope %r (%s %s), llvm-objdump %r (%s %s)" % (
        addr, got, i["mnemonic"], i["operands"], want, rmn, rops)
    n += 1
# db shows the same bytes
dbb = bytes(v for v in db["data"] if v is not None)
assert dbb[:len(raw)] == raw[:len(dbb)] and len(dbb) >= min(len(raw), 0x80) - 16, "db and u bytes differ"
print("%s: %d instructions match llvm-objdump" % (dump.split("/")[-1], n))
EOF
}

# ub ADDR LN lands on ADDR with N instructions; the last one is the one u
# would show just before (its end is ADDR)
check_ub() {
    "$nts" -q --json -c "$2; ub $3 L$4" "$1" | tail -n 1 > "$dir/ub.json"
    python3 - "$dir/ub.json" "$4" "$1" "$3" <<'EOF' || fail "ub $3 on $1"
import json, sys
doc = json.load(open(sys.argv[1]))
ins = doc["instructions"]
assert len(ins) == int(sys.argv[2], 16), "ub gave %d instructions" % len(ins)
for a, b in zip(ins, ins[1:]):
    assert int(a["address"], 16) + len(a["bytes"]) // 2 == int(b["address"], 16), "not contiguous"
last = ins[-1]
end = int(last["address"], 16) + len(last["bytes"]) // 2
print("ub ends at %x" % end)
open(sys.argv[1] + ".end", "w").write("%x" % end)
EOF
}

check "$dmp" '.echo' 'nt!KeBugCheckEx' 20
check_ub "$dmp" '.echo' 'nt!KeBugCheckEx+8' 8
[ "$(cat "$dir/ub.json.end")" = "fffff80672ff5a88" ] || fail "ub does not land on nt!KeBugCheckEx+8"

# uf: the .pdata range of nt!KeBugCheckEx, whole
"$nts" -q --json -c 'uf nt!KeBugCheckEx+0x10' "$dmp" > "$dir/uf.json"
python3 - "$dir/uf.json" <<'EOF' || fail "uf"
import json, sys
doc = json.loads(open(sys.argv[1]).read().splitlines()[-1])
b, e = int(doc["begin"], 16), int(doc["end"], 16)
ins = doc["instructions"]
assert b == 0xfffff80672ff5a80 and b <= 0xfffff80672ff5a90 < e, (hex(b), hex(e))
assert int(ins[0]["address"], 16) == b
last = ins[-1]
assert int(last["address"], 16) + len(last["bytes"]) // 2 == e, "uf stops before the .pdata end"
assert ins[0]["symbol"] == "nt!KeBugCheckEx"
EOF

# continuation: u without an address goes on where the last u stopped
a=$("$nts" -q -c 'u nt!KeBugCheckEx L3; u L1' "$dmp" | tail -n 1)
[ "$a" = 'fffff806`72ff5a86 90              nop' ] || fail "u continuation: $a"

if [ -z "$data" ] || [ ! -d "$data/minidumps" ]; then
    echo "SKIP (partly): NTS_SHARED_DATA/minidumps is absent; the kernel dump checks passed"
    exit 0
fi
m="$data/minidumps"
# x64: the real exception sites (CrashTest: imul, rsp+disp; crash: call rel32)
check "$m/invalid-parameter_win10_x64.dmp" '.ecxr' '@$ip' 18
check "$m/write_av_non_canonical_win10_x64.dmp" '.ecxr' '@$ip' 18
check "$m/calc_win7_x64.dmp" '.ecxr' '@$ip' 10
check_ub "$m/write_av_non_canonical_win10_x64.dmp" '.ecxr' '@$ip' 6
[ "$(cat "$dir/ub.json.end")" = "7ff738721331" ] || fail "ub does not land on crash+0x1331"
# x86: 8-digit addresses, 32-bit decoding
check "$m/null_read_av_win7_x86.dmp" '.ecxr' '@$ip' 18
check "$m/thread_name_list_win10_x86.dmp" '.ecxr' '@$ip' 18
check_ub "$m/thread_name_list_win10_x86.dmp" '.ecxr' '@$ip' 4
[ "$(cat "$dir/ub.json.end")" = "4015fd" ] || fail "ub does not land on allocer32+0x15fd"
out=$("$nts" -q -c '.ecxr; u @$ip L2' "$m/null_read_av_win7_x86.dmp")
printf '%s\n' "$out" | grep -qx '0090a6cd 8b00            mov     eax,dword ptr \[eax\]' || fail "x86 row: $out"
# unreadable code: WinDbg's ?? / ???
out=$("$nts" -q -c '.ecxr; u @$ip L2' "$m/minidump2_xp_x86.dmp")
printf '%s\n' "$out" | grep -qx '0040429e ??              ???' || fail "unreadable row: $out"
echo "PASS"
