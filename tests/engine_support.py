# SPDX-License-Identifier: MIT
"""Build helpers and the response corpus for the engine tests (tests/test_engine_*.py).

Everything is built under build/engine by the tests themselves, so
`pytest tests/test_engine_*.py` works from a fresh clone once these Debian packages are in:
cmake gcc clang libclang-rt-14-dev (fuzzers) gcc-multilib libhttp-parser-dev valgrind (bench).
A missing prerequisite fails the test with the package to install; nothing is skipped.
"""

import functools
import pathlib
import random
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "engine"
CORPUS = ROOT / "tests" / "corpus"

APT = {
    "cmake": "cmake",
    "cc": "gcc",
    "clang": "clang libclang-rt-14-dev",
    "valgrind": "valgrind",
}


def require(tool, package=None):
    path = shutil.which(tool)
    if not path:
        pytest.fail(f"{tool} not found: apt-get install {package or APT.get(tool, tool)}")
    return path


def run(cmd, **kw):
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if res.returncode != 0:
        pytest.fail(f"command failed ({res.returncode}): {' '.join(map(str, cmd))}\n"
                    f"{res.stdout[-4000:]}\n{res.stderr[-4000:]}")
    return res


@functools.lru_cache(maxsize=None)
def build_engine():
    """Configure and build tests/c (unit tests, driver, fuzzers); return the build dir."""
    require("cmake")
    require("cc")
    require("clang")
    run(["cmake", "-S", ROOT / "tests" / "c", "-B", BUILD, "-DCMAKE_C_COMPILER=gcc"])
    run(["cmake", "--build", BUILD, "-j2"])
    return BUILD


@functools.lru_cache(maxsize=None)
def llhttp_source():
    """Unpacked llhttp C sources from the pinned PyPI sdist (scripts/third_party.lock)."""
    res = run([sys.executable, ROOT / "scripts" / "fetch_source.py", "llhttp"])
    src = pathlib.Path(res.stdout.strip().splitlines()[-1])
    if not (src / "lib" / "llhttp.c").is_file():
        pytest.fail(f"llhttp sources not found under {src}")
    return src


@functools.lru_cache(maxsize=None)
def build_llhttp_driver():
    src = llhttp_source() / "lib"
    out = BUILD / "llhttp_driver"
    BUILD.mkdir(parents=True, exist_ok=True)
    run(["cc", "-O1", "-g", "-std=c11", "-I", src, "-I", ROOT / "tests" / "c",
         ROOT / "tests" / "c" / "llhttp_driver.c", src / "llhttp.c", src / "api.c", src / "http.c",
         "-o", out])
    return out


# ------------------------------------------------------------------------------------------
# Corpus: realistic heads (tests/corpus/heads), hand-written edge cases, generated and
# mutated responses. Every case is (name, bytes, head_request).

def chunk_encode(body, rng, ext=False, trailers=b""):
    out, pos = b"", 0
    while pos < len(body):
        n = rng.randint(1, max(1, min(len(body) - pos, 64)))
        size = f"{n:x}" if rng.random() < 0.7 else f"{n:X}"
        out += size.encode() + (b";x=1" if ext and rng.random() < 0.3 else b"") + b"\r\n"
        out += body[pos:pos + n] + b"\r\n"
        pos += n
    return out + b"0\r\n" + trailers + b"\r\n"


def realistic():
    rng = random.Random(7)
    cases = []
    for path in sorted((CORPUS / "heads").glob("*.http")):
        head = path.read_bytes()
        text = head.decode("latin-1").lower()
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        final = text.rsplit("\r\n\r\nhttp/1.", 1)[-1]
        if "transfer-encoding: chunked" in final:
            data = head + chunk_encode(body, rng, ext=True)
        elif "content-length:" in final and not any(s in final[:13] for s in ("204", "304", "101")):
            n = int(final.split("content-length:")[1].split("\r\n")[0])
            data = head + bytes(rng.randrange(256) for _ in range(n))
        else:
            data = head
        cases.append((f"real/{path.stem}", data, False))
        if "content-length:" in final:
            cases.append((f"real/{path.stem}/HEAD", head, True))
    return cases


CRLF = b"\r\n"

