# SPDX-License-Identifier: MIT
"""Helpers for tests/test_lwip.py (and scripts/bench-lwip): network namespaces with a TAP
device, servers inside them (nginx, a one-name DNS server), and running the lwIP host
interpreter (build/host-lwip/micropython) inside or outside a namespace.

    python3 tests/lwip_net.py serve ROOT HOST DNS_NAME DNS_IP [CERT KEY]
runs nginx on HOST (serving ROOT; with CERT and KEY also over https) and the DNS server on
HOST:53, prints one JSON line with the ports, and stops both when stdin closes; the tests
start it with `ip netns exec`.
"""

import ast
import contextlib
import ctypes
import functools
import itertools
import json
import os
import pathlib
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import textwrap
import threading

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("FASTSOCK_BUILD", ROOT / "build"))
# The lwIP builds `make host` produces: name -> (board variant whose lwIP options it has
# (FS_BOARD_VARIANT, scripts/board-sdkconfig), build directory). The default ESP32_NET's options,
# the SPIRAM variant's, and the default's again with ASan + UBSan (FS_SANITIZE=1).
LWIP_BUILDS = {"board": ("", "host-lwip"), "SPIRAM": ("SPIRAM", "host-lwip-spiram"),
               "board-asan": ("", "host-lwip-asan")}
# What the benchmark measures (a sanitized build would measure the sanitizer).
BENCH_BUILDS = ("board", "SPIRAM")
VARIANT = ""
LWIP_MP = BUILD / "host-lwip" / "micropython"
BENCH_NETCONN = BUILD / "host-lwip" / "bench-netconn"


def use_build(name):
    """Point run_mp() and the benchmark at one of LWIP_BUILDS."""
    global VARIANT, LWIP_MP, BENCH_NETCONN
    VARIANT, directory = LWIP_BUILDS[name]
    LWIP_MP = BUILD / directory / "micropython"
    BENCH_NETCONN = BUILD / directory / "bench-netconn"


@functools.lru_cache(maxsize=None)
def board_options(variant):
    """The board's lwIP options for a variant, read from its sdkconfig files (an oracle for the
    build: lwipstats.TCP_WND must equal CONFIG_LWIP_TCP_WND_DEFAULT)."""
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "board-sdkconfig"), "--variant", variant],
                         capture_output=True, text=True, check=True).stdout
    return {m[0]: int(m[1]) for m in re.findall(r"^#define (CONFIG_\w+) (\d+)$", out, re.M)}
SERVER_IP = "10.0.0.1"  # the Linux side of the TAP link, inside the namespace
LWIP_IP = "10.0.0.2"  # lwIP (FASTSOCK_IP default for tap)
UNUSED_IP = "10.0.0.9"  # on the link, but nobody answers
DNS_NAME = "fastsock.test"
SLIRP_HOST = "10.0.2.2"  # slirp's name for the host's 127.0.0.1

# Run at the start of every test script: a baseline of lwIP's pools, and leaks() which waits
# (2 s by default, for the tcpip thread to finish closing) until they are back to it.
PRELUDE = """\
import fastsock, lwipstats, time
def _idle():
    # The baseline is taken with no received frame in flight (Linux's own IPv6/ARP frames on the
    # link arrive at any time; one caught in the baseline once made a clean run look unbalanced).
    # A frame holds a PBUF_POOL pbuf before its TCPIP_MSG_INPKT message exists: wait for both.
    for _ in range(100):
        u = lwipstats.used()
        if u.get("TCPIP_MSG_INPKT", 0) == 0 and u.get("PBUF_POOL", 0) == 0:
            break
        time.sleep_ms(20)
    return u
_BASE = _idle()
def leaks(allow=(), wait_ms=2000):
    for _ in range(wait_ms // 20):
        u = lwipstats.used()
        tw = u.pop("TCP_PCB_TIME_WAIT") - _BASE["TCP_PCB_TIME_WAIT"]
        d = {}
        for k, v in u.items():
            # A connection we closed first waits out 2 MSL in TIME_WAIT, keeping its pcb and
            # the TCP timer: lwIP's own bookkeeping, freed later, not a leak.
            slack = tw if k == "TCP_PCB" else (1 if k == "SYS_TIMEOUT" and tw > 0 else 0)
            if not (_BASE.get(k) <= v <= _BASE.get(k) + slack) and k not in allow:
                d[k] = (_BASE.get(k), v)
        if not d:
            break
        time.sleep_ms(20)
    return d
def report(tag, value):
    print(tag, repr(value))
def attempt(fn):
    t = time.ticks_ms()
    try:
        fn()
        exc = None
    except Exception as e:
        exc = (type(e).__name__, e.args[0] if e.args else None, str(e))
    return exc, time.ticks_diff(time.ticks_ms(), t)
"""


