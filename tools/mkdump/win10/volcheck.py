#!/usr/bin/env python3
"""tools/mkdump/win10/volcheck.py - cross-check a dump written by
ntscope-mkdump with Volatility 3: run its plugins (JSON renderer) and
compare every answer with the ground truth beside the dump (DUMP.json).

    python3 volcheck.py VOL3_TREE ISF_DIR DUMP [plugin ...]

VOL3_TREE is a checkout of volatilityfoundation/volatility3 (vol.py inside),
ISF_DIR a Volatility symbol folder (../shared/data/isf). Default plugins:
windows.info windows.pslist windows.psscan windows.dlllist windows.envars
windows.cmdline windows.modules windows.modscan windows.threads windows.thrdscan
windows.orphan_kernel_threads windows.vadinfo windows.vadwalk. Prints one line per plugin
and the disagreements; exit status 1 if any. Volatility is an oracle here,
not a dependency: nothing in the build runs this script.
"""
import datetime
import json
import os
import subprocess
import sys

MASK48 = (1 << 48) - 1
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def vol(tree, isf, dump, plugin, *args):
    cmd = [PYTHON, os.path.join(tree, "vol.py"), "-q", "-r", "json", "--offline", "-s", isf, "-f", dump, plugin]
    cmd += list(args)
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    text = out.stdout[out.stdout.find("["):] if "[" in out.stdout else ""
    try:
        return json.loads(text)
    except ValueError:
        raise SystemExit(f"{plugin}: Volatility failed:\n{out.stderr[-2000:]}")


def h(v):
    return int(v, 16) if isinstance(v, str) else int(v)


