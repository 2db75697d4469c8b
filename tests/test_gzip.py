# SPDX-License-Identifier: MIT
"""Content-Encoding gzip and deflate decoded while streaming, where the firmware has MicroPython's
`deflate` module (the ESP32 image; here the unix port, build/host-unix): `Accept-Encoding: gzip,
deflate` is sent only there, every read path (content, iter_content, iter_lines, readinto,
save) gives the decoded bytes, `r.raw` stays the encoded stream, and a corrupt or cut stream is a
ProtocolError, never short data. Oracles: CPython's gzip/zlib and sha256 of what was served,
the bytes the client sent (wire recorder), the GC heap during a download."""

import gzip
import hashlib
import zlib

import pytest
from rawserver import RawServer, keep_alive
from wire import fastsock_wire, normalize

TEXT = "".join("line %d: the quick brown fox jumps over the lazy dog\n" % i for i in range(12000)).encode()


@pytest.fixture(scope="module")
def text_url(nginx, www):
    (www / "text.txt").write_bytes(TEXT)
    return nginx.url("/gz/text.txt")


def test_accept_encoding_only_where_deflate_is(mp64, mpunix, tmp_path):
    code = "import fastsock\nfastsock.get(URL + '/a')\n"
    host = normalize(fastsock_wire(mp64, tmp_path, code))[1]
    unix = normalize(fastsock_wire(mpunix, tmp_path, code))[1]
    assert host["accept-encoding"] == "identity"
    assert unix["accept-encoding"] == "gzip, deflate"


def test_gzip_decoded_on_every_read_path(mpunix, text_url, tmp_path):
    want = hashlib.sha256(TEXT).hexdigest()
    saved = tmp_path / "saved.txt"
    raw = tmp_path / "raw.gz"
    out = mpunix.run("""
        import fastsock, hashlib, binascii, gc
        def hexd(h):
            return binascii.hexlify(h.digest()).decode()
        import fastsock._more as _more  # (loaded by the first compressed response; not counted below)
        u = %r
        s = fastsock.Session()
        def peak_of(headers, path):
            # The GC heap live at its fullest while save() runs, above what was live before.
            gc.collect()
            base = gc.mem_alloc()
            peak = [0]
            def progress(done, total):
                gc.collect()  # what is live, not garbage waiting for a collection
                peak[0] = max(peak[0], gc.mem_alloc() - base)
                peak.append(total)
            r = s.get(u, stream=True, headers=headers)
            n = r.save(path, progress, piece=4096)
            return n, peak[0], peak[-1]
        print("PLAIN", *peak_of({"Accept-Encoding": "identity"}, %r))
        print("SAVE", *peak_of(None, %r))
        r = fastsock.get(u)
        print("CONTENT", r.headers.get("content-encoding"), hexd(hashlib.sha256(r.content)))
        h = hashlib.sha256()
        for piece in s.get(u, stream=True).iter_content(1000):
            h.update(piece)
        print("ITER", hexd(h))
        h = hashlib.sha256()
        for piece in s.get(u, stream=True).iter_content(None):
            h.update(piece)
        print("ARRIVED", hexd(h))
        h = hashlib.sha256()
        for piece in s.get(u, stream=True).iter_content(4096, view=True):
            h.update(piece)
        print("VIEW", hexd(h))
        print("LINES", sum(1 for _ in s.get(u, stream=True).iter_lines()))
        r = s.get(u, stream=True)
        buf = bytearray(777)
        h = hashlib.sha256()
        n = r.readinto(buf)
        while n:
            h.update(buf[:n])
            n = r.readinto(buf)
        print("READINTO", hexd(h))
        r = s.get(u, stream=True)
        with open(%r, "wb") as f:
            d = r.raw.read(1000)
            while d:
                f.write(d)
                d = r.raw.read(1000)
        print("CONNECTIONS", fastsock.stats()["connections"])
        """ % (text_url, str(tmp_path / "plain.txt"), str(saved), str(raw)), tmp_path)
    got = dict(line.split(" ", 1) for line in out.splitlines())
    assert got["CONTENT"] == "gzip " + want
    for key in ("ITER", "ARRIVED", "VIEW", "READINTO"):
        assert got[key] == want, key
    assert int(got["LINES"]) == TEXT.count(b"\n")
    n, peak, total = got["SAVE"].split()
    assert int(n) == len(TEXT) and hashlib.sha256(saved.read_bytes()).hexdigest() == want
    assert total == "None"  # progress: the decoded size is not known in advance
    plain_n, plain_peak, plain_total = got["PLAIN"].split()
    assert int(plain_n) == int(plain_total) == len(TEXT)
    # Decoding costs the window (2**wbits, 32 KB for gzip), the decoder's state and the 4 KB
    # piece buffer on top of the same download without it: no more.
    extra = int(peak) - int(plain_peak)
    assert 32 * 1024 <= extra <= 40 * 1024, "gzip save() used %d bytes more GC heap" % extra
    # raw stays the encoded stream, as in requests.
    assert raw.read_bytes()[:2] == b"\x1f\x8b" and gzip.decompress(raw.read_bytes()) == TEXT
    # One connection for all of it: each decoded body ended cleanly and was handed back.
    assert got["CONNECTIONS"] == "2"  # the Session's and the one-shot get()'s


