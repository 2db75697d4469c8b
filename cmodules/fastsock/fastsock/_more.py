# SPDX-License-Identifier: MIT
# fastsock's less used half, imported on first use by the package (fastsock/__init__.py) and by
# the C Response type: multipart uploads, the cookie jar, RFC 3986 redirect references, Link
# headers, iter_lines, HTTPError. A leaf: it imports only _fastsock, never the package above it,
# so the layers run one way (C <- _more <- __init__). Kept apart so a program that never needs
# it pays neither RAM for it at import nor, on the host, the compile.
import _fastsock
from _fastsock import REDIRECTS, LimitError, RequestException


class HTTPError(RequestException):
    """Raised by Response.raise_for_status() for 4xx and 5xx responses."""

    def __init__(self, msg, response=None):
        super().__init__(msg)
        self.response = response


def _raise_http_error(r):
    # Response.raise_for_status() for 4xx/5xx.
    code = r.status_code
    kind = "Client" if code < 500 else "Server"
    raise HTTPError("%d %s Error: %s for url %s" % (code, kind, r.reason, r.url), r)


def _remove_dots(path):
    # RFC 3986 5.2.4: "." and ".." segments resolved.
    out = []
    segs = path.split("/")
    for i, seg in enumerate(segs):
        if seg == ".":
            if i == len(segs) - 1:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if i == len(segs) - 1:
                out.append("")
        else:
            out.append(seg)
    res = "/".join(out)
    return res if res.startswith("/") else "/" + res


def _has_scheme(ref):
    # RFC 3986 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
    i = ref.find(":")
    if i <= 0 or not ref[0].isalpha():
        return False
    return all(c.isalpha() or c.isdigit() or c in "+-." for c in ref[:i]) and "/" not in ref[:i]


def _split(url):
    # "//authority/path?query" (what follows "scheme:") -> (authority, path, "?query" or "").
    rest = url[2:]
    j = len(rest)
    for c in "/?":
        k = rest.find(c)
        if 0 <= k < j:
            j = k
    path, q, query = rest[j:].partition("?")
    return rest[:j], path, q + query


def _join_url(base, ref):
    # Resolve a Location reference against the URL it came from (RFC 3986 5.2.2); the fragment
    # is dropped (never sent) and schemes other than http/https are refused.
    ref = ref.strip().split("#", 1)[0]
    scheme = base[: base.find(":")].lower()
    if _has_scheme(ref):
        scheme = ref[: ref.find(":")].lower()
        if scheme != "http" and scheme != "https":
            raise ValueError("redirect to unsupported scheme %r" % scheme)
        ref = ref[len(scheme) + 1 :]
        if not ref.startswith("//"):
            raise ValueError("redirect to %s: without a host" % scheme)
    if ref.startswith("//"):
        authority, path, query = _split(ref)
        return "%s://%s%s%s" % (scheme, authority, _remove_dots(path) if path else "", query)
    authority, path, query = _split(base[len(scheme) + 1 :].split("#", 1)[0])
    rpath, q, rquery = ref.partition("?")
    if rpath:
        if rpath[0] != "/":
            # Merge (5.2.3): the base path up to its last "/", then the reference.
            rpath = (path[: path.rfind("/") + 1] if path else "/") + rpath
        path = _remove_dots(rpath)
    if rpath or q:
        query = q + rquery
    return "%s://%s%s%s" % (scheme, authority, path, query)


# ---- Response members written in Python (the C type calls these): cold or rarely used code is
# smaller as frozen bytecode than as C.

# Longest line iter_lines() holds: a line is kept whole in memory until its end arrives.
_MAX_LINE = 8192


def _iter_lines(r, chunk_size=512, delimiter=None, max_line=_MAX_LINE):
    # Response.iter_lines(): the body's lines without their ending (b"\n" and a b"\r" before it,
    # or exactly `delimiter`); a last line without one too. Memory stays bounded: a line longer
    # than max_line raises LimitError. Arguments are checked now, not at the first line.
    if delimiter is not None and not isinstance(delimiter, bytes):
        raise TypeError("delimiter must be bytes or None")
    if delimiter == b"":
        raise ValueError("delimiter must not be empty")
    if not isinstance(max_line, (int, bool)):
        raise TypeError("max_line must be an int")
    if max_line < 1:
        raise ValueError("max_line must be >= 1")
    return _lines(r, r.iter_content(chunk_size), delimiter, max_line)