def filetime(ft):
    return datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(microseconds=ft // 10)


class Check:
    def __init__(self):
        self.bad = []
        self.n = 0

    def eq(self, what, got, want):
        self.n += 1
        if got != want:
            self.bad.append(f"{what}: Volatility says {got!r}, the truth {want!r}")


def check_info(c, rows, t):
    v = {r["Variable"]: r["Value"] for r in rows}
    c.eq("Kernel Base", h(v["Kernel Base"]), h(t["kernel"]["base"]) & MASK48)
    c.eq("DTB", h(v["DTB"]), h(t["paging"]["system_dtb"]))
    c.eq("Symbols", v["Symbols"].rsplit("/", 1)[-1].split(".")[0],
         f'{t["build"]["guid"]}-{t["build"]["age"]}')
    c.eq("KdDebuggerDataBlock", h(v["KdDebuggerDataBlock"]), h(t["header"]["kd_debugger_data_block"]) & MASK48)
    c.eq("NTBuildLab", v["NTBuildLab"], t["build"]["build_lab"][:len(v["NTBuildLab"])])
    c.eq("Major/Minor", v["Major/Minor"], f'15.{t["build"]["build"]}')
    c.eq("MachineType", v["MachineType"], "34404")
    c.eq("KeNumberProcessors", v["KeNumberProcessors"], str(t["header"]["number_processors"]))
    c.eq("NtMajorVersion", v["NtMajorVersion"], "10")
    c.eq("NtMinorVersion", v["NtMinorVersion"], "0")
    c.eq("NtSystemRoot", v["NtSystemRoot"], "C:\\WINDOWS")
    want = filetime(h(t["header"]["system_time"])).replace(microsecond=0)
    got = datetime.datetime.fromisoformat(v["SystemTime"].replace(" ", "T")).replace(microsecond=0)
    c.eq("SystemTime", got, want)


def check_pslist(c, rows, t, name):
    got = [(r["PID"], r["PPID"], r["ImageFileName"], r["Offset(V)"] & MASK48) for r in rows]
    want = [(p["pid"], p["ppid"], p["name"], h(p["eprocess"]) & MASK48) for p in t["processes"]]
    if name == "windows.psscan":
        got, want = sorted(got), sorted(want)
    c.eq(f"{name} processes", got, want)
    if t["generator"].get("isf_supplement"):
        sess = {r["PID"]: r["SessionId"] for r in rows}
        for p in t["processes"]:
            c.eq(f'{name} SessionId of {p["pid"]}', sess.get(p["pid"]), p["session"] if p["session"] >= 0 else None)
    if "threads" in t and name == "windows.pslist":
        counts = {r["PID"]: r["Threads"] for r in rows}
        for p in t["threads"]["processes"]:
            c.eq(f'{name} Threads of {p["pid"]} {p["name"]}', counts.get(p["pid"]), p["active_threads"])


def check_dlllist(c, rows, t):
    got = {}
    for r in rows:
        got.setdefault(r["PID"], []).append((r["Base"], r["Size"], r["Name"], r["Path"]))
    for p in t["processes"]:
        want = [(h(m["base"]), h(m["size"]), m["name"], m["path"]) for m in p.get("modules", [])]
        c.eq(f'dlllist of {p["pid"]} {p["name"]}', got.get(p["pid"], []), want)


def check_envars(c, rows, t):
    got = {}
    for r in rows:
        got.setdefault(r["PID"], {})[r["Variable"]] = r["Value"]
    for p in t["processes"]:
        want = p.get("environment", {}).get("vars", {})
        c.eq(f'envars of {p["pid"]} {p["name"]}', got.get(p["pid"], {}), want)


def check_cmdline(c, rows, t):
    got = {r["PID"]: r["Args"] for r in rows}
    for p in t["processes"]:
        if p.get("peb", "0x0") != "0x0":
            c.eq(f'cmdline of {p["pid"]}', got.get(p["pid"]), p["command_line"])


def check_modules(c, rows, t, name):
    got = [(r["Base"] & MASK48, r["Size"], r["Name"], r["Path"]) for r in rows]
    want = [(h(m["base"]) & MASK48, h(m["size"]), m["name"], m["path"]) for m in t["kernel_modules"]]
    if name == "windows.modscan":
        got, want = sorted(got), sorted(want)
    c.eq(f"{name} modules", got, want)


def vol_time(v):
    if v is None:
        return None
    return datetime.datetime.fromisoformat(v).replace(microsecond=0)


def check_threads(c, rows, t, name):
    """windows.threads walks each process's ThreadListHead (list order);
    windows.thrdscan scans for 'Thre' pool blocks with a Thread object
    header (every thread object: not the idle threads, which have none)."""
    got = [(r["Offset"] & MASK48, r["PID"], r["TID"], r["StartAddress"] & MASK48, vol_time(r["CreateTime"]),
            r["ExitTime"]) for r in rows]
    want = []
    for p in t["threads"]["processes"]:
        for th in p["threads"]:
            want.append((h(th["ethread"]) & MASK48, th["pid"], th["tid"], h(th["start_address"]) & MASK48,
                         filetime(h(th["create_time"])).replace(microsecond=0), None))
    if name == "windows.thrdscan":
        got, want = sorted(got), sorted(want)
        c.eq("thread objects", len(want), t["threads"]["objects"])
    c.eq(f"{name} threads (offset, pid, tid, start, create, exit)", got, want)


def check_orphans(c, rows, t):
    """System threads whose start address is in no kernel module: none."""
    c.eq("orphan kernel threads", [(r.get("Offset"), r.get("TID")) for r in rows], [])


PAGE_NAMES = {0: "PAGE_NOACCESS", 1: "PAGE_READONLY", 2: "PAGE_EXECUTE", 3: "PAGE_EXECUTE_READ",
              4: "PAGE_READWRITE", 5: "PAGE_WRITECOPY", 6: "PAGE_EXECUTE_READWRITE", 7: "PAGE_EXECUTE_WRITECOPY"}


def truth_vads(t):
    return {p["pid"]: p["vads"] for p in t.get("vads", {}).get("processes", [])}


def check_vadinfo(c, rows, t):
    """Every VAD of every process (Volatility walks the tree from the root,
    pre-order): node, start, end, tag, commit, private, parent, file, and
    the protection when the dump holds MmProtectToValue (--isf)."""
    got = {}
    for r in rows:
        prot = r["Protection"] if t["vads"].get("protect_table") else None
        got.setdefault(r["PID"], []).append((r["Offset"], r["Start VPN"], r["End VPN"], r["Tag"], r["CommitCharge"],
                                             r["PrivateMemory"], r["Parent"], r["File"], prot))
    for pid, vads in truth_vads(t).items():
        want = [(h(v["node"]), h(v["start"]), h(v["end"]), v["tag"], v["commit"], int(v["private"]), h(v["parent"]),
                 v["file"] or None, PAGE_NAMES[v["protection"]] if t["vads"].get("protect_table") else None)
                for v in vads]
        c.eq(f"vadinfo of {pid}", sorted(got.get(pid, [])), sorted(want))


def check_vadwalk(c, rows, t):
    """The tree's links: each VAD's parent, left and right child (kernel
    addresses as 48 bits, as this plugin prints them)."""
    got = {}
    for r in rows:
        got.setdefault(r["PID"], []).append((r["Offset"] & MASK48, r["Parent"] & MASK48, r["Left"] & MASK48,
                                             r["Right"] & MASK48, r["Start"], r["End"], r["Tag"]))
    for pid, vads in truth_vads(t).items():
        want = [(h(v["node"]) & MASK48, h(v["parent"]) & MASK48, h(v["left"]) & MASK48, h(v["right"]) & MASK48,
                 h(v["start"]), h(v["end"]), v["tag"]) for v in vads]
        c.eq(f"vadwalk of {pid}", sorted(got.get(pid, [])), sorted(want))


CHECKS = {
    "windows.info": check_info,
    "windows.pslist": lambda c, r, t: check_pslist(c, r, t, "windows.pslist"),
    "windows.psscan": lambda c, r, t: check_pslist(c, r, t, "windows.psscan"),
    "windows.dlllist": check_dlllist,
    "windows.envars": check_envars,
    "windows.cmdline": check_cmdline,
    "windows.modules": lambda c, r, t: check_modules(c, r, t, "windows.modules"),
    "windows.modscan": lambda c, r, t: check_modules(c, r, t, "windows.modscan"),
    "windows.threads": lambda c, r, t: check_threads(c, r, t, "windows.threads"),
    "windows.thrdscan": lambda c, r, t: check_threads(c, r, t, "windows.thrdscan"),
    "windows.orphan_kernel_threads": check_orphans,
    "windows.vadinfo": check_vadinfo,
    "windows.vadwalk": check_vadwalk,
}


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    tree, isf, dump = sys.argv[1:4]
    plugins = sys.argv[4:] or list(CHECKS)
    with open(dump + ".json") as f:
        truth = json.load(f)
    failed = 0
    for plugin in plugins:
        c = Check()
        rows = vol(tree, isf, dump, plugin)
        CHECKS[plugin](c, rows, truth)
        status = "agrees" if not c.bad else f"DISAGREES ({len(c.bad)})"
        print(f"{plugin:18} {len(rows):5} rows  {c.n:4} comparisons  {status}")
        for b in c.bad[:20]:
            print("    " + b)
        failed += bool(c.bad)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
