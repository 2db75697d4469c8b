# SPDX-License-Identifier: MIT
"""The requests features on the response side, in every host build, against nginx and scripted
servers: Headers.get_all, iter_content(None), iter_lines, elapsed, is_redirect /
is_permanent_redirect, links and cookies."""

import ast

import pytest
from requests.utils import parse_header_links

from conftest import sha256_file
from rawserver import RawServer, canned, read_request, routes, sleep_until, trickle_body


def response(head_fields, body=b""):
    """A complete HTTP/1.1 response with the given header lines (bytes) and body."""
    return (
        b"HTTP/1.1 200 OK\r\n"
        + b"".join(f + b"\r\n" for f in head_fields)
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


COOKIE_A = b"Set-Cookie: a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/"
COOKIE_B = b"set-cookie: b=2; Expires=Thu, 22 Oct 2026 07:28:00 GMT; HttpOnly"


def test_get_all_keeps_repeated_fields_apart(mp, tmp_path):
    head = [COOKIE_A, b"X-One: 1", COOKIE_B, b"X-Two: a, b", b"X-Two: c"]
    with RawServer(canned(response(head))) as srv:
        out = mp.run(
            """
            import fastsock
            h = fastsock.get(%r).headers
            print(repr(h.get_all("Set-Cookie")))
            print(repr(h.get_all("x-two")), repr(h.get_all("X-ONE")), repr(h.get_all("x-missing")))
            print(repr(h["set-cookie"]))
            """
            % srv.url(),
            tmp_path,
        )
    lines = out.splitlines()
    a = "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/"
    b = "b=2; Expires=Thu, 22 Oct 2026 07:28:00 GMT; HttpOnly"
    assert ast.literal_eval(lines[0]) == [a, b]
    assert lines[1] == "['a, b', 'c'] ['1'] []"
    # The joined form is still what indexing gives (and why get_all is needed).
    assert ast.literal_eval(lines[2]) == a + ", " + b


def test_cookies_from_set_cookie_headers(mp, tmp_path):
    head = [
        COOKIE_A,
        COOKIE_B,
        b"Set-Cookie:  spaced = v 1 ; Secure",
        b"Set-Cookie: no-equals-sign",
        b"Set-Cookie: =nameless",
        b"Set-Cookie: empty=",
    ]
    with RawServer(canned(response(head))) as srv, RawServer(canned(response([]))) as plain:
        out = mp.run(
            """
            import fastsock
            print(repr(sorted(fastsock.get(%r).cookies.items())))
            print(fastsock.get(%r).cookies)
            """
            % (srv.url(), plain.url()),
            tmp_path,
        )
    lines = out.splitlines()
    assert ast.literal_eval(lines[0]) == [("a", "1"), ("b", "2"), ("empty", ""), ("spaced", "v 1")]
    assert lines[1] == "{}"


@pytest.mark.parametrize("view", [False, True])
@pytest.mark.parametrize("stream", [True, False])
def test_iter_content_none_carries_the_whole_body(mp, nginx, www, tmp_path, view, stream):
    out = mp.run(
        """
        import fastsock
        f = open(%r, "wb")
        sizes = []
        for piece in fastsock.get(%r, stream=%r).iter_content(None, view=%r):
            sizes.append(len(piece))
            f.write(piece)
        f.close()
        chunked = b"".join(fastsock.get(%r, stream=%r).iter_content(None))
        print(sum(sizes), min(sizes), max(sizes), len(chunked), chunked == b"x" * 100000)
        """
        % (str(tmp_path / "out.bin"), nginx.url("/1m.bin"), stream, view, nginx.url("/chunked/100000"), stream),
        tmp_path,
    )
    total, smallest, largest, chunked_len, chunked_ok = out.split()
    assert int(total) == 1 << 20 and int(smallest) >= 1 and int(largest) <= 16384, out
    assert (chunked_len, chunked_ok) == ("100000", "True"), out
    assert sha256_file(tmp_path / "out.bin") == sha256_file(www / "1m.bin")


TRICKLED = bytes(range(256)) * 16  # 4096 bytes, sent 512 at a time


@pytest.mark.parametrize("view", [False, True])
def test_iter_content_none_yields_what_has_arrived(mp, tmp_path, view):
    # Pieces come as the server sends them (0.1 s apart): none waits for more to arrive, and
    # none is larger than what one send carried.
    with RawServer(trickle_body(TRICKLED, 512, 0.1)) as srv:
        out = mp.run(
            """
            import fastsock
            r = fastsock.get(%r, stream=True)
            got = bytearray()
            sizes = []
            for piece in r.iter_content(None, view=%r):
                sizes.append(len(piece))
                got += piece
            print(got == bytes(range(256)) * 16, repr(sizes))
            """
            % (srv.url(), view),
            tmp_path,
        )
    same, sizes = out.split(" ", 1)
    sizes = ast.literal_eval(sizes)
    assert same == "True", out
    assert len(sizes) >= 8 and all(0 < n <= 512 for n in sizes), sizes


def chunked_then_pause(conn, stop):
    # 64 chunks of 64 bytes at once, the last chunk 0.5 s later.
    read_request(conn)
    chunks = b"".join(b"40\r\n" + bytes([i]) * 64 + b"\r\n" for i in range(64))
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
    sleep_until(stop, 0.5)
    conn.sendall(b"0\r\n\r\n")


@pytest.mark.parametrize("view", [False, True])
def test_iter_content_none_gathers_what_has_arrived(mp, tmp_path, view):
    # All 64 chunks are there when the iteration starts: they come as one piece, not 64.
    with RawServer(chunked_then_pause) as srv:
        out = mp.run(
            """
            import fastsock, time
            r = fastsock.get(%r, stream=True)
            time.sleep(0.3)
            sizes = []
            got = bytearray()
            for piece in r.iter_content(None, view=%r):
                sizes.append(len(piece))
                got += piece
            print(repr(sizes), got == b"".join(bytes([i]) * 64 for i in range(64)))
            """
            % (srv.url(), view),
            tmp_path,
        )
    assert out.split() == ["[4096]", "True"], out


LINES = [
    # (body, delimiter, expected lines): empty lines are kept, a final terminator adds none.
    (b"a\nbb\n\nccc\n", None, [b"a", b"bb", b"", b"ccc"]),
    (b"a\r\nbb\r\n\r\nccc\r\n", None, [b"a", b"bb", b"", b"ccc"]),
    (b"mixed\r\nlf\nlast without newline", None, [b"mixed", b"lf", b"last without newline"]),
    (b"\n\n", None, [b"", b""]),
    (b"", None, []),
    (b"a||b|c||||d\r||", b"||", [b"a", b"b|c", b"", b"d\r"]),
    (b"x\r\ny\r\n", b"\r\n", [b"x", b"y"]),
]


@pytest.mark.parametrize("body, delimiter, expected", LINES)
def test_iter_lines(mp, tmp_path, body, delimiter, expected):
    if delimiter is None:
        # requests gives the same for a body that arrives in one piece.
        assert body.splitlines() == expected
    with RawServer(canned(response([], body))) as srv:
        out = mp.run(
            """
            import fastsock
            for size in (1, 2, 3, 512, None):
                r = fastsock.get(%r, stream=True)
                print(repr(list(r.iter_lines(size, delimiter=%r))))
            """
            % (srv.url(), delimiter),
            tmp_path,
        )
    # Every piece size (1 splits each CRLF and "||" across pieces) gives the same lines.
    assert [ast.literal_eval(line) for line in out.splitlines()] == [expected] * 5, out


def test_iter_lines_joins_a_line_from_many_segments(mp, tmp_path):
    body = b"x" * 3000 + b"\r\n" + b"y" * 10 + b"\r\n" + b"z" * 700
    with RawServer(trickle_body(body, 100, 0.005)) as srv:
        out = mp.run(
            """
            import fastsock
            r = fastsock.get(%r, stream=True)
            lines = list(r.iter_lines())
            print([len(x) for x in lines], lines == [b"x" * 3000, b"y" * 10, b"z" * 700])
            """
            % srv.url(),
            tmp_path,
        )
    assert out.split() == ["[3000,", "10,", "700]", "True"], out


def endless_line(conn, stop):
    # 10 MB announced and sent without a single newline.
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (10 << 20))
    piece = b"x" * 65536
    for _ in range(160):
        if stop.is_set():
            return
        conn.sendall(piece)


