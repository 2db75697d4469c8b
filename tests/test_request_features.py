# SPDX-License-Identifier: MIT
"""The requests features IoT code uses (issue 13): multipart uploads streamed from files,
cookies, credentials in the URL, form pairs, requests' redirect limit. Oracles: a real httpbin
under gunicorn (what it parsed), the bytes CPython requests sends for the same call (tests/wire.py),
and http.cookiejar through a requests.Session driven through the same exchanges."""

import base64
import hashlib
import json
import re
import urllib.parse

import pytest
from rawserver import RawServer, keep_alive
from wire import WireRecorder, comparable, dechunk, fastsock_wire, normalize, requests_wire


def boundary_of(raw):
    line, headers, body = normalize(raw)
    m = re.match(r"multipart/form-data; boundary=([0-9a-f]{32})$", headers["content-type"])
    assert m, headers["content-type"]
    return m.group(1).encode()


def same_multipart(fs_raw, rq_raw, chunked=False):
    # Byte-exact but for the boundary, which each client picks at random.
    fb, rb = boundary_of(fs_raw), boundary_of(rq_raw)
    assert fb != rb
    f_line, f_h, f_body = comparable(fs_raw)
    r_line, r_h, r_body = comparable(rq_raw)
    if chunked:
        assert f_h.pop("transfer-encoding") == "chunked"
        f_body = dechunk(f_body)
        r_h.pop("content-length")
    assert f_line == r_line
    assert f_body.replace(fb, rb) == r_body
    assert {k: v.replace(fb.decode(), rb.decode()) for k, v in f_h.items()} == r_h


def test_multipart_bytes_and_fields_byte_exact_with_requests(mp, tmp_path):
    # Pairs, not dicts: MicroPython's dicts do not keep insertion order.
    files = [("log", ("log.txt", b"line 1\r\nline 2\n", "text/plain")), ("raw", ("a\"b\r\n.bin", b"\x00\xff" * 300))]
    data = [("device", "esp32 \u00b0"), ("n", 3)]
    with WireRecorder() as rec:
        rq = requests_wire("POST", "/up", rec, files=files, data=data)
        fs = fastsock_wire(mp, tmp_path, """
import fastsock
fastsock.post(URL + "/up", files=%r, data=%r)
""" % (files, data), rec)
    same_multipart(fs, rq)


def test_multipart_file_upload_to_httpbin(mp, tmp_path, httpbin):
    # What httpbin (werkzeug's multipart parser) got: the form field and the file's bytes.
    blob = bytes(range(256)) * 400
    path = tmp_path / "cam.jpg"
    path.write_bytes(blob)
    out = mp.run(
        """
        import fastsock
        with open(%r, "rb") as f:
            r = fastsock.post(%r, files={"img": ("cam.jpg", f, "image/jpeg")}, data={"id": "7"})
        print(r.status_code)
        print(r.text)
        """ % (str(path), httpbin.url("/post")),
        tmp_path,
    )
    status, text = out.split("\n", 1)
    d = json.loads(text)
    assert status == "200" and d["form"] == {"id": "7"}
    kind, _, b64 = d["files"]["img"].partition(",")
    assert kind == "data:image/jpeg;base64"
    assert hashlib.sha256(base64.b64decode(b64)).hexdigest() == hashlib.sha256(blob).hexdigest()


def test_multipart_streams_a_file_without_loading_it(mp, tmp_path):
    # A 1 MB file sent under a 256 KB heap (it cannot be loaded), byte-exact with requests.
    blob = bytes(range(256)) * 4096
    path = tmp_path / "cam.jpg"
    path.write_bytes(blob)
    with WireRecorder() as rec:
        with open(path, "rb") as f:
            rq = requests_wire("POST", "/up", rec, files={"img": ("cam.jpg", f, "application/octet-stream")},
                               data={"id": "7"})
        code = """
import fastsock
with open(%r, "rb") as f:
    fastsock.post(URL + "/up", files={"img": ("cam.jpg", f, "application/octet-stream")}, data={"id": "7"})
""" % str(path)
        with_heap = type(mp)(mp.flavour)
        with_heap.run = lambda c, t: type(mp).run(mp, c, t, heapsize="256k")
        fs = fastsock_wire(with_heap, tmp_path, code, rec)
    same_multipart(fs, rq)
    assert int(normalize(fs)[1]["content-length"]) == len(normalize(fs)[2])


