# SPDX-License-Identifier: MIT
"""tests/wire.py: the request recorder, and byte-exact comparisons of what fastsock sends with
what CPython requests sends for the same call."""

import socket
import time

from wire import EMPTY_200, WireRecorder, comparable, dechunk, fastsock_call_wire, normalize, requests_wire


def _exchange(rec, data, answers):
    """Send raw bytes on one connection; return what came back once `answers` answers came."""
    with socket.create_connection((rec.host, rec.port), timeout=5) as c:
        c.sendall(data)
        got = b""
        while got.count(b"HTTP/1.1 ") < answers or not got.endswith(b"\r\n\r\n"):
            d = c.recv(65536)
            if not d:
                break
            got += d
        return got


def test_recorder_keeps_each_request_byte_exact():
    # Two requests pipelined on one connection (a Content-Length body with CRLFs and NULs in
    # it, then a chunked body with a chunk extension), a third on a second connection: each is
    # recorded exactly as sent, framing included, and each is answered.
    a = b"POST /a HTTP/1.1\r\nHost: x\r\ncontent-length: 9\r\n\r\n\r\n\x00\r\n\r\n\xffz"
    b = (
        b"PUT /b?q=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"
    )
    c = b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n"
    with WireRecorder() as rec:
        assert _exchange(rec, a + b, answers=2) == 2 * EMPTY_200
        assert _exchange(rec, c, answers=1) == EMPTY_200
        assert rec.requests == [a, b, c]
    assert normalize(a) == ("POST /a HTTP/1.1", {"host": "x", "content-length": "9"}, b"\r\n\x00\r\n\r\n\xffz")
    line, headers, body = normalize(b)
    assert line == "PUT /b?q=1 HTTP/1.1" and headers["transfer-encoding"] == "chunked"
    assert dechunk(body) == b"abc0123456789abcdef"


def test_recorder_answers_what_the_caller_gives():
    # A fixed response, or one made from the raw request.
    with WireRecorder(lambda raw: b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s" % (len(raw), raw)) as rec:
        req = b"GET /x HTTP/1.1\r\nHost: y\r\n\r\n"
        assert _exchange(rec, req, answers=1) == b"HTTP/1.1 201 Created\r\nContent-Length: 28\r\n\r\n" + req


def test_recorder_stops_promptly_with_an_idle_client_connected():
    # A client that keeps its connection open (keep-alive) does not hold up the exit.
    rec = WireRecorder().__enter__()
    c = socket.create_connection((rec.host, rec.port), timeout=5)
    c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.recv(100) == EMPTY_200
    t0 = time.monotonic()
    rec.__exit__(None, None, None)
    assert time.monotonic() - t0 < 2
    c.close()


def test_normalize_joins_repeated_fields_and_lowercases_names():
    raw = b"GET / HTTP/1.1\r\nHOST: h\r\nX-A: 1\r\nx-a:2 \r\n\r\n"
    assert normalize(raw) == ("GET / HTTP/1.1", {"host": "h", "x-a": "1, 2"}, b"")


def test_post_bytes_body_is_the_same_as_requests(mp, wire, tmp_path):
    # The same recorder (the `wire` fixture) for both, so Host (with the port) is compared too.
    body = bytes(range(256)) + b"\r\n\r\nend"
    rq = requests_wire("POST", "/post?a=1", recorder=wire, data=body)
    fs = fastsock_call_wire(mp, tmp_path, "POST", "/post?a=1", recorder=wire, data=body)
    assert wire.requests == [rq, fs]
    rq_line, rq_headers, rq_body = comparable(rq)
    fs_line, fs_headers, fs_body = comparable(fs)
    assert fs_line == rq_line == "POST /post?a=1 HTTP/1.1"
    assert fs_headers["content-length"] == rq_headers["content-length"] == str(len(body))
    assert fs_headers["host"] == rq_headers["host"] == "127.0.0.1:%d" % wire.port
    assert fs_body == rq_body == body
    # Nothing else: no Content-Type for a bytes body on either side, no Transfer-Encoding.
    assert fs_headers == rq_headers


def test_auth_and_cookie_headers_are_the_same_as_requests(mp, tmp_path):
    # (ASCII credentials: for others requests sends latin-1, fastsock UTF-8 as RFC 7617 suggests.)
    kwargs = dict(auth=("user", "pass:word"), headers={"Cookie": "a=1; b=two"})
    with WireRecorder() as rec:
        rq = comparable(requests_wire("GET", "/get", recorder=rec, **kwargs))
        fs = comparable(fastsock_call_wire(mp, tmp_path, "GET", "/get", recorder=rec, **kwargs))
    assert fs[0] == rq[0] == "GET /get HTTP/1.1"
    for name in ("authorization", "cookie", "host"):
        assert fs[1].get(name) == rq[1].get(name), name
    assert fs[2] == rq[2] == b""
