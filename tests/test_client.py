# SPDX-License-Identifier: MIT
"""The full client: Session keep-alive, chunked bodies, streaming reads, redirects, request
bodies, params, auth, timeouts and stats — against nginx and scripted servers."""

import json

from conftest import sha256_file
from rawserver import RawServer, canned, echo, keep_alive, routes


def test_session_reuses_one_connection(mp, nginx, tmp_path):
    mark = len(nginx.requests())
    out = mp.run(
        """
        import fastsock, gc, hostcheck
        fd0 = hostcheck.fds()
        s = fastsock.Session()
        fastsock.reset_stats()
        for i in range(50):
            r = s.get(%r)
            assert r.status_code == 200 and len(r.content) == 1024
        st = fastsock.stats()
        print(st["requests"], st["connections"], st["reused"], st["open"], hostcheck.fds() - fd0)
        s.close()
        print(fastsock.stats()["open"], hostcheck.fds() - fd0)
        """ % nginx.url("/1k.bin"),
        tmp_path,
    )
    # Oracles: nginx's access log (one connection number for the 50 requests, each the next
    # request on it) and the interpreter's descriptors (one socket, then none); stats() beside.
    seen = nginx.requests(mark, 50)
    assert [(r["uri"], r["status"]) for r in seen] == [("/1k.bin", 200)] * 50
    assert len({r["connection"] for r in seen}) == 1, seen
    assert [r["index"] for r in seen] == list(range(1, 51))
    assert out.split() == ["50", "1", "49", "1", "1", "0", "0"]


def test_session_context_manager_and_pool_bound(mp64, nginx, tmp_path):
    out = mp64.run(
        """
        import fastsock
        with fastsock.Session(pool_size=1) as s:
            a = s.get(%r, stream=True)
            b = s.get(%r, stream=True)
            a.content; b.content
            print(s._pool.idle(), fastsock.stats()["open"])
        print(fastsock.stats()["open"])
        """ % (nginx.url("/1k.bin"), nginx.url("/1.bin")),
        tmp_path,
    )
    assert out.split() == ["1", "1", "0"]


def test_full_pool_evicts_the_oldest_idle_connection(mp, nginx, tmp_path):
    # pool_size=2 and three connections handed back in the order a, b, c: at c the pool is full
    # and the oldest idle one (a, the nearest to the server's idle timeout) is closed; the next
    # two requests get c's and then b's connection (the newest idle first). Issue 29: the
    # newest was evicted instead (b), and a, the stalest, kept. Oracle: nginx's connection
    # number for each request.
    mark = len(nginx.requests())
    mp.run(
        """
        import fastsock
        u = %r
        s = fastsock.Session(pool_size=2)
        a = s.get(u + "/1.bin", stream=True)
        b = s.get(u + "/1k.bin", stream=True)
        c = s.get(u + "/hello.json", stream=True)
        a.content; b.content; c.content
        x = s.get(u + "/index.html", stream=True)
        y = s.get(u + "/1k.bin", stream=True)
        x.content; y.content
        s.close()
        """ % nginx.url(""),
        tmp_path,
    )
    seen = nginx.requests(mark, 5)
    assert [r["uri"] for r in seen] == ["/1.bin", "/1k.bin", "/hello.json", "/index.html", "/1k.bin"], seen
    a, b, c, x, y = (r["connection"] for r in seen)
    assert len({a, b, c}) == 3, seen
    assert (x, y) == (c, b), "after a, b, c went back to a pool of 2, x and y reused %s (a=%d b=%d c=%d)" % (
        (x, y), a, b, c)


