# SPDX-License-Identifier: MIT
"""Issue 11 (one owner per connection) on the lwIP build: build/host-lwip/micropython runs the
device's transport (fs_transport_lwip.c) over lwIP 2.1.3 with the ESP32's pool sizes
(firmware/lwip/lwipopts.h), attached to tap0 in a network namespace this module creates.

- 1,000 x fastsock.get(u).status_code under RLIMIT_NOFILE 64 without gc.collect(): every one
  200, the server received 1,000 requests and holds no connection once the loop is done,
  lwIP's pools back at baseline. (Today's main runs out of netconns after pool-size requests.)
- Ctrl-C while connecting to a blackholed address, sent once lwIP's SYN is seen on tap0:
  KeyboardInterrupt, then lwIP's pools at baseline and stats()['open'] == 0, before and after
  gc.collect().
- A pooled connection on which the idle server sent `408 Request Timeout` + close: the
  Session's next get reaches the server (its log) and returns /two's body.
- timeout=(10, 10, 2) against the blackhole and against a DNS server that never answers:
  fastsock.TimeoutError (ETIMEDOUT) within 2 s + 10 % (the DNS server saw the query).

Oracles outside the module: lwIP's own pool counts (lwipstats.used(), leaks() in
lwip_net.PRELUDE), the scripted servers' records, frames seen on tap0, wall time measured in
the script around the call. The servers run in this process with their sockets made inside
the namespace (setns on one thread), so their records are plain Python objects here."""

import errno
import os
import pathlib
import queue
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import lwip_net as L  # noqa: E402
from lifecycle_servers import Log, response, serve_requests  # noqa: E402
from rawserver import RawServer, read_request  # noqa: E402

BLACKHOLE_NET = "10.0.1.0/24"
BLACKHOLE_IP = "10.0.1.9"  # off-link: lwIP sends the SYN to its gateway (the namespace), which drops it
SILENT_NAME = "silent.fastsock.test"  # asked of a DNS server that never answers


@pytest.fixture(scope="module")
def ns(request):
    """Namespace with tap0 (10.0.0.1/24 on the Linux side), and BLACKHOLE_NET routed to a
    blackhole: with forwarding on, the kernel drops those packets silently (off, it would
    answer ICMP host unreachable). Removed by the finalizer even when a test fails."""
    L.interpreter()
    L.require_tap()
    n = L.Netns()
    request.addfinalizer(n.delete)
    n.create()
    subprocess.run(n.prefix() + ["sysctl", "-qw", "net.ipv4.ip_forward=1"], check=True, capture_output=True)
    subprocess.run(["ip", "-n", n.name, "route", "add", "blackhole", BLACKHOLE_NET], check=True,
                   capture_output=True)
    return n


def entered(n):
    """Run the block in namespace n (this thread only): sockets made here live there."""
    return L.netns_entered(n.name)


def server(n, handler):
    """A RawServer listening on SERVER_IP inside n (lwIP's gateway, reachable over tap0)."""
    with entered(n):
        return RawServer(handler, host=L.SERVER_IP)


class TapWatch:
    """Frames on tap0 inside n (an AF_PACKET socket): the frames lwIP writes to the TAP device
    arrive here, so a SYN seen here means lwIP is connecting."""

    def __init__(self, n):
        with entered(n):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            self.sock.bind(("tap0", 0))

    def wait_syn(self, ip, timeout):
        dst = socket.inet_aton(ip)
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return False
            f = self.sock.recv(2048)
            if len(f) < 34 or f[12:14] != b"\x08\x00" or f[23] != 6 or f[30:34] != dst:
                continue
            tcp = 14 + (f[14] & 15) * 4
            if len(f) > tcp + 13 and f[tcp + 13] & 0x12 == 0x02:  # SYN without ACK
                return True

    def close(self):
        self.sock.close()


class SilentDns:
    """A DNS server on SERVER_IP:53 inside n that records the names asked and answers none."""

    def __init__(self, n):
        with entered(n):
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((L.SERVER_IP, 53))
        self.sock.settimeout(0.1)
        self.names = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(512)
            except OSError:
                continue
            labels, i = [], 12
            while i < len(data) and data[i] != 0:
                labels.append(data[i + 1 : i + 1 + data[i]].decode("ascii", "replace"))
                i += 1 + data[i]
            self.names.append(".".join(labels).lower())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


