# SPDX-License-Identifier: MIT
"""Hostile arguments at every C entry point of _fastsock (issue 24), in every host build: a table
of entry points x values (wrong types, bools, floats, NaN, huge and negative ints, very long
strings) run in one interpreter per build. Each call must either do what a valid argument means
(checked against the body the scripted server sent) or raise TypeError / ValueError (OSError
where a valid value fails at run time, such as port 1 refusing); never crash (host-asan: ASan and
UBSan), never be silently wrong. A rejected argument must leave its response readable, and at
the end nothing is open: fastsock.stats()['open'] and the interpreter's descriptors
(hostcheck.fds(), outside fastsock) are back where they started."""

import os
import subprocess
import textwrap

import pytest

from conftest import interpreter
from rawserver import RawServer, read_request

BODY = b"line one\nline two\r\n" * 8 + b"last"
LINES = [b"line one", b"line two"] * 8 + [b"last"]
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Dup: a\r\nX-Dup: b\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY

# The values every parameter is tried with: name -> MicroPython expression.
VALUES = {
    "str": "'x'",
    "bytes": "b'xy'",
    "bytearray0": "bytearray(0)",
    "true": "True",
    "false": "False",
    "float": "1.5",
    "nan": "float('nan')",
    "list": "[1]",
    "dict": "{}",
    "none": "None",
    "neg": "-1",
    "zero": "0",
    "2**31": "2**31",
    "2**64": "2**64",
    "-2**70": "-(2**70)",
    "longstr": "'x' * 100000",
    "object": "object()",
}
# The ints among them (a bool is an int, as in CPython and MicroPython's int conversions).
INTS = {"true": 1, "false": 0, "neg": -1, "zero": 0, "2**31": 2**31, "2**64": 2**64, "-2**70": -(2**70)}
STRS = ("str", "longstr")
ARG_ERRORS = {"TypeError", "ValueError"}


def any_result(detail, name):
    return True


class Param:
    """What one parameter accepts: expect(value name) -> (allowed outcomes, check of an 'ok'
    result's detail or None)."""

    def __init__(self, ok=(), check=any_result, may_fail=False, errors=None):
        self.ok = set(ok)  # value names that are valid
        self.check = check  # check(detail, value name) for a valid value's result
        self.may_fail = may_fail  # a valid value may also fail at run time with an OSError
        self.errors = errors or {}  # value name -> the one exception an invalid value must raise

    def expect(self, name):
        if name in self.ok:
            return {"ok", "OSError"} if self.may_fail else {"ok"}, self.check
        return self.errors.get(name, ARG_ERRORS), None


def ints(lo, hi, clamp=False, none=False, **kw):
    """An int in lo..hi (bools count); above hi clamped when clamp; None when none."""
    ok = {n for n, v in INTS.items() if lo <= v and (clamp or v <= hi)}
    errors = {n: "ValueError" for n in INTS if n not in ok}
    errors.update({n: "TypeError" for n in VALUES if n not in INTS and not (none and n == "none")})
    if none:
        ok.add("none")
    return Param(ok, errors=errors, **kw)


def strs(**kw):
    """A str; anything else (bytes included) is a TypeError."""
    return Param(STRS, errors={n: "TypeError" for n in VALUES if n not in STRS}, **kw)


def bools(**kw):
    return Param({"true", "false"}, errors={n: "TypeError" for n in VALUES if n not in ("true", "false")}, **kw)


NO_ARGS = Param(errors={n: "TypeError" for n in VALUES})


def chunks_check(detail, name):
    # detail "chunks:<joined == BODY>:<largest piece>"
    _, joined, largest = detail.split(":")
    return joined == "True" and 0 < int(largest) <= min(INTS.get(name, 16384), len(BODY))


def read_check(detail, name):
    # detail "bytes:<len>:<is a prefix of BODY>"
    _, n, prefix = detail.split(":")
    want = {"true": 1, "false": 0, "zero": 0}.get(name, len(BODY))
    return int(n) == want and prefix == "True"


# Entry points: (id, what the call needs, MicroPython expression with V for the value, param).
# Needs: "r" a fresh stream=True response (the body not yet read), "h" its headers, "c" a fresh
# Connection, "cr" a Connection with a GET in flight, "-" nothing.
C_ARGS = "'127.0.0.1', PORT, 2000"
REQ = ["'GET'", "'/'", "'127.0.0.1'", "None", "None", "True", "2000", "None"]