def test_multipart_from_an_unseekable_stream_is_chunked(mp, tmp_path):
    chunks = [b"abc" * 1000, b"\r\n--not-a-boundary\r\n", b"end"]
    with WireRecorder() as rec:
        rq = requests_wire("POST", "/up", rec, files={"f": ("s.bin", b"".join(chunks))})
        fs = fastsock_wire(mp, tmp_path, """
import fastsock
class Stream:
    def __init__(self, parts):
        self.parts = parts
    def read(self, n):
        return self.parts.pop(0) if self.parts else b""
fastsock.post(URL + "/up", files={"f": ("s.bin", Stream(%r))})
""" % chunks, rec)
    same_multipart(fs, rq, chunked=True)


def test_form_pairs_and_params_byte_exact_with_requests(mp, tmp_path):
    kw = {"data": [("k", "a b"), ("k", "\u00e9&="), ("z", "")], "params": {"q": "x y/\u00b0", "n": None}}
    with WireRecorder() as rec:
        rq = requests_wire("POST", "/f", rec, **kw)
        fs = fastsock_wire(mp, tmp_path, "import fastsock\nfastsock.post(URL + '/f', **%r)\n" % kw, rec)
    assert comparable(fs) == comparable(rq)


def test_json_text_and_credentials_byte_exact_with_requests(mp, tmp_path):
    with WireRecorder() as rec:
        for kw in ({"json": "caf\u00e9 \u00b0C"}, {"data": "\u00e9t\u00e9 \u2603"}):
            rq = requests_wire("PUT", "/t", rec, **kw)
            fs = fastsock_wire(mp, tmp_path, "import fastsock\nfastsock.put(URL + '/t', **%r)\n" % kw, rec)
            assert comparable(fs)[2] == comparable(rq)[2] and comparable(fs)[1] == comparable(rq)[1], kw
        # Credentials in the URL (percent-escapes decoded) become Basic auth, as in requests.
        import requests

        url = "http://us%%40r:p%%3Ass@127.0.0.1:%d/auth" % rec.port
        requests.get(url, timeout=10).close()
        rq = rec.requests[-1]
        fs = fastsock_wire(mp, tmp_path, "import fastsock\nfastsock.get(%r)\n" % url, rec)
    assert normalize(fs)[1]["authorization"] == normalize(rq)[1]["authorization"] == "Basic dXNAcjpwOnNz"
    assert normalize(fs)[0] == normalize(rq)[0] == "GET /auth HTTP/1.1"
    assert normalize(fs)[1]["host"] == "127.0.0.1:%d" % rec.port


def test_url_credentials_against_httpbin(mp, tmp_path, httpbin):
    base = httpbin.url("/basic-auth/dev/s3cret")
    good = base.replace("://", "://dev:s3cret@")
    bad = base.replace("://", "://dev:wrong@")
    out = mp.run(
        """
        import fastsock
        print(fastsock.get(%r).status_code, fastsock.get(%r).status_code, fastsock.get(%r).status_code)
        print(fastsock.get(%r, auth=("dev", "s3cret")).status_code)
        """ % (good, bad, base, bad),
        tmp_path,
    )
    # An explicit auth= wins over the URL's credentials, as in requests.
    assert out.split() == ["200", "401", "401", "200"]


def test_redirect_limit_is_requests_default(mp, tmp_path, httpbin):
    out = mp.run(
        """
        import fastsock
        r = fastsock.get(%r)
        print(r.status_code, len(r.history), fastsock.Session().max_redirects)
        try:
            fastsock.get(%r)
        except fastsock.TooManyRedirects as e:
            print("TooManyRedirects", e.args[1].split(" (")[0])
        s = fastsock.Session(max_redirects=2)
        try:
            s.get(%r)
        except fastsock.TooManyRedirects as e:
            print("TooManyRedirects", e.args[1].split(" (")[0])
        r = s.get(%r)
        print(r.status_code, r.url.endswith("/get"), len(r.history))
        """ % (httpbin.url("/redirect/30"), httpbin.url("/redirect/31"), httpbin.url("/redirect/3"),
               httpbin.url("/relative-redirect/2")),
        tmp_path,
    )
    assert out.splitlines() == [
        "200 30 30", "TooManyRedirects more than 30 redirects", "TooManyRedirects more than 2 redirects",
        "200 True 2"]


# ---- cookies