class Interp:
    """PRELUDE + code in the lwIP interpreter inside n, attached to tap0 (lwIP is 10.0.0.2,
    gateway and DNS server 10.0.0.1); stdout lines arrive on a queue so the test can wait for
    one. `ip netns exec` execs the interpreter, so pid is its own. nofile: RLIMIT_NOFILE."""

    def __init__(self, n, code, tmp_path, nofile=None):
        script = tmp_path / ("lifecycle_%d.py" % time.monotonic_ns())
        script.write_text(L.PRELUDE + textwrap.dedent(code))
        env = {k: v for k, v in os.environ.items() if not k.startswith("FASTSOCK_")}
        env.update(L.tap_env(FASTSOCK_DNS=L.SERVER_IP))
        limit = None
        if nofile:
            def limit():
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.err = open(script.with_suffix(".err"), "w+")
        self.proc = subprocess.Popen(n.prefix() + [str(L.interpreter()), "-X", "heapsize=32m", str(script)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                     text=True, env=env, preexec_fn=limit)
        self.lines = []
        self._q = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def stderr(self):
        self.err.seek(0)
        return self.err.read()[-4000:]

    def wait_line(self, prefix, timeout):
        """The next stdout line starting with prefix; fails the test after timeout s."""
        end = time.monotonic() + timeout
        while True:
            try:
                line = self._q.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                pytest.fail("no %r line within %s s; stdout so far %r" % (prefix, timeout, self.lines), pytrace=False)
            if line is None:
                pytest.fail("interpreter ended before %r; stdout %r\nstderr:\n%s" % (prefix, self.lines, self.stderr()),
                            pytrace=False)
            self.lines.append(line)
            if line.startswith(prefix):
                return line

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout):
        """Wait for a clean exit; returns {TAG: value} from the `TAG <literal>` lines."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail("interpreter still running after %s s; stdout %r" % (timeout, self.lines), pytrace=False)
        self._reader.join(5)
        while not self._q.empty():
            line = self._q.get_nowait()
            if line is not None:
                self.lines.append(line)
        out = "\n".join(self.lines)
        if self.proc.returncode != 0:
            pytest.fail("micropython (host-lwip) exited %d:\nstdout:\n%s\nstderr:\n%s" % (
                self.proc.returncode, out[-4000:], self.stderr()), pytrace=False)
        return L.parse(out)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


def run(n, code, tmp_path, timeout=60, nofile=None):
    p = Interp(n, code, tmp_path, nofile=nofile)
    try:
        return p.finish(timeout)
    finally:
        p.kill()


class Counting:
    """Handler: a keep-alive server answering every GET with a 1 KB body; counts requests and
    connections, and how many connections are open now."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.connections = 0
        self.open = 0
        self.peak = 0
        self.resp = response(bytes(range(256)) * 4)

    def __call__(self, conn, stop):
        with self.lock:
            self.connections += 1
            self.open += 1
            self.peak = max(self.peak, self.open)
        try:
            conn.settimeout(0.2)
            buf = b""
            while not stop.is_set():
                while b"\r\n\r\n" in buf:  # GETs: a head, no body
                    _, _, buf = buf.partition(b"\r\n\r\n")
                    with self.lock:
                        self.requests += 1
                    conn.sendall(self.resp)
                try:
                    d = conn.recv(65536)
                except TimeoutError:
                    continue
                if not d:
                    return
                buf += d
        finally:
            with self.lock:
                self.open -= 1

    def now_open(self):
        with self.lock:
            return self.open


def test_get_status_code_loop_keeps_no_netconn(ns, tmp_path):
    """Defect 3 on lwIP: fastsock.get(u).status_code kept each netconn until a GC (the device's ~10 ran out at once); oracle: 1000 iterations under RLIMIT_NOFILE 64 without gc.collect(), the server got 1000 requests and has no connection left open, lwIP's pools at baseline."""
    srv_state = Counting()
    with server(ns, srv_state) as srv:
        p = Interp(ns, """
            u = %r
            failed = None
            for i in range(1000):
                try:
                    st = fastsock.get(u, timeout=10).status_code
                    if st != 200:
                        failed = "iteration %%d: status %%d" %% (i, st)
                except OSError as e:
                    failed = "iteration %%d: %%s %%r" %% (i, type(e).__name__, e.args)
                if failed:
                    break
            report("LOOP", failed or "1000 ok")
            report("POOLS", lwipstats.used())
            print("DONE")
            import sys
            sys.stdin.readline()
            report("LEAKS", leaks())
            report("OPEN", fastsock.stats()["open"])
            """ % srv.url("/1k.bin"), tmp_path, nofile=64)
        try:
            p.wait_line("DONE", 120)
            # The server's view while the interpreter still runs: nothing kept open (EOF is
            # immediate on close; a leaked connection would stay open as long as the process).
            end = time.monotonic() + 3
            while srv_state.now_open() and time.monotonic() < end:
                time.sleep(0.02)
            still_open = srv_state.now_open()
            p.send("go")
            tags = p.finish(30)
        finally:
            p.kill()
    assert tags["LOOP"] == "1000 ok", "failed at %s under RLIMIT_NOFILE 64 (lwIP pools then: %r)" % (
        tags["LOOP"], tags["POOLS"])
    assert srv_state.requests == 1000, "server received %d requests" % srv_state.requests
    assert still_open == 0, "server still has %d connection(s) open after the loop (peak %d)" % (
        still_open, srv_state.peak)
    assert tags["LEAKS"] == {}, "lwIP pools not back to baseline: %r" % tags["LEAKS"]
    assert tags["OPEN"] == 0, tags["OPEN"]


