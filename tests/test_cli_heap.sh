#!/bin/sh
# tests/test_cli_heap.sh - the !heap family and !leak end to end on an
# ntscope-mkdump dump of the seed scenario (16 GB sparse, 800 leaked blocks)
# and on a default one, against the builder's truth: the heap list after
# .process /r /p, the seed's segment lines in !heap -a, -s, -stat totals,
# -flt, -x, -p -a, -i, -srch, -l (exactly the truth's unreachable count),
# !leak naming D4C.exe first with the leaked string, -proc, the JSON
# documents, and the errors (no process context, not a heap).
set -eu
build=${NTS_BUILD_DIR:?}
nts=${NTSCOPE:?}
mkdump="$build/tools/mkdump/ntscope-mkdump"
[ -x "$mkdump" ] || { echo "SKIP: ntscope-mkdump is not built"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 is missing"; exit 77; }
dir="$build/scratch/cli_heap"
rm -rf "$dir"; mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }

dump="$dir/seed.dmp"
"$mkdump" "$dump" --scenario seed --leak-blocks 800 >/dev/null || fail "mkdump"
truth="$dump.json"
d4c=ffffcb0c950ea0c0
# the truth's facts: D4C's heap 0, busy blocks/bytes, unreachable count
eval "$(python3 - "$truth" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
p = [x for x in t["heaps"]["processes"] if x["name"] == "D4C.exe"][0]
h = p["heaps"][0]
busy = [b for b in h["blocks"] if b["busy"] and not b["internal"]]
unreach = sum(x["unreachable_blocks"] for x in p["heaps"])
leaks = [b for b in busy if int(b["request"], 16) == 0x1000]
print("heap0=%x" % int(h["address"], 16))
print("busy=%d" % len(busy))
print("busy_bytes=%d" % sum(int(b["request"], 16) for b in busy))
print("unreach=%d" % unreach)
print("leak_user=%x" % int(leaks[5]["user"], 16))
print("leak_entry=%x" % int(leaks[5]["entry"], 16))
print("leak_user16=%016x" % int(leaks[5]["user"], 16))
print("leak_entry16=%016x" % int(leaks[5]["entry"], 16))
print("leak_user10=%016x" % (int(leaks[5]["user"], 16) + 0x10))
print("nleak=%d" % p["leak"]["blocks"])
PY
)"
[ "$heap0" = "1244e6d0000" ] || fail "truth heap0 $heap0"

ctx=".process /r /p 0x$d4c"
out=$("$nts" -q -c "$ctx; !heap" "$dump")
printf '%s\n' "$out" | grep -q '^         1244e6d0000              NT Heap$' || fail "!heap list: $out"
printf '%s\n' "$out" | grep -q '^         1244e500000              NT Heap$' || fail "!heap list 2"
printf '%s\n' "$out" | grep -q '^         1244e950000              NT Heap$' || fail "!heap list 3"

out=$("$nts" -q -c "$ctx; !heap -a 1244e6d0000" "$dump")
printf '%s\n' "$out" | grep -q '^  1:   1244e6d0000 $' || fail "-a index line"
for l in "Segment at 000001244e6d0000 to 000001244e7cf000 (000ef000 bytes committed)" \
         "Segment at 000001244e810000 to 000001244e90f000 (000f8000 bytes committed)" \
         "Segment at 000001244e960000 to 000001244eb5f000 (001f8000 bytes committed)" \
         "Segment at 000001244eb60000 to 000001244ef5f000 (003f7000 bytes committed)"; do
    printf '%s\n' "$out" | grep -qF "    $l" || fail "-a segment line: $l"
done
printf '%s\n' "$out" | grep -q '000001244e6d0000: 00000 . 007[0-9a-f]0 \[101\] - busy' || fail "-a heap header entry"
printf '%s\n' "$out" | grep -q 'LFH data region at' || fail "-a LFH region"
printf '%s\n' "$out" | grep -q 'uncommitted bytes.$' || fail "-a uncommitted"

