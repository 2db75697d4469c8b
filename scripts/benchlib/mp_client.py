# Benchmark runner inside the host MicroPython (scripts/bench starts it once per measurement):
#   micropython mp_client.py MODE CLIENT URL COUNT WARM_URL [EXTRA_SYS_PATH]
# MODE  run    COUNT requests of URL, timed in-process; heap retained afterwards (gc.collect)
#       alloc  COUNT requests with the GC off: heap allocated per request (gc.mem_alloc deltas)
#       reads  one request; heap allocated by the body loop alone (readinto / save)
#       cg     COUNT requests, untimed (run under callgrind; a COUNT=0 run is the baseline)
# Every mode first makes one warm-up request of WARM_URL (first-call costs such as the
# resolver's are not per request). Prints one line of key=value pairs.
import gc
import sys
import time

import micropython

mode, client, url, count, warm = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
if len(sys.argv) > 6:
    sys.path.append(sys.argv[6])

fastsock = None
if client.startswith("fs_"):
    import fastsock
elif client.startswith("urequests"):
    import urequests

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
    "fs_content": get_fs_content, "fs_session": get_fs_session,
    "fs_readinto": get_fs_readinto, "fs_save": get_fs_save,
}[client]

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
print(" ".join("%s=%s" % kv for kv in out.items()))
