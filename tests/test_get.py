# SPDX-License-Identifier: MIT
"""fastsock.get() over POSIX sockets against a real nginx and scripted raw servers,
in every host build."""

import hashlib
import subprocess

from conftest import sha256_file
from rawserver import RawServer, canned


def test_import_in_every_build(mp, tmp_path):
    out = mp.run(
        """
        import fastsock, _fastsock, sys
        print(fastsock.__version__, _fastsock.TRANSPORT, sys.maxsize > 2**32)
        """,
        tmp_path,
    )
    version, transport, is64 = out.split()
    assert version.count(".") == 2 and transport == "posix"
    assert is64 == ("False" if mp.flavour == "host32" else "True")


def test_print_ends_lines_with_lf_only(mp, tmp_path):
    # As the unix port does: scripts reading the host interpreters' output see "\n", not "\r\n".
    script = tmp_path / "lines.py"
    script.write_text("print(1)\nprint('a\\nb')\nimport sys\nsys.stdout.write('c\\n')\n")
    p = subprocess.run([str(mp.path), str(script)], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"1\na\nb\nc\n"

def test_get_status_headers_body(mp, nginx, www, tmp_path):
    out = mp.run(
        """
        import fastsock
        r = fastsock.get(%r)
        print(r.status_code, r.reason, r.ok)
        print(r.headers["Content-Length"], r.headers.get("content-type"), r.headers.get("X-None", "-"))
        print("SERVER" in r.headers, "Server" in r.headers, r.headers["server"].startswith("nginx"))
        body = r.content
        print(len(body), body == r.content)
        open(%r, "wb").write(body)
        """ % (nginx.url("/1k.bin"), str(tmp_path / "out.bin")),
        tmp_path,
    )
    lines = out.splitlines()
    assert lines[0] == "200 OK True"
    assert lines[1] == "1024 application/octet-stream -"
    assert lines[2] == "True True True"
    assert lines[3] == "1024 True"
    assert sha256_file(tmp_path / "out.bin") == sha256_file(www / "1k.bin")


def test_empty_and_one_byte_bodies(mp64, nginx, tmp_path):
    out = mp64.run(
        """
        import fastsock
        for p in ("/0.bin", "/1.bin"):
            r = fastsock.get("%s" + p)
            print(r.status_code, len(r.content), r.headers["content-length"])
        """ % nginx.url(""),
        tmp_path,
    )
    assert out.split("\n")[:2] == ["200 0 0", "200 1 1"]


def test_404_is_a_response_not_an_exception(mp64, nginx, tmp_path):
    out = mp64.run(
        """
        import fastsock
        with fastsock.get(%r) as r:
            print(r.status_code, r.reason, r.ok, b"404" in r.content)
        """ % nginx.url("/missing"),
        tmp_path,
    )
    assert out.strip() == "404 Not Found False True"


def test_text_and_json(mp, nginx, tmp_path):
    out = mp.run(
        """
        import fastsock
        r = fastsock.get(%r)
        print(r.text.startswith("<!doctype html>"))
        j = fastsock.get(%r).json()
        print(j["hello"], j["n"], j["list"])
        """ % (nginx.url("/index.html"), nginx.url("/hello.json")),
        tmp_path,
    )
    assert out.splitlines() == ["True", "world 42 [1, 2.5, True, None]"]


def test_several_mb_byte_identical(mp, nginx, www, tmp_path):
    dest = tmp_path / "5m.out"
    mp.run(
        """
        import fastsock
        r = fastsock.get(%r)
        assert r.headers["content-length"] == "5242880"
        with open(%r, "wb") as f:
            f.write(r.content)
        """ % (nginx.url("/5m.bin"), str(dest)),
        tmp_path,
        timeout=120,
    )
    assert sha256_file(dest) == sha256_file(www / "5m.bin")


def test_close_delimited_body(mp, tmp_path):
    body = bytes(range(256)) * 700
    resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n" + body
    dest = tmp_path / "close.out"
    with RawServer(canned(resp)) as srv:
        mp.run(
            """
            import fastsock
            r = fastsock.get(%r)
            open(%r, "wb").write(r.content)
            """ % (srv.url("/x"), str(dest)),
            tmp_path,
        )
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(body).digest()


def test_http10_response_and_empty_reason(mp64, tmp_path):
    resp = b"HTTP/1.0 200 \r\nContent-Length: 3\r\n\r\nabc"
    with RawServer(canned(resp)) as srv:
        out = mp64.run(
            """
            import fastsock
            r = fastsock.get(%r)
            print(repr(r.reason), r.status_code, r.content)
            """ % srv.url("/"),
            tmp_path,
        )
    assert out.strip() == "'' 200 b'abc'"


def test_request_line_and_default_headers(mp64, tmp_path):
    seen = []

    def handler(conn, stop):
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(4096)
        seen.append(data)
        conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")

    with RawServer(handler) as srv:
        out = mp64.run(
            """
            import fastsock
            r = fastsock.get(%r, headers={"X-Test": "1", "user-agent": "me"})
            print(r.status_code, r.content)
            """ % srv.url("/a/b?q=1#frag"),
            tmp_path,
        )
    assert out.strip() == "204 b''"
    head = seen[0].decode()
    lines = head.split("\r\n")
    assert lines[0] == "GET /a/b?q=1 HTTP/1.1"
    assert "Host: 127.0.0.1:%d" % srv.port in lines
    assert "X-Test: 1" in lines and "user-agent: me" in lines
    assert "Accept-Encoding: identity" in lines
    assert not any(line.startswith("User-Agent") for line in lines)


def test_refused_connection_is_clear_oserror(mp, tmp_path):
    from localserver import free_port

    port = free_port()
    out = mp.run(
        """
        import fastsock
        try:
            fastsock.get("http://127.0.0.1:%d/")
        except OSError as e:
            print(type(e).__name__, e.errno, e.args[1])
        """ % port,
        tmp_path,
    )
    assert out.strip() == "ConnectionError 111 connect connection refused"


def test_bad_urls_are_clear_value_errors(mp64, tmp_path):
    out = mp64.run(
        """
        import fastsock
        for url in ("nohost", "ftp://x/", "http://", "http://h:99999/", "http://h:x/", "http://a b/", 42):
            try:
                fastsock.get(url)
            except (ValueError, TypeError) as e:
                print(type(e).__name__, "|", e)
        """,
        tmp_path,
    )
    lines = out.splitlines()
    assert len(lines) == 7, out
    assert lines[0].startswith("InvalidURL | invalid URL 'nohost'")
    assert lines[1].startswith("InvalidURL | unsupported URL scheme 'ftp'")
    assert lines[2].startswith("InvalidURL | no host")
    assert lines[3].startswith("InvalidURL | invalid port")
    assert lines[4].startswith("InvalidURL | invalid port")
    assert lines[5].startswith("InvalidURL | invalid host")
    assert lines[6].startswith("TypeError")


def test_unknown_host_is_clear_oserror(mp64, tmp_path):
    out = mp64.run(
        """
        import fastsock
        try:
            fastsock.get("http://no-such-host.invalid/", timeout=5)
        except OSError as e:
            print(e.args[1])
        """,
        tmp_path,
    )
    assert out.strip() == "connect host name not found"
