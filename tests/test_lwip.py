# SPDX-License-Identifier: MIT
"""fastsock's lwIP transport on a real lwIP 2.1.3 stack, once per lwIP build: the lwIP options
of boards/ESP32_NET (build/host-lwip), of its SPIRAM variant (build/host-lwip-spiram), both
generated from the board's sdkconfig files, and the first again under ASan + UBSan
(build/host-lwip-asan; fastsock and the interpreter sanitized, lwIP itself not).

TAP: in a network namespace each module creates (nginx and a one-name DNS server on the Linux
side, the interpreter on the lwIP side); downloads byte-identical by sha256, loss/duplication/
reordering injected on the netif, DNS, connect failures. Slirp (no root): the same downloads
from nginx on 127.0.0.1, and the fault-server modes (reset, truncation, trickle, stall).
After every script lwIP's pools are back to their baseline (no pbuf or netconn leak).
"""

import errno
import hashlib
import pathlib
import socket
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "scripts"))

import lwip_net as L  # noqa: E402
import rawserver as R  # noqa: E402
from localserver import Nginx, make_sample_files  # noqa: E402

FILES = {"0.bin": 0, "1.bin": 1, "1k.bin": 1024, "1m.bin": 1 << 20, "10m.bin": 10 << 20}
CHUNKED = [0, 1, 100000, 1000000]


def sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module", autouse=True, params=list(L.LWIP_BUILDS))
def board(request):
    """The whole module runs against each lwIP build (both board configurations, and the
    default one under ASan + UBSan)."""
    L.use_build(request.param)
    yield
    L.use_build("board")


@pytest.fixture(scope="session")
def lwww(tmp_path_factory):
    root = tmp_path_factory.mktemp("lwww")
    make_sample_files(root, FILES, seed=5)
    return root


@pytest.fixture(scope="module")
def tapnet(request, lwww):
    """Namespace + TAP + servers; removed by finalizers even when a test fails."""
    L.interpreter()
    L.require_tap()
    ns = L.Netns()
    request.addfinalizer(ns.delete)
    ns.create()
    srv = L.NetnsServers(ns, lwww)
    request.addfinalizer(srv.stop)
    srv.start()
    return srv


@pytest.fixture(scope="module")
def slirp_nginx(lwww):
    L.interpreter()
    with Nginx(lwww) as srv:
        yield srv


def slirp_url(port, path):
    return "http://%s:%d%s" % (L.SLIRP_HOST, port, path)


# The download script: save() (zero-copy path) and, up to 1 MB, .content as well.
DOWNLOAD = """
r = fastsock.get({url!r}, timeout=10, stream=True)
status = r.status_code
fastsock.reset_stats()
n = r.save({out!r})
s = fastsock.stats()
report("SAVE", {{"status": status, "n": n, "copied": s["bytes_copied"], "peak": s["peak_buffered"],
               "wnd": lwipstats.TCP_WND}})
if {content}:
    c = fastsock.get({url!r}, timeout=10).content
    with open({out2!r}, "wb") as f:
        f.write(c)
report("FAULTS", lwipstats.faults())
report("LEAKS", leaks((), {wait_ms}))
"""


def download(tmp_path, url, env, ns=None, content=True, timeout=120, wait_ms=2000):
    out, out2 = tmp_path / "save.out", tmp_path / "content.out"
    _, tags = L.run_mp(DOWNLOAD.format(url=url, out=str(out), out2=str(out2), content=content, wait_ms=wait_ms),
                       tmp_path, env, ns=ns, timeout=timeout)
    assert tags["LEAKS"] == {}, "lwIP pools not back to baseline: %r" % tags["LEAKS"]
    assert tags["SAVE"]["status"] == 200
    assert tags["SAVE"]["copied"] == 0, "save() copied body bytes"
    wnd = L.board_options(L.VARIANT)["CONFIG_LWIP_TCP_WND_DEFAULT"]
    assert tags["SAVE"]["wnd"] == wnd, "the build's TCP_WND is not the board's"
    assert tags["SAVE"]["peak"] <= wnd + 4096, "peak buffered %d > TCP_WND %d + 4 KB" % (tags["SAVE"]["peak"], wnd)
    saved = out.read_bytes()
    assert tags["SAVE"]["n"] == len(saved)
    return saved, (out2.read_bytes() if content else None), tags


