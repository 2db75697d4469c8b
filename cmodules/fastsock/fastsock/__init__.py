# SPDX-License-Identifier: MIT
# fastsock: a fast, lean HTTP/1.1 client for MicroPython. Parsing and byte moving happen in
# C (_fastsock); this file only shapes requests and responses. Names follow micropython-lib
# `requests`, so `import fastsock as requests` works for common code.

import _fastsock
# requests' exception names (fastsock.exceptions holds them too): all OSError subclasses.
from _fastsock import (  # noqa: F401 (re-exported)
    ConnectionError,
    ConnectTimeout,
    LimitError,
    ProtocolError,
    ReadTimeout,
    RequestException,
    TimeoutError,
    TLSError,
)

__version__ = _fastsock.VERSION
_REDIRECTS = _fastsock.REDIRECTS
# RFC 9110 9.2.2: only these may be sent again automatically.
_IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE")
_NO_TIMEOUTS = (0, 0, None)
# Bodies sent as they are; one global, as builtins are found by a linear search per lookup.
_BUFFERS = (bytes, bytearray, memoryview)


# requests.exceptions' other names for the same classes; fastsock.exceptions is this module.
Timeout = TimeoutError
SSLError = TLSError
ChunkedEncodingError = ProtocolError


class TooManyRedirects(ProtocolError):
    pass


class InvalidURL(ValueError):
    """A URL fastsock cannot request (scheme, host, port, characters); a ValueError, as before."""


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
    if isinstance(ca, (bytearray, memoryview)):
        ca = bytes(ca)  # hashable, and later changes to the caller's buffer do not leak in
    # The type goes before the data: a path is never compared with CA bytes (a warning on
    # the device's console).
    key = (verify, type(ca).__name__, ca) if verify else (False,)
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


def _basic(pair):
    # The Authorization value for (user, password): RFC 7617, credentials UTF-8.
    from binascii import b2a_base64

    return "Basic " + str(b2a_base64(("%s:%s" % pair).encode())[:-1], "ascii")


_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
# What a request target may carry as is (requests' requote_uri set); the rest is escaped.
_TARGET_SAFE = _SAFE + b"!#$&'()*+,/:;=?@[]"
_HEX = b"0123456789ABCDEFabcdef"
_HOST_CHARS = _SAFE[:-1]  # letters, digits, "-", ".", "_": what DNS names and IPv4 use


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


def _form_value(v):
    # bytes go as the bytes; anything else as its str.
    return v if isinstance(v, (bytes, bytearray)) else str(v)


def _pairs(fields):
    # dict or sequence of pairs -> (key, value) pairs; list values repeat the key, None is left
    # out (as requests does).
    for k, v in fields.items() if hasattr(fields, "items") else fields:
        for one in v if isinstance(v, (list, tuple)) else (v,):
            if one is not None:
                yield k, one


def urlencode(params):
    """dict or sequence of pairs -> 'a=1&b=x+y' (form encoding, as requests sends it); list
    values repeat the key, None values are left out, bytes are encoded as the bytes."""
    return "&".join(_quote_form(k) + "=" + _quote_form(v) for k, v in _pairs(params))


def _quote_form(v):
    return quote(_form_value(v)).replace("%20", "+")


def _escape_ok(raw, i):
    # A "%" that starts a valid %XX escape (left alone).
    return i + 2 < len(raw) and raw[i + 1] in _HEX and raw[i + 2] in _HEX


def _unquote(s):
    # %XX escapes (of URL credentials) -> str.
    raw = s.encode()
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == 0x25 and _escape_ok(raw, i):
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return str(out, "utf-8")


def _requote(target):
    # Percent-encode what may not appear in a request target (non-ASCII as UTF-8, spaces,
    # quotes...) and leave valid escapes alone; control characters are refused.
    raw = target.encode()
    out = None
    for i in range(len(raw)):
        b = raw[i]
        if b < 0x20 or b == 0x7F:
            raise InvalidURL("control character in URL %r" % target)
        if b in _TARGET_SAFE or (b == 0x25 and _escape_ok(raw, i)):
            if out is not None:
                out.append(chr(b))
        else:
            if out is None:
                out = [raw[:i].decode()]
            out.append("%%%02X" % b)
    return target if out is None else "".join(out)


