# SPDX-License-Identifier: MIT
"""fastsock on the emulated ESP32 (ESP32_NET-QEMU firmware: ESP-IDF's lwIP, mbedTLS 3.6 and
certificate bundle, MicroPython's own select/asyncio/json), against nginx on the host.

Oracles are outside the module: sha256 of the host's files, nginx's access log (requests and
connections it saw), the device's gc heap."""

import hashlib
import json
import re
import socket
import time

import pytest

from qemu_device import DeviceError, default_firmware
from rawserver import RawServer, canned, keep_alive, stall, trickle_body
from wire import WireRecorder, comparable, normalize


def sha(www, name):
    return hashlib.sha256((www / name).read_bytes()).hexdigest()


def since(server, n):
    return server.requests()[n:]


def test_firmware_is_ours(run):
    out = run("""
        import sys, fastsock, _fastsock
        print(sys.implementation._machine)
        print(sorted(k for k in fastsock.stats() if k.startswith('tls')))
    """)
    assert "ESP32_NET (fastsock) for QEMU" in out
    # TLS counters exist only when FS_TLS reached the build (and its qstrs the qstr scan).
    assert "tls_bytes" in out and "tls_peak" in out
    assert default_firmware().stat().st_size < 0x1F0000


@pytest.mark.parametrize("name", ["0.bin", "1.bin", "1k.bin"])
def test_get_content(run, server, www, name):
    n = len(server.requests())
    out = run("""
        import fastsock, hashlib, binascii
        r = fastsock.get(%r)
        print(r.status_code, len(r.content), binascii.hexlify(hashlib.sha256(r.content).digest()).decode())
    """ % server.dev_url("/" + name))
    status, length, digest = out.split()
    assert (int(status), int(length), digest) == (200, (www / name).stat().st_size, sha(www, name))
    seen = since(server, n)
    assert [(e["method"], e["uri"], e["status"]) for e in seen] == [("GET", "/" + name, 200)]


@pytest.mark.parametrize("name", ["100k.bin", "1m.bin"])
def test_stream_readinto_sha256(run, server, www, name):
    out = run("""
        import fastsock, hashlib, binascii
        h = hashlib.sha256(); buf = bytearray(4096); n = 0
        with fastsock.get(%r, stream=True) as r:
            while True:
                k = r.readinto(buf)
                if not k:
                    break
                h.update(memoryview(buf)[:k]); n += k
        print(n, binascii.hexlify(h.digest()).decode())
    """ % server.dev_url("/" + name))
    n, digest = out.split()
    assert int(n) == (www / name).stat().st_size and digest == sha(www, name)


def test_session_keep_alive_reuses_one_connection(run, server, www):
    n = len(server.requests())
    out = run("""
        import fastsock, hashlib, binascii
        ok = 0
        with fastsock.Session() as s:
            for i in range(20):
                r = s.get(%r)
                ok += r.status_code == 200 and hashlib.sha256(r.content).digest() == binascii.unhexlify(%r)
        print(ok)
    """ % (server.dev_url("/1k.bin"), sha(www, "1k.bin")))
    assert out.strip() == "20"
    seen = since(server, n)
    assert len(seen) == 20
    assert len({e["connection"] for e in seen}) == 1, seen
    assert [e["index"] for e in seen] == list(range(1, 21))


def test_session_keep_alive_not_slower_than_new_connections(run, server):
    # nginx sends head and body without delay (tcp_nodelay), so reuse must win or tie.
    out = run("""
        import fastsock, time
        url = %r
        t0 = time.ticks_us()
        for i in range(20):
            fastsock.get(url).content
        fresh = time.ticks_diff(time.ticks_us(), t0)
        with fastsock.Session() as s:
            s.get(url).content
            t0 = time.ticks_us()
            for i in range(20):
                s.get(url).content
            kept = time.ticks_diff(time.ticks_us(), t0)
        print(fresh, kept)
    """ % server.dev_url("/1k.bin"))
    fresh, kept = map(int, out.split())
    assert kept <= fresh * 1.1, (fresh, kept)


def test_chunked_body(run, server):
    out = run("""
        import fastsock
        r = fastsock.get(%r)
        print(r.status_code, r.headers.get('transfer-encoding'), len(r.content), r.content.count(b'x'))
    """ % server.dev_url("/chunked/20000"))
    assert out.split() == ["200", "chunked", "20000", "20000"]


