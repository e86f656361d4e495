#!/bin/sh
# tests/test_mdmp_obj2yaml.sh - the minidump reader against LLVM's obj2yaml.
#
# For every real minidump in the shared data, obj2yaml (the oracle, LLVM's own
# minidump parser) and test_mdmp_print (ntscope's reader) each describe the
# header, SystemInfo, every thread (id, suspend count, priority, TEB, stack
# range, a hash of the stack bytes, registers from the context bytes), module
# (base, size, checksum, timestamp, name, VS_FIXEDFILEINFO, the CodeView
# record's GUID/age/PDB name), the exception (thread, code, flags, address,
# parameters, registers of its context), MemoryList ranges (address, size,
# hash of the bytes) and MemoryInfoList entries; the two descriptions must be
# identical. Register offsets in the context bytes are the documented CONTEXT
# layouts (x64: Rip 0xf8, Rsp 0x98, Rbp 0xa0, Rax 0x78, EFlags 0x44; x86:
# Eip 0xb8, Esp 0xc4, Ebp 0xb4, Eax 0xb0, EFlags 0xc0).
# Skips (77) without obj2yaml, python3 or the shared data.
set -eu
data="${NTS_SHARED_DATA:-../shared/data}/minidumps"
printer="${NTS_BUILD_DIR:-build}/test_mdmp_print"
command -v obj2yaml >/dev/null 2>&1 || { echo "SKIP: obj2yaml (Debian package llvm) is not installed"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is missing"; exit 77; }
[ -d "$data" ] || { echo "SKIP: $data is absent (set NTS_SHARED_DATA)"; exit 77; }
[ -x "$printer" ] || { echo "FAIL: $printer is not built"; exit 1; }
tmp="${NTS_BUILD_DIR:-build}/scratch/mdmp_obj2yaml"
mkdir -p "$tmp"
fails=0
compared=0
for f in "$data"/*.dmp; do
    name=$(basename "$f" .dmp)
    if ! obj2yaml "$f" >"$tmp/$name.yaml" 2>"$tmp/$name.err"; then
        # obj2yaml refuses damaged files (the fuzzed one): ntscope must still open it.
        echo "note: obj2yaml cannot read $name ($(head -c 200 "$tmp/$name.err")); checking that ntscope opens it"
        "$printer" "$f" >"$tmp/$name.ours" || { echo "FAIL: $name does not open"; fails=$((fails + 1)); }
        continue
    fi
    python3 - "$tmp/$name.yaml" >"$tmp/$name.want" <<'PY'
import struct, sys

def scalar(v):
    v = v.strip()
    if v.startswith("'") and v.endswith("'"):
        return v[1:-1].replace("''", "'").encode('latin-1')
    if v.startswith('"') and v.endswith('"'):
        out, s, i = bytearray(), v[1:-1], 0
        while i < len(s):
            c = s[i]
            if c == '\\':
                n = s[i + 1]
                if n == 'x':
                    out.append(int(s[i + 2:i + 4], 16)); i += 4; continue
                out.append({'0': 0, 'n': 10, 't': 9, '\\': 92, '"': 34}.get(n, ord(n))); i += 2; continue
            out.append(ord(c)); i += 1
        return bytes(out)
    return v.encode('latin-1')

def parse_yaml(path):
    """The block YAML subset obj2yaml writes: maps, '- ' lists, scalars."""
    lines = open(path, encoding='latin-1').read().split('\n')
    toks = []
    for raw in lines:
        if not raw.strip() or raw.startswith('---') or raw.startswith('...'):
            continue
        ind = len(raw) - len(raw.lstrip(' '))
        toks.append((ind, raw.strip()))
    pos = [0]

    def node(ind):
        if pos[0] >= len(toks):
            return {}
        i, t = toks[pos[0]]
        if t.startswith('- '):
            lst = []
            while pos[0] < len(toks) and toks[pos[0]][0] == i and toks[pos[0]][1].startswith('- '):
                # turn '- key: v' into a map at indent i + 2
                toks[pos[0]] = (i + 2, toks[pos[0]][1][2:])
                lst.append(mapping(i + 2))
            return lst
        return mapping(i)

    def mapping(ind):
        m = {}
        while pos[0] < len(toks) and toks[pos[0]][0] == ind and not toks[pos[0]][1].startswith('- '):
            _, t = toks[pos[0]]
            key, _, val = t.partition(':')
            pos[0] += 1
            if val.strip() == '':
                if pos[0] < len(toks) and (toks[pos[0]][0] > ind or
                                           (toks[pos[0]][0] == ind and toks[pos[0]][1].startswith('- '))):
                    m[key] = node(toks[pos[0]][0])
                else:
                    m[key] = {}
            else:
                m[key] = val.strip()
        return m

    return node(toks[0][0]) if toks else {}

def num(v, default=0):
    if v is None:
        return default
    return int(v, 0)

def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return '%016x' % h

ARCH = {'X86': 0, 'ARM': 5, 'IA64': 6, 'AMD64': 9, 'ARM64': 12}
PLATFORM = {'Win32S': 0, 'Win32Windows': 1, 'Win32NT': 2, 'Win32CE': 3}
FLAGS = {'MEM_COMMIT': 0x1000, 'MEM_RESERVE': 0x2000, 'MEM_FREE': 0x10000, 'MEM_PRIVATE': 0x20000,
         'MEM_MAPPED': 0x40000, 'MEM_IMAGE': 0x1000000, 'PAGE_NO_ACCESS': 1, 'PAGE_READ_ONLY': 2,
         'PAGE_READ_WRITE': 4, 'PAGE_WRITE_COPY': 8, 'PAGE_EXECUTE': 0x10, 'PAGE_EXECUTE_READ': 0x20,
         'PAGE_EXECUTE_READ_WRITE': 0x40, 'PAGE_EXECUTE_WRITE_COPY': 0x80, 'PAGE_GUARD': 0x100,
         'PAGE_NO_CACHE': 0x200, 'PAGE_WRITE_COMBINE': 0x400, 'PAGE_TARGETS_INVALID': 0x40000000}

def flags(v):
    if v is None:
        return 0
    v = v.strip()
    if v.startswith('['):
        r = 0
        for name in v.strip('[] ').split(','):
            name = name.strip()
            if name:
                r |= FLAGS[name] if name in FLAGS else int(name, 0)
        return r
    return int(v, 0)

def hexbytes(v):
    v = (v or '').strip().strip("'")
    return bytes.fromhex(v)

def regs(hexctx, x64):
    b = hexbytes(hexctx)
    if x64:
        if len(b) < 0x100:
            return ' regs=-'
        q = lambda o: struct.unpack_from('<Q', b, o)[0]
        return ' regs=%x,%x,%x,%x,%x' % (q(0xf8), q(0x98), q(0xa0), q(0x78), struct.unpack_from('<I', b, 0x44)[0])
    if len(b) < 0xcc:
        return ' regs=-'
    d = lambda o: struct.unpack_from('<I', b, o)[0]
    return ' regs=%x,%x,%x,%x,%x' % (d(0xb8), d(0xc4), d(0xb4), d(0xb0), d(0xc0))

doc = parse_yaml(sys.argv[1])
streams = doc.get('Streams', [])
by = {}
for s in streams:
    by.setdefault(s.get('Type'), s)
out = []
out.append('header version=0x%x flags=0x%x' % (num(doc.get('Version'), 0xa793), num(doc.get('Flags'))))
si = by.get('SystemInfo')
x64 = False
if si:
    arch = ARCH.get(si.get('Processor Arch'), None)
    if arch is None:
        arch = num(si.get('Processor Arch'))
    x64 = arch == 9
    cpu = si.get('CPU', {})
    vendor = scalar(cpu.get('Vendor ID', "''"))
    vendor = (vendor + b'\0' * 12)[:12]
    # obj2yaml writes a vendor id that is not text as raw bytes, which do not
    # survive its output encoding: then only the other words are compared.
    raw_vendor = any(c >= 0x80 for c in vendor)
    words = list(struct.unpack('<3I', vendor)) + [num(cpu.get('Version Info')), num(cpu.get('Feature Info')),
                                                  num(cpu.get('AMD Extended Features'))]
    if 'Processor Features' in cpu:  # the other view of the union
        pf = num(cpu.get('Processor Features'))
        words = list(struct.unpack('<4I', pf.to_bytes(16, 'little'))) + [0, 0]
    csd = scalar(si.get('CSD Version', "''")).decode('utf-8', 'replace')
    out.append('sys arch=%d level=%d rev=%d procs=%d product=%d major=%d minor=%d build=%d platform=%d '
               'csd=%s suite=0x%x cpu=%s' % (
                   arch, num(si.get('Processor Level')), num(si.get('Processor Revision')),
                   num(si.get('Number of Processors')), num(si.get('Product type')),
                   num(si.get('Major Version')), num(si.get('Minor Version')), num(si.get('Build Number')),
                   PLATFORM.get(si.get('Platform ID'), 0) if not (si.get('Platform ID') or 'x')[0].isdigit()
                   else num(si.get('Platform ID')), csd, num(si.get('Suite Mask')),
                   ('X' * 24 if raw_vendor else '') + ''.join('%08x' % w for w in words)[24 if raw_vendor else 0:]))
for t in (by.get('ThreadList') or {}).get('Threads', []):
    st = t.get('Stack', {})
    content = hexbytes(st.get('Content'))
    out.append('thread id=0x%x suspend=%d prioclass=0x%x prio=0x%x teb=0x%x stack=0x%x+0x%x stackhash=%s%s' % (
        num(t.get('Thread Id')), num(t.get('Suspend Count')), num(t.get('Priority Class')),
        num(t.get('Priority')), num(t.get('Environment Block')), num(st.get('Start of Memory Range')),
        len(content), fnv(content), regs(t.get('Context', ''), x64)))
for m in (by.get('ModuleList') or {}).get('Modules', []):
    v = m.get('Version Info', {})
    keys = ['Signature', 'Struct Version', 'File Version High', 'File Version Low', 'Product Version High',
            'Product Version Low', 'File Flags Mask', 'File Flags', 'File OS', 'File Type', 'File Subtype',
            'File Date High', 'File Date Low']
    ver = ','.join('%x' % num(v.get(k)) for k in keys)
    cvb = hexbytes(m.get('CodeView Record'))
    cv = '-'
    if len(cvb) >= 24 and cvb[:4] == b'RSDS':
        name = cvb[24:].split(b'\0')[0].decode('latin-1')
        cv = '%s/%d/%s' % (cvb[4:20].hex(), struct.unpack_from('<I', cvb, 20)[0], name)
    out.append('module base=0x%x size=0x%x checksum=0x%x tds=%d name=%s ver=%s cv=%s' % (
        num(m.get('Base of Image')), num(m.get('Size of Image')), num(m.get('Checksum')),
        num(m.get('Time Date Stamp')), scalar(m.get('Module Name', "''")).decode('utf-8', 'replace'), ver, cv))
ex = by.get('Exception')
if ex:
    r = ex.get('Exception Record', {})
    n = num(r.get('Number of Parameters'))
    params = ','.join('%x' % num(r.get('Parameter %d' % k)) for k in range(min(n, 15)))
    out.append('exception tid=0x%x code=0x%x flags=0x%x record=0x%x address=0x%x nparams=%d params=%s%s' % (
        num(ex.get('Thread ID')), num(r.get('Exception Code')), num(r.get('Exception Flags')),
        num(r.get('Exception Record')), num(r.get('Exception Address')), n, params,
        regs(ex.get('Thread Context', ''), x64)))
for rg in (by.get('MemoryList') or {}).get('Memory Ranges', []):
    content = hexbytes(rg.get('Content'))
    out.append('range va=0x%x size=0x%x hash=%s' % (num(rg.get('Start of Memory Range')), len(content), fnv(content)))
for mi in (by.get('MemoryInfoList') or {}).get('Memory Ranges', []):
    # obj2yaml leaves out an Allocation Base equal to the Base Address and a
    # Protect equal to the Allocation Protect.
    mi.setdefault('Allocation Base', mi.get('Base Address'))
    mi.setdefault('Protect', mi.get('Allocation Protect'))
    out.append('meminfo base=0x%x allocbase=0x%x allocprot=0x%x size=0x%x state=0x%x prot=0x%x type=0x%x' % (
        num(mi.get('Base Address')), num(mi.get('Allocation Base')), flags(mi.get('Allocation Protect')),
        num(mi.get('Region Size')), flags(mi.get('State')), flags(mi.get('Protect')), flags(mi.get('Type'))))
print('\n'.join(out))
PY
    "$printer" "$f" | grep -v '^#' >"$tmp/$name.ours" || { echo "FAIL: $name: the printer failed"; fails=$((fails + 1)); continue; }
    if grep -q 'cpu=XXXXXXXXXXXXXXXXXXXXXXXX' "$tmp/$name.want"; then
        sed -E 's/cpu=[0-9a-f]{24}/cpu=XXXXXXXXXXXXXXXXXXXXXXXX/' "$tmp/$name.ours" >"$tmp/$name.ours2"
        mv "$tmp/$name.ours2" "$tmp/$name.ours"
    fi
    if diff -u "$tmp/$name.want" "$tmp/$name.ours" >"$tmp/$name.diff"; then
        echo "ok: $name ($(wc -l <"$tmp/$name.ours") lines agree with obj2yaml)"
        compared=$((compared + 1))
    else
        echo "FAIL: $name differs from obj2yaml:"
        head -40 "$tmp/$name.diff"
        fails=$((fails + 1))
    fi
done
[ "$compared" -gt 0 ] || { echo "FAIL: no dump was compared"; exit 1; }
[ "$fails" -eq 0 ] || { echo "$fails dumps failed"; exit 1; }
echo "test_mdmp_obj2yaml: $compared dumps agree with obj2yaml"