def test_cookies_with_httpbin(mp, tmp_path, httpbin):
    out = mp.run(
        """
        import fastsock, json
        s = fastsock.Session()
        r = s.get(%r)  # sets a and b, then redirects to /cookies, which shows what was sent
        print(json.dumps(r.json()["cookies"]), sorted(s.cookies.items()), r.history[0].cookies)
        print(json.dumps(s.get(%r, cookies={"c": "3"}).json()["cookies"]))
        print(json.dumps(s.get(%r).json()["cookies"]), "c" in s.cookies)
        s.get(%r)  # deletes a
        print(sorted(s.cookies.keys()))
        # Module-level calls: cookies live for the call (its redirects) only.
        print(json.dumps(fastsock.get(%r).json()["cookies"]))
        print(json.dumps(fastsock.get(%r).json()["cookies"]))
        print(json.dumps(fastsock.get(%r, cookies={"k": "v"}).json()["cookies"]))
        """ % (httpbin.url("/cookies/set?a=1&b=2"), httpbin.url("/cookies"), httpbin.url("/cookies"),
               httpbin.url("/cookies/delete?a"), httpbin.url("/cookies/set?x=9"), httpbin.url("/cookies"),
               httpbin.url("/cookies")),
        tmp_path,
    )
    lines = out.splitlines()
    assert json.loads(lines[0].split("} ")[0] + "}") == {"a": "1", "b": "2"}
    assert "[('a', '1'), ('b', '2')]" in lines[0] and lines[0].endswith("{'a': '1', 'b': '2'}")
    assert json.loads(lines[1]) == {"a": "1", "b": "2", "c": "3"}
    assert json.loads(lines[2].rsplit(" ", 1)[0]) == {"a": "1", "b": "2"} and lines[2].endswith("False")
    assert lines[3] == "['b']"
    assert json.loads(lines[4]) == {"x": "9"}
    assert json.loads(lines[5]) == {}
    assert json.loads(lines[6]) == {"k": "v"}


# Exchanges with a scripted server (reached as 127.0.0.1 and as localhost: two hosts): each
# /c/N answers with SETS[N]'s Set-Cookie fields; every request's Cookie header is recorded.
SETS = {
    "plain": ["p=1", "q=2; Path=/"],
    "paths": ["d=dir; Path=/a", "e=deep; Path=/a/b", "f=other; Path=/ab"],
    "default": ["g=defaultpath"],  # from /c/default: default-path is /c
    "secure": ["s=1; Secure"],
    "expired": ["p=gone; Max-Age=0", "x=old; Expires=Wed, 21 Oct 2015 07:28:00 GMT"],
    "future": ["y=later; Expires=Fri, 01 Jan 2100 00:00:00 GMT", "z=age; Max-Age=3600"],
    "foreign": ["h=1; Domain=example.com", "i=2; Domain=127.0.0.2"],
    "replace": ["q=3; Path=/"],
}
# (host, path) requested after each set, in order; the Cookie header each got is compared.
SEQUENCE = [
    ("set", "plain"), ("get", "/"), ("get", "/x/y"),
    ("set", "paths"), ("get", "/a"), ("get", "/a/b/c"), ("get", "/ab"), ("get", "/abc"),
    ("set", "default"), ("get", "/c"), ("get", "/c/x"), ("get", "/cx"),
    ("set", "secure"), ("get", "/"),
    ("set", "expired"), ("get", "/"),
    ("set", "future"), ("get", "/"),
    ("set", "foreign"), ("get", "/"),
    ("set", "replace"), ("get", "/"), ("get", "/c/z"),
    ("other", "/"), ("other", "/a"),
]


def cookie_server(seen):
    def respond(raw):
        line, headers, _ = normalize(raw)
        path = line.split()[1]
        seen.append((path, headers.get("cookie"), headers.get("host", "").split(":")[0]))
        extra = b""
        if path.startswith("/c/") and path[3:] in SETS:
            for f in SETS[path[3:]]:
                extra += b"Set-Cookie: %s\r\n" % f.encode()
        return b"HTTP/1.1 200 OK\r\nDate: Wed, 02 Dec 2026 12:00:00 GMT\r\n%sContent-Length: 0\r\n\r\n" % extra

    return keep_alive(respond)


def urls_for(port):
    out = []
    for kind, arg in SEQUENCE:
        host = "localhost" if kind == "other" else "127.0.0.1"
        out.append("http://%s:%d%s" % (host, port, "/c/" + arg if kind == "set" else arg))
    return out


def cookie_sets(header):
    return sorted((header or "").split("; ")) if header else []


