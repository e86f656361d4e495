#!/usr/bin/env python3
"""tests/truth_lines.py - flatten a JSON file into "path<TAB>value" lines.

Used by tests/nt_test_util.h to read ntscope-mkdump's ground truth without
sharing the library's JSON reader. Paths join object keys with '.' and array
indexes as [i]; each array also gets a "path.#" line with its length.
Strings are written with \\, \\t and \\n escaped; true/false as 1/0, null as "".
"""
import json
import sys


def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def walk(path, v, out):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(path + "." + k if path else k, x, out)
    elif isinstance(v, list):
        out.append("%s.#\t%d" % (path, len(v)))
        for i, x in enumerate(v):
            walk("%s[%d]" % (path, i), x, out)
    elif isinstance(v, bool):
        out.append("%s\t%d" % (path, 1 if v else 0))
    elif v is None:
        out.append("%s\t" % path)
    elif isinstance(v, str):
        out.append("%s\t%s" % (path, esc(v)))
    else:
        out.append("%s\t%s" % (path, v))


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    out = []
    walk("", doc, out)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