def fail(msg):
    import pytest

    pytest.fail(msg, pytrace=False)


def interpreter():
    if not LWIP_MP.exists():
        fail("%s missing: build it with `make host`" % LWIP_MP)
    return LWIP_MP


def require_tap():
    """TAP tests need root, /dev/net/tun, iproute2 and nginx; say which is missing."""
    problems = []
    if os.geteuid() != 0:
        problems.append("root (network namespaces and TAP devices need it; CI runs as root)")
    if not os.path.exists("/dev/net/tun"):
        problems.append("/dev/net/tun (load the tun module)")
    if shutil.which("ip") is None:
        problems.append("`ip` (Debian iproute2)")
    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        problems.append("nginx (Debian nginx-light)")
    if problems:
        fail("TAP-in-netns tests need: " + "; ".join(problems))


def parse(stdout):
    """Lines `TAG <python literal>` printed by a test script -> {TAG: value} (last one wins)."""
    out = {}
    for line in stdout.splitlines():
        tag, _, rest = line.partition(" ")
        if tag.isupper() and rest:
            try:
                out[tag] = ast.literal_eval(rest)
            except (ValueError, SyntaxError):
                pass
    return out


_names = itertools.count()


CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


@contextlib.contextmanager
def netns_entered(name):
    """Run the block in network namespace `name` (this thread only): sockets made here live there."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns into " + name)
        try:
            yield
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)


class Netns:
    """A network namespace `fs<pid>-<n>` holding tap0 (10.0.0.1/24 on the Linux side).
    delete() kills whatever still runs inside and removes it; safe to call twice."""

    def __init__(self):
        self.name = "fs%d-%d" % (os.getpid(), next(_names))
        self.created = False

    def _ip(self, *args):
        p = subprocess.run(["ip", *args], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("ip %s failed: %s" % (" ".join(args), p.stderr.strip()))

    def create(self):
        self._ip("netns", "add", self.name)
        self.created = True
        self._ip("-n", self.name, "link", "set", "lo", "up")
        self._ip("-n", self.name, "tuntap", "add", "dev", "tap0", "mode", "tap")
        self._ip("-n", self.name, "addr", "add", SERVER_IP + "/24", "dev", "tap0")
        self._ip("-n", self.name, "link", "set", "tap0", "up")
        return self

    def prefix(self):
        return ["ip", "netns", "exec", self.name]

    def delete(self):
        if not self.created:
            return
        p = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True)
        for pid in p.stdout.split():
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        self.created = False


class NetnsServers:
    """nginx and the DNS server inside a namespace (this file's `serve` mode)."""

    def __init__(self, ns, root, dns_name=DNS_NAME, dns_ip=SERVER_IP, tls=None):
        self.ns = ns
        self.root = root
        self.dns_name = dns_name
        self.dns_ip = dns_ip
        self.tls = tls  # (cert, key) PEM files: nginx serves https on https_port too
        self.proc = None
        self.port = None
        self.https_port = None

    def start(self):
        self.proc = subprocess.Popen(
            self.ns.prefix() + [sys.executable, __file__, "serve", str(self.root), SERVER_IP,
                                self.dns_name, self.dns_ip] + [str(f) for f in self.tls or ()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.stop()
            raise RuntimeError("servers in netns %s did not start" % self.ns.name)
        ports = json.loads(line)
        self.port = ports["http_port"]
        self.https_port = ports.get("https_port")
        return self

    def url(self, path, host=SERVER_IP):
        return "http://%s:%d%s" % (host, self.port, path)

    def stop(self):
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc.stderr.close()
            self.proc = None


def tap_env(**extra):
    env = {"FASTSOCK_NETIF": "tap", "FASTSOCK_TAP": "tap0", "FASTSOCK_IP": LWIP_IP,
           "FASTSOCK_GW": SERVER_IP, "FASTSOCK_MASK": "255.255.255.0"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def slirp_env(**extra):
    env = {"FASTSOCK_NETIF": "slirp"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_mp(code, tmp_path, env, ns=None, timeout=120, heapsize="32m"):
    """Run PRELUDE + code in the lwIP interpreter (inside ns if given); returns
    (CompletedProcess, parsed tags). Fails the test on a crash or a non-zero exit."""
    script = tmp_path / ("lwip_%d.py" % next(_names))
    script.write_text(PRELUDE + textwrap.dedent(code))
    cmd = (ns.prefix() if ns else []) + [str(interpreter()), "-X", "heapsize=" + heapsize, str(script)]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FASTSOCK_")}
    full_env.update(env)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)
    # A sanitizer report fails the test even where the build would recover from it.
    if p.returncode != 0 or "Sanitizer" in p.stderr or "runtime error" in p.stderr:
        fail("micropython (%s, %s) exited %d:\nstdout:\n%s\nstderr:\n%s" % (
            LWIP_MP.parent.name, env.get("FASTSOCK_NETIF"), p.returncode, p.stdout[-4000:], p.stderr[-4000:]))
    return p, parse(p.stdout)


# ---- a DNS server that knows one name


def dns_answer(query, name, ip):
    """Response to a DNS query: an A record for `name`, NXDOMAIN for anything else."""
    if len(query) < 12:
        return None
    qid, _flags, qdcount = struct.unpack("!HHH", query[:6])
    if qdcount != 1:
        return None
    labels, i = [], 12
    while i < len(query) and query[i] != 0:
        n = query[i]
        labels.append(query[i + 1 : i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    question = query[12 : i + 5]
    qtype = struct.unpack("!H", query[i + 1 : i + 3])[0] if i + 3 <= len(query) else 0
    known = ".".join(labels).lower() == name.lower()
    if known and qtype == 1:
        answer = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(ip)
        return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + answer
    rcode = 0 if known else 3
    return struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, 0, 0, 0) + question


def serve_dns(sock, name, ip, stop):
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            data, addr = sock.recvfrom(512)
        except OSError:
            continue
        resp = dns_answer(data, name, ip)
        if resp:
            sock.sendto(resp, addr)


def _serve(root, host, dns_name, dns_ip, cert=None, key=None):
    sys.path.insert(0, str(ROOT / "scripts"))
    from localserver import Nginx, TLSServer

    stop = threading.Event()
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind((host, 53))
    t = threading.Thread(target=serve_dns, args=(dns, dns_name, dns_ip, stop), daemon=True)
    t.start()
    tls = [TLSServer(cert, key)] if cert else []
    with Nginx(root, host=host, tls=tls) as srv:
        ports = {"http_port": srv.port, "dns_port": 53}
        if tls:
            ports["https_port"] = srv.tls_port()
        print(json.dumps(ports), flush=True)
        sys.stdin.read()
    stop.set()
    t.join(2)


if __name__ == "__main__":
    if len(sys.argv) in (6, 8) and sys.argv[1] == "serve":
        _serve(*sys.argv[2:])
    else:
        sys.exit(__doc__)
