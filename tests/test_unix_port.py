# SPDX-License-Identifier: MIT
"""build/host-unix: MicroPython 1.25's own unix port (Debian's micropython source package,
firmware/unix) with fastsock compiled in and its Python half frozen. It has what the host port
lacks (the extmod modules: deflate, asyncio, select, json, os, _thread), so these tests check
fastsock beside them: a GET against nginx checked by sha256, select.poll and asyncio waiting on
a fastsock connection, https through fastsock's mbedTLS, and deflate.DeflateIO inflating what
CPython's gzip and zlib produced, from a file and straight from a fastsock response stream."""

import gzip
import hashlib
import random
import zlib

import pytest

from conftest import sha256_file
from localserver import Nginx, TLSServer, make_pki


def test_modules_and_frozen_fastsock(mpunix, tmp_path):
    out = mpunix.run(
        """
        import sys, fastsock, _fastsock, deflate, asyncio, select, json, os, _thread
        print(sys.implementation.name, ".".join(str(n) for n in sys.implementation.version[:3]))
        print(fastsock.__file__, _fastsock.TRANSPORT, fastsock.__version__ == _fastsock.VERSION)
        print(hasattr(deflate, "DeflateIO"), hasattr(select, "poll"), hasattr(asyncio, "gather"))
        print(json.loads(json.dumps({"a": [1, None, "\\u00e9"]})) == {"a": [1, None, "\\u00e9"]})
        print(len(os.urandom(16)), hasattr(os, "listdir"))
        import fastsock._more as _more
        print(_more.__file__)
        lock = _thread.allocate_lock()
        done = []
        def worker():
            with lock:
                done.append(sum(range(10)))
        _thread.start_new_thread(worker, ())
        import time
        for _ in range(500):
            if done:
                break
            time.sleep_ms(2)
        print(done)
        """,
        tmp_path,
    )
    assert out.splitlines() == [
        "micropython 1.25.0",
        # A frozen module's __file__ is its name in the manifest, not a path under cmodules/.
        "fastsock/__init__.py posix True",
        "True True True",
        "True",
        "16 True",
        "fastsock/_more.py",
        "[45]",
    ]


@pytest.mark.parametrize("name", ["1k.bin", "1m.bin"])
def test_get_sha256_checked(mpunix, nginx, www, tmp_path, name):
    # The body hashed inside MicroPython (its hashlib) and saved for CPython to hash: both must
    # be the served file's sha256.
    out = mpunix.run(
        """
        import fastsock, hashlib, binascii
        r = fastsock.get(%r, timeout=10)
        body = r.content
        print(r.status_code, len(body), r.headers["content-length"])
        print(binascii.hexlify(hashlib.sha256(body).digest()).decode())
        print(fastsock.get(%r, stream=True, timeout=10).save(%r))
        """ % (nginx.url("/" + name), nginx.url("/" + name), str(tmp_path / name)),
        tmp_path,
    )
    size = (www / name).stat().st_size
    status, digest, saved = out.splitlines()
    assert status == "200 %d %d" % (size, size)
    assert digest == sha256_file(www / name)
    assert saved == str(size)
    assert sha256_file(tmp_path / name) == sha256_file(www / name)


def test_select_poll_and_asyncio_wait_on_a_connection(mpunix, nginx, www, tmp_path):
    # docs/api.md's asyncio example, for real: select.poll on _fastsock.Connection (its
    # MP_STREAM_POLL), two fetches interleaved by asyncio.
    out = mpunix.run(
        """
        import asyncio, select, _fastsock, hashlib, binascii

        async def fetch(path):
            conn = _fastsock.Connection("127.0.0.1", %d, 5000)
            conn.request("GET", path, "127.0.0.1", None, None, False, 5000, None)
            poller = select.poll()
            poller.register(conn, select.POLLIN)
            waits = 0
            while not poller.poll(0):
                waits += 1
                assert waits < 2000, "no response head in 10 s"
                await asyncio.sleep_ms(5)
            r = conn.getresponse()
            return r.status_code, binascii.hexlify(hashlib.sha256(r.content).digest()).decode()

        async def main():
            return await asyncio.gather(fetch("/100k.bin"), fetch("/1k.bin"))

        for status, digest in asyncio.run(main()):
            print(status, digest)
        """ % nginx.port,
        tmp_path,
    )
    assert out.split() == ["200", sha256_file(www / "100k.bin"), "200", sha256_file(www / "1k.bin")]


