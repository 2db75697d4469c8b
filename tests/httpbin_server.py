# SPDX-License-Identifier: MIT
"""A real HTTP server for tests: httpbin's Flask app under gunicorn, on 127.0.0.1.

    with Httpbin() as srv:
        url = srv.url("/post")

The listening socket is made here (127.0.0.1, a port the kernel picks) and handed to gunicorn
as `fd://N`, so there is no window in which another process can take the port. gunicorn runs
from the interpreter running the tests (`python -m gunicorn`, i.e. the .venv `make test`
installs httpbin and gunicorn into, pinned in tests/requirements.txt) with gthread workers
(`workers` processes x `threads` threads, keep-alive on), so concurrent requests and keep-alive
sessions both work. start() waits (at most `startup_timeout` s) until GET /get answers 200 and
otherwise fails with gunicorn's own log; stop() terminates it, waits, and kills it if needed.
requests() reads gunicorn's access log: what it has answered so far (a worker writes the line
just after sending the response, so a client can see the response a moment before the line).
"""

import http.client
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

from localserver import end_process


class HttpbinError(RuntimeError):
    pass


class Httpbin:
    def __init__(self, host="127.0.0.1", workers=2, threads=4, startup_timeout=30, app="httpbin:app"):
        self.host = host
        self.app = app
        self.workers = workers
        self.threads = threads
        self.startup_timeout = startup_timeout
        self.port = None
        self.proc = None
        self.startup_seconds = None
        self._log = None
        self._tmp = None

    def url(self, path="/"):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def log(self):
        """What gunicorn has written to stderr so far (its own log and the workers')."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def requests(self):
        """What gunicorn answered so far, oldest first: dicts with method, path (no query), status."""
        path = pathlib.Path(self._tmp.name) / "access.log"
        out = []
        for line in path.read_text().splitlines() if path.exists() else []:
            method, path_, status = line.split(" ")
            out.append({"method": method, "path": path_, "status": int(status)})
        return out

    def _answers(self):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
        try:
            conn.request("GET", "/get")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def start(self):
        t0 = time.monotonic()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, 0))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self._tmp = tempfile.TemporaryDirectory(prefix="fastsock-httpbin-")
        self._log = open(pathlib.Path(self._tmp.name) / "gunicorn.log", "w+b")
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            "fd://%d" % sock.fileno(),
            "--worker-class",
            "gthread",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--keep-alive",
            "5",
            "--graceful-timeout",
            "2",
            "--log-level",
            "warning",
            "--access-logfile",
            str(pathlib.Path(self._tmp.name) / "access.log"),
            "--access-logformat",
            "%(m)s %(U)s %(s)s",
            "--no-control-socket",
            self.app,
        ]
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, pass_fds=(sock.fileno(),)
            )
        except OSError as e:
            sock.close()
            raise HttpbinError("could not run %s: %s" % (" ".join(cmd), e)) from e
        sock.close()  # gunicorn holds its own copy of the listening socket
        deadline = t0 + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                log = self.log()
                self.stop()
                raise HttpbinError(
                    "gunicorn %s exited with status %s before answering "
                    "(are httpbin and gunicorn installed? `make deps` pins them in "
                    "tests/requirements.txt)\n%s\n--- gunicorn stderr ---\n%s" % (self.app, code, " ".join(cmd), log)
                )
            if self._answers():
                self.startup_seconds = time.monotonic() - t0
                return self
            time.sleep(0.05)
        log = self.log()
        self.stop()
        raise HttpbinError(
            "gunicorn %s did not answer GET /get on %s:%d within %g s\n%s\n"
            "--- gunicorn stderr ---\n%s" % (self.app, self.host, self.port, self.startup_timeout, " ".join(cmd), log)
        )

    def stop(self):
        if self.proc is not None:
            end_process(self.proc)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
