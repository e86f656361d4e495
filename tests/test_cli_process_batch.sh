#!/bin/sh
# tests/test_cli_process_batch.sh - the process, thread and stack commands
# through the ntscope program, in batch mode: the seed walkthrough's steps 5
# and 6 on the builder's seed scenario, in text and --json (every document
# one line of valid JSON, one per command, !for_each_process's commands
# inside its document), the !mex. prefix, errors for bad arguments.
# Skips (77) without the builder or python3.
set -eu
build=${NTS_BUILD_DIR:?}
nts=${NTSCOPE:?}
mk="$build/tools/mkdump/ntscope-mkdump"
dir="$build/scratch/cli_process_batch"
rm -rf "$dir"; mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
has() { printf '%s\n' "$1" | grep -qxF -- "$2" || fail "missing line: [$2] in:
$1"; }
[ -x "$mk" ] || { echo "SKIP: ntscope-mkdump is not built"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is absent"; exit 77; }
unset _NT_SYMBOL_PATH || true
export TZ=UTC

dmp="$dir/seed.dmp"
"$mk" "$dmp" --scenario seed >/dev/null || fail "ntscope-mkdump --scenario seed"

# ---- text: the seed's lines ----
out=$("$nts" -q -c '!process 0 0 D4C.exe' "$dmp")
has "$out" '0: kd> !process 0 0 D4C.exe'
has "$out" 'PROCESS ffffcb0c950ea0c0'
has "$out" '    SessionId: 3  Cid: 0d40    Peb: 13c75e4000  ParentCid: 3758'
has "$out" '    DirBase: 27cd1f002  ObjectTable: ffffa5843cdd8c00  HandleCount:  51.'
has "$out" '    Image: D4C.exe'

out=$("$nts" -q -c '.process /r /p 0xffffcb0c950ea0c0; !peb' "$dmp")
has "$out" 'Implicit process is now ffffcb0c`950ea0c0'
has "$out" '.cache forcedecodeuser done'
has "$out" 'Loading User Symbols'
has "$out" 'PEB at 00000013c75e4000'
has "$out" "    CommandLine:  '\"C:\\Users\\Win10\\Desktop\\D4C.exe\" '"
has "$out" '        COMPUTERNAME=THINKPAD-X280'

# lm after .process /r: the process's user modules (lower addresses first), then the kernel's;
# lm k / lm u split them. D4C.exe's base is the seed's (!peb's module list), its end the truth's.
d4c_end=$(python3 -c 'import json,sys
t=json.load(open(sys.argv[1]))
for p in t["processes"]:
    if p.get("name","").lower()=="d4c.exe":
        for m in p.get("modules",[]):
            if m["name"].lower()=="d4c.exe": e=int(str(m["base"]),0)+int(str(m["size"]),0); print("%08x`%08x" % (e>>32, e&0xffffffff))' "$dmp.json" 2>/dev/null || true)
out=$("$nts" -q -c 'lm; .process /r /p 0xffffcb0c950ea0c0; lm; lm k; lm u' "$dmp")
printf '%s\n' "$out" | awk '/^0: kd> lm$/{n++} n==1' | grep -q '   D4C ' && fail "lm lists D4C before .process /r"
printf '%s\n' "$out" | awk '/^0: kd> lm$/{n++} n==2' | grep -q '^00007ff7`8f5e0000 .*   D4C ' || fail "lm after .process /r lacks D4C: $out"
[ -z "$d4c_end" ] || printf '%s\n' "$out" | grep -qF "00007ff7\`8f5e0000 $d4c_end   D4C " || fail "D4C's end is not the truth's $d4c_end"
printf '%s\n' "$out" | awk '/^0: kd> lm$/{n++} n==2' | grep -q '   nt  ' || fail "lm after .process /r lacks nt"
printf '%s\n' "$out" | awk '/^0: kd> lm k$/{n=1;next} /^0: kd>/{n=0} n' | grep -q 'D4C' && fail "lm k lists a user module"
printf '%s\n' "$out" | awk '/^0: kd> lm u$/{n=1;next} /^0: kd>/{n=0} n' | grep -q '   nt  ' && fail "lm u lists the kernel"

# !mex.X is !X
a=$("$nts" -q -c '!mex.tlist' "$dmp" | tail -n +2)
b=$("$nts" -q -c '!tlist' "$dmp" | tail -n +2)
[ "$a" = "$b" ] || fail "!mex.tlist and !tlist differ"
out=$("$nts" -q -c '!mex.ver' "$dmp")
has "$out" 'Build Number: 19041'
has "$out" 'System Version Build String: 19041.1.amd64fre.vb_release.191206-1406'

# bad arguments are errors, not crashes
out=$("$nts" -q -c '!process zzz; .thread 1234; !teb 0; .process /p 0; k= 1 2' "$dmp" 2>&1) || true
printf '%s\n' "$out" | grep -q "Couldn't resolve\|Syntax\|error" || fail "no error for !process zzz: $out"
printf '%s\n' "$out" | grep -q 'Unable to read thread 0000000000001234' || fail "no error for .thread 1234: $out"
printf '%s\n' "$out" | grep -q 'k = BasePtr StackPtr InstructionPtr: 2 of 3' || fail "no error for k= 1 2: $out"

# ---- JSON: one valid document a command ----
cmds='!process 0 0; !process 0 7 D4C.exe; .process /r /p ffffcb0c950ea0c0; !peb; !teb 13c75e5000; .thread ffffcb0c93f24080; k; kb; kc; !thread; !tlist; !commandline -a; !mex.ver; !for_each_process ".echo @#Process"; .trap; !analyze -v'
"$nts" -q --json -c "$cmds" "$dmp" > "$dir/out.json" || fail "ntscope --json"
python3 - "$dir/out.json" <<'EOF' || fail "the JSON documents"
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
want = ["!process 0 0", "!process 0 7 D4C.exe", ".process /r /p ffffcb0c950ea0c0", "!peb",
        "!teb 13c75e5000", ".thread ffffcb0c93f24080", "k", "kb", "kc", "!thread", "!tlist",
        "!commandline -a", "!mex.ver", '!for_each_process ".echo @#Process"', ".trap", "!analyze -v"]
assert [d["command"] for d in docs] == want, [d["command"] for d in docs]
assert all("error" not in d for d in docs), [d for d in docs if "error" in d]
p = docs[0]["processes"]
assert any(x["image"] == "D4C.exe" and x["eprocess"] == "0xffffcb0c950ea0c0" and x["handle_count"] == 51 for x in p)
d4c = docs[1]["processes"][0]
assert d4c["pid"] == 0xd40 and len(d4c["threads"]) >= 3
assert docs[2]["implicit_process"] == "0xffffcb0c950ea0c0" and docs[2]["user_modules"] >= 5
assert "COMPUTERNAME=THINKPAD-X280" in docs[3]["environment_vars"]
assert docs[4]["tid"] == 0x29c8 and docs[4]["last_status_value"] == "0xc0000034"
frames = docs[6]["frames"]
assert frames[0]["child_sp"] == "0xffffef812c6ef5e0" and frames[0]["call_site"] == "nt!KiSwapContext+0x76"
assert any(f.get("trap_frame") for f in frames)
assert frames[-1]["ret_addr"] == "0x0" and docs[6]["stop"]["reason"] == "end"
assert docs[9]["thread"]["ethread"] == "0xffffcb0c93f24080"
fe = docs[13]["processes"]
assert len(fe) == len(p) and all(len(x["results"]) == 1 for x in fe)
assert docs[15]["process_name"] and docs[15]["stack_text"]["frames"]
print("json ok: %d documents" % len(docs))
EOF
echo "test_cli_process_batch: ok"
