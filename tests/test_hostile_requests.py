# SPDX-License-Identifier: MIT
"""Nothing a caller passes can inject, desync or leak (issue 24). Every caller input that ends
up on the wire (method, URL path, query, header names and values, cookies, body framing) is
tried with hostile values; the oracle is a scripted server that parses every byte it received
on every connection: a refused input must put no byte on the wire, an accepted one exactly
one request with nothing added, the same Session must serve the next request, and the
process's descriptors (/proc/self/fd) come back to where they were."""

import json
import threading
import time

import pytest
import requests
from rawserver import RawServer, read_full_request
from wire import normalize

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Recorder(RawServer):
    """Parses every request on every connection; keeps the requests (.requests, raw bytes)
    and any bytes a connection ended with that did not make a whole request (.partial)."""

    def __init__(self, response=OK):
        self.requests = []
        self.partial = []
        self.response = response
        self.lock = threading.Lock()
        super().__init__(self._handle)

    def _handle(self, conn, stop):
        conn.settimeout(0.2)
        seen = []  # every byte this connection received

        class Conn:
            # recv that gives up when the server stops, and raises at a second end of stream
            # (read_full_request expects b"" only between requests)
            ended = False

            def recv(self, n):
                if self.ended:
                    raise ConnectionResetError("ended inside a request")
                while not stop.is_set():
                    try:
                        d = conn.recv(n)
                    except TimeoutError:
                        continue
                    self.ended = not d
                    seen.append(d)
                    return d
                raise ConnectionAbortedError("server stopped")

        c = Conn()
        buf = b""
        used = 0
        while True:
            try:
                raw, body, buf = read_full_request(c, buf)
            except (OSError, ValueError, IndexError):
                break
            if not raw:
                break
            h = normalize(raw)[1]
            if "content-length" in h and len(body) < int(h["content-length"]):
                break  # ended before the body it announced: not a whole request
            used += len(raw)
            with self.lock:
                self.requests.append(raw)
            conn.sendall(self.response(raw) if callable(self.response) else self.response)
        rest = b"".join(seen)[used:]
        if rest:
            with self.lock:
                self.partial.append(rest)

    def paths(self):
        return [normalize(r)[0].split(" ")[1] for r in self.requests]


# (where the value goes, the value, "reject" or a check of the one request it must send)
def sent_value(name, value):
    return lambda line, h, body: h.get(name) == value and "x-injected" not in h


CASES = [
    ("method", "", "reject"),
    ("method", "GET /INJ HTTP/1.1\tX", "reject"),
    ("method", "GET\r\nX-Injected: 1\r\n", "reject"),
    ("method", "G\u00e9T", "reject"),
    ("method", "GE T", "reject"),
    ("method", "GET\x00", "reject"),
    ("method", 5, "reject"),
    ("method", None, "reject"),
    ("method", b"GET", "reject"),
    ("method", "patch", lambda line, h, body: line.startswith("PATCH ")),
    ("name", "X-Injected: evil\x0bX-B", "reject"),
    ("name", "Transfer-Encoding ", "reject"),
    ("name", " X-A", "reject"),
    ("name", "", "reject"),
    ("name", "X\r\nX-Injected", "reject"),
    ("name", "X\nX-Injected", "reject"),
    ("name", "X\x00", "reject"),
    ("name", "N\u00e4me", "reject"),
    ("name", "X:Y", "reject"),
    ("name", "X(Y)", "reject"),
    ("name", b"X-A", "reject"),
    ("name", 5, "reject"),
    ("name", "X-Ok_1.~!#$%&'*+^`|", sent_value("x-ok_1.~!#$%&'*+^`|", "v")),
    ("value", "a\r\nX-Injected: 1", "reject"),
    ("value", "a\nX-Injected: 1", "reject"),
    ("value", "a\rX-Injected: 1", "reject"),
    ("value", "a\x00b", "reject"),
    ("value", "a\x0bb", "reject"),
    ("value", "a\x7fb", "reject"),
    ("value", b"a\r\nX-Injected: 1", "reject"),
    ("value", b"secret", sent_value("x-v", "secret")),
    ("value", bytearray(b"tok"), sent_value("x-v", "tok")),
    ("value", 42, sent_value("x-v", "42")),
    ("value", "a\tb", sent_value("x-v", "a\tb")),
    ("path", "/p\r\nX-Injected: 1", "reject"),
    ("path", "/p\nX-Injected: 1", "reject"),
    ("path", "/p\x00", "reject"),
    ("path", "/p HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET /smuggled", "reject"),
    ("path", "/p q\"<>", lambda line, h, body: line.split(" ")[1].endswith("/p%20q%22%3C%3E")),
    ("params", "a\r\nX-Injected: 1", lambda line, h, body: line.split(" ")[1].endswith("?p=a%0D%0AX-Injected%3A+1")),
    ("cookie", "v\r\nX-Injected: 1", "reject"),
    ("cookie", "plain", sent_value("cookie", "c=plain")),
    ("auth", ("u\r\nX-Injected: 1", "p"), lambda line, h, body: h["authorization"].startswith("Basic ")),
]

