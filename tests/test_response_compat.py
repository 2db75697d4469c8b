# SPDX-License-Identifier: MIT
"""The response side as requests users write it (issue 24), in every host build: chunk sizes
checked, save() and multipart errors that say what happened, r.raw of an eagerly read body,
`for piece in r`, r.encoding and r.text from Content-Type, and the headers as a dict. Oracles:
the bytes nginx serves (sha256 of the saved file), what CPython requests computes for the same
headers and bodies (get_encoding_from_headers, str(content, encoding)), and what it sends for the
same multipart call (tests/wire.py)."""

import ast
import hashlib
import json

import pytest
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from test_request_features import same_multipart
from wire import WireRecorder, fastsock_wire, requests_wire

from conftest import sha256_file
from rawserver import RawServer, routes

BODY = b"line one\nline two\r\n" * 100 + b"last"


def ok(body, *fields):
    return (b"HTTP/1.1 200 OK\r\n" + b"".join(f + b"\r\n" for f in fields)
            + b"Content-Length: %d\r\n\r\n" % len(body) + body)


@pytest.fixture
def body_server():
    with RawServer(routes({"/body": ok(BODY)})) as srv:
        yield srv


# 1. Chunk sizes: iter_content("x") read a str as a long int (a crash on every build).


def test_chunk_size_is_an_int_or_none(mp, body_server, tmp_path):
    out = mp.run(
        """
        import fastsock
        s = fastsock.Session()
        for size in ("x", b"xy", [1], 1.5, bytearray(0), {}, float("nan")):
            for how in ("iter_content", "iter_lines"):
                r = s.get(%r, stream=True)
                try:
                    getattr(r, how)(size)
                    print(how, "accepted", repr(size))
                except TypeError:
                    pass
                print(r.content == BODY)  # the rejected call left the body unread
        r = s.get(%r, stream=True)
        pieces = list(r.iter_content(True))  # a bool is an int: True is 1, as in requests
        print(len(pieces), set(len(p) for p in pieces), b"".join(pieces) == BODY)
        try:
            s.get(%r, stream=True).iter_content(False)
        except ValueError as e:
            print("ValueError", e)
        """.replace("BODY", repr(BODY)) % ((body_server.url("/body"),) * 3),
        tmp_path,
    )
    assert out.splitlines() == ["True"] * 14 + ["%d {1} True" % len(BODY), "ValueError chunk_size must be >= 1"]


# 2. Errors that say what happened.


def test_save_names_what_write_returned(mp, body_server, tmp_path):
    out = mp.run(
        """
        import fastsock
        class Short:
            def __init__(self, ret):
                self.ret = ret
            def write(self, b):
                return self.ret
        for ret in (3, "ok", 10**30):
            try:
                fastsock.get(%r).save(Short(ret))  # the stored body goes in one write()
            except OSError as e:
                print(e.args)
        r = fastsock.get(%r, stream=True)
        try:
            r.save(Short(0), piece=100)
        except OSError as e:
            print(e.args[0], e.args[1].split(" for ")[0])
            print(fastsock.stats()["open"])
        """ % (body_server.url("/body"), body_server.url("/body")),
        tmp_path,
    )
    n = len(BODY)
    assert out.splitlines() == [
        "(5, 'save(): write() returned 3 for %d bytes (return None or the length)')" % n,
        "(5, \"save(): write() returned 'ok' for %d bytes (return None or the length)\")" % n,
        "(5, 'save(): write() returned %d for %d bytes (return None or the length)')" % (10**30, n),
        "5 save(): write() returned 0",
        "0",
    ], out


def test_multipart_filename_bytes_as_requests(mp, tmp_path):
    # requests decodes a bytes filename as UTF-8 (urllib3's format_multipart_header_param) and
    # raises UnicodeDecodeError for other bytes; fastsock said UnicodeError() with no message.
    import requests

    with pytest.raises(UnicodeDecodeError):
        requests.Request("POST", "http://x/", files={"f": (b"\xff.bin", b"data")}).prepare()
    out = mp.run(
        """
        import fastsock
        try:
            fastsock.post("http://127.0.0.1:9/", files={"f": (b"\\xff.bin", b"data")})
        except UnicodeError as e:
            print(isinstance(e, ValueError), e)
        """,
        tmp_path,
    )
    assert out.splitlines() == [
        "True multipart filename b'\\xff.bin' is not UTF-8 (requests sends it as UTF-8 text)"], out
    files = {"f": ("caf\u00e9.bin".encode(), b"data")}
    with WireRecorder() as rec:
        rq = requests_wire("POST", "/up", rec, files=files)
        fs = fastsock_wire(mp, tmp_path, "import fastsock\nfastsock.post(URL + '/up', files=%r)" % files, rec)
    same_multipart(fs, rq)