def bytes_acked(sock):
    """How many bytes the peer has acknowledged on this Linux TCP socket (tcp_info's
    tcpi_bytes_acked, Linux 4.1+): what the sender's kernel saw of the receiver's window."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return struct.unpack_from("=Q", info, 120)[0]


def test_consumed_bytes_reopen_the_window_at_once(ns, tmp_path):
    """Issue 29 (lwIP window): bytes the caller consumes must be given back to the peer as they are consumed (netconn_tcp_recvd in tp_consume, in batches of TCP_WND_UPDATE_THRESHOLD), not only at the next fill; with the update missing, a reader that pauses after a partial read (a slow writer, a progress callback) holds the sender at a closed window for the whole pause. Oracle: the Linux sender's count of acknowledged bytes (tcp_info) while the client pauses."""
    body = bytes(range(256)) * 800  # 200 KB: more than the window and what is read before the pause
    conns, measured = [], threading.Event()

    def handler(conn, stop):
        read_request(conn)
        conns.append(conn)
        conn.sendall(response(body)[: -len(body)])  # the head alone: the client's first fill takes only it
        stop.wait(0.2)
        conn.sendall(body)
        measured.wait(10)  # the socket stays open (and tcp_info readable) until then

    with server(ns, handler) as srv:
        p = Interp(ns, """
            import sys
            wnd = lwipstats.TCP_WND
            r = fastsock.get(%r, timeout=10, stream=True)
            time.sleep_ms(600)     # the first window of the body arrives and waits in lwIP
            buf = bytearray(1000)
            got = 0
            while got < 18000:     # from what the first fill took: no fill while reading these
                got += r.readinto(buf)
            report("WND", wnd)
            print("CONSUMED", got)
            sys.stdin.readline()   # paused: the test reads the sender's view now
            n = got
            while True:
                k = r.readinto(buf)
                if not k:
                    break
                n += k
            report("TOTAL", n)
            report("LEAKS", leaks())
            """ % srv.url("/big"), tmp_path)
        try:
            consumed = int(p.wait_line("CONSUMED", 30).split()[1])
            time.sleep(0.5)  # the window update reaches the sender, which fills the space
            acked = bytes_acked(conns[0])
            measured.set()
            p.send("go")
            tags = p.finish(30)
        finally:
            p.kill()
    head = len(response(body)) - len(body)
    wnd = tags["WND"]
    assert tags["TOTAL"] == len(body), tags
    assert tags["LEAKS"] == {}, "lwIP pools not back to baseline: %r" % tags["LEAKS"]
    # Without updates the sender stays at the first window (head + TCP_WND); with them it has
    # also filled what was consumed, less at most one threshold's worth not yet given back.
    beyond = acked - head - wnd
    assert beyond >= consumed // 2, (
        "while the client paused having consumed %d bytes, the sender got %d bytes acknowledged beyond the "
        "first window of %d (the window was not reopened as bytes were consumed)" % (consumed, beyond, wnd))


def test_ctrl_c_during_connect_leaves_nothing(ns, tmp_path):
    """Defect 7 on lwIP: the conn was stored before it was counted, so after Ctrl-C during connect the netconn stayed until GC and the finaliser made stats()['open'] wrap; oracle: lwIP's pools at baseline (no netconn, no pcb) and open == 0, before and after gc.collect()."""
    watch = TapWatch(ns)
    p = Interp(ns, """
        report("BASE", fastsock.stats()["open"])
        try:
            fastsock.get("http://%s:80/", timeout=30)
            report("RESULT", "returned")
        except KeyboardInterrupt:
            report("INTERRUPTED", True)
        report("NOGC", (fastsock.stats()["open"], leaks()))
        import gc
        gc.collect()
        report("GC", (fastsock.stats()["open"], leaks()))
        """ % BLACKHOLE_IP, tmp_path)
    try:
        p.wait_line("BASE", 30)
        # The moment: lwIP's SYN to the blackhole is on the wire, so the transport is waiting
        # for the connect to complete.
        assert watch.wait_syn(BLACKHOLE_IP, 10), "no SYN to %s on tap0 within 10 s" % BLACKHOLE_IP
        t0 = time.monotonic()
        p.proc.send_signal(signal.SIGINT)  # as Ctrl-C in a terminal
        p.wait_line("INTERRUPTED", 10)
        latency = time.monotonic() - t0
        tags = p.finish(30)
    finally:
        p.kill()
        watch.close()
    assert latency < 2, "KeyboardInterrupt took %.1f s to reach the script" % latency
    open_nogc, leaks_nogc = tags["NOGC"]
    open_gc, leaks_gc = tags["GC"]
    assert open_gc == 0, "stats()['open'] is %d after Ctrl-C during connect and gc.collect()" % open_gc
    assert leaks_nogc == {}, "lwIP pools not back to baseline after Ctrl-C during connect: %r" % leaks_nogc
    assert open_nogc == 0, open_nogc
    assert leaks_gc == {}, leaks_gc