def test_cookie_rules_match_http_cookiejar(mp, tmp_path):
    import requests

    rq_seen, fs_seen = [], []
    with RawServer(cookie_server(rq_seen)) as srv:
        with requests.Session() as s:
            for u in urls_for(srv.port):
                s.get(u, timeout=10).close()
    with RawServer(cookie_server(fs_seen)) as srv:
        mp.run(
            """
            import fastsock
            s = fastsock.Session()
            for u in %r:
                s.get(u)
            """ % urls_for(srv.port),
            tmp_path,
        )
    assert len(fs_seen) == len(rq_seen) == len(SEQUENCE)
    for step, fs, rq in zip(SEQUENCE, fs_seen, rq_seen):
        assert fs[0] == rq[0]
        assert cookie_sets(fs[1]) == cookie_sets(rq[1]), (step, fs[1], rq[1])
    # What the rules decided, spelled out (so a shared mistake in both cannot pass).
    got = dict(((s[0], s[1]), cookie_sets(f[1])) for s, f in zip(SEQUENCE, fs_seen) if s[0] != "set")
    assert got[("get", "/a/b/c")] == ["d=dir", "e=deep", "q=2"]  # p=1's default path is /c
    assert got[("get", "/ab")] == ["f=other", "q=2"]
    assert got[("get", "/c/x")] == ["g=defaultpath", "p=1", "q=2"]
    assert got[("get", "/cx")] == ["q=2"]
    # The last "/" request: q replaced, s (Secure) not over http, h and i (Domain not ours)
    # never stored; y and z live under their default path /c.
    assert got[("get", "/")] == ["q=3"]
    assert got[("get", "/c/z")] == ["g=defaultpath", "q=3", "y=later", "z=age"]  # p and x expired
    assert got[("other", "/")] == []


def test_cookie_header_order_longest_path_first(mp, tmp_path):
    # The one cookie order RFC 6265 5.4 asks for, checked on the wire against requests.
    import requests

    table = [["r=root; Path=/", "m=mid; Path=/a", "l=leaf; Path=/a/b"]]

    def run_server(seen):
        def respond(raw):
            line, headers, _ = normalize(raw)
            seen.append(headers.get("cookie"))
            extra = b"".join(b"Set-Cookie: %s\r\n" % f.encode() for f in table[0]) if "/set" in line else b""
            return b"HTTP/1.1 200 OK\r\n%sContent-Length: 0\r\n\r\n" % extra

        return keep_alive(respond)

    rq, fs = [], []
    with RawServer(run_server(rq)) as srv:
        with requests.Session() as s:
            s.get(srv.url("/set"), timeout=10)
            s.get(srv.url("/a/b/c"), timeout=10)
    with RawServer(run_server(fs)) as srv:
        mp.run("import fastsock\ns = fastsock.Session()\ns.get(%r)\ns.get(%r)\n" % (srv.url("/set"), srv.url("/a/b/c")),
               tmp_path)
    assert fs[1] == rq[1] == "l=leaf; m=mid; r=root"


def test_cookies_do_not_follow_a_redirect_to_another_host(mp, tmp_path):
    seen = []

    def respond(raw):
        line, headers, _ = normalize(raw)
        seen.append((headers["host"].split(":")[0], line.split()[1], headers.get("cookie")))
        if line.split()[1] == "/go":
            return (b"HTTP/1.1 302 Found\r\nSet-Cookie: sid=1\r\nLocation: http://localhost:%d/there\r\n"
                    b"Content-Length: 0\r\n\r\n" % port)
        return b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    with RawServer(keep_alive(respond)) as srv:
        port = srv.port
        mp.run(
            """
            import fastsock
            s = fastsock.Session()
            s.get(%r, cookies={"mine": "x"}, headers={"Cookie": "explicit=1"})
            s.get(%r)
            """ % (srv.url("/go"), srv.url("/back")),
            tmp_path,
        )
    assert seen == [("127.0.0.1", "/go", "explicit=1"), ("localhost", "/there", None), ("127.0.0.1", "/back", "sid=1")]


