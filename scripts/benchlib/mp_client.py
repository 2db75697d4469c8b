# SPDX-License-Identifier: MIT
# Benchmark runner inside the host MicroPython (scripts/bench starts it once per measurement):
#   micropython mp_client.py MODE CLIENT URL COUNT WARM_URL [EXTRA_SYS_PATH [VERIFY_PATH]]
# MODE  run    COUNT requests of URL, timed in-process; heap retained afterwards (gc.collect)
#       alloc  COUNT requests with the GC off: heap allocated per request (gc.mem_alloc deltas);
#              then COUNT more requests, the same client, sampling the C heap
#              (hostcheck.malloc_bytes(): glibc's mallinfo2, outside fastsock) with each
#              response open and after it: c_peak is the most C heap in use above the baseline
#       reads  one request; heap allocated by the body loop alone (readinto / save)
#       cg     COUNT requests, untimed (run under callgrind; a COUNT=0 run is the baseline)
#       live   no request: the heap in use after the imports (gc.collect(); gc.mem_alloc())
# Every mode first makes one warm-up request of WARM_URL (first-call costs such as the
# resolver's are not per request). With VERIFY_PATH (run, alloc, reads), after the measured
# part one more request of URL by the same client writes the body it hands over to that
# file (save(): what save() wrote), untimed, for scripts/bench to sha256 against the served
# file (the host interpreter has no hashlib). Prints one line of key=value pairs.
import gc
import sys
import time

import micropython

mode, client, url, count, warm = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
if len(sys.argv) > 6 and sys.argv[6]:
    sys.path.append(sys.argv[6])
verify_path = sys.argv[7] if len(sys.argv) > 7 else None

# The requests-style baselines: urequests 0.9.1 (PyPI) and micropython-lib's requests, copied by
# scripts/bench into its snapshot under one module name per version (scripts/bench-requests.lock).
REQ_MODULES = {"urequests": "urequests", "urequests_fs": "urequests", "requests111": "requests_1_1_1",
               "requests0102": "requests_0_10_2"}
fastsock = None
urequests = None
if client.startswith("fs_"):
    import fastsock
elif client in REQ_MODULES:
    urequests = __import__(REQ_MODULES[client])

    if client == "urequests_fs":
        # Control for the GC's cost: fastsock's module in the heap, unused.
        import fastsock as _unused  # noqa: F401
else:
    import seed_client

BUF = bytearray(4096)
SINK = open("/dev/null", "wb")
SESSION = fastsock.Session() if client == "fs_session" else None


def get_concat(u):
    return len(seed_client.get_concat(u)[1])


def get_join(u):
    return len(seed_client.get_join(u)[1])


def get_urequests(u):
    r = urequests.get(u)
    n = len(r.content)
    r.close()
    return n


def get_fs_content(u):
    return len(fastsock.get(u).content)


def get_fs_session(u):
    return len(SESSION.get(u).content)


def get_fs_readinto(u):
    r = fastsock.get(u, stream=True)
    n = 0
    while True:
        k = r.readinto(BUF)
        if not k:
            return n
        n += k


def get_fs_save(u):
    return fastsock.get(u, stream=True).save(SINK)


fn = {
    "concat": get_concat, "join": get_join, "urequests": get_urequests, "urequests_fs": get_urequests,
    "requests111": get_urequests, "requests0102": get_urequests,
    "fs_content": get_fs_content, "fs_session": get_fs_session,
    "fs_readinto": get_fs_readinto, "fs_save": get_fs_save,
}[client]



# ---- the same clients, instrumented: C heap samples with the response open (not timed)

try:
    from hostcheck import malloc_bytes
except ImportError:
    malloc_bytes = None
PEAK = [0]


def sample():
    m = malloc_bytes()
    if m > PEAK[0]:
        PEAK[0] = m


def probe_seed(u, sink):
    # No hook inside the plain-socket client: sampled after it (its socket is MicroPython's own).
    body = (seed_client.get_concat if client == "concat" else seed_client.get_join)(u)[1]
    sample()
    sink(body)


def probe_urequests(u, sink):
    r = urequests.get(u)
    sample()  # head read, socket open
    body = r.content
    sample()
    r.close()
    sink(body)