def test_chunked_bodies_from_nginx(mp, nginx, tmp_path):
    mark = len(nginx.requests())
    out = mp.run(
        """
        import fastsock
        s = fastsock.Session()
        for n in (0, 1, 1000, 100000, 3000000):
            r = s.get("%s/chunked/%%d" %% n)
            c = r.content
            print(r.headers.get("transfer-encoding"), len(c), c == b"x" * n)
        """ % nginx.url(""),
        tmp_path,
        timeout=120,
    )
    lines = out.splitlines()
    assert lines == ["chunked %d True" % n for n in (0, 1, 1000, 100000, 3000000)]
    # All on one connection: nginx's connection number for each request.
    seen = nginx.requests(mark, 5)
    assert [r["uri"] for r in seen] == ["/chunked/%d" % n for n in (0, 1, 1000, 100000, 3000000)]
    assert len({r["connection"] for r in seen}) == 1, seen


def test_readinto_allocates_nothing_per_read(mp, nginx, tmp_path):
    out = mp.run(
        """
        import fastsock, gc
        def measure(r, buf):
            # Locals only: a new global would grow the module dict mid-measurement.
            total = 0
            for i in range(3):   # warm up: the first calls may set up state once
                total += r.readinto(buf)
            reads = 0
            before = gc.mem_alloc()
            while True:
                n = r.readinto(buf)
                if not n:
                    break
                total += n
                reads += 1
            return total, reads, gc.mem_alloc() - before
        r = fastsock.get(%r, stream=True)
        gc.collect()
        total, reads, grown = measure(r, bytearray(4096))
        print(total, reads > 100, grown)
        """ % nginx.url("/1m.bin"),
        tmp_path,
    )
    total, many, grown = out.split()
    assert total == str(1 << 20) and many == "True"
    assert int(grown) == 0, "readinto allocated %s bytes" % grown


def test_readinto_content_is_exact(mp64, nginx, www, tmp_path):
    dest = tmp_path / "ri2.out"
    mp64.run(
        """
        import fastsock
        buf = bytearray(3000)
        mv = memoryview(buf)
        with open(%r, "wb") as f:
            r = fastsock.get(%r, stream=True)
            while True:
                n = r.readinto(buf)
                if not n:
                    break
                f.write(mv[:n])
        """ % (str(dest), nginx.url("/1m.bin")),
        tmp_path,
    )
    assert sha256_file(dest) == sha256_file(www / "1m.bin")


def test_save_with_progress_and_no_copies(mp, nginx, www, tmp_path):
    dest = tmp_path / "save.out"
    out = mp.run(
        """
        import fastsock, gc
        calls = []
        def progress(done, total):
            calls.append((done, total))
        r = fastsock.get(%r, stream=True)
        fastsock.reset_stats()
        n = r.save(%r, progress)
        st = fastsock.stats()
        print(n, len(calls) > 10, calls[-1], st["bytes_copied"], st["open"])
        """ % (nginx.url("/5m.bin"), str(dest)),
        tmp_path,
        timeout=120,
    )
    n, many, last_a, last_b, copied, open_ = out.replace("(", "").replace(")", "").replace(",", "").split()
    assert n == str(5 << 20) and many == "True"
    assert (last_a, last_b) == (str(5 << 20), str(5 << 20))
    assert copied == "0", "save() copied %s body bytes after the transport" % copied
    assert open_ == "0"
    assert sha256_file(dest) == sha256_file(www / "5m.bin")


def test_save_chunked_body(mp64, nginx, tmp_path):
    dest = tmp_path / "chunked.out"
    out = mp64.run(
        """
        import fastsock
        r = fastsock.get(%r, stream=True)
        print(r.save(%r))
        """ % (nginx.url("/chunked/200000"), str(dest)),
        tmp_path,
    )
    assert out.strip() == "200000"
    assert dest.read_bytes() == b"x" * 200000


