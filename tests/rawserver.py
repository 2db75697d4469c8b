# SPDX-License-Identifier: MIT
"""A tiny scripted TCP server for responses nginx will not send (close-delimited bodies,
garbage, truncation, resets, trickles). Each accepted connection runs `handler(conn)` in a
thread; the server stops and joins its threads on exit."""

import socket
import struct
import threading
import time


class RawServer:
    def __init__(self, handler, host="127.0.0.1"):
        self.handler = handler
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._threads = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)

    def url(self, path="/"):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d%s" % (host, self.port, path)

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn):
        conn.settimeout(30)
        try:
            self.handler(conn, self._stop)
        except OSError:
            pass
        finally:
            conn.close()

    def __enter__(self):
        self._accepter.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._accepter.join(5)
        for t in self._threads:
            t.join(5)
        self.sock.close()


def read_request(conn, limit=65536):
    """Read one request head (and no body); returns it, or b'' if the peer closed."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        d = conn.recv(4096)
        if not d:
            return data
        data += d
    return data


def canned(response, close=True):
    """Handler: answer every request on the connection with `response` (bytes)."""

    def handler(conn, stop):
        while read_request(conn):
            conn.sendall(response)
            if close:
                return

    return handler


def reset(conn):
    """Close with RST instead of FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def trickle(data, interval):
    """Handler: send data one byte at a time, `interval` seconds apart."""

    def handler(conn, stop):
        read_request(conn)
        for b in data:
            if stop.wait(interval):
                return
            conn.sendall(bytes([b]))

    return handler


def stall(conn, stop):
    """Handler: read the request, then say nothing until the server stops."""
    read_request(conn)
    stop.wait(60)


def sleep_until(stop, seconds):
    end = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < end:
        time.sleep(0.05)


def read_full_request(conn, buf=b""):
    """Read one request (head and a Content-Length or chunked body). Returns
    (raw_bytes, decoded_body, rest) or (b'', b'', b'') if the peer closed first."""
    while b"\r\n\r\n" not in buf:
        d = conn.recv(65536)
        if not d:
            return b"", b"", b""
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    lower = head.lower()
    body = b""
    if b"transfer-encoding: chunked" in lower:
        raw_body = b""
        while True:
            while b"\r\n" not in rest:
                rest += conn.recv(65536)
            line, _, rest = rest.partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += conn.recv(65536)
            raw_body += line + b"\r\n" + rest[: size + 2]
            body += rest[:size]
            rest = rest[size + 2 :]
            if size == 0:
                break
        return head + b"\r\n\r\n" + raw_body, body, rest
    n = 0
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    while len(rest) < n:
        d = conn.recv(65536)
        if not d:
            break
        rest += d
    body, rest = rest[:n], rest[n:]
    return head + b"\r\n\r\n" + body, body, rest


def keep_alive(respond, requests_seen=None):
    """Handler: a keep-alive server answering every request on the connection with
    respond(raw_request) (bytes), recording raw requests in requests_seen when given. It keeps
    the socket open whatever the response says (tests of clients that must not reuse it)."""

    def handler(conn, stop):
        rest = b""
        while not stop.is_set():
            raw, _body, rest = read_full_request(conn, rest)
            if not raw:
                return
            if requests_seen is not None:
                requests_seen.append(raw)
            conn.sendall(respond(raw))

    return handler


def echo(requests_seen):
    """Handler: answer each request with the raw request as the body."""
    return keep_alive(lambda raw: b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(raw) + raw, requests_seen)


def routes(table, requests_seen=None):
    """Handler: answer by path from table {path: response bytes or a function of the raw
    request} (404 otherwise)."""

    def respond(raw):
        resp = table.get(raw.split(b" ", 2)[1].decode(), b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return resp(raw) if callable(resp) else resp

    return keep_alive(respond, requests_seen)


# Fault modes for transport tests (tests/test_lwip.py): each is a handler factory.


def _head(length):
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % length


def reset_mid_body(body, after):
    """Handler: promise len(body) bytes, send the first `after`, then reset (RST)."""

    def handler(conn, stop):
        read_request(conn)
        conn.sendall(_head(len(body)) + body[:after])
        sleep_until(stop, 0.2)
        reset(conn)

    return handler


def close_mid_body(body, after):
    """Handler: promise len(body) bytes, send the first `after`, then close normally (FIN)."""

    def handler(conn, stop):
        read_request(conn)
        conn.sendall(_head(len(body)) + body[:after])

    return handler


def close_before_head(conn, stop):
    """Handler: read the request and close without answering."""
    read_request(conn)


def trickle_body(body, piece, interval):
    """Handler: send the head, then the body `piece` bytes at a time, `interval` s apart."""

    def handler(conn, stop):
        read_request(conn)
        conn.sendall(_head(len(body)))
        for i in range(0, len(body), piece):
            if stop.wait(interval):
                return
            conn.sendall(body[i : i + piece])

    return handler


def stall_mid_body(body, after):
    """Handler: send the head and `after` body bytes of len(body), then say nothing."""

    def handler(conn, stop):
        read_request(conn)
        conn.sendall(_head(len(body)) + body[:after])
        stop.wait(60)

    return handler