def probe_fs(u, sink, session=None):
    r = (session or fastsock).get(u, stream=True)
    sample()  # head read, connection and its receive buffer held
    if client in ("fs_content", "fs_session"):
        body = r.content
        sample()
        sink(body)
    elif client == "fs_readinto":
        while True:
            k = r.readinto(BUF)
            sample()
            if not k:
                break
            sink(memoryview(BUF)[:k])
    else:
        class Sampling:
            def write(self, b):
                sample()
                return sink(b)
        n = r.save(Sampling())
        out["save_returned"] = n
    sample()


def probe(u, sink):
    if client in ("concat", "join"):
        probe_seed(u, sink)
    elif urequests:
        probe_urequests(u, sink)
    else:
        probe_fs(u, sink, SESSION)


def verify(u):
    # One more request by the same client, untimed: the bytes it hands over go to VERIFY_PATH.
    f = open(verify_path, "wb")
    n = [0]

    def sink(b):
        f.write(b)
        n[0] += len(b)
        return len(b)

    if client == "fs_save":
        # scripts/bench hashes the file, not this count.
        out["save_returned"] = fastsock.get(u, stream=True).save(f)
    elif client in ("fs_content", "fs_session", "fs_readinto", "concat", "join") or urequests:
        if client == "fs_content":
            sink(fastsock.get(u).content)
        elif client == "fs_session":
            sink(SESSION.get(u).content)
        elif client == "fs_readinto":
            r = fastsock.get(u, stream=True)
            while True:
                k = r.readinto(BUF)
                if not k:
                    break
                sink(memoryview(BUF)[:k])
        elif client in ("concat", "join"):
            sink((seed_client.get_concat if client == "concat" else seed_client.get_join)(u)[1])
        else:
            r = urequests.get(u)
            sink(r.content)
            r.close()
    f.close()
    out["verified_bytes"] = n[0]


if mode == "live":
    # The live heap after the imports (and this script's own buffers), before any request.
    gc.collect()
    print("live=%d" % gc.mem_alloc())
    sys.exit(0)
fn(warm)
out = {}
if mode == "run":
    if fastsock:
        fastsock.reset_stats()
    gc.collect()
    h0 = gc.mem_alloc()
    n = 0
    t0 = time.ticks_us()
    for _ in range(count):
        n += fn(url)
    us = time.ticks_diff(time.ticks_us(), t0)
    gc.collect()
    out = {"bytes": n, "us": us, "retained": gc.mem_alloc() - h0}
    if fastsock:
        out.update(fastsock.stats())
elif mode == "alloc":
    gc.collect()
    gc.disable()
    a0, m0 = gc.mem_alloc(), micropython.mem_total()
    n = 0
    for _ in range(count):
        n += fn(url)
    a1, m1 = gc.mem_alloc(), micropython.mem_total()
    gc.enable()
    out = {"bytes": n, "alloc": a1 - a0, "requested": m1 - m0}
    if malloc_bytes:
        # The C heap: the baseline is the smaller of before and after (a Session's warm
        # connection is closed for the 'after' figure, so the buffer it holds is counted).
        gc.collect()
        c0 = malloc_bytes()
        PEAK[0] = c0
        for _ in range(count):
            probe(url, len)
        if SESSION:
            SESSION.close()
        gc.collect()
        c1 = malloc_bytes()
        out["c_peak"] = PEAK[0] - min(c0, c1)
        out["c_after"] = c1 - c0
elif mode == "reads":
    r = fastsock.get(url, stream=True)
    gc.collect()
    gc.disable()
    a0 = gc.mem_alloc()
    n = reads = 0
    if client == "fs_save":
        n = r.save(SINK)
        reads = (n + 4095) // 4096  # save()'s default piece is 4096 bytes
    else:
        while True:
            k = r.readinto(BUF)
            if not k:
                break
            n += k
            reads += 1
    a1 = gc.mem_alloc()
    gc.enable()
    out = {"bytes": n, "alloc": a1 - a0, "reads": reads}
elif mode == "cg":
    n = 0
    for _ in range(count):
        n += fn(url)
    out = {"bytes": n}
if verify_path and mode != "cg":
    if SESSION and mode == "alloc":
        SESSION = fastsock.Session()
    verify(url)
print(" ".join("%s=%s" % kv for kv in out.items()))