def test_iter_content_bytes_and_views(mp, nginx, www, tmp_path):
    dest = tmp_path / "iter.out"
    out = mp.run(
        """
        import fastsock, gc
        s = fastsock.Session()
        r = s.get(%r, stream=True)
        sizes = [len(p) for p in r.iter_content(1000)]
        print(sum(sizes), max(sizes) <= 1000, type(bytes(1)) is bytes)
        def measure(it, f):
            # Locals only; at most a one-time set-up allocation, none per piece.
            f.write(next(it))
            pieces = 0
            views = True
            before = gc.mem_alloc()
            for piece in it:
                views = views and type(piece) is memoryview
                f.write(piece)
                pieces += 1
            return gc.mem_alloc() - before, pieces, views
        r = s.get(%r, stream=True)
        f = open(%r, "wb")
        gc.collect()
        grown, pieces, views = measure(r.iter_content(4096, view=True), f)
        f.close()
        print(grown, pieces, views, fastsock.stats()["connections"])
        """ % (nginx.url("/100k.bin"), nginx.url("/1m.bin"), str(dest)),
        tmp_path,
    )
    first, second = out.splitlines()
    assert first == "%d True True" % (100 * 1024)
    grown, pieces, views, conns = second.split()
    assert views == "True" and conns == "1" and int(pieces) >= 200
    assert int(grown) <= 64, "iterating %s views allocated %s bytes" % (pieces, grown)
    assert sha256_file(dest) == sha256_file(www / "1m.bin")


def test_content_allocates_body_plus_little(mp64, nginx, tmp_path):
    out = mp64.run(
        """
        import fastsock, gc
        s = fastsock.Session()
        s.get(%r).content  # warm up: pool, code paths
        gc.collect()
        before = gc.mem_alloc()
        r = s.get(%r)
        c = r.content
        print(len(c), gc.mem_alloc() - before)
        """ % (nginx.url("/1k.bin"), nginx.url("/100k.bin")),
        tmp_path,
    )
    n, grown = map(int, out.split())
    assert n == 100 * 1024
    assert grown <= n + 2048, "content of %d bytes took %d bytes of heap" % (n, grown)


def test_redirects_follow_and_limit(mp, tmp_path):
    seen = []
    table = {
        "/a": b"HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 3\r\n\r\nabc",
        "/b": b"HTTP/1.1 302 Found\r\nLocation: c?x=1\r\nContent-Length: 0\r\n\r\n",
        "/c?x=1": b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone",
        "/loop": b"HTTP/1.1 307 Again\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n",
        "/post": b"HTTP/1.1 303 See Other\r\nLocation: /c?x=1\r\nContent-Length: 0\r\n\r\n",
        "/keep": b"HTTP/1.1 308 Perm\r\nLocation: /echo\r\nContent-Length: 0\r\n\r\n",
        "/echo": lambda raw: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(raw) + raw,
    }
    with RawServer(routes(table, seen)) as srv:
        out = mp.run(
            """
            import fastsock
            s = fastsock.Session()
            r = s.get("%s")
            print(r.status_code, r.content, r.url.endswith("/c?x=1"), [h.status_code for h in r.history])
            r = s.get("%s", allow_redirects=False)
            print(r.status_code, r.headers["location"])
            r.close()
            try:
                s.get("%s")
            except fastsock.TooManyRedirects as e:
                print("TooManyRedirects", isinstance(e, fastsock.ProtocolError), e.args[1])
            r = s.post("%s", data=b"payload")
            print(r.status_code, r.content)
            r = s.post("%s", data=b"kept")
            print(r.content.split(b"\\r\\n")[0], r.content.endswith(b"kept"))
            print(fastsock.stats()["connections"])
            """ % (srv.url("/a"), srv.url("/a"), srv.url("/loop"), srv.url("/post"), srv.url("/keep")),
            tmp_path,
        )
        connections = srv.connections
    lines = out.splitlines()
    assert lines[0] == "200 b'done' True [301, 302]"
    assert lines[1] == "301 /b"
    assert lines[2].startswith("TooManyRedirects True more than 30 redirects")
    assert lines[3] == "200 b'done'"
    assert lines[4] == "b'POST /echo HTTP/1.1' True"
    assert lines[5] == "1" and connections == 1  # the server accepted one connection
    # 303 turned the POST into a body-less GET: the request right after the POST to /post.
    # (Issue 29: "any GET /c?x=1" found the first redirect chain's and could not fail.)
    i = [r.split(b"\r\n")[0] for r in seen].index(b"POST /post HTTP/1.1")
    assert seen[i].endswith(b"\r\n\r\npayload"), seen[i]
    head, _, body = seen[i + 1].partition(b"\r\n\r\n")
    assert head.startswith(b"GET /c?x=1 HTTP/1.1\r\n") and body == b"", seen[i + 1]
    assert b"content-length" not in head.lower() and b"content-type" not in head.lower(), head


