#!/bin/sh
# tests/test_cli_session.sh - the ntscope program end to end on a fixture dump:
# batch mode echoes each command after the prompt, q stops, --json prints one
# valid JSON document per command, .logopen/.logappend/.logclose write what
# the terminal shows (/u as UTF-16LE), a log is never opened on the dump, and
# a file that is not a dump is refused with a message.
set -eu
build=${NTS_BUILD_DIR:?}
nts=${NTSCOPE:?}
dir="$build/scratch/cli_session"
rm -rf "$dir"; mkdir -p "$dir"
dump="$dir/fx.dmp"
"$build/tools/mkdump/nts-mkfixture" "$dump" --seed 5 >/dev/null
fail() { echo "FAIL: $*"; exit 1; }

out=$("$nts" -q -c '.echo one; .echo two; q; .echo three' "$dump")
[ "$out" = "0: kd> .echo one
one
0: kd> .echo two
two
0: kd> q" ] || fail "batch echo/q: $out"

# --json: one document per command, each valid JSON with the command text.
"$nts" --json -c '.bugcheck; ? 1+2; db @rsp L8; nosuchcmd' "$dump" >"$dir/out.json"
[ "$(wc -l <"$dir/out.json")" -eq 4 ] || fail "json line count"
if command -v python3 >/dev/null; then
    python3 - "$dir/out.json" <<'PY' || fail "json content"
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
assert [d["command"] for d in docs] == [".bugcheck", "? 1+2", "db @rsp L8", "nosuchcmd"], docs
assert docs[1]["value"] == "0x3", docs[1]
assert "error" in docs[3], docs[3]
PY
fi

# Logging: the log holds the prompt, the command and its output.
log="$dir/case.log"
"$nts" -q -c ".logopen $log; .echo logged; .logclose; .echo after" "$dump" >/dev/null
grep -q '^logged$' "$log" || fail "log content"
grep -q '^0: kd> .echo logged$' "$log" || fail "log has the command"
grep -q 'after' "$log" && fail "log continued after .logclose"
"$nts" -q -c ".logappend $log; .echo second" "$dump" >/dev/null
grep -q '^logged$' "$log" && grep -q '^second$' "$log" || fail ".logappend"
"$nts" -q -c ".logopen /u $dir/u.log; .echo wide" "$dump" >/dev/null
od -An -c "$dir/u.log" | tr -d ' \n' | grep -q 'w\\0i\\0d\\0e\\0' || fail "/u is not UTF-16LE"
out=$("$nts" -q -c ".logopen /t $dir/stamp.txt" "$dump")
ls "$dir"/stamp_*_*-*-*_*-*-*-*.txt >/dev/null 2>&1 || fail "/t name: $out"
out=$("$nts" -q -c ".logopen $dump" "$dump")
echo "$out" | grep -q 'Refusing' || fail "log on the dump: $out"
[ "$(stat -c %s "$dump")" -gt 8192 ] || fail "the dump was truncated"

# Errors: a file that is not a dump.
printf 'not a dump' >"$dir/bad.dmp"
if "$nts" -q -c q "$dir/bad.dmp" 2>"$dir/err.txt"; then fail "bad file accepted"; fi
grep -q "Signature" "$dir/err.txt" || fail "bad file message: $(cat "$dir/err.txt")"
echo "cli session test passed"