def check_file(lwww, name, saved, content):
    want = sha((lwww / name).read_bytes())
    assert sha(saved) == want, "%s: saved body differs (%d bytes)" % (name, len(saved))
    if content is not None:
        assert sha(content) == want, "%s: .content differs (%d bytes)" % (name, len(content))


# ---- TAP in a network namespace


@pytest.mark.parametrize("name", list(FILES))
def test_tap_download(tapnet, lwww, tmp_path, name):
    saved, content, _ = download(tmp_path, tapnet.url("/" + name), L.tap_env(), tapnet.ns,
                                 content=FILES[name] <= 1 << 20)
    check_file(lwww, name, saved, content)


@pytest.mark.parametrize("n", CHUNKED)
def test_tap_chunked(tapnet, tmp_path, n):
    saved, content, _ = download(tmp_path, tapnet.url("/chunked/%d" % n), L.tap_env(), tapnet.ns)
    assert sha(saved) == sha(b"x" * n) and sha(content) == sha(b"x" * n)


@pytest.mark.parametrize("drop", [1, 5])
def test_tap_loss(tapnet, lwww, tmp_path, drop):
    # Seeded: the same frames are lost on every run. 1 MB (loss recovery waits for RTO).
    # A lost FIN is resent after lwIP's RTO (3 s at first, then doubling): the closing pcb
    # may take that long to go, so the pools get 15 s; a leaked one never goes.
    saved, _, tags = download(tmp_path, tapnet.url("/1m.bin"), L.tap_env(FASTSOCK_DROP=drop, FASTSOCK_SEED=7),
                              tapnet.ns, content=False, wait_ms=15000)
    assert tags["FAULTS"]["dropped"] > 0
    check_file(lwww, "1m.bin", saved, None)


def test_tap_duplicate_reorder_delay(tapnet, lwww, tmp_path):
    env = L.tap_env(FASTSOCK_DUP=5, FASTSOCK_REORDER=5, FASTSOCK_DELAY_MS=2, FASTSOCK_SEED=3)
    saved, content, tags = download(tmp_path, tapnet.url("/1m.bin"), env, tapnet.ns)
    assert tags["FAULTS"]["duplicated"] > 0 and tags["FAULTS"]["reordered"] > 0
    check_file(lwww, "1m.bin", saved, content)


def test_tap_dns(tapnet, lwww, tmp_path):
    url = tapnet.url("/1k.bin", host=L.DNS_NAME)
    saved, content, _ = download(tmp_path, url, L.tap_env(FASTSOCK_DNS=L.SERVER_IP), tapnet.ns)
    check_file(lwww, "1k.bin", saved, content)


ERRORS = """
for key, url, t in {cases!r}:
    report(key, attempt(lambda: fastsock.get(url, timeout=t).content))
report("LEAKS", leaks({allow!r}, {wait_ms}))
"""


def run_errors(tmp_path, cases, env, ns=None, allow=(), wait_ms=2000):
    _, tags = L.run_mp(ERRORS.format(cases=cases, allow=allow, wait_ms=wait_ms), tmp_path, env, ns=ns)
    assert tags["LEAKS"] == {}, "lwIP pools not back to baseline: %r" % tags["LEAKS"]
    return tags


def test_tap_dns_failures(tapnet, tmp_path):
    tags = run_errors(tmp_path, [
        ("UNKNOWN", "http://nowhere.test:%d/" % tapnet.port, 5),
        ("SILENT", "http://%s:%d/" % (L.DNS_NAME, tapnet.port), 1),
    ], L.tap_env(FASTSOCK_DNS=L.SERVER_IP), tapnet.ns)
    (kind, code, msg), _ = tags["UNKNOWN"]
    assert kind == "ConnectionError" and code == errno.ENOENT and "host name not found" in msg
    assert tags["SILENT"][0] is None  # the name resolves through the test server
    # A DNS server that never answers: the timeout holds (lwIP alone retries for ~7 s). The
    # abandoned lookup's memory and UDP pcb are freed when lwIP gives up: wait for that too.
    tags = run_errors(tmp_path, [("SILENT", "http://%s:%d/" % (L.DNS_NAME, tapnet.port), 1)],
                      L.tap_env(FASTSOCK_DNS=L.UNUSED_IP), tapnet.ns, wait_ms=12000)
    (kind, code, msg), ms = tags["SILENT"]
    assert kind == "ConnectTimeout" and code == errno.ETIMEDOUT, tags["SILENT"]
    assert 900 <= ms < 2500, "DNS timeout took %d ms" % ms