def _int_arg(v, name, lo, hi, clamp):
    # fs_uint_arg's cold half (fs_response.h): anything but a small int in lo..hi. Bools count
    # as ints, as in CPython; with clamp, a value above hi (any size) gives hi.
    if not isinstance(v, (int, bool)):
        raise TypeError("%s must be an int" % name)
    if clamp and v > hi:
        return hi
    if not lo <= v <= hi:
        raise ValueError("%s must be >= %d" % (name, lo) if clamp else "%s must be %d..%d" % (name, lo, hi))
    return int(v)


def _save(r, target, progress=None, piece=4096):
    # Response.save(): every argument checked before the body is touched (a bad one leaves the
    # response as it was); the C half (_save) writes the body.
    piece = _int_arg(piece, "piece", 1, 0x7FFFFFFF, True)
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable or None")
    if isinstance(target, str):
        if "\0" in target:
            raise ValueError("NUL in target")  # open() would cut the path there
    elif not hasattr(target, "write"):
        raise TypeError("save() needs a path or an object with write()")
    return r._save(target, progress, piece)


def _read(r, n=-1):
    # Response.read(n=-1), r.raw.read: up to n bytes of the body as sent (a compressed body stays
    # compressed), waiting for them as a file does; the rest for None or a negative n; b"" at
    # the end. The stream read (_rawread) allocates what it is asked for: at most 4 KB at a time,
    # so read(2**31) of a short body allocates the body, not 2 GB.
    if n is None:
        n = -1
    elif not isinstance(n, (int, bool)):
        raise TypeError("n must be an int or None")
    if n < 0:
        return r._rawread()
    if n <= 4096:
        return r._rawread(n)  # all of n unless the body ends first, as a stream read waits
    out = bytearray()
    while len(out) < n:
        d = r._rawread(min(n - len(out), 4096))
        if not d:
            break
        out += d
    return bytes(out) if out else b""  # bytes(bytearray()) copies from NULL (UBSan)


def _lines(r, pieces, delimiter, max_line):
    pending = b""
    for piece in pieces:
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


def _short_write(returned, n):
    # save() into a writer whose write() took less (or more) than the piece it was given.
    raise OSError(5, "save(): write() returned %r for %d bytes (return None or the length)" % (returned, n))


def _encoding(r):
    # Response.encoding from Content-Type, as requests.utils.get_encoding_from_headers: the
    # charset parameter (quotes stripped), else ISO-8859-1 for text, UTF-8 for JSON, else None.
    ctype = r._fields.get("content-type")
    if not ctype:
        return None
    tokens = ctype.split(";")
    charset = None
    for param in tokens[1:]:
        key, eq, value = param.strip().partition("=")
        if eq and key.strip("\"' ").lower() == "charset":
            charset = value.strip("\"' ")  # the last one, as requests' dict of parameters keeps
    if charset is not None:
        return charset.strip("'\"")
    ctype = tokens[0].strip()
    if "text" in ctype:
        return "ISO-8859-1"
    if "application/json" in ctype:
        return "utf-8"
    return None


# Charsets .text decodes, by CPython's names for them (normalised): ISO-8859-1 byte by byte;
# UTF-8 (the common spellings are recognised in C) and the 7-bit ASCII ones, its subset, as UTF-8.
_LATIN1 = ("iso_8859_1", "iso8859_1", "8859", "cp819", "latin", "latin_1", "latin1", "l1", "iso_ir_100",
           "csisolatin1", "ibm819", "iso_8859_1:1987")
_UTF8 = ("utf_8", "utf8", "utf", "u8", "cp65001", "ascii", "us_ascii", "646", "us", "ansi_x3.4_1968",
         "iso646_us", "cp367", "csascii", "ibm367", "iso_ir_6")


def _text(r):
    # Response.text: the body decoded with r.encoding. UTF-8 as MicroPython's str decodes it
    # (for None and ASCII too); ISO-8859-1 in C (r._latin1_text()); other charsets refused.
    enc = r.encoding
    if enc is not None and _latin1(enc):
        return r._latin1_text()
    return str(r.content, "utf-8")


def _latin1(encoding):
    # True when .text decodes `encoding` as ISO-8859-1, False for UTF-8 and ASCII; any other is
    # refused rather than decoded wrongly.
    if not isinstance(encoding, str):
        raise TypeError("encoding must be a str or None")
    name = encoding.strip().lower().replace("-", "_").replace(" ", "_")
    if name in _LATIN1:
        return True
    if name in _UTF8:
        return False
    raise LookupError("unsupported charset %r: use r.content (bytes) and decode it yourself" % encoding)


def _is_redirect(r):
    # Response.is_redirect, as requests: a redirect status with a Location to go to.
    return r.status_code in REDIRECTS and "location" in r._fields


