# SPDX-License-Identifier: MIT
"""A local nginx for demos, tests and benchmarks: serves a folder on 127.0.0.1.

    with Nginx(root) as srv:
        url = srv.url("/1k.bin")

Besides the files it offers /chunked/<n> (n bytes of 'x', chunked coding, via the echo
module) and /gz/<file> (the file gzip-compressed on the fly, chunked, to clients that send
Accept-Encoding: gzip). Runs as the current user with its own prefix, logs and pid file
in a temporary folder, and is stopped (and waited for) on exit.

TLS: pass tls=[TLSServer(cert, key, ...), ...] to serve the same root over https as well, one
port per entry (srv.tls_port(i), srv.tls_url(path, i, host)); each also answers
/session-reused with nginx's $ssl_session_reused ("r" or ".").
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
    log_format fs '$connection $connection_requests $request_method $uri $status $request_length $bytes_sent';
    {access_log}
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
        location ~ ^/redirect/(.*)$ {{ return 302 /$1; }}
        # The same files gzip-compressed on the fly (to clients that accept it), as most
        # servers send text and JSON.
        location /gz/ {{ alias {root}/; gzip on; gzip_types *; gzip_min_length 0; gzip_proxied any; }}
    }}
{tls_servers}}}
"""

TLS_SERVER = """    server {{
        listen {host}:{port} ssl;
        root {root};
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols {protocols};
        {ciphers}
        ssl_session_tickets {tickets};
        {session_cache}
        location = /session-reused {{
            default_type text/plain;
            return 200 "$ssl_session_reused";
        }}
        {chunked}
    }}
"""


class TLSServer:
    """One https server block: certificate chain and key files (PEM), allowed protocols
    (nginx names), optional cipher list, session tickets and a server-side session cache."""

    def __init__(self, cert, key, protocols="TLSv1.2 TLSv1.3", ciphers=None, tickets=True,
                 session_cache=False):
        self.cert = cert
        self.key = key
        self.protocols = protocols
        self.ciphers = ciphers
        self.tickets = tickets
        self.session_cache = session_cache
        self.port = None

    def conf(self, host, root, chunked, index):
        return TLS_SERVER.format(
            host=host, port=self.port, root=root, cert=self.cert, key=self.key,
            protocols=self.protocols,
            ciphers="ssl_ciphers %s;" % self.ciphers if self.ciphers else "",
            tickets="on" if self.tickets else "off",
            session_cache="ssl_session_cache shared:fs%d:1m;" % index if self.session_cache else "",
            chunked=chunked)

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


def end_process(proc, grace=10):
    """Stop a server process: SIGTERM, then SIGKILL if it is still there after `grace` s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def find_nginx():
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if path is None:
        raise RuntimeError("nginx not found: install Debian's nginx-light (make deps does)")
    return path


class Nginx:
    def __init__(self, root, host="127.0.0.1", port=None, tls=(), access_log=False):
        self.root = pathlib.Path(root).resolve()
        self.access_log = access_log
        self.host = host
        self.port = port or free_port(host)
        self.tls = list(tls)
        for t in self.tls:
            t.port = t.port or free_port(host)
        self.proc = None
        self._tmp = None

    def url(self, path="/"):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def tls_port(self, i=0):
        return self.tls[i].port

    def tls_url(self, path="/", i=0, host=None):
        return "https://%s:%d%s" % (host or self.host, self.tls[i].port, path)

    def start(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="fastsock-nginx-")
        prefix = self._tmp.name
        conf = pathlib.Path(prefix) / "nginx.conf"
        have_echo = os.path.exists(ECHO_MODULE)
        chunked = CHUNKED.format() if have_echo else ""
        tls_servers = "".join(t.conf(self.host, self.root, chunked, i) for i, t in enumerate(self.tls))
        conf.write_text(CONF.format(
            load_echo="load_module %s;" % ECHO_MODULE if have_echo else "",
            user="user root;" if os.geteuid() == 0 else "",
            access_log="access_log %s/access.log fs;" % prefix if self.access_log else "access_log off;",
            prefix=prefix, host=self.host, port=self.port, root=self.root,
            chunked=chunked, tls_servers=tls_servers,
        ))
        self.proc = subprocess.Popen(
            [find_nginx(), "-p", prefix, "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            wait_listening(self.proc, self.host, [self.port] + [t.port for t in self.tls], "nginx")
        except RuntimeError:
            self.stop()
            raise
        return self

    def requests(self, since=0, count=None, timeout=5):
        """What the server saw (needs access_log=True): one dict per request, in the order
        nginx finished them, with the connection number ($connection) and the request's index
        on it, method, uri, status, the request's length and the bytes sent. since: leave out
        the first `since` (a mark taken earlier with len(srv.requests())); count: wait, at most
        `timeout` s, until that many are there after `since` (nginx writes a request's line just
        after answering it, so a client can have its response before the line is written)."""
        if not self.access_log:
            raise RuntimeError("this Nginx was started without access_log=True")
        keys = ("connection", "index", "method", "uri", "status", "request_length", "bytes_sent")
        deadline = time.monotonic() + timeout
        while True:
            # Whole lines only: the last piece, after the last newline, may be one being written.
            lines = (pathlib.Path(self._tmp.name) / "access.log").read_text().split("\n")[:-1]
            out = [{k: (v if k in ("method", "uri") else int(v)) for k, v in zip(keys, line.split())}
                   for line in lines[since:]]
            if count is None or len(out) >= count or time.monotonic() > deadline:
                return out
            time.sleep(0.02)

    def stop(self):
        if self.proc is not None:
            end_process(self.proc)
            self.proc.stderr.close()
            self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def wait_listening(proc, host, ports, what, timeout=10):
    """Return once every port accepts a connection; RuntimeError if proc exits first (with its
    stderr, when piped) or after timeout s. The caller stops proc."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError("%s failed to start: %s" % (what, err))
        try:
            for port in ports:
                socket.create_connection((host, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not start listening on %s port %s within %d s" % (what, host, ports, timeout))


class OpensslServer:
    """`openssl s_server` with its defaults plus `options` (e.g. -tls1_2), serving the files of
    root (-WWW: HTTP/1.0, the body ends at close) with cert/key: how appliances and test rigs
    are often set up. A context manager; the process is stopped on exit."""

    def __init__(self, root, cert, key, options=("-tls1_2",), host="127.0.0.1"):
        if shutil.which("openssl") is None:
            raise RuntimeError("the `openssl` CLI is needed for s_server (Debian openssl)")
        self.port = free_port(host)
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", "%s:%d" % (host, self.port), "-cert", str(cert), "-key", str(key),
             *options, "-WWW", "-quiet"],
            cwd=str(root), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(self.proc, host, [self.port], "openssl s_server")
        except RuntimeError:
            end_process(self.proc)
            raise

    def url(self, path="/", host="localhost"):
        return "https://%s:%d%s" % (host, self.port, path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        end_process(self.proc)


def _openssl(cwd, *args):
    if shutil.which("openssl") is None:
        raise RuntimeError("the `openssl` CLI is needed for test certificates (Debian openssl)")
    p = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), p.stderr.strip()))