def _check_host(host, url):
    # Checked before any network activity: a host with NUL, CR, LF, spaces or escapes must
    # never reach DNS or a connection. IPv6 literals (the part inside []) are hex, ":" and ".".
    allowed = b"0123456789abcdefABCDEF:." if ":" in host else _HOST_CHARS
    raw = host.encode()
    for b in raw:
        if b not in allowed:
            raise InvalidURL("invalid host in URL %r%s" % (url, " (non-ASCII names: use the xn-- form)"
                                                         if len(raw) != len(host) else ""))


def _parse_url(url):
    # -> (scheme, host, port, target, credentials or None); anything unsupported or malformed
    # is a clear error before any network activity. The fragment is never sent.
    if not isinstance(url, str):
        raise TypeError("url must be a str")
    i = url.find("://")
    if i <= 0:
        raise InvalidURL("invalid URL %r: expected http://host[:port]/path" % url)
    scheme = url[:i].lower()
    if scheme != "http" and scheme != "https":
        raise InvalidURL("unsupported URL scheme %r in %r" % (scheme, url))
    rest = url[i + 3 :]
    end = len(rest)
    for c in "/?#":
        j = rest.find(c)
        if 0 <= j < end:
            end = j
    authority = rest[:end]
    target = rest[end:].split("#", 1)[0]
    if not target or target[0] != "/":
        target = "/" + target
    creds = None
    j = authority.rfind("@")
    if j >= 0:
        user, _, password = authority[:j].partition(":")
        creds = (_unquote(user), _unquote(password))
        authority = authority[j + 1 :]
    port = 443 if scheme == "https" else 80
    if authority.startswith("["):
        j = authority.find("]")
        if j < 0:
            raise InvalidURL("invalid IPv6 address in URL %r" % url)
        host = authority[1:j]
        tail = authority[j + 1 :]
        if tail:
            if tail[0] != ":":
                raise InvalidURL("invalid URL %r" % url)
            port = tail[1:]
    else:
        j = authority.rfind(":")
        host = authority
        if j >= 0:
            host, port = authority[:j], authority[j + 1 :]
        if ":" in host:
            raise InvalidURL("invalid host in URL %r (IPv6 addresses go in [])" % url)
    if isinstance(port, str):
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidURL("invalid port in URL %r" % url)
        port = int(port)
    if not host:
        raise InvalidURL("no host in URL %r" % url)
    _check_host(host, url)
    return scheme, host, port, _requote(target), creds


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


def _is_pairs(data):
    # data=[("k", "v"), ...] is a form, as in requests (a list of bytes pieces is an upload).
    return isinstance(data, (list, tuple)) and all(isinstance(p, tuple) and len(p) == 2 for p in data)


def _encode_body(data, json, files, headers, size=None):
    # -> body (a buffer, a _Multipart, a _Stream over a stream or iterator, or None); sets
    # Content-Type unless the caller gave one. Text is UTF-8, so lengths are byte lengths.
    # size: the caller's Content-Length, the promised size of a stream or iterator.
    if files:
        from fastsock._more import _Multipart

        if data is not None and not (isinstance(data, dict) or _is_pairs(data)):
            raise TypeError("with files=, data must be a dict or pairs of form fields")
        body = _Multipart([(k, _form_value(v)) for k, v in _pairs(data or ())], files)
        headers.setdefault("content-type", ("Content-Type", "multipart/form-data; boundary=" + body.boundary))
        return body
    if json is not None:
        import json as _json

        headers.setdefault("content-type", ("Content-Type", "application/json"))
        return _ascii_json(_json.dumps(json))
    if data is None:
        return None
    if isinstance(data, dict) or _is_pairs(data):
        headers.setdefault("content-type", ("Content-Type", "application/x-www-form-urlencoded"))
        return urlencode(data).encode()
    if isinstance(data, _BUFFERS):
        return data
    if isinstance(data, str):
        return data.encode()
    if hasattr(data, "readinto") or hasattr(data, "read") or hasattr(data, "__next__") or hasattr(data, "__iter__"):
        from fastsock._more import _Stream

        return _Stream(data, size)
    raise TypeError("data must be bytes, str, dict, pairs, a stream or an iterator")