def _is_permanent_redirect(r):
    return r.status_code in (301, 308) and "location" in r._fields


def _links(r):
    # Response.links: the Link header parsed as requests.utils.parse_header_links does, keyed by
    # rel (else url).
    value = r._fields.get("link", "").strip(" '\"")
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
    for field in r._fields.get_all("set-cookie"):
        pair = _cookie_pair(field)
        if pair is not None:
            cookies[pair[0]] = pair[1]
    return cookies


def _cookie_pair(field):
    # A Set-Cookie value -> (name, value, attributes), or None when it sets nothing (5.2).
    pair, _, attrs = field.partition(";")
    name, eq, value = pair.partition("=")
    name = name.strip()
    return (name, value.strip(), attrs) if eq and name else None


def _mp_param(name, value):
    # A Content-Disposition parameter as requests (urllib3 2) writes it: ", CR, LF escaped; bytes
    # are decoded as UTF-8, and refused as requests refuses them when they are not.
    if isinstance(value, (bytes, bytearray)):
        try:
            value = str(value, "utf-8")
        except UnicodeError:
            raise UnicodeError("multipart %s %r is not UTF-8 (requests sends it as UTF-8 text)" % (name, value))
    else:
        value = str(value)  # a field name of another type goes as its str, as in a form
    return '; %s="%s"' % (name, value.replace("\n", "%0A").replace("\r", "%0D").replace('"', "%22"))


class _Multipart:
    # files= as multipart/form-data in requests' layout (data= fields first), streamed: a file
    # is read in pieces while it is sent, never loaded whole. Content-Length when every size is
    # known (bytes, seekable files), else chunked; seekable files are rewound for a resend.

    def __init__(self, fields, files):
        # fields: the data= form as (name, value) pairs, each value str or bytes.
        from os import urandom

        self.boundary = "".join("%02x" % b for b in urandom(16))
        self.parts = []  # [head bytes, data (bytes) or a file, its start offset or None]
        self.repeatable = True
        for k, v in fields:
            self._add(k, None, v.encode() if isinstance(v, str) else bytes(v), None, None)
        for k, v in files.items() if hasattr(files, "items") else files:
            ctype = extra = None
            if isinstance(v, (tuple, list)):
                name, fp = v[0], v[1]
                ctype = v[2] if len(v) > 2 else None
                extra = v[3] if len(v) > 3 else None
            else:
                fp = v
                name = getattr(v, "name", None)
                name = name.rsplit("/", 1)[-1] if isinstance(name, str) and name[:1] != "<" else k
            if fp is not None:
                self._add(k, name, fp.encode() if isinstance(fp, str) else fp, ctype, extra)
        self.length = len(self.boundary) + 6  # the closing --boundary--CRLF
        for head, fp, start in self.parts:
            size = _fastsock.nbytes(fp) if start is None else self._size(fp, start)
            self.length = -1 if size < 0 or self.length < 0 else self.length + len(head) + size + 2

    def _add(self, key, filename, fp, ctype, extra):
        head = "--%s\r\nContent-Disposition: form-data%s%s\r\n" % (
            self.boundary, _mp_param("name", key), _mp_param("filename", filename) if filename else "")
        if ctype:
            head += "Content-Type: %s\r\n" % ctype
        for hk, hv in (extra or {}).items():
            if hv and hk not in ("Content-Disposition", "Content-Type", "Content-Location"):
                head += "%s: %s\r\n" % (hk, hv)
        start = None
        if not isinstance(fp, (bytes, bytearray, memoryview)):
            try:
                start = fp.seek(0, 1)  # the position (tell() is not on every port)
            except (AttributeError, OSError):
                start = -1
                self.repeatable = False
        self.parts.append((head.encode() + b"\r\n", fp, start))

    @staticmethod
    def _size(fp, start):
        # Bytes from start to the end of a seekable file; -1 if it cannot tell.
        if start < 0:
            return -1
        try:
            end = fp.seek(0, 2)
            fp.seek(start)
        except (AttributeError, OSError):
            return -1
        return end - start

    def pieces(self):
        buf = None
        for head, fp, start in self.parts:
            yield head
            if start is None:
                yield fp
            else:
                if start >= 0:
                    fp.seek(start)
                if not hasattr(fp, "readinto"):
                    piece = fp.read(4096)
                    while piece:
                        yield piece
                        piece = fp.read(4096)
                else:
                    if buf is None:
                        buf = bytearray(4096)
                    view = memoryview(buf)
                    n = fp.readinto(buf)
                    while n:
                        yield view[:n]
                        n = fp.readinto(buf)
            yield b"\r\n"
        yield ("--%s--\r\n" % self.boundary).encode()

    def send(self, conn):
        if self.length < 0:
            _send_chunked(conn, self.pieces())
        else:
            for piece in self.pieces():
                conn.send(piece)


