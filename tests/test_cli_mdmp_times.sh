#!/bin/sh
# tests/test_cli_mdmp_times.sh - !runaway and .ttime on process dumps.
#
# None of the real minidumps in /work/shared/data carries a ThreadInfoList
# (checked with obj2yaml), so: (1) on a real one (write_av, two threads)
# both commands say the dump has no thread times; (2) a python script grafts
# a ThreadInfoList stream (MINIDUMP_THREAD_INFO, public minidumpapiset.h
# layout) with chosen times onto a copy of that dump (a new directory at the
# end of the file), and the expected lines are computed by the script from
# those numbers, independently of ntscope's formatting code; (3) the output
# of `.dump /ma` (when the writer adds a ThreadInfoList) is checked the same
# way, with the values read back from the file by the script.
set -eu
nts=${NTSCOPE:?}
build=${NTS_BUILD_DIR:?}
data=${NTS_SHARED_DATA:-/work/shared/data}
src="$data/minidumps/write_av_non_canonical_win10_x64.dmp"
[ -f "$src" ] || { echo "SKIP: $src is missing (NTS_SHARED_DATA)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 is missing"; exit 77; }
dir="$build/scratch/cli_mdmp_times"
rm -rf "$dir"; mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
export TZ=UTC

# (1) no ThreadInfoList
text=$("$nts" -q -c '!runaway 7' "$src")
printf '%s\n' "$text" | grep -q "Unable to get thread times" || fail "no-info message: $text"
text=$("$nts" -q --json -c '.ttime' "$src")
printf '%s\n' "$text" | grep -q '"error":"Unable to get thread times' || fail "no-info JSON: $text"

# (2) a grafted ThreadInfoList: the script writes the dump and the expected output
cat >"$dir/graft.py" <<'PY'
import struct, sys, time, calendar
src, dst, exp = sys.argv[1:4]
b = bytearray(open(src, 'rb').read())
n, rva = struct.unpack_from('<II', b, 8)
dirents = [struct.unpack_from('<III', b, rva + 12 * i) for i in range(n)]
tl = [d for d in dirents if d[0] == 3][0]
cnt = struct.unpack_from('<I', b, tl[2])[0]
tids = [struct.unpack_from('<I', b, tl[2] + 4 + 48 * i)[0] for i in range(cnt)]
stamp = struct.unpack_from('<I', b, 20)[0]
FT = 11644473600
now = (stamp + FT) * 10**7
# per thread: create (s before the dump, ms), kernel, user (100 ns)
spec = [(125, 123, 156250, 312500), (3 * 86400 + 2, 7, 9_990_000, 0)]
entries = b''
rows = []
for i, tid in enumerate(tids):
    back, ms, k, u = spec[i % len(spec)]
    create = now - back * 10**7 + ms * 10**4
    entries += struct.pack('<IIIIqqqqQQ', tid, 0, 0, 0, create, 0, k, u, 0x7ff600001000 + i, 0xf)
    rows.append((i, tid, create, k, u))
info = struct.pack('<III', 12, 64, len(tids)) + entries
info_rva = len(b)
b += info
while len(b) % 4: b += b'\0'
newdir = len(b)
for d in dirents: b += struct.pack('<III', *d)
b += struct.pack('<III', 17, len(info), info_rva)
struct.pack_into('<II', b, 8, n + 1, newdir)
open(dst, 'wb').write(b)
def span(t):
    ms = t // 10**4
    d, ms = divmod(ms, 86400000); h, ms = divmod(ms, 3600000); m, ms = divmod(ms, 60000); s, ms = divmod(ms, 1000)
    return '%d days %d:%02d:%02d.%03d' % (d, h, m, s, ms)
out = []
for kind, title, key in ((0, 'User Mode Time', 4), (1, 'Kernel Mode Time', 3), (2, 'Elapsed Time', None)):
    out.append(' ' + title); out.append('  Thread       Time')
    vals = [(r[key] if key else now - r[2], r) for r in rows]
    vals.sort(key=lambda v: (-v[0], v[1][0]))
    for v, r in vals:
        out.append('%4d:%-10x%s' % (r[0], r[1], span(v)))