# 3. r.raw of a body read before the call returned: micropython-lib's wget loop.

WGET = """
import fastsock
def wget(url, path, **kw):
    r = fastsock.get(url, **kw)
    f = open(path, "wb")
    n = 0
    while True:
        d = r.raw.read(100)
        if not d:
            break
        n += len(d)
        f.write(d)
    f.close()
    return n
"""


@pytest.mark.parametrize("path", ["/1m.bin", "/chunked/100000", "/0.bin"])
def test_raw_of_an_eager_response_is_its_body(mp, nginx, www, tmp_path, path):
    out = mp.run(
        WGET + """
print(wget(%r, %r))
r = fastsock.get(%r)
buf = bytearray(7)
print(r.raw.readinto(buf), r.raw.read() == r.content[7:], r.raw.read(5), r.readinto(buf))
r = fastsock.get(%r, stream=True)  # stream=True: as before, the body is read once
c = r.content
print(r.raw.read(100), len(c))
""" % (nginx.url(path), str(tmp_path / "out.bin"), nginx.url(path), nginx.url(path)),
        tmp_path,
    )
    if path.startswith("/chunked/"):
        want, n = hashlib.sha256(b"x" * 100000).hexdigest(), 100000
    else:
        want, n = sha256_file(www / path[1:]), (www / path[1:]).stat().st_size
    lines = out.splitlines()
    assert lines[0] == str(n)
    assert sha256_file(tmp_path / "out.bin") == want
    assert lines[1:] == ["%d True b'' 0" % min(n, 7), "b'' %d" % n], out


# 4. for piece in r: requests' Response.__iter__ is iter_content(128).


