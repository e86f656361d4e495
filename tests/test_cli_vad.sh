#!/bin/sh
# tests/test_cli_vad.sh - !vad end to end on ntscope-mkdump dumps of the
# three builds (17763, 19041, 22000) against the builder's truth ("vads"):
# for D4C.exe and explorer.exe after .process /r /p, every row of the tree
# (node, start and end VPN, commit, Private/Mapped, Exe, protection name,
# file) in address order with the header and the Total line, the JSON
# document (every VAD's fields), !vad on a user address (the VAD holding
# it), on the root node (the whole tree) and flag 1; the errors (an address
# no VAD holds); and the walk's reason on the builder's hostile trees
# (--corrupt vad-cycle, vad-unreadable).
set -eu
build=${NTS_BUILD_DIR:?}
nts=${NTSCOPE:?}
mkdump="$build/tools/mkdump/ntscope-mkdump"
[ -x "$mkdump" ] || { echo "SKIP: ntscope-mkdump is not built"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 is missing"; exit 77; }
dir="$build/scratch/cli_vad"
rm -rf "$dir"; mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }

# Compare !vad text ($3) and JSON ($4) of process $2 with the truth $1.
check() {
    python3 - "$@" <<'PY'
import json, re, sys
truth, name, text, js = sys.argv[1:5]
t = json.load(open(truth))
p = [x for x in t["vads"]["processes"] if x["name"] == name][0]
want = p["vads"]
names = {0: "NO_ACCESS", 1: "READONLY", 4: "READWRITE", 7: "EXECUTE_WRITECOPY"}
lines = open(text).read().splitlines()
hdr = [i for i, l in enumerate(lines) if l == "VAD             Level     Start       End Commit"]
assert len(hdr) == 1, "header line: %r" % lines[:8]
rows = lines[hdr[0] + 1:hdr[0] + 1 + len(want)]
row = re.compile(r"^([0-9a-f]{16}) +(\d+) +([0-9a-f]+) +([0-9a-f]+) +(\d+) (Private|Mapped ) (Exe |    ) (\S+) *(.*)$")
for w, l in zip(want, rows):
    m = row.match(l)
    assert m, "row: %r" % l
    node, level, s, e, commit, kind, exe, prot, f = m.groups()
    assert int(node, 16) == int(w["node"], 16), (l, w)
    assert int(s, 16) == int(w["start"], 16) >> 12 and int(e, 16) == int(w["end"], 16) >> 12, (l, w)
    assert int(commit) == w["commit"], (l, w)
    assert (kind == "Private") == bool(w["private"]), (l, w)
    assert (exe == "Exe ") == (w["type"] == 2), (l, w)
    assert prot == names[w["protection"]], (l, w)
    assert f.strip() == w["file"], (l, w)
    assert len(node) == 16 and l[16:19] == "%3s" % level, l
tot = [l for l in lines if l.startswith("Total VADs: ")]
assert tot and tot[0].startswith("Total VADs: %d, average level: " % len(want)), tot
assert re.match(r"^Total VADs: \d+, average level: \d+, maximum depth: \d+$", tot[0]), tot
docs = [json.loads(l) for l in open(js)]
d = [x for x in docs if x.get("command", "").startswith("!vad")][0]
assert d["count"] == len(want) and d["complete"] is True, d.get("count")
assert int(d["process"], 16) == int(p["eprocess"], 16)
for w, v in zip(want, d["vads"]):
    assert int(v["vad"], 16) == int(w["node"], 16)
    assert int(v["start"], 16) == int(w["start"], 16) and int(v["end"], 16) == int(w["end"], 16), (v, w)
    assert v["protection"] == w["protection"] and v["private"] == bool(w["private"]), (v, w)
    assert v["image"] == (w["type"] == 2) and v["file"] == w["file"] and v["commit"] == w["commit"], (v, w)
    assert v["protection_name"] == names[w["protection"]]
    assert int(v["page_protect"], 16) == {0: 1, 1: 2, 4: 4, 7: 0x80}[w["protection"]]
print("%s: %d VADs" % (name, len(want)))
PY
}

# Facts of a process from the truth: eprocess, root node, an image VAD, a private VAD.
facts() {
    python3 - "$1" "$2" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
p = [x for x in t["vads"]["processes"] if x["name"] == sys.argv[2]][0]
img = [v for v in p["vads"] if v["type"] == 2][-1]
prv = [v for v in p["vads"] if v["kind"] == "stack"][0]
root = int(p["root"], 16)
print("ep=%x root=%x count=%d" % (int(p["eprocess"], 16), root, p["count"]))
print("img_addr=%x img_node=%x img_file='%s'" % (int(img["start"], 16) + 0x1234, int(img["node"], 16), img["file"]))
print("stk_addr=%x stk_node=%016x stk_end=%x" % (int(prv["end"], 16) - 8, int(prv["node"], 16), int(prv["end"], 16) >> 12))
PY
}

