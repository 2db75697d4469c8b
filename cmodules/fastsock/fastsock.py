# fastsock: a fast, lean HTTP/1.1 client for MicroPython. Parsing and byte moving happen in
# C (_fastsock); this file only shapes requests and responses. Names follow micropython-lib
# `requests`, so `import fastsock as requests` works for common code.
import _fastsock
from _fastsock import LimitError, ProtocolError, TimeoutError, TLSError  # noqa: F401 (re-exported)

__version__ = _fastsock.VERSION
_REDIRECTS = (301, 302, 303, 307, 308)
# RFC 9110 9.2.2: only these may be sent again automatically.
_IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE")
_NO_TIMEOUTS = (0, 0, None)


class TooManyRedirects(ProtocolError):
    pass


class HTTPError(OSError):
    """Raised by Response.raise_for_status() for 4xx and 5xx responses."""

    def __init__(self, msg, response=None):
        super().__init__(msg)
        self.response = response


def _raise_http_error(r):
    # Response.raise_for_status() for 4xx/5xx.
    code = r.status_code
    kind = "Client" if code < 500 else "Server"
    raise HTTPError("%d %s Error: %s for url %s" % (code, kind, r.reason, r.url), r)


def stats():
    """Counters since start or reset_stats(): requests, connections, reused, open,
    bytes_received, bytes_copied, heap_allocs, peak_buffered; with TLS also tls_bytes (mbedTLS
    heap in use now, outside the GC heap), tls_peak, tls_handshakes, tls_resumed."""
    return _fastsock.stats()


# TLS configs (CA chain parsed once, remembered sessions) shared by every Session and the
# module-level functions, keyed by (verify, ca); a few at most.
_tls_configs = {}


def _tls_config(verify, ca):
    if not hasattr(_fastsock, "TLSConfig"):
        raise NotImplementedError("https:// needs a build with TLS (FS_TLS=1)")
    if isinstance(verify, str):
        # requests style: verify="/path/to/ca.pem".
        verify, ca = True, verify
    verify = bool(verify)
    key = (verify, ca if verify else None)
    cfg = _tls_configs.get(key)
    if cfg is None:
        data = ca
        if isinstance(ca, str):
            with open(ca, "rb") as f:
                data = f.read()
        cfg = _fastsock.TLSConfig(verify, data if verify else None)
        if len(_tls_configs) >= 4:
            _tls_configs.clear()
        _tls_configs[key] = cfg
    return cfg


def tls_reset():
    """Forget the shared TLS configs (parsed CA chains, remembered sessions); their memory is
    returned once no connection uses them."""
    _tls_configs.clear()


def tls_limit(*limit):
    """tls_limit(n): cap the heap mbedTLS may hold in all (bytes; None = no cap); an https
    request whose handshake budget (_fastsock.TLS_BUDGET) does not fit raises MemoryError
    before connecting. Returns the previous cap; tls_limit() only returns it."""
    if not hasattr(_fastsock, "tls_limit"):
        raise NotImplementedError("this build has no TLS (FS_TLS=1)")
    return _fastsock.tls_limit(*limit)


reset_stats = _fastsock.reset_stats

_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64(data):
    # Base64 for Basic auth; binascii is not in every build.
    out = bytearray()
    for i in range(0, len(data), 3):
        chunk = data[i : i + 3]
        n = int.from_bytes(chunk + b"\0" * (3 - len(chunk)), "big")
        for k in range(4):
            out.append(_B64[(n >> (18 - 6 * k)) & 63] if k <= len(chunk) else 61)
    return str(out, "ascii")


_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def quote(s, safe=b""):
    """Percent-encode s (str or bytes) for a URL query; space becomes %20."""
    if isinstance(s, str):
        s = s.encode()
    out = []
    for b in s:
        if b in _SAFE or b in safe:
            out.append(chr(b))
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def urlencode(params):
    """dict or sequence of pairs -> 'a=1&b=x%20y'; values that are lists repeat the key."""
    items = params.items() if hasattr(params, "items") else params
    parts = []
    for k, v in items:
        for one in v if isinstance(v, (list, tuple)) else (v,):
            parts.append(quote(str(k)) + "=" + quote(str(one)))
    return "&".join(parts)


def _parse_url(url):
    # -> (scheme, host, port, target); anything unsupported is a clear error.
    if not isinstance(url, str):
        raise TypeError("url must be a str")
    i = url.find("://")
    if i <= 0:
        raise ValueError("invalid URL %r: expected http://host[:port]/path" % url)
    scheme = url[:i].lower()
    if scheme != "http" and scheme != "https":
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
    port = 443 if scheme == "https" else 80
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
    return scheme, host, port, target


