# SPDX-License-Identifier: MIT
# The "client sockets" chapter's HTTP client, written the way that chapter teaches it:
# getaddrinfo, connect, send a hand-written request, recv until the server closes, then
# split head from body by hand. Two ways to collect the data: `buf += d` (as beginners
# write it) and a list joined once (the better variant). One new connection per request.
import socket


def _split_url(url):
    _, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    port = 80
    if ":" in host:
        host, port = host.split(":")
        port = int(port)
    return host, port, "/" + path


def get_concat(url):
    host, port, path = _split_url(url)
    addr = socket.getaddrinfo(host, port)[0][-1]
    s = socket.socket()
    s.connect(addr)
    s.send(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path.encode(), host.encode()))
    buf = b""
    while True:
        d = s.recv(512)
        if not d:
            break
        buf += d
    s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body


def get_join(url):
    host, port, path = _split_url(url)
    addr = socket.getaddrinfo(host, port)[0][-1]
    s = socket.socket()
    s.connect(addr)
    s.send(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path.encode(), host.encode()))
    parts = []
    while True:
        d = s.recv(512)
        if not d:
            break
        parts.append(d)
    s.close()
    buf = b"".join(parts)
    head, _, body = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body