def test_https_through_fastsocks_mbedtls(mpunix, www, tmp_path_factory, tmp_path):
    # Built with FS_TLS=1 (firmware/mbedtls, as the other host builds): a verified chain.
    pki = make_pki(tmp_path_factory.mktemp("unix-pki"))
    with Nginx(www, tls=[TLSServer(str(pki / "good.pem"), str(pki / "good.key"))]) as srv:
        out = mpunix.run(
            """
            import fastsock, hashlib, binascii
            r = fastsock.get(%r, ca=%r, timeout=10)
            print(r.status_code, r.raw.tls()[0], binascii.hexlify(hashlib.sha256(r.content).digest()).decode())
            try:
                fastsock.get(%r, timeout=10)
            except fastsock.TLSError as e:
                print("TLSError")
            """ % (srv.tls_url("/100k.bin", 0, "localhost"), str(pki / "ca.pem"),
                   srv.tls_url("/1k.bin", 0, "localhost")),
            tmp_path,
        )
    # Without ca= the system store does not know the throwaway CA: verification fails.
    assert out.split() == ["200", "TLSv1.3", sha256_file(www / "100k.bin"), "TLSError"]


def _sample(n=300_000, seed=7):
    # Compressible but not trivial: text-like runs with random bytes between them.
    rnd = random.Random(seed)
    words = [bytes(rnd.choice(b"abcdefghij klmnop\n") for _ in range(rnd.randint(3, 40))) for _ in range(200)]
    out = bytearray()
    while len(out) < n:
        out += rnd.choice(words) if rnd.random() < 0.9 else rnd.randbytes(rnd.randint(1, 64))
    return bytes(out[:n])


def _raw_deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


# name: (CPython's compressor, DeflateIO format name, wbits)
FORMATS = {
    "gz": (lambda d: gzip.compress(d, 9), "GZIP", 0),  # window from the header (32 KB)
    "zlib": (lambda d: zlib.compress(d, 9), "ZLIB", 0),
    "auto-gz": (lambda d: gzip.compress(d, 1), "AUTO", 0),
    "raw": (_raw_deflate, "RAW", 15),  # no header: the window must be named
}


@pytest.fixture(scope="module")
def zwww(tmp_path_factory):
    """A folder of CPython-compressed files (one per FORMATS entry) of one sample, served by
    nginx as opaque bytes (no gzip on the fly: fastsock gets exactly CPython's output)."""
    root = tmp_path_factory.mktemp("zwww")
    data = _sample()
    (root / "plain.bin").write_bytes(data)
    for name, (compress, _, _) in FORMATS.items():
        (root / (name + ".z")).write_bytes(compress(data))
    return root


@pytest.fixture(scope="module")
def znginx(zwww):
    with Nginx(zwww) as srv:
        yield srv


@pytest.mark.parametrize("name", list(FORMATS))
def test_deflateio_inflates_cpython_output(mpunix, zwww, tmp_path, name):
    _, fmt, wbits = FORMATS[name]
    out_path = tmp_path / "out.bin"
    mpunix.run(
        """
        import deflate
        with open(%r, "rb") as f:
            d = deflate.DeflateIO(f, deflate.%s, %d)
            with open(%r, "wb") as out:
                while True:
                    piece = d.read(1000)
                    if not piece:
                        break
                    out.write(piece)
        """ % (str(zwww / (name + ".z")), fmt, wbits, str(out_path)),
        tmp_path,
    )
    assert out_path.read_bytes() == (zwww / "plain.bin").read_bytes()


def test_deflateio_over_a_fastsock_response_stream(mpunix, znginx, zwww, tmp_path):
    # DeflateIO reads the response itself (r.raw, a stream): gzip inflated as it arrives.
    out = mpunix.run(
        """
        import fastsock, deflate, hashlib, binascii
        r = fastsock.get(%r, stream=True, timeout=10)
        d = deflate.DeflateIO(r.raw, deflate.GZIP)
        h = hashlib.sha256()
        n = 0
        while True:
            piece = d.read(4096)
            if not piece:
                break
            n += len(piece)
            h.update(piece)
        r.close()
        print(r.status_code, n, binascii.hexlify(h.digest()).decode())
        """ % znginx.url("/gz.z"),
        tmp_path,
    )
    plain = (zwww / "plain.bin").read_bytes()
    assert out.split() == ["200", str(len(plain)), hashlib.sha256(plain).hexdigest()]


@pytest.mark.parametrize("where", ["middle", "crc32"])
def test_deflateio_rejects_a_corrupted_stream(mpunix, zwww, tmp_path, where):
    # The oracle cuts both ways: a flipped byte in the deflate data or in gzip's CRC-32 trailer
    # must raise, not hand back some bytes.
    bad = bytearray((zwww / "gz.z").read_bytes())
    bad[len(bad) // 2 if where == "middle" else -6] ^= 0x55
    (tmp_path / "bad.gz").write_bytes(bytes(bad))
    out = mpunix.run(
        """
        import deflate
        try:
            with open(%r, "rb") as f:
                print("read", len(deflate.DeflateIO(f, deflate.GZIP).read()))
        except OSError as e:
            print("OSError", e.errno)
        """ % str(tmp_path / "bad.gz"),
        tmp_path,
    )
    assert out.split() == ["OSError", "22"], out