def test_redirect_followed_with_history(run, server, www):
    n = len(server.requests())
    out = run("""
        import fastsock
        r = fastsock.get(%r)
        print(r.status_code, len(r.content), [h.status_code for h in r.history], r.url)
    """ % server.dev_url("/redirect/1k.bin"))
    assert out.startswith("200 1024 [302] http://10.0.2.2:")
    assert [(e["uri"], e["status"]) for e in since(server, n)] == [("/redirect/1k.bin", 302), ("/1k.bin", 200)]


@pytest.fixture
def recording_server():
    """Records each request (head and body, read up to its Content-Length) and answers 200."""
    seen = []
    with RawServer(keep_alive(lambda raw: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", seen)) as srv:
        yield srv.port, seen


def test_post_sends_content_length_and_body_once(run, recording_server):
    # The device's libc (newlib-nano) has no %lld: the head once said "Content-Length: ld".
    out = run("""
        import fastsock
        r = fastsock.post('http://10.0.2.2:%d/up', data=b'a' * 3000)
        print(r.status_code, r.text)
    """ % recording_server[0])
    seen = recording_server[1]
    assert out.split() == ["200", "ok"]
    assert len(seen) == 1, seen
    head, _, body = seen[0].partition(b"\r\n\r\n")
    assert b"\r\nContent-Length: 3000" in head, head
    assert body == b"a" * 3000


@pytest.fixture
def silent_server():
    """Accepts connections, reads the request and never answers."""
    with RawServer(stall) as srv:
        yield srv.port


def test_read_timeout_on_a_silent_server(run, silent_server):
    out = run("""
        import fastsock, time
        t0 = time.ticks_ms()
        try:
            fastsock.get('http://10.0.2.2:%d/', timeout=(5, 0.5))
            print('no error')
        except fastsock.TimeoutError as e:
            print('timeout', time.ticks_diff(time.ticks_ms(), t0))
    """ % silent_server)
    word, ms = out.split()
    assert word == "timeout" and 450 <= int(ms) <= 1500, out


def test_connection_refused_is_a_clear_oserror(run):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    closed = port.getsockname()[1]
    port.close()
    out = run("""
        import fastsock
        try:
            fastsock.get('http://10.0.2.2:%d/', timeout=5)
        except OSError as e:
            print(type(e).__name__, e.errno)
    """ % closed)
    assert out.split()[0] in ("ConnectionError", "ConnectTimeout"), out


def test_https_verified_with_a_pinned_ca(run, server, pki, www):
    ca = (pki / "ca.pem").read_bytes()
    # The device boots at 2000-01-01; a real one sets its clock (ntptime) before verifying.
    t = time.gmtime()
    run("import machine; machine.RTC().datetime((%d, %d, %d, 0, %d, %d, %d, 0))" % (
        t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec))
    out = run("""
        import fastsock, hashlib, binascii
        ca = %r
        with fastsock.Session(ca=ca) as s:
            # 100 KB arrives as full 16 KB records (those failed with -0x7100 under mbedTLS's
            # variable buffers); streamed, since .content of 100 KB does not fit this heap.
            h = hashlib.sha256(); buf = bytearray(4096)
            with s.get(%r, stream=True) as r:
                while True:
                    k = r.readinto(buf)
                    if not k:
                        break
                    h.update(memoryview(buf)[:k])
            print(r.status_code, binascii.hexlify(h.digest()).decode())
            s.close()
            r = s.get(%r)
            print(r.status_code, len(r.content))
        st = fastsock.stats()
        print(st['tls_handshakes'], st['tls_resumed'], st['tls_peak'])
        try:
            fastsock.get(%r)
        except fastsock.TLSError as e:
            print('refused', 'certificate verify failed' in str(e) and 'unknown CA' in str(e), e)
    """ % (ca, server.dev_tls_url("/100k.bin"), server.dev_tls_url("/1k.bin"), server.dev_tls_url("/1k.bin")),
        timeout=180)
    lines = out.split("\n")
    assert lines[0] == "200 " + sha(www, "100k.bin")
    assert lines[1] == "200 1024"
    handshakes, resumed, peak = map(int, lines[2].split())
    assert handshakes >= 1 and resumed >= 1, lines[2]
    # mbedTLS's allocations are counted on the IDF heap too (0 when the module was compiled
    # without ESP_PLATFORM and took the host's allocator paths).
    assert peak >= 16384, lines[2]
    assert lines[3].startswith("refused True"), out  # the bundle does not hold our throwaway CA


def test_select_poll_on_a_streamed_response(run, server, www):
    out = run("""
        import fastsock, select
        r = fastsock.get(%r, stream=True)
        p = select.poll(); p.register(r, select.POLLIN)
        n = 0; polls = 0
        while True:
            ev = p.poll(5000)
            polls += 1
            assert ev and ev[0][1] & select.POLLIN, ev
            b = r.read(2000)
            if not b:
                break
            n += len(b)
        print(n, polls > 1)
    """ % server.dev_url("/100k.bin"))
    assert out.split() == [str(100 * 1024), "True"]


def test_asyncio_fetches_several_urls_at_once(run, server, www):
    # The docs/api.md example, three at a time: each waits on its connection's poll.
    n = len(server.requests())
    out = run("""
        import asyncio, select, _fastsock, hashlib, binascii
        async def fetch(path):
            conn = _fastsock.Connection('10.0.2.2', %d, 5000)
            conn.request('GET', path, '10.0.2.2', None, None, False, 5000, None)
            poller = select.poll()
            poller.register(conn, select.POLLIN)
            while not poller.poll(0):
                await asyncio.sleep_ms(5)
            r = conn.getresponse()
            return r.status_code, binascii.hexlify(hashlib.sha256(r.content).digest()).decode()
        async def main():
            return await asyncio.gather(fetch('/1k.bin'), fetch('/hello.json'), fetch('/1.bin'))
        for status, digest in asyncio.run(main()):
            print(status, digest)
    """ % server.port)
    assert out.split("\n")[:3] == ["200 " + sha(www, n_) for n_ in ("1k.bin", "hello.json", "1.bin")]
    assert len({e["connection"] for e in since(server, n)}) == 3


def test_json(run, server, www):
    out = run("""
        import fastsock, json
        d = fastsock.get(%r).json()
        print(json.dumps(d))
    """ % server.dev_url("/hello.json"))
    assert json.loads(out) == json.loads((www / "hello.json").read_text())


def test_heap_flat_over_100_requests(run, server):
    # Everything in one function: new REPL globals (a resize of the globals dict is ~1.4 KB)
    # would count as heap. The first requests warm the Session and the interpreter's caches.
    out = run("""
        import fastsock, gc
        def heap_after(s, url, n):
            for i in range(n):
                s.get(url).content
            gc.collect()
            return gc.mem_alloc()
        def check(url):
            s = fastsock.Session()
            a = heap_after(s, url, 5)
            b = heap_after(s, url, 100)
            c = heap_after(s, url, 100)
            s.close()
            return a, b, c
        print(*check(%r))
    """ % server.dev_url("/1k.bin"), timeout=300)
    a, b, c = map(int, out.split())
    # Not growing: neither the first 100 nor the next 100 requests keep heap. The margin is
    # one response lingering on the C stack (MicroPython's GC is conservative, ~1.5 KB); 21
    # bytes kept per request would exceed it.
    assert b - a < 2048 and c - b < 2048, (a, b, c)


def test_save_10mb_into_a_null_stream_heap_flat(run, server, www):
    (www / "10m.bin").write_bytes(b"\x5a" * (10 << 20)) if not (www / "10m.bin").exists() else None
    out = run("""
        import fastsock, gc, hashlib, binascii
        class Sink:
            def __init__(self):
                self.n = 0; self.h = hashlib.sha256()
            def write(self, b):
                self.n += len(b); self.h.update(b)
                return len(b)
        def save_to(url, sink):
            with fastsock.get(url, stream=True) as r:
                r.save(sink)
        def check(one_mb, url):
            # MicroPython's GC is conservative: the last response can linger on the C stack
            # (~1.5 KB) until the next call, so a leak is told by growth over repeated saves.
            save_to(one_mb, Sink())  # warm: the save path's first use, the URL caches
            fastsock.get(url, stream=True).close()
            sink = Sink()
            gc.collect(); a = gc.mem_alloc()
            save_to(url, sink)
            gc.collect(); b = gc.mem_alloc()
            for i in range(8):
                save_to(one_mb, Sink())
            gc.collect(); c = gc.mem_alloc()
            return sink.n, binascii.hexlify(sink.h.digest()).decode(), b - a, c - b
        print(*check(%r, %r))
    """ % (server.dev_url("/1m.bin"), server.dev_url("/10m.bin")), timeout=600)
    n, digest, grown10, grown8 = out.split()
    assert int(n) == 10 << 20 and digest == sha(www, "10m.bin")
    # Anything kept per 4 KB piece would be >= 40 KB over 10 MB; a response kept per save
    # ~12 KB over 8 saves. One lingering response is 1.5 KB.
    assert int(grown10) < 4096 and int(grown8) < 4096, out


@pytest.fixture
def short_server():
    """Answers every request with Content-Length 1000 and 10 body bytes, then closes."""
    with RawServer(canned(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")) as srv:
        yield srv.port


def test_truncated_body_raises(run, short_server):
    out = run("""
        import fastsock
        try:
            r = fastsock.get('http://10.0.2.2:%d/', timeout=5)
            print('got', len(r.content))
        except fastsock.ProtocolError as e:
            print('ProtocolError', e)
    """ % short_server)
    assert out.startswith("ProtocolError") and "connection closed after 10 of 1000 body bytes" in out, out


def test_multipart_upload_from_flash_byte_exact_with_requests(run):
    # A 40 KB file on the device's flash, uploaded with files= (read in pieces, size from
    # seek: Content-Length), next to what CPython requests sends for the same call; the
    # boundary (os.urandom on the device) is the only difference.
    import requests

    blob = bytes(range(256)) * 160
    with WireRecorder() as rec:
        requests.post(rec.url("/up"), files=[("img", ("cam.jpg", blob, "image/jpeg"))], data=[("id", "7")],
                      timeout=10).close()
        out = run("""
            import fastsock
            with open('/cam.jpg', 'wb') as f:
                for i in range(160):
                    f.write(bytes(range(256)))
            with open('/cam.jpg', 'rb') as f:
                r = fastsock.post('http://10.0.2.2:%d/up', files={'img': ('cam.jpg', f, 'image/jpeg')},
                                  data={'id': '7'})
            print(r.status_code)
        """ % rec.port)
        rq, fs = rec.requests
    assert out.split() == ["200"]
    fb = re.search(rb"boundary=([0-9a-f]{32})", fs).group(1)
    rb = re.search(rb"boundary=([0-9a-f]{32})", rq).group(1)
    f_line, f_h, f_body = comparable(fs)
    r_line, r_h, r_body = comparable(rq)
    assert f_body.replace(fb, rb) == r_body and int(f_h["content-length"]) == len(f_body)
    assert f_h["content-type"].replace(fb.decode(), rb.decode()) == r_h["content-type"]


def test_cookies_redirects_and_lines(run):
    # A login that sets a cookie and redirects relatively ("../"), a JSON body with non-ASCII
    # (sent escaped, its length in bytes), the cookie sent back, iter_lines over the reply.
    seen = []

    def respond(raw):
        line, headers, body = normalize(raw)
        seen.append((line, headers.get("cookie"), body))
        if line.startswith("POST /a/login"):
            return (b"HTTP/1.1 303 See Other\r\nSet-Cookie: sid=s3; Path=/\r\nLocation: ../b/home?x=1\r\n"
                    b"Content-Length: 0\r\n\r\n")
        body = b"one\r\ntwo\n\nlast"
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    with RawServer(keep_alive(respond)) as srv:
        out = run("""
            import fastsock
            s = fastsock.Session()
            r = s.post('http://10.0.2.2:%d/a/login', json={'name': 'caf\\u00e9 \\u00b0C'}, stream=True)
            print(r.url.split('/', 3)[3], s.cookies['sid'], [h.status_code for h in r.history])
            print(list(r.iter_lines()))
        """ % srv.port)
    assert out.splitlines() == ["b/home?x=1 s3 [303]", "[b'one', b'two', b'', b'last']"]
    assert seen[0][2] == json.dumps({"name": "café °C"}).encode()
    assert seen[1][:2] == ("GET /b/home?x=1 HTTP/1.1", "sid=s3")


def test_timer_ticks_during_a_blocking_save(run, server):
    # A 10 ms machine.Timer keeps ticking while save() streams 1 MB into a Python writer, at a
    # rate comparable to MicroPython's own socket recv loop over the same body (issue 26: it
    # ticked once in an 18 s save()). Rates, not absolute counts: QEMU's speed varies.
    host, port = server.dev_url("/").split("/")[2].split(":")
    out = run("""
        import machine, socket, time, fastsock
        n = [0]
        def tick(t):
            n[0] += 1
        class Sink:
            def __init__(self):
                self.size = 0
            def write(self, b):
                self.size += len(b)
        def timed(fn):
            n[0] = 0
            t0 = time.ticks_ms()
            size = fn()
            return size, n[0], time.ticks_diff(time.ticks_ms(), t0)
        def with_fastsock():
            sink = Sink()
            fastsock.get(%r, stream=True, timeout=60).save(sink)
            return sink.size
        def with_socket():
            s = socket.socket()
            s.connect(socket.getaddrinfo(%r, %s)[0][-1])
            s.send(b"GET /1m.bin HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n")
            size = 0
            while True:
                d = s.recv(4096)
                if not d:
                    break
                size += len(d)
            s.close()
            return size
        tim = machine.Timer(0)
        tim.init(period=10, callback=tick)
        try:
            print(*timed(with_fastsock), *timed(with_socket))
        finally:
            tim.deinit()
    """ % (server.dev_url("/1m.bin"), host, port), timeout=300)
    fs_size, fs_ticks, fs_ms, sock_size, sock_ticks, sock_ms = map(int, out.split())
    print("device timer ticks: fastsock save() %d in %d ms, socket recv loop %d in %d ms"
          % (fs_ticks, fs_ms, sock_ticks, sock_ms))
    assert fs_size == 1 << 20 and sock_size > 1 << 20  # (the socket loop also gets the head)
    assert sock_ticks > 0, out
    assert fs_ticks / fs_ms >= 0.5 * sock_ticks / sock_ms, out


def test_a_thread_cannot_close_what_another_thread_reads(run):
    # Thread A waits in .content of a trickled 16 KB body; the main thread's r.close() must not
    # free the connection under A (the GIL is let go in A's waits): RuntimeError, and A's body
    # arrives whole. Oracle: the body's sha256, the device's open count.
    body = bytes(range(256)) * 64
    with RawServer(trickle_body(body, 1024, 0.05)) as srv:
        out = run("""
            import _thread, time, fastsock, hashlib, binascii
            open0 = fastsock.stats()['open']
            r = fastsock.get('http://10.0.2.2:%d/', stream=True, timeout=30)
            got = []
            def reader():
                try:
                    got.append(binascii.hexlify(hashlib.sha256(r.content).digest()).decode())
                except Exception as e:
                    got.append(repr(e))
            _thread.start_new_thread(reader, ())
            time.sleep_ms(200)
            try:
                r.close()
                print('closed')
            except RuntimeError as e:
                print('RuntimeError')
            t0 = time.ticks_ms()
            while not got and time.ticks_diff(time.ticks_ms(), t0) < 20000:
                time.sleep_ms(50)
            r.close()
            print(got, fastsock.stats()['open'] - open0)
        """ % srv.port, timeout=60)
    assert out.splitlines() == ["RuntimeError", "[%r] 0" % hashlib.sha256(body).hexdigest()], out


def test_import_heap_of_the_python_face(run):
    # Frozen modules: their code stays in flash; importing costs only the module's objects.
    # The leaf fastsock._more (multipart, cookies...) is not imported until used.
    out = run("""
        import gc, sys
        def cost(name):
            gc.collect(); a = gc.mem_alloc()
            __import__(name)
            gc.collect(); return gc.mem_alloc() - a
        for m in ('fastsock', 'fastsock._more'):
            sys.modules.pop(m, None)
        print(cost('fastsock'), 'fastsock._more' in sys.modules, cost('fastsock._more'))
    """)
    core, loaded, more = out.split()
    print("device import heap: fastsock %s bytes, fastsock._more %s bytes" % (core, more))
    assert loaded == "False"
    assert int(core) < 4096 and int(more) < 4096, out


def test_device_survived(device):
    assert device.alive()
    assert re.match(r"10\.0\.2\.\d+$", device.addr)
    with pytest.raises(DeviceError):
        device.exec("raise ValueError('expected')")
    assert device.exec("print(1+1)").strip() == "2"