SCRIPT = """
import fastsock, gc, hostcheck
fds = hostcheck.fds()
s = fastsock.Session()
print("NEXT", s.get(URL + "/ok").status_code)
for i, (where, value, _) in enumerate(CASES):
    u = URL + "/case/%d" % i
    try:
        if where == "method":
            r = s.request(value, u)
        elif where == "name":
            r = s.get(u, headers={value: "v"})
        elif where == "value":
            r = s.get(u, headers={"X-V": value})
        elif where == "path":
            r = s.get(u + value)
        elif where == "params":
            r = s.get(u, params={"p": value})
        elif where == "cookie":
            r = s.get(u, cookies={"c": value})
        else:
            r = s.get(u, auth=value)
        print("CASE", i, "sent", r.status_code)
    except Exception as e:
        print("CASE", i, type(e).__name__, isinstance(e, ValueError) or isinstance(e, TypeError))
    print("NEXT", s.get(URL + "/ok").status_code)
s.close()
gc.collect()
print("FDS", fds, hostcheck.fds(), fastsock.stats()["open"])
"""


@pytest.mark.parametrize("heap", [None, "128k"])
def test_hostile_inputs_put_nothing_on_the_wire(mp, tmp_path, heap):
    # Also on a device-sized heap: a refusal must not depend on memory being plentiful.
    with Recorder() as srv:
        cases = [(w, v, None) for w, v, _ in CASES]
        out = mp.run("URL = %r\nCASES = %r\n%s" % (srv.url(""), cases, SCRIPT), tmp_path, heapsize=heap)
        time.sleep(0.3)  # the last connection's bytes reach the recorder
    lines = out.splitlines()
    assert lines.count("NEXT 200") == len(CASES) + 1, out  # the Session served every next one
    results = {int(ln.split()[1]): ln.split()[2:] for ln in lines if ln.startswith("CASE")}
    assert len(results) == len(CASES), out
    assert srv.partial == [], "bytes that made no whole request: %r" % srv.partial
    sent = {}
    for raw in srv.requests:
        line, h, body = normalize(raw)
        path = line.split(" ")[1]
        assert "x-injected" not in h and b"X-Injected" not in body, raw
        if path.startswith("/case/"):
            sent.setdefault(int(path.split("/")[2].split("?")[0]), []).append((line, h, body))
    for i, (where, value, expect) in enumerate(CASES):
        got = results[i]
        if expect == "reject":
            assert got[0] != "sent" and got[1] == "True", "%s %r: %s (ValueError/TypeError expected)" % (where, value, got)
            assert i not in sent, "%s %r was refused but sent %r" % (where, value, sent[i])
        else:
            assert got == ["sent", "200"], "%s %r: %s" % (where, value, got)
            assert len(sent.get(i, [])) == 1 and expect(*sent[i][0]), "%s %r sent %r" % (where, value, sent.get(i))
    fds = [ln for ln in lines if ln.startswith("FDS")][0].split()
    assert fds[1] == fds[2] and fds[3] == "0", "descriptors before/after, open: %s" % fds


