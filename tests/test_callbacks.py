# SPDX-License-Identifier: MIT
"""Scheduled callbacks (machine.Timer, Pin IRQs, micropython.schedule) run while a blocking
request waits or streams, as they do in MicroPython's own socket waits; what the request is
using refuses them (RuntimeError) instead of being freed under it. Run on MicroPython's unix
port (build/host-unix), where a thread schedules the callbacks as a timer interrupt would; the
oracles are the callbacks' own timestamps against the request's, the body's sha256 and the
server's connection count."""

import hashlib
import time

from localserver import Nginx
from rawserver import RawServer

BODY = bytes(range(256)) * 80  # 20 KB
PIECES = 20


def trickle(conn, stop):
    # The head at once, then the body in 20 pieces 50 ms apart: about 1 s of waiting.
    data = b""
    while b"\r\n\r\n" not in data:
        got = conn.recv(4096)
        if not got:
            return
        data += got
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY))
    step = len(BODY) // PIECES
    for i in range(PIECES):
        if stop.is_set():
            return
        time.sleep(0.05)
        conn.sendall(BODY[i * step:(i + 1) * step])
    time.sleep(0.2)


def late_head(conn, stop):
    # The head only after 800 ms: getresponse() waits.
    conn.recv(4096)
    time.sleep(0.8)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    time.sleep(0.2)


# A thread stands for the timer interrupt: it schedules cb every 10 ms until told to stop.
TICKER = """
import _thread, micropython, time, fastsock, hashlib, binascii
ticks = []
state = {"run": True, "done": False}
def ticker():
    while state["run"]:
        try:
            micropython.schedule(cb, 0)
        except RuntimeError:
            pass  # the queue is full: the main thread is not running callbacks
        time.sleep_ms(10)
    state["done"] = True
def stop_ticker():
    state["run"] = False
    for _ in range(200):
        if state["done"]:
            break
        time.sleep_ms(5)
def sha(b):
    return binascii.hexlify(hashlib.sha256(b).digest()).decode()
"""


def test_callbacks_run_while_a_blocking_get_waits(mpunix, tmp_path):
    with RawServer(trickle) as srv:
        out = mpunix.run(TICKER + """
def cb(_):
    ticks.append(time.ticks_ms())
_thread.start_new_thread(ticker, ())
time.sleep_ms(50)
t0 = time.ticks_ms()
r = fastsock.get(%r, timeout=10)
t1 = time.ticks_ms()
stop_ticker()
during = [t for t in ticks if time.ticks_diff(t, t0) >= 0 and time.ticks_diff(t1, t) >= 0]
print(r.status_code, sha(r.content), time.ticks_diff(t1, t0), len(during))
""" % srv.url("/slow"), tmp_path)
    status, digest, took, during = out.split()
    assert (status, digest) == ("200", hashlib.sha256(BODY).hexdigest())
    # About 1 s of waiting with a callback due every 10 ms: before, none ran until get() returned.
    assert int(took) >= 900, out
    assert int(during) >= int(took) // 40, out


def test_callbacks_run_between_the_pieces_of_a_fast_save(mpunix, tmp_path):
    # nginx on loopback and save() into a file: no Python runs and hardly a wait happens, so
    # the callbacks must run between the body's pieces.
    www = tmp_path / "www"
    www.mkdir()
    (www / "big.bin").write_bytes(bytes(range(256)) * (128 * 1024))  # 32 MB
    with Nginx(www) as srv:
        # Each callback notes how much of the file save() has written so far: one that ran in
        # the middle sees a size strictly between 0 and the whole (the VM also runs callbacks
        # right after the call returns, which then see it whole).
        out = mpunix.run(TICKER + """
import os
path = %r
def cb(_):
    try:
        ticks.append(os.stat(path)[6])
    except OSError:
        pass
_thread.start_new_thread(ticker, ())
time.sleep_ms(50)
t0 = time.ticks_ms()
n = fastsock.get(%r, stream=True, timeout=10).save(path)
t1 = time.ticks_ms()
stop_ticker()
print(n, time.ticks_diff(t1, t0), len([s for s in ticks if 0 < s < n]))
""" % (str(tmp_path / "out.bin"), srv.url("/big.bin")), tmp_path, timeout=120)
    n, took, during = map(int, out.split())
    assert n == 32 * 1024 * 1024 and (tmp_path / "out.bin").stat().st_size == n
    assert during >= max(2, took // 50), out


def test_a_callback_cannot_touch_what_the_request_uses(mpunix, nginx, tmp_path):
    # The callback tries the response being read, the Session mid-request and (through the
    # low-level API) the connection mid-getresponse: each is a RuntimeError, the request in
    # progress ends whole. Another Session, and a module-level get, work from the callback.
    with RawServer(trickle) as slow, RawServer(late_head) as late:
        out = mpunix.run(TICKER + """
seen = []
target = {}
def cb(_):
    what = target.get("what")
    # 200 ms into the 1 s download: the request is surely under way (the VM also runs
    # callbacks between bytecodes, before the call starts).
    if what is None or what in [s[0] for s in seen] or time.ticks_diff(time.ticks_ms(), target["since"]) < 200:
        return
    try:
        if what == "response":
            target["r"].close()
        elif what == "content":
            target["r"].content
        elif what == "session":
            target["s"].get(%(fast)r)
        elif what == "connection":
            target["c"].close()
        elif what == "other":
            seen.append((what, fastsock.Session().get(%(fast)r).status_code))
            return
        elif what == "oneshot":
            seen.append((what, fastsock.get(%(fast)r).status_code))
            return
        seen.append((what, "no error"))
    except RuntimeError as e:
        seen.append((what, "RuntimeError"))
import os
fds = len(os.listdir("/proc/self/fd"))  # the outside count of what the process holds open
_thread.start_new_thread(ticker, ())
s = fastsock.Session()
for what in ("response", "content"):
    r = s.get(%(slow)r, stream=True, timeout=10)
    target.update(r=r, what=what, since=time.ticks_ms())
    print(what, sha(r.content))
    target["what"] = None
for what in ("session", "other", "oneshot"):
    target.update(s=s, what=what, since=time.ticks_ms())
    r = s.get(%(slow)r, timeout=10)
    target["what"] = None
    print(what, sha(r.content))
import _fastsock
c = _fastsock.Connection("127.0.0.1", %(late_port)d, 5000)
c.request("GET", "/", "127.0.0.1", None, None, False, 5000, None)
target.update(c=c, what="connection", since=time.ticks_ms())
resp = c.getresponse()
print("connection", resp.content)
c.close()
target["what"] = None
stop_ticker()
for what, result in seen:
    print(what, result)
s.close()
import gc
gc.collect()
print(fastsock.stats()["open"], len(os.listdir("/proc/self/fd")) - fds)
""" % {"fast": nginx.url("/1k.bin"), "slow": slow.url("/slow"), "late_port": late.port}, tmp_path)
    digest = hashlib.sha256(BODY).hexdigest()
    lines = out.splitlines()
    assert lines[:6] == ["response " + digest, "content " + digest, "session " + digest,
                         "other " + digest, "oneshot " + digest, "connection b'ok'"], out
    assert sorted(lines[6:-1]) == sorted(["response RuntimeError", "content RuntimeError",
                                          "session RuntimeError", "other 200", "oneshot 200",
                                          "connection RuntimeError"]), out
    assert lines[-1] == "0 0", out  # no connection left open, no descriptor either