def test_iterating_a_response_gives_128_byte_pieces(mp, body_server, tmp_path):
    out = mp.run(
        """
        import fastsock
        for stream in (False, True):
            pieces = [p for p in fastsock.get(%r, stream=stream)]
            print(b"".join(pieces) == %r, len(pieces), max(len(p) for p in pieces))
        """ % (body_server.url("/body"), BODY),
        tmp_path,
    )
    # Stream pieces may be shorter (a piece is at most one receive run), never longer.
    first, second = out.splitlines()
    assert first == "True %d 128" % -(-len(BODY) // 128)
    assert second.startswith("True ") and second.endswith(" 128")


# 5. encoding from Content-Type (requests.utils.get_encoding_from_headers) and text with it.

LATIN = bytes(range(32, 256))
UTF8 = "caf\u00e9 \u20ac \U0001f600 ".encode() * 3
ENCODING_CASES = [
    (b"text/plain", LATIN),
    (b"text/html; charset=\"UTF-8\"", UTF8),
    (b"text/html; charset='utf8'", UTF8),
    (b"application/json", UTF8),
    (b"application/octet-stream", UTF8),
    (None, UTF8),
    (b"TEXT/PLAIN", UTF8),  # requests looks for "text" case-sensitively
    (b"text/plain; charset=iso-8859-1", LATIN),
    (b"text/plain;charset=ISO_8859-1", LATIN),
    (b"text/csv; charset=latin1", LATIN),
    (b"text/csv; charset=Latin-1", LATIN),
    (b"text/csv; charset=L1", LATIN),
    (b"text/plain; charset=us-ascii", b"plain ascii"),
    (b"text/plain; charset=ascii; charset=latin-1", LATIN),  # the last one, as requests
    (b"application/x-text-thing", LATIN),  # "text" anywhere in the type
    (b"text/plain; charset", LATIN),  # a parameter without "=" is no charset
    (b"text/plain", b""),
]


def test_encoding_and_text_as_requests(mp, tmp_path):
    table = {"/%d" % i: ok(body, *([b"Content-Type: " + ct] if ct else [])) for i, (ct, body) in enumerate(ENCODING_CASES)}
    with RawServer(routes(table)) as srv:
        out = mp.run(
            """
            import fastsock
            s = fastsock.Session()
            for i in range(%d):
                r = s.get(%r + str(i))
                print(repr((r.encoding, [ord(c) for c in r.text])))  # code points: repr differs
            """ % (len(ENCODING_CASES), srv.url("/")),
            tmp_path,
        )
    got = [ast.literal_eval(line) for line in out.splitlines()]
    want = []
    for ct, body in ENCODING_CASES:
        enc = get_encoding_from_headers(CaseInsensitiveDict({"content-type": ct.decode()} if ct else {}))
        # requests guesses with chardet without an encoding; fastsock reads UTF-8 then.
        want.append((enc, [ord(c) for c in str(body, enc or "utf-8")]))
    assert got == want


def test_text_refuses_charsets_it_cannot_decode_and_encoding_is_settable(mp, tmp_path):
    table = {"/sjis": ok("\u65e5\u672c".encode("shift_jis"), b"Content-Type: text/plain; charset=Shift_JIS"),
             "/latin": ok(LATIN, b"Content-Type: text/plain")}
    with RawServer(routes(table)) as srv:
        out = mp.run(
            """
            import fastsock
            r = fastsock.get(%r)
            try:
                r.text
            except LookupError as e:
                print("LookupError", e)
            r.encoding = "latin-1"
            print(r.encoding, [ord(c) for c in r.text])
            r = fastsock.get(%r)
            r.encoding = None  # UTF-8, as fastsock read text before
            try:
                r.text
            except UnicodeError:
                print("UnicodeError")
            r.encoding = b"utf-8"  # kept as set, as requests does; .text needs a str
            try:
                r.text
            except TypeError as e:
                print("TypeError", e)
            r.encoding = "utf-8"
            print(r.encoding)
            """ % (srv.url("/sjis"), srv.url("/latin")),
            tmp_path,
        )
    lines = out.splitlines()
    assert lines[0] == "LookupError unsupported charset 'Shift_JIS': use r.content (bytes) and decode it yourself"
    assert lines[1] == "latin-1 %s" % list("\u65e5\u672c".encode("shift_jis"))
    assert lines[2:] == ["UnicodeError", "TypeError encoding must be a str or None", "utf-8"], out


# 6. Headers as a dict: dict(), items(), keys(), copy(), json.dumps.

HEAD_FIELDS = [b"Content-Type: text/plain", b"X-Dup: a", b"X-Dup: b", b"Set-Cookie: s=1; Path=/",
               b"Set-Cookie: t=2", b"X-Quote: say \"hi\"\\"]


def test_headers_are_a_dict(mp, tmp_path):
    with RawServer(routes({"/h": ok(b"x", *HEAD_FIELDS)})) as srv:
        out = mp.run(
            """
            import fastsock, json
            r = fastsock.get(%r)
            h = r.headers
            d = dict(h)
            print(repr(sorted(d.items())))
            print(sorted(h.items()) == sorted(d.items()), sorted(h.keys()) == sorted(d), sorted(h.values()) == sorted(d.values()))
            c = h.copy()
            print(type(c) is dict, c == d, len(h) == len(d), isinstance(h, dict), h == d, d == h)
            print(json.dumps(dict(r.headers)))
            print(json.loads(json.dumps(h)) == d)
            print(h["CONTENT-TYPE"], "x-dup" in h, "X-DUP" in h, repr(h.get_all("X-Dup")), h.get("nope", 7))
            print(sorted(k for k in h) == sorted(d), repr(h)[:1])
            def store():
                h["a"] = "b"
            for act in (lambda: h.pop("x-dup"), lambda: h.update({}), lambda: h.clear(), lambda: h.setdefault("a", "b"),
                        lambda: h.popitem(), store):
                try:
                    act()
                    print("mutated")
                except TypeError as e:
                    print("TypeError", e)
            print(len(h), h.get_all("set-cookie"))
            """ % srv.url("/h"),
            tmp_path,
        )
    lines = out.splitlines()
    want = {"content-type": "text/plain", "x-dup": "a, b", "set-cookie": "s=1; Path=/, t=2",
            "x-quote": 'say "hi"\\', "content-length": "1"}
    assert dict(ast.literal_eval(lines[0])) == want
    assert lines[1:3] == ["True True True", "True True True True True True"]
    assert json.loads(lines[3]) == want
    assert lines[4:6] == ["True", "text/plain True True ['a', 'b'] 7"]
    assert lines[6] == "True {"
    # dict's own mutators refuse the headers' fixed map (a TypeError without words).
    assert [line.split(" ", 1)[0] for line in lines[7:13]] == ["TypeError"] * 6
    assert lines[12] == "TypeError response headers are read-only"
    assert lines[13] == "5 ['s=1; Path=/', 't=2']"