def req(i):
    args = list(REQ)
    args[i] = "V"
    return "c.request(%s)" % ", ".join(args)


POOL = ["'k'", "'127.0.0.1'", "PORT", "None", "2000", "None"]


def pool_connect(i):
    args = list(POOL)
    args[i] = "V"
    return "keep(Pool(1).connect(%s))" % ", ".join(args)


ENTRIES = [
    # module functions
    ("deadline", "-", "_fastsock.deadline(V)", ints(0, 0x3FFFFFFF)),
    ("nbytes", "-", "_fastsock.nbytes(V)",
     Param({"str", "bytes", "bytearray0", "longstr"}, errors={n: "TypeError" for n in VALUES})),
    ("stats", "-", "_fastsock.stats(V)", NO_ARGS),
    ("reset_stats", "-", "_fastsock.reset_stats(V)", NO_ARGS),
    ("tls_limit", "-", "tls_limit(V)", ints(0, 2**32 - 1, none=True)),
    # Pool
    ("Pool", "-", "_fastsock.Pool(V)", ints(0, 16)),
    ("Pool.connect.host", "-", pool_connect(1), strs(may_fail=True)),
    ("Pool.connect.port", "-", pool_connect(2), ints(1, 65535, may_fail=True)),
    ("Pool.connect.tls", "-", pool_connect(3),
     Param({"none"}, errors={n: "TypeError" for n in VALUES})),
    ("Pool.connect.connect_ms", "-", pool_connect(4), ints(0, 0x3FFFFFFF, may_fail=True)),
    ("Pool.connect.deadline", "-", pool_connect(5), ints(0, 2**32 - 1, none=True, may_fail=True)),
    ("Pool.close", "-", "_fastsock.Pool(1).close(V)", NO_ARGS),
    ("Pool.idle", "-", "_fastsock.Pool(1).idle(V)", NO_ARGS),
    # TLSConfig
    ("TLSConfig.verify", "-", "_fastsock.TLSConfig(V)", bools()),
    ("TLSConfig.ca", "-", "_fastsock.TLSConfig(True, V)",
     Param({"none"}, errors={n: "ValueError" if n in ("str", "bytes", "bytearray0", "longstr") else "TypeError"
                             for n in VALUES})),
    # Connection (fs_conn.c, fs_request.c)
    ("Connection(host)", "-", "keep(_fastsock.Connection(V, PORT, 2000))", strs(may_fail=True)),
    ("Connection(port)", "-", "keep(_fastsock.Connection('127.0.0.1', V, 2000))", ints(1, 65535, may_fail=True)),
    ("Connection(timeout_ms)", "-", "keep(_fastsock.Connection('127.0.0.1', PORT, V))",
     ints(0, 0x3FFFFFFF, may_fail=True)),
    ("Connection(tls)", "-", "keep(_fastsock.Connection('127.0.0.1', PORT, 2000, V))",
     Param({"none"}, errors={n: "TypeError" for n in VALUES})),
    ("Connection.request.method", "c", req(0), strs()),
    ("Connection.request.target", "c", req(1), strs()),
    ("Connection.request.host", "c", req(2), strs()),
    ("Connection.request.headers", "c", req(3),
     Param({"none", "bytearray0", "dict"}, errors={n: "TypeError" for n in VALUES})),
    ("Connection.request.body_len", "c", req(4), ints(-1, 2**63 - 1, none=True)),
    ("Connection.request.keep_alive", "c", req(5), bools()),
    ("Connection.request.read_ms", "c", req(6), ints(0, 0x3FFFFFFF)),
    ("Connection.request.deadline", "c", req(7), ints(0, 2**32 - 1, none=True)),
    ("Connection.send", "cr", "c.send(V)",
     Param({"str", "bytes", "bytearray0", "longstr"}, errors={n: "TypeError" for n in VALUES})),
    ("Connection.getresponse.head_request", "cr", "body_of(c.getresponse(V))", bools()),
    ("Connection.getresponse.url", "cr", "body_of(c.getresponse(False, V))",
     Param({"none", "str", "longstr"}, errors={n: "TypeError" for n in VALUES})),
    ("Connection.stale", "c", "c.stale(V)", NO_ARGS),
    ("Connection.tls", "c", "c.tls(V)", NO_ARGS),
    ("Connection.close", "c", "c.close(V)", NO_ARGS),
    # Response
    ("iter_content.chunk_size", "r", "pieces(r.iter_content(V))", ints(1, 2**31, clamp=True, none=True,
                                                                        check=chunks_check)),
    ("iter_content.view", "r", "pieces(r.iter_content(100, view=V))", bools()),
    ("iter_lines.chunk_size", "r", "lines(r.iter_lines(V))", ints(1, 2**31, clamp=True, none=True)),
    ("iter_lines.delimiter", "r", "lines(r.iter_lines(delimiter=V))",
     Param({"none", "bytes"}, errors={n: "TypeError" for n in VALUES})),
    ("iter_lines.max_line", "r", "lines(r.iter_lines(max_line=V))", ints(1, 2**31, clamp=True, may_fail=True)),
    ("readinto", "r", "r.readinto(V)", Param({"bytearray0"}, errors={n: "TypeError" for n in VALUES})),
    ("read", "r", "bytes_of(r.read(V))",
     Param({"none", "true", "false", "zero", "neg", "2**31", "2**64", "-2**70"}, check=read_check,
           errors={n: "TypeError" for n in VALUES})),
    ("save.target", "r", "r.save(V)", Param(STRS, may_fail=True, errors={n: "TypeError" for n in VALUES})),
    ("save.progress", "r", "r.save(SINK, V)", Param({"none"}, errors={n: "TypeError" for n in VALUES})),
    ("save.piece", "r", "r.save(SINK, None, V)", ints(1, 2**31, clamp=True)),
    ("json", "r", "r.json(V)", NO_ARGS),
    ("close", "r", "r.close(V)", NO_ARGS),
    ("raise_for_status", "r", "r.raise_for_status(V)", NO_ARGS),
    ("tls", "r", "r.tls(V)", NO_ARGS),
    # A charset .text cannot decode ('x') is a LookupError naming it.
    ("Response.encoding=", "r", "setattr(r, 'encoding', V) or r.text",
     Param({"none"}, errors={n: "LookupError" if n in STRS else "TypeError" for n in VALUES})),
    # Headers
    ("Headers[]", "h", "h[V]", Param(errors={n: "KeyError" if n in STRS else "TypeError" for n in VALUES})),
    ("Headers.in", "h", "V in h", Param(STRS, errors={n: "TypeError" for n in VALUES})),
    ("Headers.get", "h", "h.get(V)", Param(STRS, errors={n: "TypeError" for n in VALUES})),
    ("Headers.get_all", "h", "h.get_all(V)", Param(STRS, errors={n: "TypeError" for n in VALUES})),
]

