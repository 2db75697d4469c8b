"""A local nginx for demos, tests and benchmarks: serves a folder on 127.0.0.1.

    with Nginx(root) as srv:
        url = srv.url("/1k.bin")

Besides the files it offers /chunked/<n> (n bytes of 'x', chunked coding, via the echo
module). Runs as the current user with its own prefix, logs and pid file
in a temporary folder, and is stopped (and waited for) on exit.
"""

import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time

ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"

CONF = """\
{load_echo}
worker_processes 1;
{user}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    default_type application/octet-stream;
    types {{ application/json json; text/plain txt; text/html html; }}
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    server {{
        listen {host}:{port};
        root {root};
        {chunked}
    }}
}}
"""

CHUNKED = """location ~ ^/chunked/(\\d+)$ {{
            default_type text/plain;
            echo_duplicate $1 "x";
        }}"""


def free_port(host="127.0.0.1"):
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def find_nginx():
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if path is None:
        raise RuntimeError("nginx not found: install Debian's nginx-light (make deps does)")
    return path


class Nginx:
    def __init__(self, root, host="127.0.0.1", port=None):
        self.root = pathlib.Path(root).resolve()
        self.host = host
        self.port = port or free_port(host)
        self.proc = None
        self._tmp = None

    def url(self, path="/"):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def start(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="fastsock-nginx-")
        prefix = self._tmp.name
        conf = pathlib.Path(prefix) / "nginx.conf"
        have_echo = os.path.exists(ECHO_MODULE)
        conf.write_text(CONF.format(
            load_echo="load_module %s;" % ECHO_MODULE if have_echo else "",
            user="user root;" if os.geteuid() == 0 else "",
            prefix=prefix, host=self.host, port=self.port, root=self.root,
            chunked=CHUNKED.format() if have_echo else "",
        ))
        self.proc = subprocess.Popen(
            [find_nginx(), "-p", prefix, "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                raise RuntimeError("nginx failed to start: " + err)
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start listening on port %d within 10 s" % self.port)

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stderr.close()
            self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def make_sample_files(root, sizes=None, seed=1):
    """Write deterministic sample files named by size (0.bin, 1.bin, 1k.bin, ...)."""
    import random

    sizes = sizes or {"0.bin": 0, "1.bin": 1, "1k.bin": 1024, "100k.bin": 100 * 1024, "1m.bin": 1 << 20}
    root = pathlib.Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    for name, size in sizes.items():
        p = root / name
        if not p.exists() or p.stat().st_size != size:
            p.write_bytes(rnd.randbytes(size))
    (root / "hello.json").write_text('{"hello": "world", "n": 42, "list": [1, 2.5, true, null]}\n')
    (root / "index.html").write_text("<!doctype html><title>fastsock</title><p>Hello from nginx.</p>\n")
    return root
