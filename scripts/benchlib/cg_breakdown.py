# SPDX-License-Identifier: MIT
"""Where a client's instructions go: a callgrind output file read into self costs per part of
the interpreter (by the source file or shared object of each function) and the inclusive costs of
a few named functions. scripts/bench's callgrind phase subtracts a 0-request run from an
N-request run of each and divides by N.

    python3 cg_breakdown.py callgrind.out      print the parts and the named functions
"""

import re
import sys

# (part, test on (object, file)): the first that matches takes a function's self cost.
PARTS = (
    ("GC: allocation and collection (py/gc.c, py/malloc.c)",
     lambda ob, fl: fl.endswith(("/py/gc.c", "/py/malloc.c"))),
    ("fastsock's C (cmodules/fastsock)", lambda ob, fl: "/cmodules/fastsock/" in fl),
    ("VM, objects and runtime (py/, shared/)", lambda ob, fl: "/py/" in fl or "/shared/" in fl),
    ("socket module (ports/unix/modsocket.c) and the rest of the host port",
     lambda ob, fl: "/modsocket.c" in fl or "/firmware/host/" in fl),
    ("libc: memcpy, read/write/connect wrappers, getaddrinfo", lambda ob, fl: "/libc" in ob or "/libm" in ob),
    ("32-bit PIE glue in the interpreter: __x86.get_pc_thunk, PLT stubs",
     lambda ob, fl: fl == "???" and ob.endswith("micropython")),
    ("other: dynamic loader (lazy binding), valgrind's preload", lambda ob, fl: True),
)
# gc_alloc includes the collections it triggers; gc_sweep_all is the sweep at the interpreter's
# exit (it grows with the garbage left, so it shows up per request in a heap that never collects).
NAMED = ("gc_alloc", "gc_collect", "gc_sweep_all", "mp_execute_bytecode")

_NAME = re.compile(r"^(ob|fl|fi|fe|fn|cob|cfl|cfi|cfn)=(?:\((\d+)\))?\s*(.*)$")


def parse(path):
    """{'parts': {part: self Ir}, 'inclusive': {name: Ir}, 'total': Ir} for one callgrind file."""
    names = {}
    ob = fl = fn = ""
    self_cost = {}  # (ob, fl, fn) -> Ir
    calls_out = {}  # fn -> Ir of calls to other functions
    after_calls = False
    cfn = None
    with open(path, errors="replace") as f:
        for line in f:
            if not line or line[0] == "\n":
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                ir = int(parts[1]) if len(parts) > 1 else 0
                if after_calls:
                    if cfn != fn:
                        calls_out[fn] = calls_out.get(fn, 0) + ir
                    after_calls = False
                else:
                    key = (ob, fl, fn)
                    self_cost[key] = self_cost.get(key, 0) + ir
                continue
            if line.startswith("calls="):
                after_calls = True
                continue
            m = _NAME.match(line.rstrip("\n"))
            if not m:
                continue
            kind, ident, text = m.groups()
            space = kind.lstrip("c")
            space = {"fi": "fl", "fe": "fl"}.get(space, space)
            if ident is not None:
                if text:
                    names[(space, ident)] = text
                text = names.get((space, ident), text)
            if kind == "ob":
                ob = text
            elif kind == "fl":
                fl = text
            elif kind == "fn":
                fn = text
            elif kind == "cfn":
                cfn = text
    parts = {p: 0 for p, _ in PARTS}
    by_fn = {}
    for (o, fl_, f), ir in self_cost.items():
        by_fn[f] = by_fn.get(f, 0) + ir
        for p, test in PARTS:
            if test(o, fl_):
                parts[p] += ir
                break
    inclusive = {n: by_fn.get(n, 0) + calls_out.get(n, 0) for n in NAMED}
    return {"parts": parts, "inclusive": inclusive, "total": sum(self_cost.values())}


def per_request(full, base, n):
    """(full - base) / n for every figure of two parse() results."""
    return {"parts": {p: (full["parts"][p] - base["parts"][p]) / n for p in full["parts"]},
            "inclusive": {k: (full["inclusive"][k] - base["inclusive"][k]) / n for k in full["inclusive"]},
            "total": (full["total"] - base["total"]) / n}


if __name__ == "__main__":
    r = parse(sys.argv[1])
    for p, ir in r["parts"].items():
        print("%14s  %5.1f %%  %s" % (format(ir, ","), 100 * ir / r["total"], p))
    for n, ir in r["inclusive"].items():
        print("%14s  %5.1f %%  %s (inclusive)" % (format(ir, ","), 100 * ir / r["total"], n))
    print("%14s  total" % format(r["total"], ","))
