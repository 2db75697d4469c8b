# SPDX-License-Identifier: MIT
"""Network conditions for tests/test_deadlines.py, all on this machine: a network namespace
with a DNS server that never answers and a blackholed address, TLS servers built on Python's
ssl MemoryBIO (so the test controls every byte: trickled, stalled, with or without
close_notify), and a runner for the host interpreters inside or outside the namespace,
including one that can be interrupted with SIGINT at a chosen moment.

Nothing here sends a packet off this machine: the namespace's only links are loopback and a
TAP device that nobody reads (its packets are dropped), and the resolver it is given points
at 127.0.0.1 inside it."""

import itertools
import os
import pathlib
import queue
import shutil
import socket
import ssl
import subprocess
import threading
import time

from lwip_net import dns_answer, netns_entered, parse

LINK_IP = "10.77.0.1"  # the namespace's own address on tap0 (makes AI_ADDRCONFIG ask for A)
BLACKHOLE_IP = "10.77.0.2"  # on tap0's link, with a permanent neighbour entry: SYNs vanish
RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:30 attempts:1\n"

_names = itertools.count()


class Netns:
    """A namespace `fsdl<pid>-<n>`: lo up, tap0 (no reader) with LINK_IP/24 and BLACKHOLE_IP
    as a permanent neighbour, and /etc/netns/<name>/resolv.conf (ip netns exec bind-mounts it
    over /etc/resolv.conf) naming 127.0.0.1 inside it, where glibc waits 30 s per query.
    delete() kills what still runs inside and removes it all; safe to call twice."""

    def __init__(self):
        self.name = "fsdl%d-%d" % (os.getpid(), next(_names))
        self.etc = pathlib.Path("/etc/netns") / self.name
        self.created = False

    def _ip(self, *args):
        p = subprocess.run(["ip", *args], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("ip %s failed: %s" % (" ".join(args), p.stderr.strip()))

    def create(self):
        self._ip("netns", "add", self.name)
        self.created = True
        self.etc.mkdir(parents=True, exist_ok=True)
        (self.etc / "resolv.conf").write_text(RESOLV_CONF)
        self._ip("-n", self.name, "link", "set", "lo", "up")
        self._ip("-n", self.name, "tuntap", "add", "dev", "tap0", "mode", "tap")
        self._ip("-n", self.name, "addr", "add", LINK_IP + "/24", "dev", "tap0")
        self._ip("-n", self.name, "link", "set", "tap0", "up")
        self._ip("-n", self.name, "neigh", "add", BLACKHOLE_IP, "lladdr", "02:00:00:00:77:02",
                 "dev", "tap0", "nud", "permanent")
        self.check_blackhole()
        return self

    def entered(self):
        """Run the block in the namespace (this thread only): sockets made here live there."""
        return netns_entered(self.name)

    def check_blackhole(self):
        """A connect to BLACKHOLE_IP must hang (not fail at once), or the tests prove nothing."""
        with self.entered():
            s = socket.socket()
        try:
            s.setblocking(False)
            err = s.connect_ex((BLACKHOLE_IP, 80))
            if err != 115:  # EINPROGRESS
                raise RuntimeError("connect to the blackhole failed at once: errno %d" % err)
            time.sleep(0.3)
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise RuntimeError("connect to the blackhole failed within 0.3 s: errno %d" % err)
        finally:
            s.close()

    def prefix(self):
        return ["ip", "netns", "exec", self.name]

    def delete(self):
        if self.created:
            p = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True)
            for pid in p.stdout.split():
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
            self.created = False
        shutil.rmtree(self.etc, ignore_errors=True)