def test_307_after_a_streamed_body_raises(mp, tmp_path):
    # A body read from an iterator or a stream is gone once sent: a 307 cannot repeat it, so
    # the call raises ProtocolError and sends nothing more; a bytes body is repeated. Issue 29:
    # with streams counted as repeatable, an empty chunked body went to the new location and
    # the 200 came back as if the upload had gone there. Oracle: what the server received.
    seen = []
    table = {
        "/temp": b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /landed\r\nContent-Length: 0\r\n\r\n",
        "/landed": lambda raw: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(raw) + raw,
    }
    with RawServer(routes(table, seen)) as srv:
        out = mp.run(
            """
            import fastsock
            u = %r
            class Stream:
                def __init__(self):
                    self.left = [b"st", b"ream"]
                def read(self, n):
                    return self.left.pop(0) if self.left else b""
            def pieces():
                yield b"it"
                yield b"er"
            s = fastsock.Session()
            for make in (pieces, Stream):
                try:
                    r = s.post(u, data=make())
                    print("sent", r.status_code)
                except fastsock.ProtocolError as e:
                    print("ProtocolError", "cannot repeat a streamed body" in str(e))
            print(s.post(u, data=b"bytes").content.endswith(b"\\r\\n\\r\\nbytes"))
            """ % srv.url("/temp"),
            tmp_path,
        )
    assert out.split() == ["ProtocolError", "True", "ProtocolError", "True", "True"], out
    lines = [r.split(b"\r\n")[0] for r in seen]
    assert lines == [b"POST /temp HTTP/1.1"] * 3 + [b"POST /landed HTTP/1.1"], seen
    assert seen[3].endswith(b"\r\n\r\nbytes"), seen[3]


def test_request_bodies_params_auth_headers(mp64, tmp_path):
    seen = []
    with RawServer(echo(seen)) as srv:
        mp64.run(
            """
            import fastsock
            s = fastsock.Session(headers={"X-Session": "s"})
            s.post(%(u)r, data=b"\\x00\\x01raw").content
            s.put(%(u)r, data="text é").content
            s.post(%(u)r, data={"a": "1 2", "b": "&"}).content
            s.post(%(u)r, json={"k": [1, "v"]}).content
            s.patch(%(u)r, data=iter([b"ab", "cd", b""])).content
            s.delete(%(u)r, params={"q": "x y", "n": 3}).content
            s.get(%(u)r + "?z=1", params=[("a", "b")], auth=("user", "pa:ss")).content
            s.request("OPTIONS", %(u)r, headers={"Connection": "close", "user-agent": "UA"}).content
            fastsock.head(%(u)r).close()
            class Stream:
                def __init__(self):
                    self.left = [b"x" * 5000, b"y"]
                def read(self, n):
                    return self.left.pop(0) if self.left else b""
            fastsock.post(%(u)r, data=Stream()).content
            """ % {"u": srv.url("/p")},
            tmp_path,
        )
    heads = [r.split(b"\r\n\r\n")[0].decode() for r in seen]
    bodies = [r.split(b"\r\n\r\n", 1)[1] for r in seen]
    assert heads[0].startswith("POST /p HTTP/1.1") and "Content-Length: 5" in heads[0]
    assert bodies[0] == b"\x00\x01raw" and "X-Session: s" in heads[0]
    assert bodies[1] == "text é".encode() and "PUT /p" in heads[1]
    assert bodies[2] == b"a=1+2&b=%26" and "Content-Type: application/x-www-form-urlencoded" in heads[2]
    assert json.loads(bodies[3]) == {"k": [1, "v"]} and "Content-Type: application/json" in heads[3]
    assert "Transfer-Encoding: chunked" in heads[4] and bodies[4] == b"2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n"
    assert heads[5].startswith("DELETE /p?q=x+y&n=3 HTTP/1.1")
    assert heads[6].startswith("GET /p?z=1&a=b HTTP/1.1")
    assert "Authorization: Basic dXNlcjpwYTpzcw==" in heads[6]
    assert heads[7].startswith("OPTIONS /p") and "Connection: close" in heads[7] and "user-agent: UA" in heads[7]
    assert "User-Agent" not in heads[7] and "Connection: keep-alive" not in heads[7]
    assert heads[8].startswith("HEAD /p HTTP/1.1") and "Connection: close" in heads[8]
    assert "Transfer-Encoding: chunked" in heads[9]
    assert bodies[9] == b"1388\r\n" + b"x" * 5000 + b"\r\n1\r\ny\r\n0\r\n\r\n"
    assert "Accept-Encoding: identity" in heads[0] and "User-Agent: fastsock/" in heads[0]