def _join_url(base, location):
    # Resolve a Location header against the URL it came from (RFC 3986, common cases).
    if "://" in location:
        return location
    scheme, host, port, target = _parse_url(base)
    default = 443 if scheme == "https" else 80
    hostport = ("[%s]" % host if ":" in host else host) + ("" if port == default else ":%d" % port)
    if location.startswith("//"):
        return scheme + ":" + location
    if location.startswith("/"):
        return "%s://%s%s" % (scheme, hostport, location)
    path = target.split("?")[0]
    return "%s://%s%s%s" % (scheme, hostport, path[: path.rfind("/") + 1], location)


def _ms(t):
    # Seconds (or None) as the milliseconds _fastsock takes (0: no timeout).
    if t is None:
        return 0
    if not 0 < t < 1e6:  # NaN fails this too
        raise ValueError("timeout must be a finite number of seconds > 0, or None")
    return int(t * 1000) or 1


def _timeouts(timeout):
    # (connect_ms, read_ms, deadline) from a number (connect and each read) or (connect,
    # read[, total]), checked before any network activity; the total deadline is fixed here,
    # once per call, so DNS, every redirect hop and a retry all count against it.
    if timeout is None:
        return _NO_TIMEOUTS
    if not isinstance(timeout, tuple):
        ms = _ms(timeout)
        return ms, ms, None
    if not 2 <= len(timeout) <= 3:
        raise ValueError("timeout tuple must be (connect, read[, total])")
    total = _ms(timeout[2]) if len(timeout) == 3 else 0
    return _ms(timeout[0]), _ms(timeout[1]), _fastsock.deadline(total) if total else None


# Response and Headers are C types: a response is one fixed-size object (no instance dict).
# Response: status_code, reason, ok, url, headers, content, text, json(), raise_for_status(),
# close(), readinto(buf), iter_content(chunk_size=1024, view=False), iter_lines(chunk_size=512,
# delimiter=None, max_line=8192), save(path, progress=None, piece=4096), raw (the response
# itself as a stream), tls(), history, encoding, elapsed, is_redirect, is_permanent_redirect,
# links, cookies; `with` closes it.
Response = _fastsock.Response
Headers = _fastsock.Headers

# ---- Response members written in Python (the C type calls these): cold or rarely used code is
# smaller as frozen bytecode than as C.

# Longest line iter_lines() holds: a line is kept whole in memory until its end arrives.
_MAX_LINE = 8192


def _iter_lines(r, chunk_size=512, delimiter=None, max_line=_MAX_LINE):
    # Response.iter_lines(): the body's lines without their ending (b"\n" and a b"\r" before it,
    # or exactly `delimiter`); a last line without one too. Memory stays bounded: a line longer
    # than max_line raises LimitError.
    pending = b""
    for piece in r.iter_content(chunk_size):
        lines = (pending + piece).split(delimiter or b"\n")
        pending = lines.pop()
        for line in lines:
            yield _line(r, line, delimiter, max_line)
        if len(pending) > max_line:
            _line(r, pending, delimiter, max_line)
    if pending:
        yield _line(r, pending, delimiter, max_line)


def _line(r, line, delimiter, max_line):
    # One line of iter_lines(): a b"\r" before b"\n" dropped, checked against max_line.
    if delimiter is None and line.endswith(b"\r"):
        line = line[:-1]
    if len(line) > max_line:
        r.close()  # the rest of the body will not be read
        raise LimitError(5, "line longer than max_line=%d bytes" % max_line)
    return line


def _is_redirect(r):
    # Response.is_redirect, as requests: a redirect status with a Location to go to.
    return r.status_code in _REDIRECTS and "location" in r.headers


def _is_permanent_redirect(r):
    return r.status_code in (301, 308) and "location" in r.headers


def _links(r):
    # Response.links: the Link header parsed as requests.utils.parse_header_links does, keyed by
    # rel (else url).
    value = r.headers.get("link", "").strip(" '\"")
    if not value:
        return {}
    # Links are separated by "," + spaces + "<" (requests: re.split(", *<"); no re here).
    pieces = []
    start = 0
    i = value.find(",")
    while i >= 0:
        j = i + 1
        while value[j : j + 1] == " ":
            j += 1
        if value[j : j + 1] == "<":
            pieces.append(value[start:i])
            start = j + 1
        i = value.find(",", j)
    pieces.append(value[start:])
    links = {}
    for piece in pieces:
        url, _, params = piece.partition(";")
        link = {"url": url.strip("<> '\"")}
        for param in params.split(";"):
            kv = param.split("=")
            if len(kv) != 2:
                break
            link[kv[0].strip(" '\"")] = kv[1].strip(" '\"")
        links[link.get("rel") or link["url"]] = link
    return links


