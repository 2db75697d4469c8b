# SPDX-License-Identifier: MIT
"""The response side as requests users write it (issue 24), in every host build: chunk sizes
checked, save() and multipart errors that say what happened, r.raw of an eagerly read body,
`for piece in r`, r.encoding and r.text from Content-Type, and the headers as a dict. Oracles:
the bytes nginx serves (sha256 of the saved file), what CPython requests computes for the same
headers and bodies (get_encoding_from_headers, str(content, encoding)), and what it sends for the
same multipart call (tests/wire.py)."""

import hashlib

import pytest

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