@pytest.mark.parametrize("field, kept", [
    ("a", []), ("a=1; Domain=.", []), ("=v", []), ("b=2; Domain=localhost", []), (";", []),
    ("e=5; Domain=..", []), ("f=6; Max-Age=0", []), ("d=4; Expires=1 Jan 1970 00:00:00 GMT", []),
    # An attribute RFC 6265 5.2 says to ignore leaves a session cookie (never an exception).
    ("c=3; Max-Age=--5", [("c", "3")]), ("g=7; Expires=99:99:99 Jan", [("g", "7")]), ("h=8; Path", [("h", "8")]),
])
def test_malformed_or_foreign_set_cookie(mp64, tmp_path, field, kept):
    with RawServer(keep_alive(lambda raw: b"HTTP/1.1 200 OK\r\nSet-Cookie: %s\r\nContent-Length: 0\r\n\r\n"
                              % field.encode())) as srv:
        out = mp64.run("import fastsock\ns = fastsock.Session()\ns.get(%r)\nprint(s.cookies.items())\n"
                       % srv.url("/"), tmp_path)
    assert out.strip() == repr(kept)


def test_cookie_jar_is_bounded(mp64, tmp_path):
    # A hostile server setting cookie after cookie cannot grow the jar without bound: 50
    # cookies at most, the oldest dropped.
    n = [0]

    def respond(raw):
        n[0] += 1
        fields = b"".join(b"Set-Cookie: c%d_%d=v\r\n" % (n[0], i) for i in range(20))
        return b"HTTP/1.1 200 OK\r\n%sContent-Length: 0\r\n\r\n" % fields

    with RawServer(keep_alive(respond)) as srv:
        out = mp64.run(
            """
            import fastsock
            s = fastsock.Session()
            for i in range(10):
                s.get(%r)
            keys = s.cookies.keys()
            print(len(keys), keys[0], keys[-1])
            """ % srv.url("/"),
            tmp_path,
        )
    assert out.split() == ["50", "c8_10", "c10_19"]


def test_response_features_against_httpbin_and_requests(mp, tmp_path, httpbin):
    # The same calls from CPython requests are the oracle: iter_lines over httpbin's
    # line-delimited JSON stream, links from a Link header httpbin echoes, redirect flags,
    # elapsed over a 1 s delay, a form from pairs as httpbin parsed it.
    import requests

    link = '<http://h/p?page=2>; rel="next", <http://h/p?page=9>; rel="last"'
    urls = {
        "stream": httpbin.url("/stream/20"),
        "links": httpbin.url("/response-headers?Link=" + urllib.parse.quote(link)),
        "redir": httpbin.url("/redirect/1"),
        "perm": httpbin.url("/status/308"),
        "delay": httpbin.url("/delay/1"),
        "form": httpbin.url("/post"),
    }
    out = mp.run(
        """
        import fastsock, json
        u = %r
        r = fastsock.get(u["stream"], stream=True)
        print(json.dumps([str(line, "utf-8") for line in r.iter_lines()]))
        print(json.dumps(fastsock.get(u["links"]).links))
        r = fastsock.get(u["redir"], allow_redirects=False)
        print(r.is_redirect, r.is_permanent_redirect, r.status_code)
        r = fastsock.get(u["perm"], allow_redirects=False)
        print(r.is_redirect, r.is_permanent_redirect, r.status_code)
        print(fastsock.get(u["delay"]).elapsed)
        print(json.dumps(fastsock.post(u["form"], data=[("k", "1"), ("k", "\\u00e9 2")]).json()["form"]))
        """ % urls,
        tmp_path,
    )
    lines = out.splitlines()
    with requests.Session() as s:
        want_lines = [str(x, "utf-8") for x in s.get(urls["stream"], stream=True).iter_lines()]
        want_links = s.get(urls["links"]).links
        rr = s.get(urls["redir"], allow_redirects=False)
        rp = s.get(urls["perm"], allow_redirects=False)
        want_form = s.post(urls["form"], data=[("k", "1"), ("k", "\u00e9 2")]).json()["form"]
    got_lines = json.loads(lines[0])
    assert len(got_lines) == 20 and [json.loads(x)["id"] for x in got_lines] == list(range(20))
    # Each line is one JSON object; httpbin's fields are the same but for per-request values.
    assert [sorted(json.loads(x)) for x in got_lines] == [sorted(json.loads(x)) for x in want_lines]
    assert json.loads(lines[1]) == want_links and "next" in want_links
    assert lines[2] == "%s %s %d" % (rr.is_redirect, rr.is_permanent_redirect, rr.status_code)
    # httpbin's /status/308 has a Location; both clients see a permanent redirect.
    assert lines[3] == "%s %s %d" % (rp.is_redirect, rp.is_permanent_redirect, rp.status_code)
    assert 1.0 <= float(lines[4]) < 30
    assert json.loads(lines[5]) == want_form == {"k": ["1", "\u00e9 2"]}