FALSY = ("bytearray0", "dict", "none", "zero")


SCRIPT = r"""
import _fastsock, fastsock, gc, hostcheck
PORT = %(port)d
URL = "http://127.0.0.1:%%d/body" %% PORT
BODY = %(body)r
LINES = %(lines)r
tls_limit = getattr(_fastsock, "tls_limit", None)
Pool = _fastsock.Pool
kept = []
def keep(c):
    kept.append(c)
    return "conn"
class Sink:
    def write(self, b):
        pass
SINK = Sink()
def pieces(it):
    got = [bytes(p) for p in it]  # view=True: one memoryview, re-pointed
    return "chunks:%%s:%%d" %% (b"".join(got) == BODY, max(len(p) for p in got))
def lines(it):
    got = list(it)
    return "lines:%%d:%%s" %% (len(got), got == LINES or got == [BODY])
def bytes_of(b):
    return "bytes:%%d:%%s" %% (len(b), BODY.startswith(b))
def body_of(r):
    return "body:%%s" %% (r.content == BODY)
def outcome(e):
    for cls in (KeyError, LookupError, TypeError, ValueError, OSError):
        if isinstance(e, cls):
            return cls.__name__
    return "other:" + type(e).__name__
def describe(v):
    if isinstance(v, str):
        return v if v.startswith(("chunks:", "lines:", "bytes:", "body:")) or v == "conn" else "str:%%d" %% len(v)
    if isinstance(v, (bytes, bytearray)):
        return "bytes:%%d" %% len(v)
    return type(v).__name__

s = fastsock.Session()
s.get(URL).content
s.close()
gc.collect()
fd0 = hostcheck.fds()
s = fastsock.Session()
def case(cid, needs, fn, make_value):
    r = h = c = None
    if needs in ("r", "h"):
        r = s.get(URL, stream=True)
        h = r.headers
    elif needs in ("c", "cr"):
        c = _fastsock.Connection("127.0.0.1", PORT, 2000)
        if needs == "cr":
            c.request("GET", "/body", "127.0.0.1", None, None, False, 2000, None)
    try:
        res = "ok " + describe(fn(r, h, c, make_value()))
    except Exception as e:
        res = outcome(e)
        if r is not None and res in ("TypeError", "ValueError", "KeyError"):
            # A rejected argument leaves the response as it was.
            try:
                res += " intact" if r.content == BODY else " broken"
            except Exception as e2:
                res += " broken:" + type(e2).__name__
    if r is not None:
        r.close()
    if c is not None:
        c.close()
    if tls_limit is not None:
        tls_limit(None)
    while kept:
        kept.pop().close()
    print("CASE", cid, res)

%(cases)s

print("AFTER", s.get(URL).content == BODY)
s.close()
gc.collect()
print("OPEN", fastsock.stats()["open"], "FDS", hostcheck.fds() - fd0)
"""