def test_tap_connect_failures(tapnet, tmp_path):
    tags = run_errors(tmp_path, [
        ("REFUSED", "http://%s:9/" % L.SERVER_IP, 5),
        ("NOBODY", "http://%s:80/" % L.UNUSED_IP, 1),
    ], L.tap_env(), tapnet.ns, wait_ms=12000)
    # (The SYN to nobody waits in lwIP's ARP queue until the entry expires, ~5 s: waited for.)
    (kind, code, msg), _ = tags["REFUSED"]
    assert kind == "ConnectionError" and code == errno.ECONNREFUSED and "refused" in msg, tags["REFUSED"]
    (kind, code, msg), ms = tags["NOBODY"]
    assert kind == "ConnectTimeout" and code == errno.ETIMEDOUT, tags["NOBODY"]
    assert 900 <= ms < 2500, "connect timeout took %d ms" % ms


# ---- libslirp (no root): downloads, then the fault-server modes


@pytest.mark.parametrize("name", list(FILES))
def test_slirp_download(slirp_nginx, lwww, tmp_path, name):
    saved, content, _ = download(tmp_path, slirp_url(slirp_nginx.port, "/" + name), L.slirp_env(),
                                 content=FILES[name] <= 1 << 20)
    check_file(lwww, name, saved, content)


def test_slirp_chunked(slirp_nginx, tmp_path):
    saved, content, _ = download(tmp_path, slirp_url(slirp_nginx.port, "/chunked/100000"), L.slirp_env())
    assert sha(saved) == sha(b"x" * 100000) and sha(content) == sha(b"x" * 100000)


BODY = bytes(range(256)) * 400  # 100 KB


@pytest.mark.parametrize("mode", ["reset_mid_body", "close_mid_body", "close_before_head", "stall_mid_body",
                                  "stall_before_head", "trickle", "trickle_head"])
def test_slirp_fault_server(tmp_path, mode):
    handler = {
        "reset_mid_body": R.reset_mid_body(BODY, 30000),
        "close_mid_body": R.close_mid_body(BODY, 30000),
        "close_before_head": R.close_before_head,
        "stall_mid_body": R.stall_mid_body(BODY, 30000),
        "stall_before_head": R.stall,
        "trickle": R.trickle_body(BODY[:3000], 300, 0.02),
        # One byte per segment: a chain of more tiny pbufs than the parser sees at once.
        "trickle_head": R.trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 300\r\nX-Pad: " + b"p" * 40
                                  + b"\r\n\r\n" + BODY[:300], 0.002),
    }[mode]
    with R.RawServer(handler) as srv:
        url = slirp_url(srv.port, "/x")
        # The client closing first (a stall, or a last byte racing the server's FIN) leaves its
        # pcb in FIN_WAIT/TIME_WAIT and lwIP's TCP timer running while it exists: lwIP's own,
        # bounded by MEMP_NUM_TCP_PCB, not a leak. NETCONN and every pbuf pool are still checked.
        allow = ("TCP_PCB", "SYS_TIMEOUT") if mode.startswith(("stall", "trickle")) else ()
        code = """
got = []
report("EXC", attempt(lambda: got.append(fastsock.get(%r, timeout=1).content)))
report("LEN", len(got[0]) if got else -1)
report("COALESCED", lwipstats.coalesced())
report("LEAKS", leaks(%r))
""" % (url, allow)
        _, tags = L.run_mp(code, tmp_path, L.slirp_env())
    assert tags["LEAKS"] == {}, "lwIP pools not back to baseline: %r" % tags["LEAKS"]
    exc, ms = tags["EXC"]
    if mode == "trickle":
        assert exc is None and tags["LEN"] == 3000, exc
        return
    if mode == "trickle_head":
        assert exc is None and tags["LEN"] == 300, exc
        assert tags["COALESCED"] > 0, "expected tiny segments to be merged"
        return
    assert exc is not None, "%s: no exception" % mode
    kind, code, msg = exc
    if mode == "reset_mid_body":
        assert kind == "ConnectionError" and code == errno.ECONNRESET and "reset" in msg, exc
    elif mode == "close_mid_body":
        assert kind == "ProtocolError" and "after 30000 of 102400 body bytes" in msg, exc
    elif mode == "close_before_head":
        assert kind == "ProtocolError" and "before the response head" in msg, exc
    else:
        assert kind == "ReadTimeout" and code == errno.ETIMEDOUT, exc
        assert 900 <= ms < 2500, "read timeout took %d ms" % ms