def _answer(coding, body, chunked=False, head=b""):
    fields = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n" % coding + head
    if chunked:
        return fields + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    return fields + b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_codings_and_broken_streams(mpunix, tmp_path):
    data = b"fastsock " * 5000
    gz = gzip.compress(data)
    table = {
        "/deflate": _answer(b"deflate", zlib.compress(data)),
        "/gzip-chunked": _answer(b"gzip", gz, chunked=True),
        "/x-gzip": _answer(b"x-gzip", gz),
        "/br": _answer(b"br", b"not brotli"),
        "/identity": _answer(b"identity", data),
        "/corrupt": _answer(b"gzip", gz[:100] + bytes(b ^ 0x55 for b in gz[100:200]) + gz[200:]),
        "/cut": _answer(b"gzip", gz[: len(gz) // 2]),
        "/badcrc": _answer(b"gzip", gz[:-8] + b"\0\0\0\0" + gz[-4:]),
        "/empty": _answer(b"gzip", b""),
    }

    def respond(raw):
        return table[raw.split(b" ", 2)[1].decode()]

    with RawServer(keep_alive(respond)) as srv:
        out = mpunix.run("""
            import fastsock
            s = fastsock.Session()
            for path in ("/deflate", "/gzip-chunked", "/x-gzip", "/br", "/identity", "/corrupt", "/cut",
                         "/badcrc", "/empty"):
                try:
                    r = s.get(%r + path)
                    print(path, "OK", len(r.content), r.content[:10])
                except Exception as e:
                    print(path, type(e).__name__, e)
                print(path, "NEXT", s.get(%r + "/identity").content == %r)
            print("OPEN", fastsock.stats()["open"] <= 1)
            """ % (srv.url(""), srv.url(""), data), tmp_path)
    got = {}
    for line in out.splitlines():
        path, rest = line.split(" ", 1)
        got.setdefault(path, []).append(rest)
    assert got["/deflate"][0] == "OK %d %r" % (len(data), data[:10])
    assert got["/gzip-chunked"][0] == "OK %d %r" % (len(data), data[:10])
    assert got["/x-gzip"][0] == "OK %d %r" % (len(data), data[:10])
    assert got["/br"][0] == "OK 10 b'not brotli'"  # a coding it cannot decode: as sent, as requests does
    assert got["/identity"][0] == "OK %d %r" % (len(data), data[:10])
    for path in ("/corrupt", "/cut", "/badcrc"):
        assert got[path][0].startswith("ProtocolError"), (path, got[path])
        assert "gzip" in got[path][0], got[path]
    assert got["/empty"][0] == "OK 0 b''", got["/empty"]  # nothing to decode, as requests
    for path, lines in got.items():
        if path != "OPEN":
            assert lines[1] == "NEXT True", (path, lines)  # the Session goes on
    assert got["OPEN"] == ["True"]
