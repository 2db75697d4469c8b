# SPDX-License-Identifier: MIT
"""tests/httpbin_server.py: the `httpbin` fixture serves, serves several clients at once, is
reachable from the host interpreters, and says why when gunicorn cannot start."""

import concurrent.futures
import json
import time
import urllib.request

import pytest

from httpbin_server import Httpbin, HttpbinError


def test_httpbin_answers_and_logs(httpbin):
    with urllib.request.urlopen(httpbin.url("/anything/x?y=1"), data=b"abc", timeout=10) as r:
        got = json.loads(r.read())
    assert got["method"] == "POST" and got["args"] == {"y": "1"} and got["form"] == {"abc": ""}
    deadline = time.monotonic() + 5
    while {"method": "POST", "path": "/anything/x", "status": 200} not in httpbin.requests():
        assert time.monotonic() < deadline, httpbin.requests()
        time.sleep(0.05)


def test_httpbin_serves_concurrent_clients(httpbin):
    # Eight one-second requests at once finish in well under eight seconds.
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(lambda _: urllib.request.urlopen(httpbin.url("/delay/1"), timeout=20).status, range(8)))
    assert codes == [200] * 8
    assert time.monotonic() - t0 < 4


def test_host_interpreters_reach_httpbin(mp, httpbin, tmp_path):
    out = mp.run(
        """
        import fastsock
        with fastsock.Session() as s:
            for i in range(3):
                r = s.post(%r, data=b"x" * 1000)
                print(r.status_code, r.headers["content-type"], len(r.json()["data"]))
            print(fastsock.stats()["connections"])
        """
        % httpbin.url("/post"),
        tmp_path,
    )
    assert out.splitlines() == ["200 application/json 1000"] * 3 + ["1"]  # keep-alive: one connection


def test_httpbin_failure_to_start_shows_gunicorn_stderr():
    with pytest.raises(HttpbinError) as e:
        Httpbin(app="no_such_module:app", startup_timeout=20).start()
    assert "No module named 'no_such_module'" in str(e.value)