def split_head_server(parts, pause=0.05):
    """Handler: the response in separate writes, so each lands in its own lwIP segment."""

    def handler(conn, stop):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        R.read_request(conn)
        for part in parts:
            conn.sendall(part)
            stop.wait(pause)

    return handler


@pytest.mark.parametrize("length", [520, 600, 800, 1200, 3000, 4000])
def test_slirp_long_header_line_across_segments(tmp_path, length):
    # A legal line longer than the stack scratch (FS_SCRATCH_BYTES, 512) that straddles a
    # segment boundary parses exactly as it does in one piece (the POSIX build's case).
    value = b"".join(b"v%d" % (i % 10) for i in range(length))[:length]
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: " + value + b"\r\nX-After: 1\r\n\r\nok"
    cut = head.index(value) + length // 2
    with R.RawServer(split_head_server([head[:cut], head[cut:]])) as srv:
        code = """
r = fastsock.get(%r, timeout=5)
report("GOT", (r.status_code, len(r.headers["set-cookie"]), r.headers["set-cookie"][:16], r.headers["x-after"], r.text))
report("LEAKS", leaks(("TCP_PCB", "SYS_TIMEOUT")))
""" % slirp_url(srv.port, "/")
        _, tags = L.run_mp(code, tmp_path, L.slirp_env())
    assert tags["GOT"] == (200, length, value[:16].decode(), "1", "ok"), tags["GOT"]
    assert tags["LEAKS"] == {}


def test_slirp_many_long_lines_each_across_segments(tmp_path):
    # Several straddling lines in one head (each copied once): 7 of 1,000 bytes, head < 8 KB.
    lines = [b"X-L%d: " % i + bytes([65 + i]) * 1000 + b"\r\n" for i in range(7)]
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(lines) + b"Content-Length: 0\r\n\r\n"
    parts, last = [], 0
    for line in lines:
        cut = head.index(line) + 500
        parts.append(head[last:cut])
        last = cut
    parts.append(head[last:])
    with R.RawServer(split_head_server(parts, pause=0.03)) as srv:
        code = """
r = fastsock.get(%r, timeout=5)
report("GOT", [(k, len(v), v[:1]) for k, v in r.headers.items() if k.startswith("x-l")])
""" % slirp_url(srv.port, "/")
        _, tags = L.run_mp(code, tmp_path, L.slirp_env())
    assert sorted(tags["GOT"]) == [("x-l%d" % i, 1000, chr(65 + i)) for i in range(7)], tags["GOT"]


def test_slirp_guard(tmp_path):
    # Only 10.0.2.2 (the host's 127.0.0.1) is reachable: anything else is dropped on the way out.
    code = """
report("EXC", attempt(lambda: fastsock.get("http://10.0.2.3:80/", timeout=1).content))
report("FAULTS", lwipstats.faults())
report("LEAKS", leaks())
"""
    _, tags = L.run_mp(code, tmp_path, L.slirp_env())
    assert tags["EXC"][0][0] == "ConnectTimeout", tags["EXC"]
    assert tags["FAULTS"]["guard_dropped"] > 0
    assert tags["LEAKS"] == {}