def _http_date(s):
    # RFC 6265 5.1.1, the common forms ("Wdy, DD Mon YYYY HH:MM:SS GMT", "-" separated
    # dates): -> seconds since 1970, or None.
    day = month = year = None
    hms = None
    for tok in s.replace(",", " ").replace("-", " ").split():
        if hms is None and tok.count(":") == 2:
            hms = [int(x) for x in tok.split(":") if x.isdigit()]
        elif day is None and tok.isdigit() and len(tok) <= 2:
            day = int(tok)
        elif month is None and tok[:3].lower() in _MONTHS:
            month = _MONTHS.index(tok[:3].lower()) // 3 + 1
        elif year is None and tok.isdigit():
            year = int(tok)
            year += 2000 if year < 70 else (1900 if year < 100 else 0)
    if None in (day, month, year) or not hms or len(hms) != 3:
        return None
    # Days from 1970-01-01 to year-month-day (proleptic Gregorian).
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return days * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2]


_MONTHS = "janfebmaraprmayjunjulaugsepoctnovdec"


def _is_ip(host):
    return ":" in host or all(c in "0123456789." for c in host)


# A jar's bound on a device: RFC 6265 6.1 asks for at least 50 cookies per domain; one jar
# holds 50 in all. (Each is at most a header line: FS_MAX_LINE_BYTES.)
_JAR_MAX = 50


class CookieJar:
    """The cookies a Session keeps (a small, correct subset of RFC 6265, no public-suffix list):
    stored from every response's Set-Cookie, redirects included, and sent back to the hosts,
    paths and schemes their Domain, Path and Secure allow until they expire. Read it like a
    dict of name -> value; set(name, value, domain=, path=) adds one by hand."""

    def __init__(self):
        # [name, value, domain, host_only, path, secure, expires (time.time() s) or None]
        self._c = []

    def set(self, name, value, domain="", path="/", secure=False):
        """Add or replace a cookie; domain="" sends it to every host."""
        self._put([name, value, domain.lower().lstrip("."), False, path, secure, None])

    def _put(self, c):
        # The list is in creation order; a replacement keeps its place (RFC 6265 5.3 step 11).
        for i, o in enumerate(self._c):
            if o[0] == c[0] and o[2] == c[2] and o[4] == c[4]:
                if c[1] is None:
                    del self._c[i]  # a deletion (expired)
                else:
                    self._c[i] = c
                return
        if c[1] is None:
            return
        if len(self._c) >= _JAR_MAX:
            del self._c[0]  # the oldest goes: a server cannot grow the jar without bound
        self._c.append(c)

    def get(self, name, default=None):
        for c in self._c:
            if c[0] == name:
                return c[1]
        return default

    def __getitem__(self, name):
        v = self.get(name)
        if v is None:
            raise KeyError(name)
        return v

    def __contains__(self, name):
        return self.get(name) is not None

    def __len__(self):
        return len(self._c)

    def __iter__(self):
        return iter(self.keys())

    def keys(self):
        return [c[0] for c in self._c]

    def items(self):
        return [(c[0], c[1]) for c in self._c]

    def clear(self):
        self._c = []

    def _store(self, r, host, target):
        # Set-Cookie fields of response r, from a request to host and target (RFC 6265 5.3).
        import time

        path = target.split("?", 1)[0]
        now = time.time()
        date = _http_date(r._fields.get("date", ""))
        for field in r._fields.get_all("set-cookie"):
            pair = _cookie_pair(field)
            if pair is None:
                continue
            name, value, attrs = pair
            c = [name, value, host, True, None, False, None]
            for attr in attrs.split(";"):
                k, _, v = attr.partition("=")
                k = k.strip().lower()
                v = v.strip()
                if k == "domain" and v:
                    c[2], c[3] = v.lower().lstrip("."), False
                elif k == "path" and v[:1] == "/":
                    c[4] = v
                elif k == "secure":
                    c[5] = True
                elif k == "max-age" and (v[1:] if v[:1] == "-" else v).isdigit():
                    c[6] = now + int(v)  # Max-Age wins over Expires (5.3 step 3)
                elif k == "expires" and (c[6] is None or "max-age" not in attrs.lower()):
                    t = _http_date(v)
                    if t is not None:
                        # Lifetime by the server's own clock: the device's may be unset.
                        c[6] = now + t - (date if date is not None else now)
            d = c[2]
            if not c[3] and d != host and (_is_ip(host) or "." not in d or not host.endswith("." + d)):
                continue  # a Domain the request host does not belong to
            if c[4] is None:
                c[4] = path[: path.rfind("/")] or "/"  # default-path (5.1.4)
            if c[6] is not None and c[6] <= now:
                c[1] = None  # expired: removes a stored one
            self._put(c)


