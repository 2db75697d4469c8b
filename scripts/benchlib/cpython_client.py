# SPDX-License-Identifier: MIT
"""CPython http.client as an external reference (scripts/bench starts it once per measurement).

    python3 cpython_client.py URL COUNT WARM_URL keepalive|close [VERIFY_PATH]

COUNT GETs of URL, each body read whole with read(); `keepalive` reuses one HTTPConnection,
`close` opens one per request and sends `Connection: close` (as the one-shot MicroPython
clients do). Prints `bytes=N us=N`, timed in-process after one warm-up request. With
VERIFY_PATH, one more GET (untimed, after the timed ones) writes its body there for
scripts/bench to check against the served file's sha256.
"""

import http.client
import sys
import time
import urllib.parse


def main():
    url, count, warm, how = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    verify = sys.argv[5] if len(sys.argv) > 5 else None
    parts = urllib.parse.urlsplit(url)
    host, port, path = parts.hostname, parts.port or 80, parts.path
    warm_path = urllib.parse.urlsplit(warm).path
    keep = how == "keepalive"
    headers = {} if keep else {"Connection": "close"}
    conn = http.client.HTTPConnection(host, port) if keep else None

    def get(p):
        c = conn or http.client.HTTPConnection(host, port)
        c.request("GET", p, headers=headers)
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            sys.exit("cpython_client: HTTP %d for %s" % (r.status, p))
        if not keep:
            c.close()
        return body

    get(warm_path)
    n = 0
    t0 = time.perf_counter()
    for _ in range(count):
        n += len(get(path))
    us = int((time.perf_counter() - t0) * 1e6)
    if verify:
        with open(verify, "wb") as f:
            f.write(get(path))
    print("bytes=%d us=%d" % (n, us))


if __name__ == "__main__":
    main()