def _ascii_json(text):
    # Non-ASCII as \uXXXX escapes, as requests (CPython's json) sends it: the body is then the
    # same bytes whatever charset the server assumes.
    raw = text.encode()
    if len(raw) == len(text):
        return raw
    out = []
    for c in text:
        n = ord(c)
        if n < 128:
            out.append(c)
        elif n < 0x10000:
            out.append("\\u%04x" % n)
        else:
            n -= 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (n >> 10), 0xDC00 + (n & 0x3FF)))
    return "".join(out).encode()


def _repeatable(body):
    # Can this body be sent again (a retry, a 307/308 redirect)? Bodies that are not buffers
    # are fastsock._more's _Multipart or _Stream objects, which know.
    return body is None or isinstance(body, _BUFFERS) or body.repeatable


def _header(k, v):
    # A caller's header as (name, value) for the C writer, which checks both are tokens/text.
    if not isinstance(k, str):
        raise TypeError("header name must be a str, not %s" % type(k).__name__)
    if isinstance(v, (bytearray, memoryview)):
        v = bytes(v)
    return k, v if v is None or isinstance(v, (str, bytes)) else str(v)


class Session:
    """Keeps connections alive per host:port (at most pool_size idle ones in all, checked
    before reuse), cookies (`cookies`, a fastsock.CookieJar) and default headers, auth and
    timeout for every request. Use as a context manager.
    https: verify=True checks the server's chain and host name (verify=False must be explicit);
    ca= PEM/DER bytes or a file path replaces the default CA store."""

    def __init__(self, headers=None, auth=None, timeout=None, pool_size=4, max_redirects=30,
                 verify=True, ca=None):
        self.headers = dict(headers) if headers else {}
        self.auth = auth
        self.timeout = timeout
        self.pool_size = pool_size
        self.max_redirects = max_redirects
        self.verify = verify
        self.ca = ca
        self._jar = None  # made when a cookie first arrives or `cookies` is first read
        self._pool = _fastsock.Pool(pool_size)  # owns the idle connections (fs_pool.c)
        self._urls = {}
        # In a request (a list: an item store costs less than storing an attribute of an
        # object whose class has a property). See request().
        self._busy = [False]
        self._guarded = True

    @property
    def cookies(self):
        if self._jar is None:
            from fastsock._more import CookieJar

            self._jar = CookieJar()
        return self._jar

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._pool.close()

    def request(self, method, url, params=None, data=None, headers=None, cookies=None, files=None,
                auth=None, timeout=None, allow_redirects=True, stream=False, verify=None, json=None,
                ca=None):
        """Send a request; returns a Response. By default the body is read before returning
        and the connection handed back; stream=True leaves it to be read on demand (content,
        iter_content, readinto, save), holding the connection until then or close()/`with`.
        verify/ca: as for the Session, for this request. Positional arguments in requests'
        Session.request order."""
        busy = self._busy
        if busy[0]:
            # A scheduled callback (Timer, Pin IRQ) running in one of this Session's waits:
            # the Session's state is mid-request. A callback gets a Session of its own.
            raise RuntimeError("Session in use by another call (a callback needs its own Session)")
        busy[0] = self._guarded
        try:
            if not isinstance(method, str):
                raise TypeError("method must be a str, not %s" % type(method).__name__)
            method = method.upper()
            tmo = _timeouts(self.timeout if timeout is None else timeout)
            if auth is None:
                auth = self.auth
            hdrs = {}
            for src in (self.headers, headers):
                if src:
                    for k, v in src.items():
                        k, v = _header(k, v)
                        if v is None:
                            hdrs.pop(k.lower(), None)  # None removes a header, as in requests
                        else:
                            hdrs[k.lower()] = (k, v)
            if auth is not None:
                hdrs.setdefault("authorization", ("Authorization", _basic(auth)))
            # The body's framing is fastsock's, computed from the body (as requests recomputes
            # Content-Length); a caller's Content-Length is only the promised size of a stream.
            size = hdrs.pop("content-length", None)
            hdrs.pop("transfer-encoding", None)
            body = _encode_body(data, json, files, hdrs, size and size[1])
            if params:
                # The query goes before the fragment (kept for r.url, never sent).
                query = urlencode(params)
                if query:
                    url, hash_, frag = url.partition("#")
                    url += ("&" if "?" in url else "?") + query + hash_ + frag
            tls = None
            if verify is not None or ca is not None:
                tls = (self.verify if verify is None else verify, self.ca if ca is None else ca)
            if cookies:
                # The request's own cookies go to its host only, never across a redirect.
                cookies = (self._target(url)[1], dict(cookies.items()))
            r = self._send(method, url, hdrs, body, tmo, tls, None, cookies)
            if allow_redirects and r.status_code in _REDIRECTS:
                r = self._follow(r, method, url, hdrs, body, tmo, tls)
            if not stream:
                r._read_body()  # the bytes object itself is made on first use of .content
            return r
        finally:
            busy[0] = False

    def _follow(self, r, method, url, hdrs, body, tmo, tls=None):
        from fastsock._more import CookieJar, _join_url

        history = []
        jar = self._jar
        if jar is False:
            # Module-level calls: cookies set along the redirects live for this call only.
            jar = CookieJar()
            t = self._target(url)
            jar._store(r, t[1], t[3])
        if hdrs is None:
            hdrs = {}
        # An explicit Cookie header is dropped on every redirect, as requests does; the jar
        # sends what the rules allow to each hop.
        hdrs.pop("cookie", None)
        while "location" in r._fields:
            if len(history) >= self.max_redirects:
                r.close()
                raise TooManyRedirects(5, "more than %d redirects (last to %s)" % (self.max_redirects, url))
            try:
                # r.url keeps a fragment: the Location's, else the one before (as requests).
                loc = r._fields["location"]
                frag = loc.partition("#")[2] or url.partition("#")[2]
                location = _requote(_join_url(url, loc) + ("#" + frag if frag else ""))
                to, now = self._target(location), self._target(url)
                cross = to[0] != now[0] or to[6] != now[6]  # host:port or scheme
            except ValueError as e:
                r.close()
                raise ProtocolError(5, "%s (Location %r from %s)" % (e.args[0], r._fields["location"], url))
            r.close()
            history.append(r)
            # 303 (and 301/302 for non-GET, as browsers do) turn into a body-less GET.
            if r.status_code == 303 or (r.status_code in (301, 302) and method not in ("GET", "HEAD")):
                method = "GET" if method != "HEAD" else "HEAD"
                body = None
                for k in ("content-type", "content-length", "transfer-encoding"):
                    hdrs.pop(k, None)
            elif not _repeatable(body):
                raise ProtocolError(5, "cannot repeat a streamed body for a %d redirect" % r.status_code)
            if cross:
                # Another host, port or scheme (https -> http would send them in clear).
                hdrs.pop("authorization", None)
                hdrs.pop("proxy-authorization", None)
            url = location
            r = self._send(method, url, hdrs, body, tmo, tls, jar)
            if r.status_code not in _REDIRECTS:
                break
        r.history = history
        return r

    def _target(self, url):
        # URL -> (pool key, host, port, request target, Host header, url, https, Basic auth
        # from the URL's credentials or None), cached per session.
        t = self._urls.get(url)
        if t is None:
            scheme, host, port, target, creds = _parse_url(url)
            https = scheme == "https"
            hostport = host if ":" not in host else "[%s]" % host
            if port != (443 if https else 80):
                hostport += ":%d" % port
            key = "%s:%d" % (host, port)
            basic = _basic(creds) if creds else None
            # t[5]: r.url, the URL as sent (percent-encoded), its fragment kept.
            t = (key, host, port, target, hostport, _requote(url), https, basic)
            if len(self._urls) >= 16:
                self._urls.clear()
            self._urls[url] = t
        return t

    def _send(self, method, url, hdrs, body, tmo, tls=None, jar=None, mine=None):
        # jar: the cookies to send and keep (None: the Session's; False: none, module-level
        # calls); mine: (host, {name: value}) from the request's cookies=.
        if jar is None:
            jar = self._jar
        t = self._urls.get(url)
        if t is None:
            t = self._target(url)
        cfg, key = None, t[0]
        if t[6]:
            # Pooled TLS connections are matched on what was verified (the verify flag and the
            # CA data's digest), so one verified one way never serves a request that asked
            # for another.
            cfg = _tls_config(self.verify, self.ca) if tls is None else _tls_config(*tls)
            key = (key, cfg.digest)
        connect_t, read_t, deadline = tmo
        buffer = body is not None and isinstance(body, _BUFFERS)
        if body is None:
            blen = 0 if method in ("POST", "PUT", "PATCH") else None
        elif buffer:
            blen = _fastsock.nbytes(body)
        else:
            blen = body.length  # -1: chunked
        extra = hdrs.values() if hdrs else None
        if t[7] is not None or jar or mine:
            extra = list(extra or ())
            if t[7] is not None and not (hdrs and "authorization" in hdrs):
                extra.append(("Authorization", t[7]))
            if (jar or mine) and not (hdrs and "cookie" in hdrs):
                from fastsock._more import _cookie_header

                value = _cookie_header(jar, t[1], t[3], t[6], mine[1] if mine and mine[0] == t[1] else None)
                if value:
                    extra.append(("Cookie", value))
        for attempt in (0, 1):
            conn = self._pool.connect(key, t[1], t[2], cfg, connect_t, deadline)
            try:
                conn.request(method, t[3], t[4], extra, blen, self.pool_size > 0, read_t, deadline)
                if buffer:
                    conn.send(body)
                elif body is not None:
                    body.send(conn)
                # The response owns the connection from here (and hands it back itself).
                r = conn.getresponse(method == "HEAD", t[5])
                break
            except BaseException as e:
                conn.close()
                # Sent again only if the server cannot have seen it: a reused connection that
                # ended before any byte of the response, an idempotent method, a repeatable body.
                if (attempt == 0 and isinstance(e, OSError) and conn.stale() and method in _IDEMPOTENT
                        and _repeatable(body)):
                    continue
                raise
        if jar is not False and "set-cookie" in r._fields:
            (self.cookies if jar is None else jar)._store(r, t[1], t[3])
        return r

    def get(self, url, params=None, **kw):
        if params is not None:
            kw["params"] = params
        busy = self._busy
        if kw or self.headers or self.auth is not None or busy[0]:
            return self.request("GET", url, **kw)  # (which refuses a busy Session)
        # The common case without options skips the keyword machinery.
        tmo = _timeouts(self.timeout)
        busy[0] = self._guarded
        try:
            r = self._send("GET", url, None, None, tmo)
            if r.status_code in _REDIRECTS:
                r = self._follow(r, "GET", url, None, None, tmo)
            return r._read_body()
        finally:
            busy[0] = False

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
_oneshot._jar = False  # each call's own jar (see _follow): nothing carries over to the next
_oneshot._guarded = False  # module-level calls share no state: a callback may make its own


def __getattr__(name):
    # fastsock.exceptions is the module itself (its classes have requests' names);
    # fastsock.CookieJar, .codes and .HTTPError without importing fastsock._more until asked for.
    if name == "exceptions":
        import fastsock

        return fastsock
    if name in ("CookieJar", "codes", "HTTPError"):
        import fastsock._more  # by its full name: "from fastsock import _more" would ask this function

        return getattr(fastsock._more, name)
    raise AttributeError(name)


def request(method, url, data=None, json=None, headers=None, **kw):
    """One request on a new connection (closed when the body is read); see Session.request.
    Positional arguments in micropython-lib requests' order."""
    return _oneshot.request(method, url, data=data, json=json, headers=headers, **kw)


def get(url, params=None, **kw):
    """GET url; returns a Response with its body read (stream=True: read on demand).
    timeout: seconds, (connect, read) or (connect, read, total)."""
    if params is not None:
        kw["params"] = params
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