def cases():
    for eid, needs, expr, param in ENTRIES:
        for vname in VALUES:
            yield "%s/%s" % (eid, vname), needs, expr, param, vname


def script(port):
    lines = []
    for cid, needs, expr, _, vname in cases():
        lines.append("case(%r, %r, lambda r, h, c, V: %s, lambda: %s)" % (cid, needs, expr, VALUES[vname]))
    return SCRIPT % {"port": port, "body": BODY, "lines": LINES, "cases": "\n".join(lines)}


def serve(conn, stop):
    while read_request(conn):
        conn.sendall(RESPONSE)


def run(flavour, code, tmp_path):
    # cwd is tmp_path: save("x") writes a file named x there.
    path = tmp_path / "hostile.py"
    path.write_text(textwrap.dedent(code))
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0")
    p = subprocess.run([str(interpreter(flavour)), str(path)], capture_output=True, text=True, timeout=300,
                       cwd=tmp_path, env=env)
    return p


def judge(out):
    """The cases whose outcome is not what their parameter allows: {case id: outcome}."""
    seen = {}
    for line in out.splitlines():
        if line.startswith("CASE "):
            _, cid, res = line.split(" ", 2)
            seen[cid] = res
    bad = {}
    for cid, _, _, param, vname in cases():
        res = seen.get(cid)
        if res is None:
            bad[cid] = "never ran"
            continue
        allowed, check = param.expect(vname)
        word, _, detail = res.partition(" ")
        if isinstance(allowed, str):
            allowed = {allowed}
        ok = word in allowed or (word.startswith("ok") and "ok" in allowed)
        if ok and word == "ok" and check is not None:
            ok = check(detail, vname)
        if ok and word in ("TypeError", "ValueError", "KeyError") and "broken" in detail:
            ok = False
        if not ok:
            bad[cid] = res
    return bad


@pytest.mark.parametrize("flavour", ["host", "host32", "host-asan"])
def test_every_entry_point_rejects_hostile_arguments(flavour, tmp_path):
    with RawServer(serve) as srv:
        srv.sock.listen(256)  # a connection per case: no SYN retransmits when accepts lag
        p = run(flavour, script(srv.port), tmp_path)
    crashed = p.returncode != 0 or any(w in p.stderr for w in ("Sanitizer", "runtime error", "Warning:"))
    last = [line for line in p.stdout.splitlines() if line.startswith("CASE ")][-1:]
    assert not crashed, "interpreter failed after %s:\n%s" % (last, p.stderr[-3000:])
    bad = judge(p.stdout)
    assert not bad, "\n".join("%s -> %s" % kv for kv in sorted(bad.items()))
    tail = p.stdout.splitlines()[-2:]
    assert tail == ["AFTER True", "OPEN 0 FDS 0"], p.stdout[-2000:]


def test_the_table_is_wide():
    # Every C entry point with every value: a new entry point belongs in ENTRIES.
    n = sum(1 for _ in cases())
    assert n == len(ENTRIES) * len(VALUES) and len(ENTRIES) >= 45, n