STRAY_408 = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n"


def test_pooled_connection_closed_with_408_is_not_reused(ns, tmp_path):
    """Defect 1 on lwIP: a 408 + close sent on an idle pooled connection was read as the next request's response; oracle: the server receives /two and the client gets /two's body."""
    log = Log()
    ready, sent = threading.Event(), threading.Event()

    def answer(conn, method, path, body, stop):
        if path == "/ready":  # the client has read /one: its connection is idle in the pool
            ready.set()
        elif path == "/sent":  # the client waits here until the 408 went out (in order, before this answer)
            conn.sendall(response(b"1" if sent.wait(5) else b"0"))
            return True
        conn.sendall(response(path.encode()))
        if path != "/one":
            return True
        if ready.wait(5):
            conn.sendall(STRAY_408)
            conn.close()
            sent.set()
        return False

    with server(ns, serve_requests(log, answer)) as srv:
        tags = run(ns, """
            s = fastsock.Session()
            report("ONE", s.get(%(one)r, timeout=10).content)
            fastsock.get(%(ready)r, timeout=10).content
            report("SENT", fastsock.get(%(sent)r, timeout=10).content)
            try:
                r = s.get(%(two)r, timeout=10)
                report("TWO", ("ok", r.status_code, r.content))
            except Exception as e:
                report("TWO", (type(e).__name__, str(e)))
            s.close()
            report("LEAKS", leaks())
            """ % {"one": srv.url("/one"), "two": srv.url("/two"), "ready": srv.url("/ready"),
                   "sent": srv.url("/sent")}, tmp_path)
    assert tags["ONE"] == b"/one" and tags["SENT"] == b"1", tags
    # Reused unchecked, the dead connection yields the 408 or (if the server's RST to the request
    # came first) ECONNRESET, and /two never reaches the server.
    assert tags["TWO"] == ("ok", 200, b"/two"), "the request went on the dead pooled connection: %r" % (
        tags["TWO"],)
    assert log.count("/two") == 1, "server received /two %d times" % log.count("/two")
    assert tags["LEAKS"] == {}, "lwIP pools not back to baseline: %r" % tags["LEAKS"]


def test_total_deadline_covers_connect_and_dns(ns, tmp_path):
    """Defect 8 on lwIP: the total excluded DNS and connect (a blackhole with (10, 10, 2) failed after 10 s); oracle: wall time around the call, TimeoutError (ETIMEDOUT) within 2 s + 10 %, and the DNS server saw the query."""
    with SilentDns(ns) as dns:
        tags = run(ns, """
            t = (10, 10, 2)
            report("CONNECT", attempt(lambda: fastsock.get("http://%s:80/", timeout=t).content))
            report("LEAKS", leaks())
            report("DNS", attempt(lambda: fastsock.get("http://%s:80/", timeout=t).content))
            """ % (BLACKHOLE_IP, SILENT_NAME), tmp_path)
        asked = list(dns.names)
    bound = max(2000 * 1.1, 2000 + 200)
    for case in ("CONNECT", "DNS"):
        exc, ms = tags[case]
        assert exc is not None and exc[0] == "TimeoutError" and exc[1] == errno.ETIMEDOUT, (
            "%s with timeout=(10, 10, 2): %r after %d ms" % (case, exc, ms))
        assert 1950 <= ms <= bound, "%s: the 2 s total ended after %d ms" % (case, ms)
    assert SILENT_NAME in asked, "the DNS server saw no query for %s: %r" % (SILENT_NAME, asked)
    # The abandoned connect leaves nothing (a SYN_SENT pcb is freed at once; no ARP queue: the
    # gateway's address is resolved). The abandoned lookup is lwIP's until it gives up (~7 s).
    assert tags["LEAKS"] == {}, "lwIP pools not back to baseline after the connect: %r" % tags["LEAKS"]