def test_head_204_304_have_no_body_and_keep_the_connection(mp64, tmp_path):
    table = {
        "/h": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        "/n": b"HTTP/1.1 204 No Content\r\n\r\n",
        "/m": b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n",
        "/x": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    }
    with RawServer(routes(table)) as srv:
        out = mp64.run(
            """
            import fastsock
            s = fastsock.Session()
            r = s.head(%r)
            print(r.status_code, r.headers["content-length"], r.content)
            print(s.get(%r).content, s.get(%r).content, s.get(%r).content)
            print(fastsock.stats()["connections"])
            """ % (srv.url("/h"), srv.url("/n"), srv.url("/m"), srv.url("/x")),
            tmp_path,
        )
        connections = srv.connections
    assert out.splitlines() == ["200 100 b''", "b'' b'' b'ok'", "1"]
    assert connections == 1, "the server accepted %d connections for 4 requests" % connections


def test_http10_connection_is_reused_only_with_keep_alive(mp64, tmp_path):
    # An HTTP/1.0 response ends its connection unless it says Connection: keep-alive (RFC 9112
    # 9.3). The server keeps every socket open and answers every request on it, so only its
    # accept count shows whether the client reused one (issue 29: reused without keep-alive).
    for resp, want in ((b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 3),
                       (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 1)):
        with RawServer(keep_alive(lambda raw, resp=resp: resp)) as srv:
            out = mp64.run(
                """
                import fastsock
                s = fastsock.Session()
                print([s.get(%r).content for i in range(3)])
                """ % srv.url("/"),
                tmp_path,
            )
            connections = srv.connections
        assert out.strip() == "[b'ok', b'ok', b'ok']", out
        assert connections == want, "%d connections for 3 requests answered %r" % (connections, resp)


def test_raise_for_status_and_ok(mp64, nginx, tmp_path):
    out = mp64.run(
        """
        import fastsock
        r = fastsock.get(%r)
        print(r.ok)
        try:
            r.raise_for_status()
        except fastsock.HTTPError as e:
            print(e.response.status_code, e)
        fastsock.get(%r).raise_for_status()
        print("fine")
        """ % (nginx.url("/nope"), nginx.url("/1.bin")),
        tmp_path,
    )
    lines = out.splitlines()
    assert lines[0] == "False"
    assert lines[1].startswith("404 404 Client Error: Not Found for url")
    assert lines[2] == "fine"