out=$("$nts" -q -c "$ctx; !heap -s" "$dump")
printf '%s\n' "$out" | grep -q 'NT HEAP STATS BELOW' || fail "-s banner"
printf '%s\n' "$out" | grep -q '^000001244e6d0000 00000002 .*LFH$' || fail "-s row: $out"

# -stat: the buckets sum to the truth's busy bytes
"$nts" -q -c "$ctx; !heap -stat -h 1244e6d0000 -grp S 100000" "$dump" >"$dir/stat.txt"
grep -q '^ heap @ 000001244e6d0000$' "$dir/stat.txt" || fail "-stat header"
grep -q "^    1000 $(printf '%x' "$nleak") - " "$dir/stat.txt" || fail "-stat leak bucket"
python3 - "$dir/stat.txt" "$busy" "$busy_bytes" <<'PY' || fail "-stat totals"
import sys, re
rows = [l.split() for l in open(sys.argv[1]) if re.match(r"^    [0-9a-f]+ [0-9a-f]+ - [0-9a-f]+  \(", l)]
n = sum(int(r[1], 16) for r in rows); b = sum(int(r[3], 16) for r in rows)
assert n == int(sys.argv[2]) and b == int(sys.argv[3]), (n, b, sys.argv[2:])
PY

out=$("$nts" -q -c "$ctx; !heap -flt s 1000" "$dump")
[ "$(printf '%s\n' "$out" | grep -c ' 01000 - (busy)$')" -eq "$nleak" ] || fail "-flt s 1000 count"
printf '%s\n' "$out" | grep -q '^    _HEAP @ 1244e6d0000$' || fail "-flt heap line"

out=$("$nts" -q -c "$ctx; !heap -x $leak_user" "$dump")
printf '%s\n' "$out" | grep -q "^$leak_entry16  $leak_user16  000001244e6d0000  " || fail "-x row: $out"
printf '%s\n' "$out" | grep -q ' busy $' || fail "-x flags"
out=$("$nts" -q -c "$ctx; !heap -p -a $leak_user+10" "$dump")
printf '%s\n' "$out" | grep -q "address $leak_user10 found in" || fail "-p -a: $out"
printf '%s\n' "$out" | grep -q "$leak_user16    01000 - (busy)" || fail "-p -a row: $out"
out=$("$nts" -q -c "$ctx; !heap -i $leak_entry" "$dump")
printf '%s\n' "$out" | grep -q 'Block CRC          : OK' || fail "-i: $out"
printf '%s\n' "$out" | grep -q 'Requested size     : 0x1000 bytes' || fail "-i size"
out=$("$nts" -q -c "$ctx; !heap -x 10" "$dump")
printf '%s\n' "$out" | grep -q 'is not in any heap' || fail "-x outside: $out"

out=$("$nts" -q -c "$ctx; !heap -srch \"==> Allocated addr\"" "$dump")
[ "$(printf '%s\n' "$out" | grep -c '01000 - (busy)$')" -eq "$nleak" ] || fail "-srch count"

out=$("$nts" -q -c "$ctx; !heap -l" "$dump")
printf '%s\n' "$out" | grep -q "^$unreach potential unreachable blocks were detected.$" || fail "-l count ($unreach): $(printf '%s\n' "$out" | tail -2)"
printf '%s\n' "$out" | grep -q '^Scanning references from ' || fail "-l scanning line"