i, tid, create, k, u = rows[0]
sec, rem = divmod(create - FT * 10**7, 10**7)
out.append('Created: ' + time.strftime('%a %b ', time.gmtime(sec)) + '%2d' % time.gmtime(sec).tm_mday + time.strftime(' %H:%M:%S', time.gmtime(sec)) + '.%03d ' % (rem // 10**4) + time.strftime('%Y', time.gmtime(sec)) + ' (UTC + 0:00)')
out.append('Kernel:  ' + span(k)); out.append('User:    ' + span(u))
out.append('K1=%d U1=%d' % (rows[1][3], rows[1][4]))
open(exp, 'w').write('\n'.join(out) + '\n')
PY
python3 "$dir/graft.py" "$src" "$dir/g.dmp" "$dir/expected" || fail "graft"
"$nts" -q -c '!runaway 7' "$dir/g.dmp" | grep -v '^0:' >"$dir/runaway" || true
"$nts" -q -c '.ttime' "$dir/g.dmp" | grep -v '^0:' >"$dir/ttime" || true
cat "$dir/runaway" "$dir/ttime" | grep -v '^$' >"$dir/got"
grep -v '^K1=' "$dir/expected" >"$dir/want"
diff -u "$dir/want" "$dir/got" || fail "!runaway 7 / .ttime differ from the grafted values"
# default flags: the user-time section only
n=$("$nts" -q -c '!runaway' "$dir/g.dmp" | grep -c 'Mode Time\|Elapsed')
[ "$n" = 1 ] || fail "!runaway without flags showed $n sections"
# JSON: thread 1's numbers
k1=$(sed -n 's/^K1=\([0-9]*\) .*/\1/p' "$dir/expected")
json=$("$nts" -q --json -c '~1s; .ttime' "$dir/g.dmp")
printf '%s\n' "$json" | grep -q "\"kernel_time_100ns\":$k1," || fail ".ttime JSON kernel time: $json"
json=$("$nts" -q --json -c '!runaway 2' "$dir/g.dmp")
printf '%s\n' "$json" | grep -q '"kernel_mode":\[{"index":1,' || fail "!runaway JSON order: $json"
printf '%s\n' "$json" | grep -q '"user_mode"' && fail "!runaway 2 JSON has a user section"

# (3) the .dump /ma writer's ThreadInfoList (the seed scenario's D4C.exe)
mkdump="$build/tools/mkdump/ntscope-mkdump"
if [ ! -x "$mkdump" ]; then echo "part 3 skipped: ntscope-mkdump is not built"; exit 0; fi
"$mkdump" "$dir/seed.dmp" --scenario seed >/dev/null || fail "mkdump"
"$nts" -q -c ".process /r /p 0xffffcb0c950ea0c0; .dump /ma $dir/d4c.dmp" "$dir/seed.dmp" >/dev/null || fail ".dump /ma"
has=$(python3 -c '
import struct,sys
b=open(sys.argv[1],"rb").read(); n,r=struct.unpack_from("<II",b,8)
print(int(any(struct.unpack_from("<I",b,r+12*i)[0]==17 for i in range(n))))' "$dir/d4c.dmp")
if [ "$has" != 1 ]; then echo "part 3 skipped: .dump /ma writes no ThreadInfoList yet"; exit 0; fi
python3 - "$dir/d4c.dmp" >"$dir/d4c.want" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read(); n, r = struct.unpack_from('<II', b, 8)
d = [struct.unpack_from('<III', b, r + 12 * i) for i in range(n)]
ti = [x for x in d if x[0] == 17][0]
hs, es, cnt = struct.unpack_from('<III', b, ti[2])
tl = [x for x in d if x[0] == 3][0]
order = [struct.unpack_from('<I', b, tl[2] + 4 + 48 * i)[0] for i in range(struct.unpack_from('<I', b, tl[2])[0])]
for i in range(cnt):
    e = struct.unpack_from('<IIIIqqqqQQ', b, ti[2] + hs + es * i)
    print('%d %x %d %d' % (order.index(e[0]), e[0], e[6], e[7]))
PY
"$nts" -q --json -c '!runaway 3' "$dir/d4c.dmp" | python3 -c '
import json,sys
d=[json.loads(l) for l in sys.stdin if l.startswith("{") and "runaway" in l][0]
k={(e["index"]):e["time_100ns"] for e in d["kernel_mode"]}
for e in sorted(d["user_mode"], key=lambda e: e["index"]):
    print("%d %s %d %d" % (e["index"], e["thread_id"][2:], k[e["index"]], e["time_100ns"]))' | sort >"$dir/d4c.got"
sort "$dir/d4c.want" | diff -u - "$dir/d4c.got" || fail ".dump /ma output: !runaway differs from the file's ThreadInfoList"
echo "PASS"