def test_iter_lines_over_long_line_raises_limit_error_in_bounded_memory(mp, tmp_path):
    # A 256 KB heap holds the default max_line (8 KB) but never the 10 MB line.
    with RawServer(endless_line) as srv:
        out = mp.run(
            """
            import fastsock, hostcheck
            fd0 = hostcheck.fds()
            for max_line in (8192, 100):
                r = fastsock.get(%r, stream=True)
                try:
                    for line in r.iter_lines(max_line=max_line):
                        print("line", len(line))
                except fastsock.LimitError as e:
                    print("LimitError", e.errno, fastsock.stats()["open"], hostcheck.fds() - fd0)
            """
            % srv.url(),
            tmp_path,
            heapsize="256k",
        )
    # The connection is closed by the error: no connection counted, no descriptor left.
    assert out.splitlines() == ["LimitError 5 0 0"] * 2, out


def test_iter_lines_limit_counts_every_line(mp, tmp_path):
    # A line just over max_line is refused even when it arrived whole in one piece; one of
    # exactly max_line bytes is not.
    body = b"0123456789\n" + b"a" * 10 + b"\r\n" + b"0123456789X\nafter\n"
    with RawServer(canned(response([], body))) as srv:
        out = mp.run(
            """
            import fastsock
            r = fastsock.get(%r, stream=True)
            try:
                for line in r.iter_lines(512, max_line=10):
                    print(line)
            except fastsock.LimitError as e:
                print("LimitError", e)
            """
            % srv.url(),
            tmp_path,
        )
    lines = out.splitlines()
    assert lines[:2] == ["b'0123456789'", "b'aaaaaaaaaa'"], out
    assert lines[2].startswith("LimitError") and "max_line=10" in lines[2] and len(lines) == 3, out