class DnsSink:
    """A DNS server on 127.0.0.1:53 inside ns that records every query and answers none,
    except names in `answer` (NXDOMAIN at once), or everything when answer_all. answer_pending()
    sends NXDOMAIN to the queries still waiting and to later ones (so a lookup left running
    can finish)."""

    def __init__(self, ns, answer=(), answer_all=False):
        with ns.entered():
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        self.sock.settimeout(0.1)
        self.answer = {n.lower() for n in answer}
        self.answer_all = answer_all
        self.queries = []  # query names, in arrival order
        self.pending = []  # (data, addr) not answered
        self.seen = threading.Event()  # a query other than the answered names arrived
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    @staticmethod
    def qname(data):
        labels, i = [], 12
        while i < len(data) and data[i] != 0:
            labels.append(data[i + 1 : i + 1 + data[i]].decode("ascii", "replace"))
            i += 1 + data[i]
        return ".".join(labels).lower()

    def _run(self):
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(512)
            except OSError:
                continue
            name = self.qname(data)
            with self._lock:
                self.queries.append(name)
                if self.answer_all or name in self.answer:
                    self.sock.sendto(dns_answer(data, "", "0.0.0.0"), addr)
                else:
                    self.pending.append((data, addr))
                    self.seen.set()

    def answer_pending(self):
        """NXDOMAIN to every query waiting, and from now on to every new one."""
        with self._lock:
            self.answer_all = True
            for data, addr in self.pending:
                self.sock.sendto(dns_answer(data, "", "0.0.0.0"), addr)
            self.pending = []


# ---- TLS servers whose bytes the test controls


def server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


class TLSStream:
    """Server side of TLS over a connected socket through MemoryBIOs; with `trickle` every
    byte the server sends goes out on its own, `trickle` seconds apart."""

    def __init__(self, conn, ctx, stop, trickle=0.0):
        self.conn = conn
        self.stop = stop
        self.trickle = trickle
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_side=True)
        if trickle:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def flush(self):
        data = self.out.read()
        if not self.trickle:
            if data:
                self.conn.sendall(data)
            return
        for b in data:
            if self.stop.wait(self.trickle):
                raise OSError("server stopping")
            self.conn.sendall(bytes([b]))

    def fill(self):
        d = self.conn.recv(65536)
        if not d:
            raise OSError("peer closed")
        self.inc.write(d)

    def _do(self, fn):
        while True:
            try:
                r = fn()
                self.flush()
                return r
            except ssl.SSLWantReadError:
                self.flush()
                self.fill()

    def handshake(self):
        self._do(self.obj.do_handshake)

    def read_request(self):
        data = b""
        while b"\r\n\r\n" not in data:
            data += self._do(lambda: self.obj.read(65536))
        return data

    def send(self, data):
        self.obj.write(data)
        self.flush()

    def finish(self, close_notify):
        """End the stream: with close_notify the TLS alert, then TCP FIN either way; wait for
        the client to close (so our close never turns into a reset)."""
        if close_notify:
            try:
                self.obj.unwrap()
            except ssl.SSLWantReadError:
                pass
            self.flush()
        self.conn.shutdown(socket.SHUT_WR)
        self.conn.settimeout(5)
        while self.conn.recv(65536):
            pass


def tls_respond(ctx, response, close_notify=True, trickle=0.0):
    """RawServer handler: a TLS server answering one request with `response`, then closing
    (with or without close_notify)."""

    def handler(conn, stop):
        t = TLSStream(conn, ctx, stop, trickle)
        t.handshake()
        t.read_request()
        t.send(response)
        t.finish(close_notify)

    return handler


class Silent:
    """RawServer handler: read what the client sends first (a ClientHello, or with `head` a
    request head; with `tls` a server context, the handshake is done and the head read over
    TLS), optionally send `reply`, set `received`, then say nothing; `closed` is set when the
    client closes the connection (EOF or reset)."""

    def __init__(self, head=False, reply=b"", tls=None):
        self.head = head
        self.reply = reply
        self.tls = tls
        self.received = threading.Event()
        self.closed = threading.Event()

    def __call__(self, conn, stop):
        if self.tls is not None:
            t = TLSStream(conn, self.tls, stop)
            t.handshake()
            t.read_request()
            if self.reply:
                t.send(self.reply)
        else:
            data = b""
            while not data or (self.head and b"\r\n\r\n" not in data):
                d = conn.recv(65536)
                if not d:
                    self.closed.set()
                    return
                data += d
            if self.reply:
                conn.sendall(self.reply)
        self.received.set()
        conn.settimeout(0.1)
        while not stop.is_set():
            try:
                d = conn.recv(65536)  # a close_notify may come first: then EOF
            except socket.timeout:
                continue
            except OSError:
                d = b""
            if not d:
                self.closed.set()
                return


