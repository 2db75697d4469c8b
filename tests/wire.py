# SPDX-License-Identifier: MIT
"""Byte-exact request comparisons: what fastsock puts on the wire next to what CPython
`requests` puts there for the same call.

    with WireRecorder() as rec:          # a server on 127.0.0.1 that records each request
        ...rec.url("/post")...           # rec.requests: the raw bytes, head and body, in order

    rq = requests_wire("POST", "/post", data=b"abc")                  # CPython requests
    fs = fastsock_call_wire(mp, tmp_path, "POST", "/post", data=b"abc")  # fastsock, same call
    fs = fastsock_wire(mp, tmp_path, 'import fastsock\\nfastsock.post(URL + "/post", data=b"abc")')
    # each makes its own recorder unless given one (recorder=rec): pass the same one to both
    # sides to compare Host (it holds the port) as well
    line, headers, body = normalize(fs)  # request line, {lower-cased name: value}, body bytes

The recorder reads each body by its framing (Content-Length or chunked, as
rawserver.read_full_request does), so `requests` is the raw request exactly as sent, chunk
framing included (dechunk() takes it off). It answers every request with `response` (bytes, or
a function of the raw request returning bytes; default `200 OK` with `Content-Length: 0`) and
keeps the connection open for the next one.

Headers that legitimately differ between the two clients (IGNORED: User-Agent, Accept,
Accept-Encoding, Connection) are dropped by comparable(); everything else (request line, Host,
Content-Type, Content-Length, Transfer-Encoding, Cookie, Authorization, the body) is compared
as sent.
"""

import contextlib
import socket

from rawserver import RawServer, read_full_request

EMPTY_200 = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

IGNORED = frozenset({"user-agent", "accept", "accept-encoding", "connection"})


class _StopAwareConn:
    """A connection whose recv() gives up when the recorder stops (so a client that keeps a
    connection open does not hold up the recorder's exit), and raises on a second end of
    stream (read_full_request expects b"" only between requests)."""

    def __init__(self, conn, stop):
        self.conn = conn
        self.stop = stop
        self.closed = False

    def recv(self, n):
        if self.closed:
            raise ConnectionResetError("peer closed in the middle of a request")
        self.conn.settimeout(0.2)
        while True:
            try:
                d = self.conn.recv(n)
            except socket.timeout:
                if self.stop.is_set():
                    raise ConnectionAbortedError("recorder stopped")
                continue
            if not d:
                self.closed = True
            return d


class WireRecorder(RawServer):
    """A server on 127.0.0.1 that records the exact bytes of each request (.requests, in the
    order they completed) and answers with `response` (see the module's docstring)."""

    def __init__(self, response=EMPTY_200, host="127.0.0.1"):
        self.response = response
        self.requests = []
        super().__init__(self._handle, host)

    def _handle(self, conn, stop):
        c = _StopAwareConn(conn, stop)
        rest = b""
        while not stop.is_set():
            raw, _body, rest = read_full_request(c, rest)
            if not raw:
                return
            self.requests.append(raw)
            conn.settimeout(30)
            conn.sendall(self.response(raw) if callable(self.response) else self.response)


def _only(requests, who):
    assert len(requests) == 1, "%s: expected one request on the wire, got %d: %r" % (who, len(requests), requests)
    return requests[0]


@contextlib.contextmanager
def _recording(recorder, response):
    """The requests recorded while the block runs, on `recorder` or on a fresh one."""
    if recorder is not None:
        seen = len(recorder.requests)
        new = []
        yield recorder, new
        new += recorder.requests[seen:]
        return
    with WireRecorder(response) as rec:
        new = []
        yield rec, new
        new += rec.requests


def requests_wire(method, url_path, recorder=None, response=EMPTY_200, **kwargs):
    """Make the call with CPython requests against `recorder` (or a fresh WireRecorder
    answering `response`); url_path is the path and query, e.g. "/post?a=1". Returns the raw
    request (bytes). Pass one recorder to both sides to compare Host byte for byte."""
    import requests

    with _recording(recorder, response) as (rec, new):
        with requests.Session() as s:
            s.request(method, rec.url(url_path), timeout=10, **kwargs).close()
    return _only(new, "requests %s %s" % (method, url_path))


def fastsock_wire(mp, tmp_path, code, recorder=None, response=EMPTY_200, all_requests=False):
    """Run MicroPython `code` under `mp` (a conftest.MicroPython) with URL set to the
    recorder's base URL ("http://127.0.0.1:<port>", no slash); returns the raw request it made
    (bytes), or the list of all it made with all_requests=True."""
    with _recording(recorder, response) as (rec, new):
        mp.run("URL = %r\n%s" % (rec.url(""), code), tmp_path)
    return list(new) if all_requests else _only(new, "fastsock (%s)" % mp.flavour)


def fastsock_call_wire(mp, tmp_path, method, url_path, recorder=None, response=EMPTY_200, **kwargs):
    """fastsock.request(method, URL + url_path, **kwargs) under `mp`: the same call as
    requests_wire(method, url_path, **kwargs). kwargs are written into the MicroPython source
    with repr(), so use values whose repr means the same there (bytes, str, numbers, dicts,
    lists, tuples, None, booleans)."""
    code = "import fastsock\nfastsock.request(%r, URL + %r, **%r).close()\n" % (method, url_path, kwargs)
    return fastsock_wire(mp, tmp_path, code, recorder, response)


def normalize(raw):
    """Split a raw request: (request line as str, {lower-cased header name: value}, body bytes
    as sent). A repeated header's values are joined with ", " in the order sent."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, "no end of head in %r" % raw
    line, *fields = head.decode("latin-1").split("\r\n")
    headers = {}
    for field in fields:
        name, colon, value = field.partition(":")
        assert colon and name == name.strip(), "malformed header line %r" % field
        name = name.lower()
        value = value.strip(" \t")
        headers[name] = headers[name] + ", " + value if name in headers else value
    return line, headers, body


def comparable(raw, ignored=IGNORED):
    """normalize() without the headers that legitimately differ between clients."""
    line, headers, body = normalize(raw)
    return line, {k: v for k, v in headers.items() if k not in ignored}, body


def dechunk(body):
    """The payload of a chunked body (extensions and trailers dropped); asserts the framing."""
    out = b""
    while True:
        line, sep, body = body.partition(b"\r\n")
        assert sep, "chunk size line missing"
        size = int(line.split(b";")[0], 16)
        if size == 0:
            return out
        assert body[size : size + 2] == b"\r\n", "chunk of %d not followed by CRLF" % size
        out += body[:size]
        body = body[size + 2 :]