def _response_cookies(r):
    # Response.cookies: name -> value of each Set-Cookie (RFC 6265 5.2: the pair before the first
    # ";"; one without "=" or with an empty name is ignored). Attributes are a Session's concern.
    cookies = {}
    for line in r.headers.get_all("set-cookie"):
        name, eq, value = line.split(";", 1)[0].partition("=")
        name = name.strip()
        if eq and name:
            cookies[name] = value.strip()
    return cookies


def _encode_body(data, json, headers):
    # -> body (bytes/str/None or an iterable for chunked upload); sets Content-Type.
    if json is not None:
        import json as _json

        headers.setdefault("content-type", ("Content-Type", "application/json"))
        return _json.dumps(json)
    if data is None:
        return None
    if isinstance(data, dict):
        headers.setdefault("content-type", ("Content-Type", "application/x-www-form-urlencoded"))
        return urlencode(data)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data
    if isinstance(data, str):
        return data.encode()
    if hasattr(data, "readinto") or hasattr(data, "read") or hasattr(data, "__next__") or hasattr(data, "__iter__"):
        return data
    raise TypeError("data must be bytes, str, dict, a stream or an iterator")


def _send_chunked(conn, body):
    # Chunked upload from a stream (read(n)) or an iterator of bytes/str pieces.
    if hasattr(body, "read"):
        while True:
            piece = body.read(4096)
            if not piece:
                break
            conn.send("%x\r\n" % len(piece))
            conn.send(piece)
            conn.send("\r\n")
    else:
        for piece in body:
            if isinstance(piece, str):
                piece = piece.encode()
            if piece:
                conn.send("%x\r\n" % len(piece))
                conn.send(piece)
                conn.send("\r\n")
    conn.send("0\r\n\r\n")