def test_stale_keepalive_connection_is_retried_once(mp64, tmp_path):
    # The server answers one request per connection but claims keep-alive.
    def handler(conn, stop):
        from rawserver import read_full_request
        raw, _, _ = read_full_request(conn)
        if raw:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    with RawServer(handler) as srv:
        out = mp64.run(
            """
            import fastsock, time
            s = fastsock.Session()
            print(s.get(%r).content)
            time.sleep_ms(100)   # let the server's FIN arrive
            print(s.get(%r).content)
            print(fastsock.stats()["connections"])
            """ % (srv.url("/"), srv.url("/")),
            tmp_path,
        )
        connections = srv.connections
    assert out.split() == ["b'ok'", "b'ok'", "2"]
    assert connections == 2, connections


def test_connection_close_response_is_not_reused(mp64, tmp_path):
    # The server says Connection: close but leaves the socket open.
    handler = keep_alive(lambda raw: b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
    with RawServer(handler) as srv:
        out = mp64.run(
            """
            import fastsock
            s = fastsock.Session()
            for i in range(3):
                print(s.get(%r).content)
            st = fastsock.stats()
            print(st["connections"], st["reused"], st["open"])
            """ % srv.url("/"),
            tmp_path,
        )
        connections = srv.connections
    assert out.split() == ["b'ok'"] * 3 + ["3", "0", "0"]
    assert connections == 3, "the server accepted %d connections for 3 requests" % connections


def test_stream_poll_reports_readiness(mp, tmp_path):
    # select/asyncio on the device ask ioctl(MP_STREAM_POLL); hostpoll asks the same here.
    def handler(conn, stop):
        from rawserver import read_request
        read_request(conn)
        stop.wait(0.4)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    with RawServer(handler) as srv:
        out = mp.run(
            """
            import _fastsock, hostpoll, time
            c = _fastsock.Connection("127.0.0.1", %d, 5000)
            print(hostpoll.poll(c, hostpoll.POLLOUT) & hostpoll.POLLOUT != 0)
            c.request("GET", "/", "x", None, None, True, 5000, None)
            print(hostpoll.poll(c, hostpoll.POLLIN))
            t0 = time.ticks_ms()
            while not hostpoll.poll(c, hostpoll.POLLIN):
                time.sleep_ms(10)
                assert time.ticks_diff(time.ticks_ms(), t0) < 5000
            r = c.getresponse()
            print(r.status_code, r.content)
            # A body read to its end polls readable (a read returns b"" at once); after close()
            # the response and the connection poll NVAL, as MicroPython's closed sockets do.
            print(hostpoll.poll(r, hostpoll.POLLIN))
            r.close()
            print(hostpoll.poll(r, hostpoll.POLLIN))
            c.close()
            print(hostpoll.poll(c, hostpoll.POLLIN | hostpoll.POLLOUT))
            """ % srv.port,
            tmp_path,
        )
    assert out.split() == ["True", "0", "200", "b'ok'", "1", "32", "32"]


def test_headers_mapping_repeated_fields_and_hostile_bytes(mp, tmp_path):
    resp = (b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Obs: caf\xe9\r\nset-cookie: b=2\r\n"
            b"Content-Length: 0\r\n\r\n")
    with RawServer(canned(resp)) as srv:
        out = mp.run(
            """
            import fastsock
            h = fastsock.get(%r).headers
            print(h["SET-COOKIE"], "|", h.get("x-obs"), "|", len(h), "|", sorted(h.keys()))
            print(sorted(h.items())[0], "x-missing" in h, h.get("x-missing", 7))
            try:
                h["nope"]
            except KeyError as e:
                print("KeyError", e.args[0])
            """ % srv.url("/"),
            tmp_path,
        )
    lines = out.splitlines()
    assert lines[0] == "a=1, b=2 | caf? | 3 | ['content-length', 'set-cookie', 'x-obs']"
    assert lines[1] == "('content-length', '0') False 7"
    assert lines[2] == "KeyError nope"