for spec in "19041:--ram 512M" "17763:--build 17763 --bitmap --ram 512M --seed 2" "22000:--build 22000 --ram 512M --seed 3"; do
    b=${spec%%:*}
    opts=${spec#*:}
    dump="$dir/d$b.dmp"
    # shellcheck disable=SC2086
    "$mkdump" "$dump" $opts >/dev/null || fail "mkdump $b"
    for proc in D4C.exe explorer.exe; do
        eval "$(facts "$dump.json" $proc)"
        ctx=".process /r /p 0x$ep"
        "$nts" -q -c "$ctx; !vad" "$dump" >"$dir/out.txt" 2>&1 || fail "$b $proc: !vad exit"
        "$nts" -q --json -c "$ctx; !vad" "$dump" >"$dir/out.json" 2>&1 || fail "$b $proc: !vad --json exit"
        check "$dump.json" $proc "$dir/out.txt" "$dir/out.json" || fail "$b $proc: !vad against the truth"
        # a user address: the VAD holding it
        out=$("$nts" -q -c "$ctx; !vad $stk_addr" "$dump")
        printf '%s\n' "$out" | grep -q "^$stk_node .* $stk_end  *[0-9]* Private      READWRITE" || fail "$b: !vad $stk_addr: $out"
        [ "$(printf '%s\n' "$out" | grep -c '^ffff')" = 1 ] || fail "$b: !vad $stk_addr: one row"
        out=$("$nts" -q -c "$ctx; !vad $img_addr" "$dump")
        printf '%s\n' "$out" | grep -q "Mapped  Exe  EXECUTE_WRITECOPY  $(printf '%s' "$img_file" | sed 's/\\/\\\\/g')\$" ||
            fail "$b: !vad $img_addr: $out"
        # the root node: the whole tree, levels from it
        out=$("$nts" -q -c "$ctx; !vad $root" "$dump")
        printf '%s\n' "$out" | grep -q "^Total VADs: $count, " || fail "$b: !vad root: $out"
        printf '%s\n' "$out" | grep -q "^$root  0 " || fail "$b: !vad root level 0"
        # flag 1
        out=$("$nts" -q -c "$ctx; !vad $img_addr 1" "$dump")
        printf '%s\n' "$out" | grep -q "^VAD @ 0*$img_node$" || fail "$b: !vad flag 1: $out"
        printf '%s\n' "$out" | grep -q "File Object: .*$(printf '%s' "$img_file" | sed 's/\\/\\\\/g')" || fail "$b: flag 1 file"
    done
    # no VAD holds page 0
    out=$("$nts" -q -c ".process /r /p 0x$ep; !vad 10" "$dump" 2>&1) || true
    printf '%s\n' "$out" | grep -q "No VAD of process .* holds 0000000000000010" || fail "$b: !vad 10: $out"
    rm -f "$dump" "$dump.json"
done

# Hostile trees: what was read, then the reason.
dump="$dir/c.dmp"
"$mkdump" "$dump" --ram 256M --corrupt vad-cycle,vad-unreadable >/dev/null || fail "mkdump --corrupt"
eval "$(python3 - "$dump.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["corrupt"]
print("cyc=%x cyc_at=%016x unr=%x unr_at=%016x" % (int(c["vad_cycle_eprocess"], 16), int(c["vad_cycle_target"], 16),
      int(c["vad_unreadable_eprocess"], 16), int(c["vad_unreadable_target"], 16)))
PY
)"
out=$("$nts" -q -c ".process /r /p 0x$cyc; !vad" "$dump")
printf '%s\n' "$out" | grep -q "^VAD walk truncated at $cyc_at: .*(a cycle)$" || fail "vad-cycle marker: $out"
out=$("$nts" -q -c ".process /r /p 0x$unr; !vad" "$dump")
printf '%s\n' "$out" | grep -q "^VAD walk truncated at $unr_at: .*cannot be read" || fail "vad-unreadable marker: $out"
"$nts" -q --json -c ".process /r /p 0x$unr; !vad" "$dump" | python3 -c '
import json, sys
d = [json.loads(l) for l in sys.stdin if "\"!vad" in l][0]
assert d["complete"] is False and "VAD walk truncated" in d["walk_problem"] and d["count"] > 0, d
' || fail "vad-unreadable JSON"
rm -f "$dump" "$dump.json"
echo "PASS"
