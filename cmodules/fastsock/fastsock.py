# fastsock: a fast, lean HTTP/1.1 client for MicroPython. The parsing and the byte moving
# happen in C (_fastsock); this file only shapes requests and responses.
# Names follow micropython-lib `requests`, so `import fastsock as requests` works.
import _fastsock
from _fastsock import LimitError, ProtocolError, TimeoutError

__version__ = "0.1.0"
__all__ = (
    "get",
    "request",
    "Response",
    "Headers",
    "ProtocolError",
    "LimitError",
    "TimeoutError",
    "stats",
)

_USER_AGENT = "fastsock/" + __version__


def stats():
    """Counters since start (or reset_stats()): requests, connections, reused,
    bytes_received, bytes_copied, heap_allocs, peak_buffered."""
    return _fastsock.stats()


reset_stats = _fastsock.reset_stats


def _parse_url(url):
    # -> (host, port, target) for http:// URLs; anything else is a clear error.
    if not isinstance(url, str):
        raise TypeError("url must be a str")
    i = url.find("://")
    if i <= 0:
        raise ValueError("invalid URL %r: expected http://host[:port]/path" % url)
    scheme = url[:i].lower()
    if scheme == "https":
        raise NotImplementedError("https:// is not supported yet")
    if scheme != "http":
        raise ValueError("unsupported URL scheme %r in %r" % (scheme, url))
    rest = url[i + 3 :]
    end = len(rest)
    for c in "/?#":
        j = rest.find(c)
        if 0 <= j < end:
            end = j
    authority = rest[:end]
    target = rest[end:]
    j = target.find("#")
    if j >= 0:
        target = target[:j]
    if not target or target[0] != "/":
        target = "/" + target
    if "@" in authority:
        raise NotImplementedError("credentials in the URL are not supported; use auth=")
    port = 80
    if authority.startswith("["):
        j = authority.find("]")
        if j < 0:
            raise ValueError("invalid IPv6 address in URL %r" % url)
        host = authority[1:j]
        tail = authority[j + 1 :]
        if tail:
            if tail[0] != ":":
                raise ValueError("invalid URL %r" % url)
            port = tail[1:]
    else:
        j = authority.rfind(":")
        host = authority
        if j >= 0:
            host, port = authority[:j], authority[j + 1 :]
    if isinstance(port, str):
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("invalid port in URL %r" % url)
        port = int(port)
    if not host:
        raise ValueError("no host in URL %r" % url)
    for c in host:
        if c in " \t\r\n/\\":
            raise ValueError("invalid host in URL %r" % url)
    for c in target:
        if c in " \r\n":
            raise ValueError("invalid character in URL path %r" % url)
    return host, port, target


def _timeouts(timeout):
    # A number applies to connect and to each read; a pair is (connect, read).
    if isinstance(timeout, tuple):
        return timeout[0], timeout[1]
    return timeout, timeout


class Headers:
    """Response headers. Names are kept lower-cased; lookups ignore case. Repeated fields
    are joined with ", " (RFC 9110 5.3)."""

    def __init__(self, d):
        self._d = d

    def __getitem__(self, name):
        return self._d[name.lower()]

    def __contains__(self, name):
        return name.lower() in self._d

    def get(self, name, default=None):
        return self._d.get(name.lower(), default)

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)

    def keys(self):
        return self._d.keys()

    def values(self):
        return self._d.values()

    def items(self):
        return self._d.items()

    def __repr__(self):
        return repr(self._d)


class Response:
    """An HTTP response whose body is read from the connection on demand."""

    def __init__(self, conn, status, reason, headers, url):
        self.raw = conn
        self.status_code = status
        self.reason = reason
        self.headers = headers
        self.url = url
        self.encoding = "utf-8"
        self._content = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.raw is not None:
            self.raw.close()
            self.raw = None

    @property
    def ok(self):
        return self.status_code < 400

    @property
    def content(self):
        """The whole body as bytes (read once, allocated once when the length is known)."""
        if self._content is None:
            if self.raw is None:
                raise RuntimeError("response is closed and its body was not read")
            self._content = self.raw.readall()
            self.close()
        return self._content

    @property
    def text(self):
        return str(self.content, self.encoding)

    def json(self):
        import json

        return json.loads(self.content)

    def __repr__(self):
        return "<Response [%d]>" % self.status_code


def request(method, url, headers=None, timeout=None):
    """Send one request on a new connection and return its Response (body not yet read)."""
    method = method.upper()
    host, port, target = _parse_url(url)
    connect_timeout, read_timeout = _timeouts(timeout)
    hostport = host if port == 80 else "%s:%d" % (host, port)
    if ":" in host:
        hostport = "[%s]" % host if port == 80 else "[%s]:%d" % (host, port)
    head = {
        "host": ("Host", hostport),
        "user-agent": ("User-Agent", _USER_AGENT),
        "accept-encoding": ("Accept-Encoding", "identity"),
        "connection": ("Connection", "close"),
    }
    if headers:
        for k, v in headers.items():
            if "\r" in k or "\n" in k or "\r" in str(v) or "\n" in str(v):
                raise ValueError("header %r contains a line break" % k)
            head[k.lower()] = (k, str(v))
    lines = [method, " ", target, " HTTP/1.1\r\n"]
    for k, v in head.values():
        lines.append(k)
        lines.append(": ")
        lines.append(v)
        lines.append("\r\n")
    lines.append("\r\n")
    conn = _fastsock.Connection(host, port, connect_timeout)
    try:
        conn.settimeout(read_timeout)
        conn.send("".join(lines))
        status, reason, hdrs, _minor, _length, _chunked = conn.getresponse(method == "HEAD")
    except BaseException:
        conn.close()
        raise
    return Response(conn, status, reason, Headers(hdrs), url)


def get(url, headers=None, timeout=None):
    """GET url; returns a Response. timeout: seconds, or (connect, read)."""
    return request("GET", url, headers=headers, timeout=timeout)