def slow_head(conn, stop):
    # 0.3 s before the head, 0.4 s more before the body.
    read_request(conn)
    sleep_until(stop, 0.3)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
    sleep_until(stop, 0.4)
    conn.sendall(b"body")


def test_elapsed_runs_from_the_request_to_the_head(mp, tmp_path):
    with RawServer(slow_head) as slow, RawServer(canned(response([], b"quick"))) as quick:
        out = mp.run(
            """
            import fastsock, time
            t = time.ticks_ms()
            r = fastsock.get(%r)
            wall = time.ticks_diff(time.ticks_ms(), t) / 1000
            print(type(r.elapsed).__name__, r.elapsed, wall, r.content)
            print(fastsock.get(%r).elapsed)
            """
            % (slow.url(), quick.url()),
            tmp_path,
        )
    first, second = out.splitlines()
    kind, elapsed, wall, content = first.split()
    assert kind == "float" and content == "b'body'", out
    # The body's 0.4 s is not counted: it came after the head.
    assert 0.3 <= float(elapsed) <= float(wall) - 0.35, out
    assert 0 <= float(second) < 0.25, out


REDIRECTS = {
    "/301": (301, b"Location: /a"),
    "/302": (302, b"Location: /a"),
    "/303": (303, b"Location: /a"),
    "/307": (307, b"Location: /a"),
    "/308": (308, b"Location: /a"),
    "/301-nowhere": (301, None),
    "/308-nowhere": (308, None),
    "/200": (200, None),
    "/200-location": (200, b"Location: /a"),
}


def test_is_redirect_and_is_permanent_redirect(mp, nginx, tmp_path):
    table = {}
    for path, (status, location) in REDIRECTS.items():
        table[path] = b"HTTP/1.1 %d X\r\n%sContent-Length: 0\r\n\r\n" % (
            status,
            location + b"\r\n" if location else b"",
        )
    with RawServer(routes(table)) as srv:
        out = mp.run(
            """
            import fastsock
            for path in %r:
                r = fastsock.get(%r + path, allow_redirects=False)
                print(path, r.status_code, r.is_redirect, r.is_permanent_redirect)
            r = fastsock.get(%r, allow_redirects=False)
            print("nginx", r.status_code, r.is_redirect, r.is_permanent_redirect)
            """
            % (list(REDIRECTS), srv.url(""), nginx.url("/redirect/1k.bin")),
            tmp_path,
        )
    assert out.splitlines() == [
        "/301 301 True True",
        "/302 302 True False",
        "/303 303 True False",
        "/307 307 True False",
        "/308 308 True True",
        "/301-nowhere 301 False False",
        "/308-nowhere 308 False False",
        "/200 200 False False",
        "/200-location 200 False False",
        "nginx 302 True False",
    ], out


LINK_FIELDS = [
    b'Link: <https://api.example.com/items?page=2>; rel="next", <https://api.example.com/items?page=9>; rel="last"',
    b"Link: <https://cdn.example.com/a.css>; rel=stylesheet; type='text/css',<https://example.com/a, b>; title=x",
    b"Link: <https://example.com/no-params>, <https://example.com/odd>; rel=odd; broken; after=1",
]


def requests_links(header):
    # What requests' Response.links gives for this Link header (requests/models.py).
    return {link.get("rel") or link.get("url"): link for link in parse_header_links(header)}


def test_links_match_requests(mp, tmp_path):
    joined = ", ".join(f.split(b": ", 1)[1].decode() for f in LINK_FIELDS)
    expected = requests_links(joined)
    assert len(expected) == 6  # the comma inside <...a, b> does not split a link
    with RawServer(canned(response(LINK_FIELDS))) as srv, RawServer(canned(response([]))) as plain:
        out = mp.run(
            """
            import fastsock
            links = fastsock.get(%r).links
            print(repr(sorted((k, sorted(v.items())) for k, v in links.items())))
            print(fastsock.get(%r).links)
            """
            % (srv.url(), plain.url()),
            tmp_path,
        )
    lines = out.splitlines()
    got = {k: dict(v) for k, v in ast.literal_eval(lines[0])}
    assert got == expected
    assert lines[1] == "{}"
