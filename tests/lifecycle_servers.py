# SPDX-License-Identifier: MIT
"""Scripted servers for tests/test_lifecycle.py. They keep their own record of what reached
them (requests per method and path, with bodies), so a test can check what really crossed
the wire, and a Control server gives the interpreter a way to wait for server-side events
(fastsock.get(ctl.url("/wait/NAME"))) instead of sleeping."""

import threading
import time

from rawserver import RawServer, read_full_request


def parse(raw):
    """(method, path) of a raw request."""
    method, path = raw.split(b" ", 2)[:2]
    return method.decode(), path.decode()


def response(body=b"", status=b"200 OK", close=False, extra=b""):
    """A complete response with Content-Length (and Connection: close when asked)."""
    return (b"HTTP/1.1 %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n%s%s\r\n"
            % (status, len(body), b"Connection: close\r\n" if close else b"", extra) + body)


class Log:
    """Thread-safe record of the requests a server received: (method, path, body)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests = []

    def add(self, raw, body):
        method, path = parse(raw)
        with self._lock:
            self.requests.append((method, path, body))
        return method, path

    def count(self, path, method=None):
        with self._lock:
            return sum(1 for m, p, _ in self.requests if p == path and (method is None or m == method))

    def bodies(self, path):
        with self._lock:
            return [b for _, p, b in self.requests if p == path]


def serve_requests(log, answer):
    """Handler: read requests one after another on a connection, log each, and let
    answer(conn, method, path, body, stop) reply; it returns False to end (close) the
    connection. The peer closing ends it too."""

    def handler(conn, stop):
        rest = b""
        while not stop.is_set():
            raw, body, rest = read_full_request(conn, rest)
            if not raw:
                return
            method, path = log.add(raw, body)
            if not answer(conn, method, path, body, stop):
                return

    return handler


class Control(RawServer):
    """Side channel for the interpreter: GET /set/NAME sets event NAME; GET /wait/NAME waits
    for it (at most `wait` seconds) and answers b"1", or b"0" if it did not happen."""

    def __init__(self, wait=5.0):
        self._lock = threading.Lock()
        self._events = {}
        self.wait = wait
        super().__init__(self._handle)

    def event(self, name):
        with self._lock:
            return self._events.setdefault(name, threading.Event())

    def _handle(self, conn, stop):
        raw, _, _ = read_full_request(conn)
        if not raw:
            return
        _, what, name = parse(raw)[1].split("/", 2)
        ev = self.event(name)
        if what == "set":
            ev.set()
            ok = True
        else:
            end = time.monotonic() + self.wait
            while not ev.wait(0.05) and not stop.is_set() and time.monotonic() < end:
                pass
            ok = ev.is_set()
        conn.sendall(response(b"1" if ok else b"0", close=True))


def wait_for_eof(conn, stop, seconds):
    """True once the peer has closed (FIN or RST) within `seconds`, else False."""
    end = time.monotonic() + seconds
    conn.settimeout(0.05)
    while not stop.is_set() and time.monotonic() < end:
        try:
            if not conn.recv(65536):
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def partial_body_then_watch(body_len, sent, on_eof):
    """Handler: read a request, promise body_len bytes, send `sent` of them, then wait (up to
    10 s) for the client to close; on_eof() is called when it does."""

    def handler(conn, stop):
        raw, _, _ = read_full_request(conn)
        if not raw:
            return
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % body_len
        conn.sendall(head + bytes(i & 255 for i in range(sent)))
        if wait_for_eof(conn, stop, 10):
            on_eof()

    return handler