def make_pki(d, dns_names=("localhost",)):
    """A throwaway PKI in folder d made with the openssl CLI (P-256 keys), as PEM files named
    <name>.pem / <name>.key: `ca` and `other-ca` (two CAs, 30 days), and server certificates
    `good` (CN localhost, SANs dns_names, by ca), `rsa` (the same names with an RSA-2048 key,
    as most of the world's servers have), `untrusted` (by other-ca), `wronghost` (other.test,
    by ca), `expired` (2020-2021, by ca), `cnonly` (CN localhost, no subjectAltName), `ipsan`
    (IP 127.0.0.1), `dnsip` (a DNS entry "127.0.0.1"); ca.der is the CA in DER. Returns d."""
    d = pathlib.Path(d)
    d.mkdir(parents=True, exist_ok=True)
    for name in ("ca", "other-ca"):
        _openssl(d, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", name + ".key")
        _openssl(d, "req", "-x509", "-new", "-key", name + ".key", "-sha256", "-days", "30",
                 "-subj", "/CN=fastsock %s" % name, "-out", name + ".pem")
    _openssl(d, "x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der")
    (d / "ca.cnf").write_text(
        "[ca]\ndefault_ca = fs\n[fs]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n"
        "default_md = sha256\npolicy = pol\nunique_subject = no\n[pol]\ncommonName = supplied\n")
    (d / "index.txt").write_text("")
    (d / "serial").write_text("1000\n")

    def leaf(name, cn, names, ca="ca", dates=("20240101000000Z", "20991231000000Z"), rsa=False):
        if rsa:
            _openssl(d, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", name + ".key")
        else:
            _openssl(d, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", name + ".key")
        _openssl(d, "req", "-new", "-key", name + ".key", "-subj", "/CN=" + cn, "-out", name + ".csr")
        san = ",".join(n if n.startswith(("IP:", "DNS:")) else "DNS:" + n for n in names)
        (d / (name + ".ext")).write_text(
            ("subjectAltName=%s\n" % san if san else "") +
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")
        _openssl(d, "ca", "-batch", "-config", "ca.cnf", "-cert", ca + ".pem", "-keyfile", ca + ".key",
                 "-in", name + ".csr", "-out", name + ".pem", "-startdate", dates[0], "-enddate", dates[1],
                 "-extfile", name + ".ext", "-notext")

    leaf("good", "localhost", list(dns_names))
    leaf("rsa", "localhost", list(dns_names), rsa=True)
    # Host name edge cases: CN only (no subjectAltName), an IP entry, a DNS entry spelling an IP.
    leaf("cnonly", "localhost", [])
    leaf("ipsan", "127.0.0.1", ["IP:127.0.0.1"])
    leaf("dnsip", "127.0.0.1", ["DNS:127.0.0.1"])
    leaf("untrusted", "localhost", ["localhost"], ca="other-ca")
    leaf("wronghost", "other.test", ["other.test"])
    leaf("expired", "localhost", ["localhost"], dates=("20200101000000Z", "20210101000000Z"))
    return d


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