# !leak: D4C.exe first, the leaked string, module pointers
out=$("$nts" -q -c '!leak' "$dump")
printf '%s\n' "$out" | grep -A1 '  Pid ImageName' | tail -1 | grep -q ' D4C.exe ' || fail "!leak first row: $(printf '%s\n' "$out" | head -5)"
printf '%s\n' "$out" | grep -q "^PROCESS ffffcb0c950ea0c0  D4C.exe" || fail "!leak process"
printf '%s\n' "$out" | grep -q "$nleak blocks .*\"==> Allocated addr: 0x#\\\\n\"" || fail "!leak prefix"
printf '%s\n' "$out" | grep -q 'e.g. .*"==> Allocated addr: 0x' || fail "!leak sample"
printf '%s\n' "$out" | grep -q 'D4C.exe+0x' || fail "!leak module pointer"
out=$("$nts" -q -c '!leak explorer.exe -noscan' "$dump")
printf '%s\n' "$out" | grep -q '^PROCESS .*explorer.exe' || fail "!leak explorer.exe"

# -proc: without a process context
out=$("$nts" -q -c '!heap -stat -h 0 -proc D4C.exe' "$dump")
printf '%s\n' "$out" | grep -q '^Allocations statistics for$' || fail "-proc"
out=$("$nts" -q -c '!heap' "$dump" || true)
printf '%s\n' "$out" | grep -q 'HEAPEXT' || fail "no context: $out"
out=$("$nts" -q -c "$ctx; !heap -a 12345670000" "$dump" || true)
printf '%s\n' "$out" | grep -q 'is not a heap' || fail "not a heap: $out"

# JSON: one document per command
"$nts" --json -c "$ctx; !heap; !heap -s; !heap -stat -h 1244e6d0000; !heap -x $leak_user; !heap -l; !leak -noscan; !heap -a 1244e950000; !heap -flt s 1000; !heap -i $leak_entry; !heap -srch \"==> Alloc\"" "$dump" >"$dir/out.json"
python3 - "$dir/out.json" "$unreach" "$nleak" "$busy" <<'PY' || fail "json"
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
by = {d["command"].split(" -")[0] + (" " + d["command"].split()[1] if len(d["command"].split()) > 1 else ""): d for d in docs}
cmds = [d["command"] for d in docs]
d = docs[1]; assert [h["address"] for h in d["heaps"]][0] == "0x1244e6d0000", d
assert docs[2]["heaps"][0]["type"] == "NT Heap"
st = docs[3]["heaps"][0]; assert st["busy_blocks"] == int(sys.argv[4]), st["busy_blocks"]
assert docs[4]["found"] and docs[4]["block"]["busy"]
assert docs[5]["unreachable_blocks"] == int(sys.argv[2]) == len(docs[5]["blocks"])
lk = docs[6]["processes"][0]; assert lk["name"] == "D4C.exe" and lk["prefixes"][0]["blocks"] == int(sys.argv[3])
assert docs[7]["heaps"][0]["segments"], docs[7]
assert docs[8]["matches"] == int(sys.argv[3])
assert docs[9]["checksum_ok"]
assert docs[10]["matches"] == int(sys.argv[3])
PY

# a default dump: the segment heap in csrss.exe and the LFH blocks
dump2="$dir/default.dmp"
"$mkdump" "$dump2" --ram 256M --seed 21 --leak-blocks 100 >/dev/null || fail "mkdump default"
out=$("$nts" -q -c '!heap -proc csrss.exe' "$dump2")
printf '%s\n' "$out" | grep -q 'Segment Heap$' || fail "segment heap listed: $out"
sh=$(printf '%s\n' "$out" | awk '$2 == "Segment" && $3 == "Heap" {print $1; exit}')
out=$("$nts" -q -c "!heap -a $sh -proc csrss.exe; !heap -s -proc csrss.exe" "$dump2")
printf '%s\n' "$out" | grep -q '\[VS\] - busy' || fail "VS blocks"
printf '%s\n' "$out" | grep -q '\[LFH\] - busy' || fail "segment LFH blocks"
printf '%s\n' "$out" | grep -q 'Large block: ' || fail "large blocks"
printf '%s\n' "$out" | grep -q 'SEGMENT HEAP STATS BELOW' || fail "-s segment heap table"
rm -rf "$dir"
echo "test_cli_heap: ok"
