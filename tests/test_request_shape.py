# SPDX-License-Identifier: MIT
"""What goes on the wire is what the caller meant (issue 13's defects): byte lengths, None and
bytes values, fragments, redirect references resolved as RFC 3986 says, URLs percent-encoded,
hosts checked before any connection, secrets kept from other origins. The oracle is what the
scripted server received (raw bytes) and, for URL handling, CPython's urllib.parse and
requests.utils as the reference implementations."""

import json
import urllib.parse

from rawserver import RawServer, echo, routes


def ok(body=b""):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body


def split(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    fields = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        fields.setdefault(k.strip().lower().decode(), []).append(v.strip().decode("latin-1"))
    return lines[0].decode("latin-1"), fields, body


def test_body_lengths_are_byte_lengths(mp, tmp_path):
    # A character count as Content-Length truncated the body, and on a Session the leftover
    # bytes became the next "request" (400 from a real server).
    seen = []
    with RawServer(echo(seen)) as srv:
        out = mp.run(
            """
            import array, fastsock
            u = %r
            s = fastsock.Session()
            print(s.post(u, json={"name": "caf\\u00e9 \\u00b0C"}).status_code)
            print(s.post(u, data="\\u00e9t\\u00e9").status_code)
            print(s.post(u, data=memoryview(array.array("H", [1, 2, 513]))).status_code)
            print(s.put(u, data={"k": "\\u00e9"}).status_code)
            print(s.get(u).status_code, fastsock.stats()["connections"])
            """ % srv.url("/p"),
            tmp_path,
        )
    assert out.split() == ["200"] * 5 + ["1"]
    assert len(seen) == 5
    for raw in seen[:4]:
        _, f, body = split(raw)
        assert int(f["content-length"][0]) == len(body)
    assert json.loads(split(seen[0])[2]) == {"name": "café °C"}
    assert split(seen[1])[2] == "été".encode()
    assert split(seen[2])[2] == bytes([1, 0, 2, 0, 1, 2])
    assert split(seen[3])[2] == b"k=%C3%A9"
    assert seen[4].startswith(b"GET /p HTTP/1.1\r\n")


def test_none_values_left_out_bytes_values_encoded(mp, tmp_path):
    seen = []
    with RawServer(echo(seen)) as srv:
        mp.run(
            """
            import fastsock
            s = fastsock.Session(headers={"X-Session": "1", "X-Gone": "x"})
            s.get(%r, params={"a": None, "b": b"r\\xffw", "c": "1"}, headers={"X-Drop": None, "X-Gone": None})
            s.post(%r, data={"a": None, "b": b"\\x00 b", "c": [b"x", None, "y"]})
            s.post(%r, data=[("k", "1"), ("k", b"2"), ("n", None)])
            """ % (srv.url("/q"), srv.url("/d"), srv.url("/l")),
            tmp_path,
        )
    line, f, _ = split(seen[0])
    assert line == "GET /q?b=r%FFw&c=1 HTTP/1.1"
    assert f["x-session"] == ["1"]
    assert "x-drop" not in f and "x-gone" not in f
    _, f, body = split(seen[1])
    assert body == b"b=%00+b&c=x&c=y"
    assert f["content-type"] == ["application/x-www-form-urlencoded"]
    assert split(seen[2])[2] == b"k=1&k=2"
    assert split(seen[2])[1]["content-type"] == ["application/x-www-form-urlencoded"]


def test_params_go_before_the_fragment_which_is_never_sent(mp, tmp_path):
    seen = []
    with RawServer(echo(seen)) as srv:
        mp.run(
            """
            import fastsock
            fastsock.get(%r, params={"a": "1"})
            fastsock.get(%r, params={"b": "2"})
            fastsock.get(%r)
            """ % (srv.url("/f#frag"), srv.url("/f?x=0#frag?y"), srv.url("/g?#")),
            tmp_path,
        )
    assert [split(r)[0] for r in seen] == ["GET /f?a=1 HTTP/1.1", "GET /f?x=0&b=2 HTTP/1.1", "GET /g? HTTP/1.1"]


# RFC 3986 5.4's examples (normal and abnormal) and a few more, resolved against its base.
RFC_BASE = "http://a/b/c/d;p?q"
REFS = [
    "g:h", "g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "g#s", "g?y#s", ";x", "g;x",
    "g;x?y#s", "", ".", "./", "..", "../", "../g", "../..", "../../", "../../g",
    "../../../g", "../../../../g", "/./g", "/../g", "g.", ".g", "g..", "..g", "./../g",
    "./g/.", "g/./h", "g/../h", "g;x=1/./y", "g;x=1/../y", "g?y/./x", "g?y/../x", "g#s/./x",
    "g#s/../x", "https://other:8443/x/y", "HTTP://UP/x",
]


def test_join_url_follows_rfc3986(mp64, tmp_path):
    out = mp64.run(
        """
        import fastsock._more as _more
        for ref in %r:
            try:
                print(_more._join_url(%r, ref))
            except ValueError as e:
                print("ValueError", e)
        """ % (REFS, RFC_BASE),
        tmp_path,
    )
    got = out.splitlines()
    for ref, line in zip(REFS, got):
        if ref == "g:h":
            assert line.startswith("ValueError") and "'g'" in line, line
            continue
        want = urllib.parse.urljoin(RFC_BASE, ref).partition("#")[0]
        # urljoin keeps the scheme's case; RFC 3986 6.2.2.1 makes it lower case.
        if want.startswith("HTTP:"):
            want = "http:" + want[5:]
        assert line == want, (ref, line, want)
    assert len(got) == len(REFS)


# Where urljoin departs from RFC 3986 (it drops empty segments and empty queries, and leaves
# dots in network-path and absolute references), expected values worked by hand with 5.2.2
# and 5.2.4 ("/../" at the root becomes "/"; an empty path stays empty, as 5.4.1's "//g").
BY_HAND = [
    ("http://a/b/c/d;p?q", "//h2/./x/../y", "http://h2/y"),
    ("http://a/b/c/d;p?q", "//h2/..?q", "http://h2/?q"),
    ("http://a/b/c/d;p?q", "//h2", "http://h2"),
    ("http://a/b/c/d;p?q", "http://x/a/./b/../c", "http://x/a/c"),
    ("http://a/b/c/d;p?q", "HTTPS://x:8443/..", "https://x:8443/"),
    ("http://a/b/c/d;p?q", "?", "http://a/b/c/d;p?"),
    ("http://a/b?x", "/..//a/./?", "http://a//a/?"),
    ("http://a/b/c/d;p?q", "g//h/../i", "http://a/b/c/g//i"),
    ("http://a", "?y", "http://a?y"),
    ("http://a", "g", "http://a/g"),
]


def test_join_url_cases_worked_by_hand(mp64, tmp_path):
    out = mp64.run(
        """
        import fastsock._more as _more
        for base, ref, _ in %r:
            print(_more._join_url(base, ref))
        for ref in ("http:g", "ftp://x/", "data:,x", "javascript:alert(1)"):
            try:
                _more._join_url("http://a/", ref)
            except ValueError as e:
                print("ValueError", e)
        """ % BY_HAND,
        tmp_path,
    )
    lines = out.splitlines()
    assert lines[: len(BY_HAND)] == [want for _, _, want in BY_HAND]
    assert lines[len(BY_HAND) :] == [
        "ValueError redirect to http: without a host", "ValueError redirect to unsupported scheme 'ftp'",
        "ValueError redirect to unsupported scheme 'data'", "ValueError redirect to unsupported scheme 'javascript'"]


def test_relative_and_foreign_redirects(mp, tmp_path):
    seen = []
    table = {
        "/a/b/c": b"HTTP/1.1 302 Found\r\nLocation: ../anything/dd\r\nContent-Length: 0\r\n\r\n",
        "/a/anything/dd": ok(b"dd"),
        "/q/here": b"HTTP/1.1 302 Found\r\nLocation: ?a=1\r\nContent-Length: 0\r\n\r\n",
        "/q/here?a=1": ok(b"qa"),
        "/js": b"HTTP/1.1 302 Found\r\nLocation: javascript:alert(1)\r\nContent-Length: 0\r\n\r\n",
        "/mail": b"HTTP/1.1 301 Moved\r\nLocation: mailto:x@y\r\nContent-Length: 0\r\n\r\n",
        "/utf": "HTTP/1.1 302 Found\r\nLocation: /caf\u00e9 x?q=\u00b0%41\r\nContent-Length: 0\r\n\r\n".encode(),
    }
    table["/caf%C3%A9%20x?q=%C2%B0%41"] = ok(b"utf")
    with RawServer(routes(table, seen)) as srv:
        out = mp.run(
            """
            import fastsock
            s = fastsock.Session()
            for p in ("/a/b/c", "/q/here", "/js", "/mail", "/utf"):
                try:
                    r = s.get(%r + p)
                    print(r.status_code, r.content, r.url[r.url.index("/", 8):])
                except fastsock.ProtocolError as e:
                    print("ProtocolError", e.args[1])
            """ % srv.url(""),
            tmp_path,
        )
    lines = out.splitlines()
    assert lines[0] == "200 b'dd' /a/anything/dd"
    assert lines[1] == "200 b'qa' /q/here?a=1"
    assert lines[2].startswith("ProtocolError") and "javascript" in lines[2]
    assert lines[3].startswith("ProtocolError") and "mailto" in lines[3]
    assert lines[4] == "200 b'utf' /caf%C3%A9%20x?q=%C2%B0%41"
    # Nothing was requested for the foreign schemes beyond the redirecting resource.
    assert [split(r)[0].split()[1] for r in seen] == [
        "/a/b/c", "/a/anything/dd", "/q/here", "/q/here?a=1", "/js", "/mail", "/utf", "/caf%C3%A9%20x?q=%C2%B0%41"]


def test_url_is_percent_encoded_like_requests(mp, tmp_path):
    import requests.utils

    paths = ["/caf\u00e9", "/a b/c", "/ok%20already", "/bad%zz", "/x?q=\u00e9&r=a b", "/[]!$&'()*+,;=:@~"]
    seen = []
    with RawServer(echo(seen)) as srv:
        mp.run(
            """
            import fastsock
            for p in %r:
                fastsock.get(%r + p)
            """ % (paths, srv.url("")),
            tmp_path,
        )
    for p, raw in zip(paths, seen):
        want = requests.utils.requote_uri(srv.url(p))[len(srv.url("")) :]
        assert split(raw)[0] == "GET %s HTTP/1.1" % want, p
    assert len(seen) == len(paths)


def test_bad_hosts_fail_before_any_connection(mp, tmp_path):
    with RawServer(echo([])) as srv:
        port = srv.port
        out = mp.run(
            """
            import fastsock
            for h in ("127.0.0.1\\x00.evil", "127.0.0.1\\r\\nX: y", "127.0.0.1 ", "127.0.0.1\\t", "127.0.0.1\\n",
                      "a\\x7f", "caf\\u00e9.local", "127.0.0.1%%2f", "ex<am>ple", "[::1", "[::1]x"):
                try:
                    fastsock.get("http://%%s:%d/" %% h)
                    print("sent", repr(h))
                except ValueError as e:
                    print("ValueError")
            """ % port,
            tmp_path,
        )
        assert out.split() == ["ValueError"] * 11
        assert srv.connections == 0


def test_secrets_stay_with_their_origin(mp, tmp_path):
    other = []
    with RawServer(echo(other)) as dst:
        table = {
            "/away": b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % dst.url("/landed").encode(),
            "/near": b"HTTP/1.1 302 Found\r\nLocation: /here\r\nContent-Length: 0\r\n\r\n",
            "/here": lambda raw: ok(raw),
        }
        seen = []
        with RawServer(routes(table, seen)) as src:
            mp.run(
                """
                import fastsock
                h = {"Cookie": "sid=secret", "Proxy-Authorization": "Basic cHJveHk6cHc=", "X-Keep": "1"}
                fastsock.get(%r, headers=h, auth=("u", "p"))
                fastsock.get(%r, headers=h, auth=("u", "p"))
                """ % (src.url("/away"), src.url("/near")),
                tmp_path,
            )
    _, f, _ = split(other[0])
    assert f["x-keep"] == ["1"]
    for name in ("cookie", "proxy-authorization", "authorization"):
        assert name not in f, name
    first = split(seen[0])[1]
    assert first["cookie"] == ["sid=secret"] and "authorization" in first
    # Same origin: Authorization and Proxy-Authorization stay; an explicit Cookie header is
    # dropped on every redirect as requests does (the jar's cookies are sent by its rules).
    _, f, _ = split(seen[2])
    assert "authorization" in f and "proxy-authorization" in f
    assert "cookie" not in f


def test_low_level_framing_fields_replace_the_default(mp, tmp_path):
    # fastsock.py drops a caller's Transfer-Encoding and Content-Length and frames the body
    # itself, so the C writer's rule (a caller's framing field replaces the computed one, in any
    # case) is reached only through _fastsock.Connection.request(). Issue 29: with that lookup
    # broken, Transfer-Encoding: chunked went out beside the default Content-Length. Oracle:
    # the raw bytes the server received, each body read by the framing its head announced.
    seen = []
    with RawServer(echo(seen)) as srv:
        out = mp.run(
            """
            import _fastsock
            port = %d
            host = "127.0.0.1:%%d" %% port
            for hdrs, blen, body in (
                    ([("Transfer-Encoding", "chunked")], 5, b"5\\r\\nhello\\r\\n0\\r\\n\\r\\n"),
                    ([("transfer-encoding", "chunked")], None, b"2\\r\\nhi\\r\\n0\\r\\n\\r\\n"),
                    ([("content-LENGTH", "3")], -1, b"abc")):
                # Without a pool, a connection is closed once its response is read.
                c = _fastsock.Connection("127.0.0.1", port, 5000)
                c.request("POST", "/f", host, hdrs, blen, True, 5000, None)
                c.send(body)
                r = c.getresponse()
                print(r.status_code, len(r.content))
            """ % srv.port,
            tmp_path,
        )
    assert len(out.split()) == 6 and out.split()[::2] == ["200"] * 3, out
    assert len(seen) == 3, seen
    framing = [{k: v for k, v in split(raw)[1].items() if k in ("content-length", "transfer-encoding")}
               for raw in seen]
    assert framing == [{"transfer-encoding": ["chunked"]}, {"transfer-encoding": ["chunked"]},
                       {"content-length": ["3"]}], framing
    assert [split(raw)[2] for raw in seen] == [b"5\r\nhello\r\n0\r\n\r\n", b"2\r\nhi\r\n0\r\n\r\n", b"abc"]