class Session:
    """Keeps connections alive per host:port (at most pool_size idle ones in all, checked
    before reuse) and default headers, auth and timeout for every request. Use as a context
    manager.
    https: verify=True checks the server's chain and host name (verify=False must be explicit);
    ca= PEM/DER bytes or a file path replaces the default CA store."""

    def __init__(self, headers=None, auth=None, timeout=None, pool_size=4, max_redirects=5,
                 verify=True, ca=None):
        self.headers = dict(headers) if headers else {}
        self.auth = auth
        self.timeout = timeout
        self.pool_size = pool_size
        self.max_redirects = max_redirects
        self.verify = verify
        self.ca = ca
        self._pool = _fastsock.Pool(pool_size)  # owns the idle connections (fs_pool.c)
        self._urls = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._pool.close()

    def request(self, method, url, params=None, data=None, json=None, headers=None, timeout=None,
                allow_redirects=True, stream=False, auth=None, verify=None, ca=None):
        """Send a request; returns a Response. By default the body is read before returning
        and the connection handed back; stream=True leaves it to be read on demand (content,
        iter_content, readinto, save), holding the connection until then or close()/`with`.
        verify/ca: as for the Session, for this request."""
        method = method.upper()
        tmo = _timeouts(self.timeout if timeout is None else timeout)
        if auth is None:
            auth = self.auth
        hdrs = None
        if self.headers or headers or auth is not None or json is not None or isinstance(data, dict):
            hdrs = {}
            for src in (self.headers, headers):
                if src:
                    for k, v in src.items():
                        hdrs[k.lower()] = (k, str(v))
            if auth is not None:
                hdrs.setdefault("authorization", ("Authorization", "Basic " + _b64(
                    ("%s:%s" % auth).encode())))
        body = _encode_body(data, json, hdrs)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        tls = None
        if verify is not None or ca is not None:
            tls = (self.verify if verify is None else verify, self.ca if ca is None else ca)
        r = self._send(method, url, hdrs, body, tmo, tls)
        if allow_redirects and r.status_code in _REDIRECTS:
            r = self._follow(r, method, url, hdrs, body, tmo, tls)
        if not stream:
            r._read_body()  # the bytes object itself is made on first use of .content
        return r

    def _follow(self, r, method, url, hdrs, body, tmo, tls=None):
        history = []
        while "location" in r.headers:
            if len(history) >= self.max_redirects:
                r.close()
                raise TooManyRedirects(5, "more than %d redirects (last to %s)" % (self.max_redirects, url))
            # 303 (and 301/302 for non-GET, as browsers do) turn into a body-less GET.
            location = _join_url(url, r.headers["location"])
            r.close()
            history.append(r)
            if r.status_code == 303 or (r.status_code in (301, 302) and method not in ("GET", "HEAD")):
                method = "GET" if method != "HEAD" else "HEAD"
                body = None
                if hdrs:
                    for k in ("content-type", "content-length", "transfer-encoding"):
                        hdrs.pop(k, None)
            elif body is not None and not isinstance(body, (bytes, bytearray, memoryview, str)):
                raise ProtocolError(5, "cannot repeat a streamed body for a %d redirect" % r.status_code)
            if hdrs and _parse_url(location)[:3] != _parse_url(url)[:3]:
                # Another host, port or scheme (https -> http would send it in clear).
                hdrs.pop("authorization", None)
            url = location
            r = self._send(method, url, hdrs, body, tmo, tls)
            if r.status_code not in _REDIRECTS:
                break
        r.history = history
        return r

    def _target(self, url):
        # URL -> (pool key, host, port, request target, Host header, url, https), cached per
        # session.
        t = self._urls.get(url)
        if t is None:
            scheme, host, port, target = _parse_url(url)
            https = scheme == "https"
            hostport = host if ":" not in host else "[%s]" % host
            if port != (443 if https else 80):
                hostport += ":%d" % port
            key = "%s:%d" % (host, port)
            t = (key, host, port, target, hostport, url, https)
            if len(self._urls) >= 16:
                self._urls.clear()
            self._urls[url] = t
        return t

    def _send(self, method, url, hdrs, body, tmo, tls=None):
        t = self._urls.get(url)
        if t is None:
            t = self._target(url)
        cfg = None
        if t[6]:
            # The pool matches connections on this config object too: a connection verified
            # one way never serves a request that asked for another.
            cfg = _tls_config(self.verify, self.ca) if tls is None else _tls_config(*tls)
        connect_t, read_t, deadline = tmo
        blen = None
        if body is not None:
            blen = len(body) if isinstance(body, (bytes, bytearray, memoryview, str)) else -1
        elif method in ("POST", "PUT", "PATCH"):
            blen = 0
        extra = hdrs.values() if hdrs else None
        for attempt in (0, 1):
            conn = self._pool.connect(t[0], t[1], t[2], cfg, connect_t, deadline)
            try:
                conn.request(method, t[3], t[4], extra, blen, self.pool_size > 0, read_t, deadline)
                if blen == -1:
                    _send_chunked(conn, body)
                elif body is not None:
                    conn.send(body)
                # The response owns the connection from here (and hands it back itself).
                return conn.getresponse(method == "HEAD", url)
            except BaseException as e:
                conn.close()
                # Sent again only if the server cannot have seen it: a reused connection that
                # ended before any byte of the response, an idempotent method, a repeatable body.
                if (attempt == 0 and isinstance(e, OSError) and conn.stale() and method in _IDEMPOTENT
                        and blen != -1):
                    continue
                raise

    def get(self, url, **kw):
        if kw or self.headers or self.auth is not None:
            return self.request("GET", url, **kw)
        # The common case without options skips the keyword machinery.
        tmo = _timeouts(self.timeout)
        r = self._send("GET", url, None, None, tmo)
        if r.status_code in _REDIRECTS:
            r = self._follow(r, "GET", url, None, None, tmo)
        return r._read_body()

    def head(self, url, **kw):
        kw.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kw)

    def post(self, url, data=None, json=None, **kw):
        return self.request("POST", url, data=data, json=json, **kw)

    def put(self, url, data=None, **kw):
        return self.request("PUT", url, data=data, **kw)

    def patch(self, url, data=None, **kw):
        return self.request("PATCH", url, data=data, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)


# Module-level functions: one connection per request, closed once the body is read (pool_size
# 0); one shared instance, so its URL cache saves the parsing on repeated URLs.
_oneshot = Session(pool_size=0)


def request(method, url, **kw):
    """One request on a new connection (closed when the body is read); see Session.request."""
    return _oneshot.request(method, url, **kw)


def get(url, **kw):
    """GET url; returns a Response with its body read (stream=True: read on demand).
    timeout: seconds, (connect, read) or (connect, read, total)."""
    return _oneshot.get(url, **kw)


def head(url, **kw):
    kw.setdefault("allow_redirects", False)
    return _oneshot.request("HEAD", url, **kw)


def post(url, data=None, json=None, **kw):
    return _oneshot.request("POST", url, data=data, json=json, **kw)


def put(url, data=None, **kw):
    return _oneshot.request("PUT", url, data=data, **kw)


def patch(url, data=None, **kw):
    return _oneshot.request("PATCH", url, data=data, **kw)


def delete(url, **kw):
    return _oneshot.request("DELETE", url, **kw)