EDGE = [
    # (name, bytes, head_request)
    ("minimal", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", False),
    ("no reason", b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", False),
    ("empty reason", b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", False),
    ("reason tab obs-text", b"HTTP/1.1 200 A\tB \xe9\r\nContent-Length: 0\r\n\r\n", False),
    ("http10 close", b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc", False),
    ("http10 keep-alive", b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc", False),
    ("http10 close-delimited", b"HTTP/1.0 200 OK\r\n\r\nto the end", False),
    ("close-delimited", b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nto the end", False),
    ("connection close", b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", False),
    ("connection list", b"HTTP/1.1 200 OK\r\nConnection: upgrade, Close\r\nContent-Length: 1\r\n\r\nx", False),
    ("chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", False),
    ("chunked upper", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", False),
    ("chunked ext", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n", False),
    ("chunked trailers", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", False),
    ("chunked zero pad", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n005\r\nhello\r\n0\r\n\r\n", False),
    ("chunked empty", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", False),
    ("chunked bad size", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", False),
    ("chunked missing crlf", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n", False),
    ("chunked overflow", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", False),
    ("chunked incomplete", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", False),
    ("chunked and length", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", False),
    ("te gzip chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", False),
    ("te gzip", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz", False),
    ("204", b"HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n", False),
    ("204 with length", b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", False),
    ("304", b"HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\nContent-Length: 99\r\n\r\n", False),
    ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", True),
    ("HEAD chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", True),
    ("100 continue", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", False),
    ("103 hints", b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                  b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    ("two interim", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
                    b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", False),
    ("101", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", False),
    ("length list", b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc", False),
    ("length twice", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", False),
    ("length conflict", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", False),
    ("length list conflict", b"HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd", False),
    ("length negative", b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\nabc", False),
    ("length letters", b"HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc", False),
    ("length empty", b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", False),
    ("length ows", b"HTTP/1.1 200 OK\r\nContent-Length:   3  \r\n\r\nabc", False),
    ("length overflow", b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", False),
    ("length short body", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", False),
    ("empty value", b"HTTP/1.1 200 OK\r\nX-A:\r\nX-B: \r\nContent-Length: 0\r\n\r\n", False),
    ("value tab", b"HTTP/1.1 200 OK\r\nX-A: a\tb\r\nContent-Length: 0\r\n\r\n", False),
    ("value obs-text", b"HTTP/1.1 200 OK\r\nX-A: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n", False),
    ("tchar name", b"HTTP/1.1 200 OK\r\n!#$%&'*+-.^_`|~: v\r\nContent-Length: 0\r\n\r\n", False),
    ("obs-fold", b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n", False),
    ("space before colon", b"HTTP/1.1 200 OK\r\nX-A : a\r\nContent-Length: 0\r\n\r\n", False),
    ("no colon", b"HTTP/1.1 200 OK\r\nX-A a\r\nContent-Length: 0\r\n\r\n", False),
    ("empty name", b"HTTP/1.1 200 OK\r\n: a\r\nContent-Length: 0\r\n\r\n", False),
    ("bad name char", b"HTTP/1.1 200 OK\r\nX[A]: a\r\nContent-Length: 0\r\n\r\n", False),
    ("nul in value", b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n", False),
    ("ctl in value", b"HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n", False),
    ("del in value", b"HTTP/1.1 200 OK\r\nX-A: a\x7fb\r\nContent-Length: 0\r\n\r\n", False),
    ("bare cr in value", b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n", False),
    ("bare lf", b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", False),
    ("bare lf end", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nok", False),
    ("status 2 digits", b"HTTP/1.1 20 OK\r\n\r\n", False),
    ("status 4 digits", b"HTTP/1.1 2000 OK\r\n\r\n", False),
    ("status 099", b"HTTP/1.1 099 OK\r\nContent-Length: 0\r\n\r\n", False),
    ("status 600", b"HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n", False),
    ("version 2", b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    ("version 1.2", b"HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    ("version 0.9", b"HTTP/0.9 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    ("double space", b"HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n", False),
    ("lowercase http", b"http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    ("not http", b"SSH-2.0-OpenSSH_9.2p1\r\n", False),
    ("leading crlf", b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    ("incomplete head", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", False),
    ("close then keep-alive", b"HTTP/1.0 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\n"
                              b"Content-Length: 1\r\n\r\nx", False),
    ("http10 chunked keep-alive", b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                                  b"Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", False),
    ("interim connection close", b"HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n"
                                 b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", False),
    ("HEAD te gzip", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", True),
    ("304 te gzip", b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\n\r\n", False),
    ("ctl in interim", b"HTTP/1.1 100 Continue\r\nX: \x01\r\n\r\nHTTP/1.1 200 OK\r\n"
                       b"Content-Length: 0\r\n\r\n", False),
    ("empty", b"", False),
]


def edge():
    return [(f"edge/{n}", d, h) for n, d, h in EDGE]


HEADER_POOL = [
    (b"Server", [b"nginx/1.24.0", b"Apache/2.4.62 (Debian)", b"cloudflare", b"uvicorn"]),
    (b"Date", [b"Thu, 27 Nov 2025 10:15:02 GMT"]),
    (b"Content-Type", [b"text/html; charset=utf-8", b"application/json", b"image/png"]),
    (b"Cache-Control", [b"no-cache", b"public, max-age=600", b"private, no-store"]),
    (b"ETag", [b'"abc123"', b'W/"13e-Qm1J"']),
    (b"Vary", [b"Accept-Encoding", b"Accept, Origin"]),
    (b"Set-Cookie", [b"a=1; Path=/; HttpOnly", b"session=xyz; Secure; SameSite=Lax"]),
    (b"X-Request-Id", [b"5f0c1d7e9a2b4c6d", b"req-42"]),
    (b"Location", [b"https://example.com/next", b"/relative?q=1&r=%20"]),
    (b"Access-Control-Allow-Origin", [b"*"]),
    (b"Link", [b'</style.css>; rel=preload; as="style"']),
    (b"X-Empty", [b""]),
    (b"Keep-Alive", [b"timeout=5, max=100"]),
]

STATUSES = [(200, b"OK"), (201, b"Created"), (204, b"No Content"), (301, b"Moved Permanently"),
            (302, b"Found"), (304, b"Not Modified"), (400, b"Bad Request"), (404, b"Not Found"),
            (418, b"I'm a teapot"), (500, b"Internal Server Error"), (503, b"")]


def rand_case(rng, name):
    mode = rng.randrange(4)
    if mode == 0:
        return name.lower()
    if mode == 1:
        return name.upper()
    return name


def generate(rng):
    """One random well-formed response (and whether it answers a HEAD request)."""
    version = b"1.0" if rng.random() < 0.15 else b"1.1"
    status, reason = rng.choice(STATUSES)
    head_request = rng.random() < 0.1
    lines = []
    for name, values in rng.sample(HEADER_POOL, rng.randint(0, 8)):
        ows1 = rng.choice([b" ", b"", b"  ", b"\t"])
        ows2 = rng.choice([b"", b"", b" ", b"\t "])
        lines.append(rand_case(rng, name) + b":" + ows1 + rng.choice(values) + ows2)
    conn = rng.choice([None, None, b"close", b"keep-alive", b"Keep-Alive", b"keep-alive, Upgrade"])
    if conn:
        lines.append(b"Connection: " + conn)
    no_body = head_request or status in (204, 304)
    body = b"" if no_body else bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    framing = rng.choice(["length", "length", "chunked", "close"])
    if framing == "length":
        lines.append(rand_case(rng, b"Content-Length") + b": " + str(len(body)).encode())
        payload = b"" if no_body else body
    elif framing == "chunked":
        lines.append(rand_case(rng, b"Transfer-Encoding") + b": chunked")
        trailers = b"X-Trailer: yes\r\n" if rng.random() < 0.2 else b""
        payload = b"" if no_body else chunk_encode(body, rng, ext=True, trailers=trailers)
    else:
        payload = b"" if no_body else body
    rng.shuffle(lines)
    status_line = b"HTTP/" + version + b" " + str(status).encode()
    if reason or rng.random() < 0.5:
        status_line += b" " + reason
    head = CRLF.join([status_line] + lines) + CRLF + CRLF
    if rng.random() < 0.1:
        head = b"HTTP/1.1 100 Continue\r\n\r\n" + head
    return head + payload, head_request


INSERTS = [b"\r", b"\n", b" ", b"\t", b":", b"\x00", b"\x7f", b",", b"\r\n", b"\r\n ", b"0",
           b"a", b";", b"\xff", b"\r\n\r\n"]
EVIL = [b"Content-Length: 5, 6", b"Transfer-Encoding: gzip", b"Content-Length: -1",
        b"Transfer-Encoding: chunked", b"Content-Length : 3", b"Content-Length: 0",
        b"Connection: close", b" folded", b"X: \x01", b"Content-Length: 1e3"]


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[pos:pos] = rng.choice(INSERTS)
        elif op == 2 and data:
            del data[pos:pos + rng.randint(1, 3)]
        elif op == 3:
            # extra header right after the status line
            eol = data.find(b"\n")
            if eol >= 0:
                data[eol + 1:eol + 1] = rng.choice(EVIL) + b"\r\n"
        elif op == 4:
            del data[pos:]
        else:
            eol = data.find(b"\n", pos)
            if eol >= 0:
                data[eol + 1:eol + 1] = data[pos:eol + 1]
    return bytes(data)


def generated(seed=1, n=150):
    rng = random.Random(seed)
    return [(f"gen/{i}", *generate(rng)) for i in range(n)]


def mutated(seed=2, n=250):
    rng = random.Random(seed)
    base = [d for _, d, _ in realistic() + generated(seed + 100, 60)]
    out = []
    for i in range(n):
        src = rng.choice(base)
        out.append((f"mut/{i}", mutate(rng, src), rng.random() < 0.05))
    return out


def corpus():
    return realistic() + edge() + generated() + mutated()