def first(n, handler, then):
    """RawServer handler: the first n connections go to handler, the later ones to then."""
    count = itertools.count()

    def choose(conn, stop):
        return (handler if next(count) < n else then)(conn, stop)

    return choose


# ---- running the interpreter


def mp_env():
    # glibc's per-thread cache and fast bins keep freed chunks counted as in use by mallinfo2
    # (hostcheck.malloc_bytes()); without them its count is exact, as ASan's is.
    return dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
                GLIBC_TUNABLES="glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0")


def write_script(code, tmp_path):
    script = tmp_path / ("dl_%d.py" % next(_names))
    script.write_text(code)
    return script


def check_clean(flavour, rc, stdout, stderr):
    assert rc == 0, "micropython (%s) exited %s:\nstdout:\n%s\nstderr:\n%s" % (flavour, rc, stdout, stderr)
    assert "runtime error" not in stderr and "Sanitizer" not in stderr, stderr


def run(mp, code, tmp_path, ns=None, timeout=60):
    """Run code in mp's interpreter (inside ns if given); returns ({TAG: value}, stdout)."""
    cmd = (ns.prefix() if ns else []) + [str(mp.path), str(write_script(code, tmp_path))]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=mp_env())
    check_clean(mp.flavour, p.returncode, p.stdout, p.stderr)
    return parse(p.stdout), p.stdout


class Running:
    """The interpreter running code in the background; lines of stdout arrive on a queue so
    the test can wait for one. `ip netns exec` execs the interpreter, so pid is its own."""

    def __init__(self, mp, code, tmp_path, ns=None):
        self.mp = mp
        script = write_script(code, tmp_path)
        cmd = (ns.prefix() if ns else []) + [str(mp.path), str(script)]
        # stderr to a file: an ASan report must not fill a pipe nobody reads.
        self.err = open(script.with_suffix(".err"), "w+")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                     text=True, env=mp_env())
        self.pid = self.proc.pid
        self.lines = []
        self._q = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def wait_line(self, prefix, timeout):
        """The first (next) stdout line starting with prefix; fails after timeout s."""
        end = time.monotonic() + timeout
        while True:
            try:
                line = self._q.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no %r line from %s within %s s; so far: %r" % (
                    prefix, self.mp.flavour, timeout, self.lines)) from None
            if line is None:
                raise AssertionError("interpreter ended before %r; stdout %r, stderr:\n%s" % (
                    prefix, self.lines, self.stderr()))
            self.lines.append(line)
            if line.startswith(prefix):
                return line

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def socket_fds(self):
        fds = []
        for fd in os.listdir("/proc/%d/fd" % self.pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (self.pid, fd)).startswith("socket:"):
                    fds.append(fd)
            except OSError:
                pass
        return fds

    def connecting_to(self, ip, port):
        """True when the process has a TCP socket in SYN_SENT to ip:port (its namespace's
        /proc/PID/net/tcp: the connect is under way)."""
        rem = "%s:%04X" % (socket.inet_aton(ip)[::-1].hex().upper(), port)
        with open("/proc/%d/net/tcp" % self.pid) as f:
            rows = [line.split() for line in f.read().splitlines()[1:]]
        return any(r[2] == rem and r[3] == "02" for r in rows)

    def state(self):
        with open("/proc/%d/stat" % self.pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]

    def finish(self, timeout=30):
        """Wait for the end; returns ({TAG: value}, stdout) after checking a clean exit."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("%s did not exit; stdout %r" % (self.mp.flavour, self.lines)) from None
        self._reader.join(5)
        while True:
            line = self._q.get_nowait() if not self._q.empty() else None
            if line is None:
                break
            self.lines.append(line)
        stdout = "\n".join(self.lines)
        check_clean(self.mp.flavour, self.proc.returncode, stdout, self.stderr())
        return parse(stdout), stdout

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


def wait_for(predicate, timeout, what):
    """Poll a condition (an event outside our control, e.g. a file descriptor appearing)."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.005)