def test_bytes_header_values_go_out_as_requests_sends_them(mp, tmp_path):
    # requests sends a bytes value as the bytes; fastsock sent its repr ("b'secret'").
    with Recorder(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") as srv:
        with requests.Session() as s:
            s.get(srv.url("/b"), headers={"X-Token": b"secret", "X-Raw": b"\xe9t\xe9"}, timeout=10)
        mp.run("""
            import fastsock
            fastsock.get(%r, headers={"X-Token": b"secret", "X-Raw": b"\\xe9t\\xe9"})
            """ % srv.url("/b"), tmp_path)
    rq, fs = srv.requests
    for name in (b"X-Token: secret\r\n", b"X-Raw: \xe9t\xe9\r\n"):
        assert name in rq and name in fs, (rq, fs)


# ---- Framing: the body that goes out is exactly what the head announces.

FRAMING = """
import fastsock, gc, hostcheck, io

class Grows:
    # A seekable stream whose data grows after its size was taken (a log file being written).
    def __init__(self, n, extra):
        self.data = b"g" * n
        self.extra = extra
        self.pos = 0
    def seek(self, off, whence=0):
        self.pos = off if whence == 0 else self.pos + off if whence == 1 else len(self.data) + off
        return self.pos
    def read(self, n):
        if self.extra:
            self.data = self.data + b"+" * self.extra if self.extra > 0 else self.data[:self.extra]
            self.extra = 0
        d = self.data[self.pos:self.pos + n]
        self.pos += len(d)
        return d

def it(*pieces):
    for p in pieces:
        yield p

fds = hostcheck.fds()
s = fastsock.Session(timeout=5)  # a framing bug fails in seconds, not by the test's own limit
s.get(URL + "/ok")
CALLS = [
    ("cl-header-recomputed", lambda u: s.post(u, data=b"0123456789", headers={"Content-Length": "4"})),
    ("te-header-dropped", lambda u: s.post(u, data=b"abc", headers={"Transfer-Encoding": "chunked"})),
    ("session-cl-dropped", lambda u: fastsock.Session(headers={"content-length": "7"}, timeout=5).post(u, data=b"ab")),
    ("get-cl-dropped", lambda u: s.get(u, headers={"Content-Length": "5"})),
    ("stream-sized", lambda u: s.post(u, data=io.BytesIO(b"s" * 10000))),
    ("iter-with-cl", lambda u: s.post(u, data=it(b"ab", "cd"), headers={"Content-Length": "4"})),
    ("iter-chunked", lambda u: s.post(u, data=it(b"ab", "cd"))),
    ("iter-longer", lambda u: s.post(u, data=it(b"ab", b"cdef"), headers={"Content-Length": "4"})),
    ("iter-shorter", lambda u: s.post(u, data=it(b"ab"), headers={"Content-Length": "4"}, timeout=None)),
    ("cl-not-a-number", lambda u: s.post(u, data=it(b"ab"), headers={"Content-Length": "2, 2"})),
    ("stream-grows", lambda u: s.post(u, data=Grows(5000, 100))),
    ("file-grows", lambda u: s.post(u, files={"f": ("f.bin", Grows(5000, 100))})),
    ("file-shrinks", lambda u: s.post(u, files={"f": ("f.bin", Grows(5000, -100))}, timeout=None)),
]
for name, call in CALLS:
    try:
        r = call(URL + "/" + name)
        print("CASE", name, "sent", r.status_code)
    except Exception as e:
        print("CASE", name, type(e).__name__, str(e).replace(" ", "_"))
    print("NEXT", s.get(URL + "/ok").status_code)
s.close()
gc.collect()
print("FDS", fds, hostcheck.fds(), fastsock.stats()["open"])
"""


def test_body_framing_is_never_the_callers_to_break(mp, tmp_path):
    with Recorder() as srv:
        started = time.monotonic()
        out = mp.run("URL = %r\n%s" % (srv.url(""), FRAMING), tmp_path, timeout=60)
        elapsed = time.monotonic() - started
        time.sleep(0.3)
    lines = out.splitlines()
    res = {ln.split()[1]: ln.split()[2:] for ln in lines if ln.startswith("CASE")}
    assert lines.count("NEXT 200") == len(res) == 13, out
    # A short body fails at once, not after a read timeout (there is none for those two cases:
    # timeout=None).
    assert elapsed < 20, "took %.1f s" % elapsed
    got = {}
    for raw in srv.requests:
        line, h, body = normalize(raw)
        got.setdefault(line.split(" ")[1][1:], []).append((h, body))
    # Whatever was sent, every request that arrived was whole and framed by one header.
    for name, reqs in got.items():
        for h, body in reqs:
            assert not ("content-length" in h and "transfer-encoding" in h), (name, h)
            if "content-length" in h:
                assert int(h["content-length"]) == len(body), (name, h, body)

    def one(name):
        assert res[name] == ["sent", "200"], (name, res[name])
        assert len(got[name]) == 1, (name, got.get(name))
        return got[name][0]

    h, body = one("cl-header-recomputed")
    assert h["content-length"] == "10" and body == b"0123456789"
    h, body = one("te-header-dropped")
    assert h["content-length"] == "3" and "transfer-encoding" not in h and body == b"abc"
    h, body = one("session-cl-dropped")
    assert h["content-length"] == "2" and body == b"ab"
    h, body = one("get-cl-dropped")
    assert "content-length" not in h and body == b""
    h, body = one("stream-sized")
    assert h["content-length"] == "10000" and body == b"s" * 10000  # as requests sizes files
    h, body = one("iter-with-cl")
    assert h["content-length"] == "4" and body == b"abcd"
    h, body = one("iter-chunked")
    assert h["transfer-encoding"] == "chunked" and body.endswith(b"0\r\n\r\n")
    # Longer or shorter than announced: ValueError, the connection closed, nothing whole sent.
    failing = (("iter-longer", "longer"), ("iter-shorter", "shorter"), ("stream-grows", "longer"),
               ("file-grows", "longer"), ("file-shrinks", "shorter"), ("cl-not-a-number", "number"))
    for name, word in failing:
        assert res[name][0] == "ValueError" and word in res[name][1], (name, res[name])
        assert name not in got, (name, got[name])
    # What the failed ones left on the wire: a head and at most the bytes it announced.
    for rest in srv.partial:
        head, _, body = rest.partition(b"\r\n\r\n")
        line, h, _ = normalize(head + b"\r\n\r\n")
        assert line.split(" ")[1][1:] in dict(failing), rest[:200]
        assert len(body) <= int(h["content-length"]), (line, len(body), h)
    fds = [ln for ln in lines if ln.startswith("FDS")][0].split()
    assert fds[1] == fds[2] and fds[3] == "0", fds


def test_stream_upload_wire_matches_requests(mp, tmp_path):
    # A seekable stream goes out with its Content-Length, as requests measures files.
    import io

    from wire import WireRecorder, comparable, fastsock_wire, requests_wire

    with WireRecorder() as rec:
        rq = requests_wire("POST", "/up", rec, data=io.BytesIO(b"x" * 3000))
        fs = fastsock_wire(mp, tmp_path, "import fastsock, io\nfastsock.post(URL + '/up', data=io.BytesIO(b'x' * 3000))",
                           rec)
    assert comparable(fs) == comparable(rq)


# ---- requests' names for errors and status codes, raised for real.

def test_requests_exception_names_are_what_fastsock_raises(mp, tmp_path):
    import socket

    # A listener that never accepts, its queue full: the next connect gets no answer.
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    fillers = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(full.getsockname())
        fillers.append(c)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused = closed.getsockname()[1]
    closed.close()
    def stall(conn, stop):
        conn.recv(65536)
        stop.wait(30)

    redirect = b"HTTP/1.1 302 Found\r\nLocation: /r\r\nContent-Length: 0\r\n\r\n"
    with RawServer(stall) as quiet, Recorder(redirect) as loop, Recorder(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") as nf:
        out = mp.run("""
            import fastsock as requests
            ex = requests.exceptions
            names = ("RequestException", "ConnectionError", "Timeout", "ConnectTimeout", "ReadTimeout",
                     "HTTPError", "TooManyRedirects", "InvalidURL")
            def kind(f):
                try:
                    f()
                except Exception as e:
                    return ",".join([n for n in names if isinstance(e, getattr(ex, n))] +
                                    [n for n, t in (("OSError", OSError), ("ValueError", ValueError)) if isinstance(e, t)])
                return "no error"
            print("REFUSED", kind(lambda: requests.get("http://127.0.0.1:%(refused)d/")))
            print("CONNECT", kind(lambda: requests.get("http://127.0.0.1:%(full)d/", timeout=0.5)))
            print("READ", kind(lambda: requests.get(%(quiet)r, timeout=0.5)))
            print("HTTP", kind(lambda: requests.get(%(nf)r).raise_for_status()))
            print("REDIRECTS", kind(lambda: requests.get(%(loop)r)))
            print("URL", kind(lambda: requests.get("http://exa mple/")))
            print("CODES", requests.codes.ok, requests.codes.not_found, requests.codes.too_many_requests)
            print("SAME", requests.exceptions.ConnectionError is requests.ConnectionError,
                  requests.exceptions.Timeout is requests.Timeout, requests.exceptions.SSLError is requests.TLSError)
            """ % {"refused": refused, "full": full.getsockname()[1], "quiet": quiet.url("/"), "nf": nf.url("/"),
                   "loop": loop.url("/")}, tmp_path)
    for c in fillers:
        c.close()
    full.close()
    got = dict(ln.split(" ", 1) for ln in out.splitlines())
    # requests' own hierarchy: ConnectTimeout is a ConnectionError and a Timeout, ReadTimeout a
    # Timeout; all are RequestExceptions and OSErrors (MicroPython code catches OSError).
    assert got["REFUSED"] == "RequestException,ConnectionError,OSError"
    assert got["CONNECT"] == "RequestException,ConnectionError,Timeout,ConnectTimeout,OSError"
    assert got["READ"] == "RequestException,Timeout,ReadTimeout,OSError"
    assert got["HTTP"] == "RequestException,HTTPError,OSError"
    assert got["REDIRECTS"] == "RequestException,TooManyRedirects,OSError"
    assert got["URL"] == "InvalidURL,ValueError"
    assert got["CODES"] == "%d %d %d" % (requests.codes.ok, requests.codes.not_found, requests.codes.too_many_requests)
    assert got["SAME"] == "True True True"


def test_positional_arguments_as_micropython_lib_and_requests(mp, tmp_path):
    # micropython-lib requests: request(method, url, data, json, headers); CPython requests:
    # get(url, params), Session.request(method, url, params, data, headers).
    with Recorder() as srv:
        mp.run("""
            import fastsock as requests
            u = %r
            requests.request("GET", u + "/a", None, None)
            requests.request("POST", u + "/b", b"body", None, {"X-H": "1"})
            requests.request("POST", u + "/c", None, {"k": 1})
            requests.get(u + "/d", {"q": "1"})
            requests.Session().request("PUT", u + "/e", {"q": "2"}, b"put", {"X-H": "2"})
            """ % srv.url(""), tmp_path)
    reqs = [normalize(r) for r in srv.requests]
    assert [r[0].split(" ")[:2] for r in reqs] == [["GET", "/a"], ["POST", "/b"], ["POST", "/c"], ["GET", "/d?q=1"],
                                                   ["PUT", "/e?q=2"]]
    assert reqs[1][2] == b"body" and reqs[1][1]["x-h"] == "1"
    assert json.loads(reqs[2][2]) == {"k": 1}
    assert reqs[4][2] == b"put" and reqs[4][1]["x-h"] == "2"


def test_url_keeps_fragment_and_shows_what_was_sent_as_requests(mp, tmp_path):
    # r.url: requests' prepared URL (percent-encoded, params before the fragment, the fragment
    # kept; after a redirect the Location's fragment, else the one before).
    table = {
        "/start": b"HTTP/1.1 302 Found\r\nLocation: /next caf\xc3\xa9?x=1\r\nContent-Length: 0\r\n\r\n",
        "/frag": b"HTTP/1.1 302 Found\r\nLocation: /end#new\r\nContent-Length: 0\r\n\r\n",
    }

    def respond(raw):
        path = raw.split(b" ", 2)[1].decode().split("?")[0]
        return table.get(path, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    calls = [("/p q?a=\u00e9#fr ag", None), ("/p#f", {"b": "2"}), ("/start#keep", None), ("/frag#old", None)]
    with Recorder(respond) as srv:
        want = []
        for path, params in calls:
            with requests.Session() as s:
                want.append(s.get(srv.url(path), params=params, timeout=10).url)
        out = mp.run("""
            import fastsock
            for path, params in %r:
                print(fastsock.get(%r + path, params=params).url)
            """ % (calls, srv.url("")), tmp_path)
    assert out.splitlines() == want


@pytest.mark.parametrize("flavour", ["host"])
def test_tls_config_cache_compares_no_bytes_with_str(flavour, tmp_path):
    # A CA given as a path, then as bytes: the cache compared b"..." with "..." and the device
    # printed "Warning: Comparison between bytes and str" (conftest fails any run that warns).
    from conftest import MicroPython

    import subprocess

    cas = []
    for name in ("a", "b"):
        ca = tmp_path / ("%s.pem" % name)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", str(tmp_path / "k.pem"), "-out", str(ca), "-subj", "/CN=%s" % name, "-days", "2"],
                       check=True, capture_output=True)
        cas.append(str(ca))
    # Paths and bytes of two CAs, each looked up again: with four keys in the cache, lookups
    # probe past keys of the other type.
    out = MicroPython(flavour).run("""
        import fastsock
        seen = []
        for _ in range(3):
            for p in %r:
                seen.append(fastsock._tls_config(True, p))
                seen.append(fastsock._tls_config(True, open(p, "rb").read()))
        print(len(fastsock._tls_configs), len(set(id(c) for c in seen)))
        """ % (cas,), tmp_path)
    assert out.split() == ["4", "4"]
