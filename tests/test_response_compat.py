# SPDX-License-Identifier: MIT
"""The response side as requests users write it (issue 24), in every host build: chunk sizes
checked, save() and multipart errors that say what happened, r.raw of an eagerly read body,
`for piece in r`, r.encoding and r.text from Content-Type, and the headers as a dict. Oracles:
the bytes nginx serves (sha256 of the saved file), what CPython requests computes for the same
headers and bodies (get_encoding_from_headers, str(content, encoding)), and what it sends for the
same multipart call (tests/wire.py)."""


import pytest

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

