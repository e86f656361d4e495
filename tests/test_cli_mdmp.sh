#!/bin/sh
# tests/test_cli_mdmp.sh - the WinDbg commands on real user-mode minidumps.
#
# Every real minidump in ../shared/data/minidumps is opened and run through
# the user-mode commands (~, ~Ns, ~*k, r, k*, .ecxr, .exr -1, lm, lmv, !peb,
# !teb, !gle, !handle, !address, .time, vertarget, !analyze -v, |, d*), in
# text and in --json (every document must parse). The expected values come
# from LLVM's obj2yaml (threads, TEBs, contexts, modules, exception, system
# info, memory info) or from the file itself (the ThreadNames, HandleData and
# MiscInfo streams, captured memory), never from ntscope's output. The fuzzed,
# truncated full-memory dump must give exit 0 and no sanitizer report; a
# kernel dump must keep its kernel prompt and refuse the thread commands.
# Skips (77) without ../shared/data/minidumps, obj2yaml or python3.
set -eu
build=${NTS_BUILD_DIR:?}
nts=${NTSCOPE:?}
data=${NTS_SHARED_DATA:-../shared/data}
md="$data/minidumps"
dir="$build/scratch/cli_mdmp"
rm -rf "$dir"; mkdir -p "$dir"
[ -d "$md" ] && [ -f "$md/calc_win7_x64.dmp" ] || { echo "SKIP: ../shared/data/minidumps is absent"; exit 77; }
command -v obj2yaml >/dev/null 2>&1 || { echo "SKIP: LLVM's obj2yaml (the oracle) is not installed"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is needed to read obj2yaml's output"; exit 77; }

cmds='~; r; k; kb; kn 3; kc; kL; kp; kv; .exr -1; .ecxr; r; k; lm; lmv; lmv m ntdll; vertarget; .time; !gle; !teb; !peb; !handle; !handle 0 f; !address; !analyze -v; ~*k; ~* kb; ~0s; ~0 k; |; !process 0 0; !vm; db @$csp L20; dd @$csp L8; dps @$csp L4; s -d @$csp L100 0'

for f in calc_win7_x64 tiny-exe-fastfail_win10_x64 tiny-exe-with-cet-xsave_win11_x64 write_av_non_canonical_win10_x64 \
         invalid-parameter_win10_x64 thread_name_list_win10_x86 null_read_av_win7_x86 minidump2_xp_x86; do
    dmp="$md/$f.dmp"
    obj2yaml "$dmp" > "$dir/$f.yaml"
    "$nts" -q -c "$cmds" "$dmp" > "$dir/$f.txt" 2>&1 || { echo "FAIL: $f: exit status $?"; exit 1; }
    "$nts" -q --json -c "$cmds" "$dmp" > "$dir/$f.json" 2>"$dir/$f.err" || { echo "FAIL: $f --json: exit status $?"; exit 1; }
    "$nts" -q -c '.ecxr; kb; ~1s; r; ~; ~1 k; ~~[0]s' "$dmp" > "$dir/$f.more.txt" 2>&1 || true
done

python3 - "$dir" "$md" <<'EOF'
import json, re, struct, sys

d, md = sys.argv[1], sys.argv[2]
fails = []
def fail(f, msg):
    fails.append(f"{f}: {msg}")

def scalar(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == "'" and v[-1] == "'":
        return v[1:-1].replace("''", "'")
    if re.fullmatch(r"-?[0-9]+", v):
        return int(v)
    return v

def load_yaml(f):
    """The subset of YAML obj2yaml writes: block mappings and sequences, plain or
    single-quoted scalars (PyYAML is not needed, and refuses some of its bytes)."""
    rows = []
    for raw in open(f"{d}/{f}.yaml", encoding="utf-8", errors="replace").read().splitlines():
        if not raw.strip() or raw.startswith("---") or raw.startswith("..."):
            continue
        ind = len(raw) - len(raw.lstrip(" "))
        text = raw.strip()
        while text.startswith("- "):  # "- - x" never occurs; "- key: v" opens a mapping item
            rows.append((ind, "-"))
            ind += 2
            text = text[2:].lstrip()
        rows.append((ind, text))
    pos = 0
    def block(indent):
        nonlocal pos
        if pos < len(rows) and rows[pos][1] == "-" and rows[pos][0] == indent:
            seq = []
            while pos < len(rows) and rows[pos][0] == indent and rows[pos][1] == "-":
                pos += 1
                seq.append(block(indent + 2))
            return seq
        m = {}
        while pos < len(rows) and rows[pos][0] == indent and rows[pos][1] != "-":
            key, _, val = rows[pos][1].partition(":")
            pos += 1
            if val.strip():
                m[key.strip()] = scalar(val)
            elif pos < len(rows) and rows[pos][0] > indent:
                m[key.strip()] = block(rows[pos][0])
            elif pos < len(rows) and rows[pos][0] == indent and rows[pos][1] == "-":
                m[key.strip()] = block(indent)
            else:
                m[key.strip()] = None
        return m
    return block(0)

def streams(y, t):
    return [s for s in y["Streams"] if s.get("Type") == t]

def hexv(v):
    return int(v, 16) if isinstance(v, str) else int(v)

def ptr(v, x86):
    return f"{v & 0xffffffff:08x}" if x86 else f"{v >> 32:08x}`{v & 0xffffffff:08x}"

def file_streams(path):
    b = open(path, "rb").read()
    n, rva = struct.unpack_from("<II", b, 8)
    out = {}
    for i in range(n):
        t, size, r = struct.unpack_from("<III", b, rva + 12 * i)
        out.setdefault(t, (r, size))
    return b, out

def mem_lookup(y, va, n):
    for s in streams(y, "MemoryList"):
        for r in s["Memory Ranges"]:
            start = hexv(r["Start of Memory Range"])
            content = bytes.fromhex(r["Content"])
            if start <= va and va + n <= start + len(content):
                return content[va - start:va - start + n]
    return None

for f in ["calc_win7_x64", "tiny-exe-fastfail_win10_x64", "tiny-exe-with-cet-xsave_win11_x64",
          "write_av_non_canonical_win10_x64", "invalid-parameter_win10_x64", "thread_name_list_win10_x86",
          "null_read_av_win7_x86", "minidump2_xp_x86"]:
    y = load_yaml(f)
    txt = open(f"{d}/{f}.txt").read()
    more = open(f"{d}/{f}.more.txt").read()
    lines = txt.splitlines()
    docs = [json.loads(l) for l in open(f"{d}/{f}.json")]
    si = streams(y, "SystemInfo")[0]
    x86 = si["Processor Arch"] == "X86"
    threads = streams(y, "ThreadList")[0]["Threads"]
    exc = streams(y, "Exception")
    exc_tid = hexv(exc[0]["Thread ID"]) if exc else None
    cur = next((i for i, t in enumerate(threads) if hexv(t["Thread Id"]) == exc_tid), 0)
    path = f"{md}/{f}.dmp"
    raw, fs = file_streams(path)
    pid = 0
    if 15 in fs:
        r, size = fs[15]
        flags1, p = struct.unpack_from("<II", raw, r + 4)
        pid = p if flags1 & 1 else 0

    # the prompt: the exception's thread
    if f"0:{cur:03d}> ~" not in txt:
        fail(f, f"the session does not start on thread {cur}")
    # ~: one line per thread with its id and TEB
    for i, t in enumerate(threads):
        tid, teb = hexv(t["Thread Id"]), hexv(t.get("Environment Block", 0))
        mark = "." if i == cur else " "
        want = f"{mark}{i:3d}  Id: {pid:x}.{tid:x} Suspend: {hexv(t.get('Suspend Count', 0))} Teb: {ptr(teb, x86)} Unfrozen"
        if not any(l.startswith(want) for l in lines):
            fail(f, f"~ misses [{want}]")
    # r: the current thread's context (x64 Rip 0xF8, Rsp 0x98; x86 Eip 0xB8, Esp 0xC4, Ebp 0xB4)
    ctx = bytes.fromhex(threads[cur]["Context"])
    ebp = 0
    if x86:
        eip, esp, ebp = (struct.unpack_from("<I", ctx, o)[0] for o in (0xB8, 0xC4, 0xB4))
        want = f"eip={eip:08x} esp={esp:08x} ebp={ebp:08x} "
        if not any(l.startswith(want) for l in lines):
            fail(f, f"r misses [{want}]")
    else:
        rip, rsp = (struct.unpack_from("<Q", ctx, o)[0] for o in (0xF8, 0x98))
        want = f"rip={rip:016x} rsp={rsp:016x} "
        if not any(l.startswith(want) for l in lines):
            fail(f, f"r misses [{want}]")
        # k: frame 0 is rsp/rip of the thread
        if not any(l.startswith(f"00 {ptr(rsp, False)} ") for l in lines):
            fail(f, f"k does not start at rsp {rsp:x}")
    # .exr -1 and !analyze -v: the exception stream
    if exc:
        rec = exc[0]["Exception Record"]
        code, addr = hexv(rec.get("Exception Code", 0)), hexv(rec.get("Exception Address", 0))
        w = 8 if x86 else 16
        for want in (f"   ExceptionCode: {code:08x}", f"EXCEPTION_CODE_STR:  {code:x}", f"FAULTING_THREAD:  {exc_tid:x}"):
            if not any(l.startswith(want) for l in lines):
                fail(f, f"missing [{want}]")
        if not any(l.startswith(f"ExceptionAddress: {addr:0{w}x}") for l in lines):
            fail(f, f".exr misses the address {addr:x}")
        # .ecxr: the exception context's ip
        ectx = bytes.fromhex(exc[0]["Thread Context"])
        eip = struct.unpack_from("<I", ectx, 0xB8)[0] if x86 else struct.unpack_from("<Q", ectx, 0xF8)[0]
        want = f"eip={eip:08x}" if x86 else f"rip={eip:016x}"
        if not any(l.startswith(want) for l in lines):
            fail(f, f".ecxr misses [{want}]")
    # x86 k: frame 0's ChildEBP is ebp and its RetAddr the dword at [ebp+4] (the thread's captured stack)
    if x86:
        b4 = mem_lookup(y, ebp + 4, 4)
        if b4 is None:
            for t in threads:
                st = t.get("Stack", {})
                start = hexv(st.get("Start of Memory Range", 0))
                c = bytes.fromhex(st.get("Content", ""))
                if start <= ebp + 4 and ebp + 8 <= start + len(c):
                    b4 = c[ebp + 4 - start:ebp + 8 - start]
        if b4 is not None:
            ret = struct.unpack("<I", b4)[0]
            if not any(l.startswith(f"00 {ebp:08x} {ret:08x} ") for l in lines):
                fail(f, f"k frame 0 is not ebp {ebp:08x} returning to {ret:08x}")
    # !analyze --json: the faulting module is the ModuleList's module holding the address
    if exc:
        an = next(doc for doc in docs if doc["command"] == "!analyze -v")
        holder = [m for m in streams(y, "ModuleList")[0]["Modules"]
                  if hexv(m["Base of Image"]) <= addr < hexv(m["Base of Image"]) + hexv(m.get("Size of Image", 0))]
        want = re.split(r"[\\/]", holder[0]["Module Name"])[-1] if holder else None
        if an.get("image_name") != want:
            fail(f, f"!analyze image_name {an.get('image_name')!r}, the ModuleList says {want!r}")
        if int(an["exception"]["code"], 16) != code:
            fail(f, "!analyze --json exception code")
    # lm: every module, base and end; lmv: time stamps
    for m in streams(y, "ModuleList")[0]["Modules"]:
        base, size, ts = hexv(m["Base of Image"]), hexv(m.get("Size of Image", 0)), int(m.get("Time Date Stamp", 0))
        if not any(l.startswith(f"{ptr(base, x86)} {ptr(base + size, x86)}   ") for l in lines):
            fail(f, f"lm misses module {m['Module Name']} at {base:x}")
        if ts and f"({ts:08X})" not in txt:
            fail(f, f"lmv misses the time stamp {ts:08X} of {m['Module Name']}")
    # vertarget: the build and processor count of SystemInfo
    want = f"Version {si['Build Number']}"
    if not any(want in l and l.startswith("Windows") for l in lines):
        fail(f, f"vertarget misses [{want}]")
    # kernel-only commands say so
    if "!process needs a kernel dump: this is a user-mode (process) dump" not in lines:
        fail(f, "!process on a process dump does not say it needs a kernel dump")
    # every JSON document parses; ~'s threads equal the ThreadList
    if len(docs) != len([c for c in open(f"{d}/{f}.json")]):
        fail(f, "JSON lines")
    tl = next(doc for doc in docs if doc["command"] == "~")
    if [int(t["thread_id"], 16) for t in tl["threads"]] != [hexv(t["Thread Id"]) for t in threads]:
        fail(f, "~ --json thread ids differ from the ThreadList")
    # thread names (ThreadNames stream, type 24, read from the file)
    if 24 in fs:
        r, size = fs[24]
        n = struct.unpack_from("<I", raw, r)[0]
        for k in range(n):
            tid, srva = struct.unpack_from("<IQ", raw, r + 4 + 12 * k)
            ln = struct.unpack_from("<I", raw, srva)[0]
            name = raw[srva + 4:srva + 4 + ln].decode("utf-16-le")
            if name and not any(f".{tid:x} " in l and l.endswith(f'Unfrozen "{name}"') for l in lines):
                fail(f, f"~ misses the name {name!r} of thread {tid:x}")
    # ~1s switches: the prompt and the registers of thread 1
    if len(threads) > 1:
        if "0:001> r" not in more:
            fail(f, "~1s does not make thread 1 current")
        ctx1 = bytes.fromhex(threads[1]["Context"])
        v = struct.unpack_from("<I", ctx1, 0xB8)[0] if x86 else struct.unpack_from("<Q", ctx1, 0xF8)[0]
        want = f"eip={v:08x}" if x86 else f"rip={v:016x}"
        if want not in more:
            fail(f, f"~1s; r misses [{want}]")
    # !gle: TEB+0x68 / +0x34 from the captured memory, when the TEB is there
    teb = hexv(threads[cur].get("Environment Block", 0))
    b = mem_lookup(y, teb + (0x34 if x86 else 0x68), 4)
    if b is not None:
        v = struct.unpack("<I", b)[0]
        if not any(l.startswith(f"LastErrorValue: (Win32) 0x{v:x} ({v})") for l in lines):
            fail(f, f"!gle misses LastErrorValue {v:#x}")
        peb = mem_lookup(y, teb + (0x30 if x86 else 0x60), 8)
        if peb is not None:
            pv = struct.unpack("<I" if x86 else "<Q", peb[:4] if x86 else peb)[0]
            if f"PEB at {ptr(pv, x86)}" not in txt:
                fail(f, f"!peb is not at TEB's PEB {pv:x}")
    # !handle: the HandleData descriptor count (file)
    if 12 in fs:
        r, size = fs[12]
        n = struct.unpack_from("<I", raw, r + 8)[0]
        if f"{n} Handles" not in lines:
            fail(f, f"!handle does not count {n} handles")
    # !address: the MemoryInfoList region count (obj2yaml)
    mil = streams(y, "MemoryInfoList")
    if mil:
        ad = next(doc for doc in docs if doc["command"] == "!address")
        if ad.get("regions") != len(mil[0]["Memory Ranges"]):
            fail(f, f"!address counts {ad.get('regions')} regions, obj2yaml {len(mil[0]['Memory Ranges'])}")

# the PEB of the Win11 dump: its image base is the first module's, its command line names it
t = open(f"{d}/tiny-exe-with-cet-xsave_win11_x64.txt").read()
y = load_yaml("tiny-exe-with-cet-xsave_win11_x64")
m0 = streams(y, "ModuleList")[0]["Modules"][0]
if f"    ImageBaseAddress:         {ptr(hexv(m0['Base of Image']), False)}" not in t.splitlines():
    fail("cet-xsave", "!peb ImageBaseAddress is not the first module's base")
if f"    ImageFile:    '{m0['Module Name']}'" not in t.splitlines():
    fail("cet-xsave", f"!peb ImageFile is not {m0['Module Name']}")

if fails:
    print("FAIL:\n  " + "\n  ".join(fails))
    sys.exit(1)
print("real minidumps: threads, registers, exception, modules, names, !gle, !peb, !handle, !address agree with obj2yaml and the files")
EOF

# The fuzzed, truncated full-memory dump: every command ends, exit 0, clear words, no sanitizer report.
hostile="$md/fuzzed_fullmem_win7_x64_truncated.dmp"
if [ -f "$hostile" ]; then
    for mode in "" --json; do
        # shellcheck disable=SC2086
        "$nts" -q $mode -c "$cmds; !peb; !heap; !leak" "$hostile" > "$dir/hostile.out" 2>&1 ||
            { echo "FAIL: the fuzzed dump: exit status $? ($mode)"; exit 1; }
        if grep -q "Sanitizer\|runtime error" "$dir/hostile.out"; then echo "FAIL: sanitizer report on the fuzzed dump"; exit 1; fi
    done
fi

# .exepath / -i: the path is kept and the modules are still listed; x86 registers by name.
out=$("$nts" -q -i "$dir" -c ".exepath; .exepath+ $data/pe; lm" "$md/calc_win7_x64.dmp")
printf '%s\n' "$out" | grep -qxF "Executable image search path is: $dir" || { echo "FAIL: -i"; exit 1; }
printf '%s\n' "$out" | grep -qxF "Executable image search path is: $dir;$data/pe" || { echo "FAIL: .exepath+"; exit 1; }
printf '%s\n' "$out" | grep -q '^00000000`77720000 00000000`778ca000   ntdll ' || { echo "FAIL: lm after .exepath"; exit 1; }
out=$("$nts" -q -c 'r eip, esp' "$md/null_read_av_win7_x86.dmp")
printf '%s\n' "$out" | grep -q '^eip=[0-9a-f]\{8\} esp=[0-9a-f]\{8\}$' || { echo "FAIL: r eip, esp on x86: $out"; exit 1; }

# ~N CMD and ~* CMD in --json: the command's own arguments (frame counts) are kept.
"$nts" -q --json -c '~1 kb 2; ~* k 1' "$md/thread_name_list_win10_x86.dmp" | python3 -c '
import json, sys
d = [json.loads(l) for l in sys.stdin]
assert len(d[0]["frames"]) == 2, d[0]
assert [len(t["frames"]) for t in d[1]["threads"]] == [1] * 6, d[1]
' || { echo "FAIL: ~1 kb 2 / ~* k 1 in --json"; exit 1; }

# A kernel dump keeps its prompt and says the thread commands are for process dumps.
triage="$data/kernel-dumps/triage_x64.dmp"
if [ -f "$triage" ]; then
    out=$("$nts" -q -c '~; .ecxr; k 1' "$triage")
    printf '%s\n' "$out" | grep -qxF '0: kd> ~' || { echo "FAIL: the kernel prompt changed"; exit 1; }
    printf '%s\n' "$out" | grep -q '^~ works on user-mode (process) dumps' || { echo "FAIL: ~ on a kernel dump"; exit 1; }
fi
echo "PASS"
