#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make run`: serve sample files with a local nginx, fetch them with fastsock in the host
MicroPython, and print status, headers, bytes, time and heap used for each."""

import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from localserver import Nginx, make_sample_files  # noqa: E402

MICROPYTHON = ROOT / "build" / "host" / "micropython"

DEMO = """
import fastsock, gc, time
for path in PATHS:
    url = BASE + path
    gc.collect()
    heap0 = gc.mem_alloc()
    t0 = time.ticks_us()
    r = fastsock.get(url, timeout=10)
    body = r.content
    dt = time.ticks_diff(time.ticks_us(), t0)
    heap = gc.mem_alloc() - heap0
    print("GET", url)
    print("  ", r.status_code, r.reason, "| content-type:", r.headers.get("content-type"),
          "| server:", r.headers.get("server"))
    print("   %d bytes in %.2f ms (%.1f MB/s), heap +%d bytes" % (
        len(body), dt / 1000, len(body) / max(dt, 1), heap))
    del body, r
print("stats:", fastsock.stats())
"""


def main():
    if not MICROPYTHON.exists():
        sys.exit("demo: %s missing; run `make run` (it builds it)" % MICROPYTHON)
    www = make_sample_files(ROOT / "build" / "www")
    with Nginx(www) as srv:
        print("nginx serving %s at %s" % (www, srv.url()))
        paths = ["/index.html", "/hello.json", "/1k.bin", "/1m.bin", "/missing"]
        code = "BASE = %r\nPATHS = %r\n%s" % (srv.url(""), paths, DEMO)
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(code)
        try:
            r = subprocess.run([str(MICROPYTHON), f.name], timeout=120)
        finally:
            pathlib.Path(f.name).unlink()
    sys.exit(r.returncode)


if __name__ == "__main__":
    main()