def _cookie_header(jar, host, target, https, mine):
    # The Cookie header value for a request to host and target, or None: the jar's cookies the
    # rules allow (RFC 6265 5.4), after the request's own cookies= (mine: name -> value, or
    # None), which win over stored ones of the same name.
    import time

    now = time.time()
    path = target.split("?", 1)[0]
    mine = mine or {}
    found = [(-len(c[4]), i, c) for i, c in enumerate(jar._c if jar else ())
             if c[0] not in mine and (c[6] is None or c[6] > now) and (not c[5] or https)
             and (c[2] == "" or c[2] == host or (not c[3] and host.endswith("." + c[2]) and not _is_ip(host)))
             and (path == c[4] or path.startswith(c[4] if c[4].endswith("/") else c[4] + "/"))]
    found.sort()  # longer paths first, then earlier created (5.4 step 2; MicroPython's sort is not stable)
    out = ["%s=%s" % kv for kv in mine.items()]
    out += ["%s=%s" % (c[0], c[1]) for _, _, c in found]
    return "; ".join(out) or None


def _send_chunked(conn, body):
    # Chunked upload from a stream (read(n)) or an iterator of bytes/str pieces.
    if hasattr(body, "read"):
        while True:
            piece = body.read(4096)
            if not piece:
                break
            _send_chunk(conn, piece)
    else:
        for piece in body:
            _send_chunk(conn, piece.encode() if isinstance(piece, str) else piece)
    conn.send("0\r\n\r\n")


def _send_chunk(conn, piece):
    n = _fastsock.nbytes(piece)
    if n:
        conn.send("%x\r\n" % n)
        conn.send(piece)
        conn.send("\r\n")


class _Stream:
    # data= as a stream (read()/readinto()) or an iterator of pieces, sent as it is read. Its
    # length: the caller's Content-Length, else a seekable stream's size from its position (as
    # requests measures files), else unknown and sent chunked. A known length is a promise the
    # C writer holds it to: more or fewer bytes close the connection with a ValueError.
    repeatable = False

    def __init__(self, data, size=None):
        self.data = data
        if size is not None:
            if isinstance(size, bytes):
                size = size.decode()
            if not size.isdigit():
                raise ValueError("Content-Length header must be a number of bytes, not %r" % size)
            self.length = int(size)
        else:
            try:
                self.length = _Multipart._size(data, data.seek(0, 1)) if hasattr(data, "read") else -1
            except (AttributeError, OSError):
                self.length = -1

    def send(self, conn):
        data = self.data
        if self.length < 0:
            _send_chunked(conn, data)
        elif hasattr(data, "read"):
            piece = data.read(4096)
            while piece:
                conn.send(piece)
                piece = data.read(4096)
        else:
            for piece in data:
                conn.send(piece.encode() if isinstance(piece, str) else piece)


def _decoder(r, coding):
    # The Response's decoder for Content-Encoding gzip or deflate (zlib): a DeflateIO reading
    # the raw body stream. Other codings (br, ...) are handed out as sent, as requests does
    # without brotli. Memory: a window of 2**wbits bytes (wbits from the stream's header, at
    # most 15: 32 KB) and the decoder's state, from the GC heap, freed with the response.
    coding = coding.strip().lower()
    if coding not in ("gzip", "x-gzip", "deflate"):
        return None
    import deflate

    return deflate.DeflateIO(r, deflate.ZLIB if coding == "deflate" else deflate.GZIP)


class codes:
    # requests.codes: the common names of status codes.
    ok = 200
    created = 201
    accepted = 202
    no_content = 204
    partial_content = 206
    moved_permanently = 301
    found = 302
    see_other = 303
    not_modified = 304
    temporary_redirect = 307
    permanent_redirect = 308
    bad_request = 400
    unauthorized = 401
    forbidden = 403
    not_found = 404
    method_not_allowed = 405
    conflict = 409
    gone = 410
    precondition_failed = 412
    request_entity_too_large = 413
    unprocessable_entity = 422
    too_many_requests = 429
    internal_server_error = 500
    not_implemented = 501
    bad_gateway = 502
    service_unavailable = 503
    gateway_timeout = 504

