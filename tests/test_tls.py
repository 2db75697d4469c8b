# SPDX-License-Identifier: MIT
"""https:// in fastsock: mbedTLS over the POSIX transport against a real nginx with TLS, in
every host build, and over lwIP in the TAP namespace suite. Certificates come from a throwaway
CA made with the `openssl` CLI at test time: a valid chain, an unknown CA, a wrong host name, an
expired certificate; TLS 1.3-only and TLS 1.2-only servers (the host's mbedTLS 3.6 speaks
both), a TLS 1.0/1.1-only server (handshake failure: no common version) and plain HTTP on the
TLS port. Verification failures must raise
fastsock.TLSError (an OSError) before any request is sent."""

import hashlib
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "scripts"))

import lwip_net as L  # noqa: E402
from localserver import Nginx, OpensslServer, TLSServer, make_pki, make_sample_files  # noqa: E402

FILES = {"1k.bin": 1024, "1m.bin": 1 << 20, "10m.bin": 10 << 20}

# Indices of the https servers in the nginx fixture.
(GOOD, UNTRUSTED, WRONG_HOST, EXPIRED, TLS13_ONLY, TLS12_ONLY, ID_CACHE, ID_CACHE13, TLS11_ONLY,
 RSA12, RSA13, CN_ONLY, IP_SAN, DNS_IP) = range(14)


def sha_file(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


class PKI:
    """The throwaway PKI (scripts/localserver.make_pki) in one folder."""

    def __init__(self, d):
        try:
            self.d = make_pki(d, ("localhost", L.DNS_NAME))
        except RuntimeError as e:
            pytest.fail("TLS test certificates: %s" % e, pytrace=False)

    def path(self, name):
        return str(self.d / name)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def twww(tmp_path_factory):
    return make_sample_files(tmp_path_factory.mktemp("twww"), FILES, seed=6)


@pytest.fixture(scope="module")
def tls_nginx(twww, pki):
    p = pki.path
    servers = [
        TLSServer(p("good.pem"), p("good.key")),
        TLSServer(p("untrusted.pem"), p("untrusted.key")),
        TLSServer(p("wronghost.pem"), p("wronghost.key")),
        TLSServer(p("expired.pem"), p("expired.key")),
        TLSServer(p("good.pem"), p("good.key"), protocols="TLSv1.3"),
        TLSServer(p("good.pem"), p("good.key"), protocols="TLSv1.2"),
        # Session IDs (TLS 1.2), and stateful tickets (TLS 1.3 has no session IDs).
        TLSServer(p("good.pem"), p("good.key"), protocols="TLSv1.2", tickets=False, session_cache=True),
        TLSServer(p("good.pem"), p("good.key"), protocols="TLSv1.3", tickets=False, session_cache=True),
        # OpenSSL 3 speaks TLS 1.0/1.1 only at security level 0.
        TLSServer(p("good.pem"), p("good.key"), protocols="TLSv1 TLSv1.1", ciphers="DEFAULT:@SECLEVEL=0"),
        # An RSA key, as most servers have: TLS 1.2 only (IoT brokers, appliances), and TLS 1.3.
        TLSServer(p("rsa.pem"), p("rsa.key"), protocols="TLSv1.2"),
        TLSServer(p("rsa.pem"), p("rsa.key"), protocols="TLSv1.3"),
        TLSServer(p("cnonly.pem"), p("cnonly.key")),
        TLSServer(p("ipsan.pem"), p("ipsan.key")),
        TLSServer(p("dnsip.pem"), p("dnsip.key")),
    ]
    with Nginx(twww, tls=servers, access_log=True) as srv:
        yield srv


def url(srv, i, path="/1k.bin", host="localhost"):
    return srv.tls_url(path, i, host)


def test_valid_chain_in_every_build(mp, tls_nginx, pki, twww, tmp_path):
    out = mp.run(
        """
        import fastsock
        r = fastsock.get(%r, ca=%r, stream=True)
        print(r.status_code, r.raw.tls())
        print(len(r.content) == 1024)
        n = fastsock.get(%r, ca=%r, stream=True).save(%r)
        print(n)
        """ % (url(tls_nginx, GOOD), pki.path("ca.pem"), url(tls_nginx, GOOD, "/1m.bin"),
               pki.path("ca.pem"), str(tmp_path / "1m.bin")),
        tmp_path,
    )
    lines = out.splitlines()
    # TLS 1.3 where both ends have it, AES-128-GCM first (fs_tls.c prefer_aes_gcm).
    assert lines[0].startswith("200 ('TLSv1.3', 'TLS1-3-AES-128-GCM-SHA256', False)"), out
    assert lines[1:] == ["True", str(1 << 20)]
    assert sha_file(tmp_path / "1m.bin") == sha_file(twww / "1m.bin")


# Each failure: (server index, host, expected TLSError message fragment).
FAILURES = [
    (UNTRUSTED, "localhost", "certificate verify failed for 'localhost': unknown CA"),
    (WRONG_HOST, "localhost", "certificate verify failed for 'localhost': host name mismatch"),
    (EXPIRED, "localhost", "certificate verify failed for 'localhost': certificate expired"),
    # RFC 6125, as CPython's ssl: the host must be in subjectAltName (mbedTLS alone accepts a
    # CN-only certificate), and an IP address must be an IP entry (mbedTLS alone accepts a DNS
    # entry spelling it).
    (CN_ONLY, "localhost", "certificate verify failed for 'localhost': no subjectAltName"),
    (DNS_IP, "127.0.0.1", "certificate verify failed for '127.0.0.1': host name mismatch"),
    (GOOD, "127.0.0.1", "certificate verify failed for '127.0.0.1': host name mismatch"),
    (TLS11_ONLY, "localhost", "TLS handshake failed: the server sent alert protocol_version"),
    (None, "localhost", "TLS handshake failed: the server answered in plain text (HTTP), not TLS"),
]


def test_failures_are_distinct_tls_errors(mp, tls_nginx, pki, tmp_path):
    urls = []
    for i, host, _ in FAILURES:
        if i is None:
            urls.append("https://%s:%d/1k.bin" % (host, tls_nginx.port))  # plain HTTP port
        else:
            urls.append(url(tls_nginx, i, host=host))
    out = mp.run(
        """
        import fastsock
        fastsock.reset_stats()
        for u in %r:
            try:
                r = fastsock.get(u, ca=%r)
                print("RESPONSE", r.status_code)
            except fastsock.TLSError as e:
                print(isinstance(e, OSError), e.errno, e.args[1])
        s = fastsock.stats()
        print("REQUESTS", s["requests"], "OPEN", s["open"])
        """ % (urls, pki.path("ca.pem")),
        tmp_path,
    )
    lines = out.splitlines()
    assert len(lines) == len(FAILURES) + 1, out
    for line, (_, _, expect) in zip(lines, FAILURES):
        assert line.startswith("True 5 " + expect), (line, expect)
    # Nothing was sent on an unverified connection, and nothing is left open.
    assert lines[-1] == "REQUESTS 0 OPEN 0"


def test_ip_address_matches_an_ip_entry(mp, tls_nginx, pki, tmp_path):
    # The other side of the host name rule: https://127.0.0.1 with a certificate whose
    # subjectAltName has IP 127.0.0.1 verifies (as with CPython's ssl).
    out = mp.run(
        """
        import fastsock
        r = fastsock.get(%r, ca=%r)
        print(r.status_code, len(r.content))
        """ % (url(tls_nginx, IP_SAN, host="127.0.0.1"), pki.path("ca.pem")),
        tmp_path,
    )
    assert out.splitlines() == ["200 1024"], out


def test_default_ca_store_and_verify_false(mp64, tls_nginx, pki, tmp_path):
    out = mp64.run(
        """
        import fastsock
        try:
            fastsock.get(%r)
        except fastsock.TLSError as e:
            print(e.args[1])
        r = fastsock.get(%r, verify=False)
        print(r.status_code, len(r.content))
        with fastsock.Session(verify=False) as s:
            print(s.get(%r).status_code)
        """ % (url(tls_nginx, GOOD), url(tls_nginx, UNTRUSTED), url(tls_nginx, EXPIRED)),
        tmp_path,
    )
    lines = out.splitlines()
    # Without ca= the system store is used, which does not know the throwaway CA.
    assert lines[0].startswith("certificate verify failed for 'localhost': unknown CA")
    assert lines[1:] == ["200 1024", "200"]


def test_ca_forms_pem_der_path_and_bad(mp64, tls_nginx, pki, tmp_path):
    pem = pathlib.Path(pki.path("ca.pem")).read_bytes()
    der = pathlib.Path(pki.path("ca.der")).read_bytes()
    out = mp64.run(
        """
        import fastsock
        for ca in (%r, %r, %r, None):
            if ca is None:
                r = fastsock.get(%r, verify=%r)
            else:
                r = fastsock.get(%r, ca=ca)
            print(r.status_code)
        try:
            fastsock.get(%r, ca=b"not a certificate")
        except ValueError as e:
            print("ValueError", e)
        """ % (pem, der, pki.path("ca.pem"), url(tls_nginx, GOOD), pki.path("ca.pem"),
               url(tls_nginx, GOOD), url(tls_nginx, GOOD)),
        tmp_path,
    )
    lines = out.splitlines()
    assert lines[:4] == ["200"] * 4
    assert lines[4].startswith("ValueError ca= holds no usable CA certificate")


def test_pooled_tls_connections_keyed_on_what_was_verified(mp, tls_nginx, pki, tmp_path):
    # A connection made unverified never serves a request that asks for verification, whatever
    # happened to the Session's settings or the shared config cache in between; one verified
    # with a CA serves any request verifying with the same CA data (a path or its bytes).
    # Oracle: nginx's connection number for each request.
    pem = pathlib.Path(pki.path("ca.pem")).read_bytes()
    uri = "/1k.bin"
    seen = len(tls_nginx.requests())
    out = mp.run(
        """
        import fastsock
        u = %r
        s = fastsock.Session(verify=False)
        print(s.get(u).status_code)
        s.verify = True
        try:
            s.get(u)
            print("served unverified")
        except fastsock.TLSError:
            print("TLSError")
        s.ca = %r
        print(s.get(u).status_code)
        print(s.get(u, verify=False).status_code)
        fastsock.tls_reset()
        for i in range(3):
            s.get(u, ca=%r + b" " * i)
        print(s.get(u).status_code)
        """ % (url(tls_nginx, GOOD, uri), pki.path("ca.pem"), pem),
        tmp_path,
    )
    assert out.split() == ["200", "TLSError", "200", "200", "200"]
    conns = [r["connection"] for r in tls_nginx.requests(seen, 7) if r["uri"] == uri]
    assert len(conns) == 7
    a, b = conns[0], conns[1]
    # After tls_reset(): the CA bytes equal to the file's reuse the verified connection; with
    # trailing spaces they are other data, each its own connection; the path again reuses it.
    assert a != b and conns[2:] == [a, b, conns[4], conns[5], b]
    assert len(set(conns)) == 4


def test_cookies_and_multipart_over_https(mp, pki, tmp_path):
    # A Secure cookie set over https goes back over https only; a multipart upload through TLS
    # is byte-exact with requests' (but for the boundary). Server: Python's ssl over a
    # scripted keep-alive server (records every request), plus a plain one on another port.
    import re
    import ssl

    import requests
    from rawserver import RawServer, keep_alive

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki.path("good.pem"), pki.path("good.key"))
    seen, plain_seen = [], []

    def respond(raw):
        head = raw.split(b"\r\n\r\n", 1)[0]
        extra = b"Set-Cookie: sid=s1; Secure; HttpOnly\r\nSet-Cookie: pref=p2\r\n" if head.startswith(b"GET /login") else b""
        return b"HTTP/1.1 200 OK\r\n%sContent-Length: 2\r\n\r\nok" % extra

    def tls_handler(conn, stop):
        with ctx.wrap_socket(conn, server_side=True) as c:
            keep_alive(respond, seen)(c, stop)

    def cookie_of(raw):
        m = re.search(rb"\r\nCookie: ([^\r]*)\r\n", raw)
        return m.group(1).decode() if m else None

    blob = bytes(range(256)) * 300
    with RawServer(tls_handler) as srv, RawServer(keep_alive(respond, plain_seen)) as plain:
        base = "https://localhost:%d" % srv.port
        with requests.Session() as rs:
            rs.post(base + "/up", files={"f": ("a.bin", blob, "application/octet-stream")}, verify=pki.path("ca.pem"))
        out = mp.run(
            """
            import fastsock
            s = fastsock.Session(ca=%r)
            s.get(%r)
            r = s.post(%r, files={"f": ("a.bin", bytes(range(256)) * 300, "application/octet-stream")})
            s.get(%r)
            print(r.status_code, sorted(s.cookies.keys()))
            """ % (pki.path("ca.pem"), base + "/login", base + "/up", plain.url("/plain").replace("127.0.0.1", "localhost")),
            tmp_path,
        )
    assert out.split("\n")[0] == "200 ['pref', 'sid']"
    rq_up, fs_up = seen[0], seen[2]
    assert cookie_of(fs_up) == "sid=s1; pref=p2" and cookie_of(plain_seen[0]) == "pref=p2"
    fb = re.search(rb"boundary=([0-9a-f]{32})", fs_up).group(1)
    rb = re.search(rb"boundary=([0-9a-f]{32})", rq_up).group(1)
    assert fs_up.split(b"\r\n\r\n", 1)[1].replace(fb, rb) == rq_up.split(b"\r\n\r\n", 1)[1]


def test_tls12_and_tls13_each_negotiated(mp, tls_nginx, pki, twww, tmp_path):
    # A server pinned to one version each: both work (1 MB body, byte-identical), and a server
    # with only TLS 1.0/1.1 is refused with the version alert.
    out = mp.run(
        """
        import fastsock
        for i, u in enumerate(%r):
            r = fastsock.get(u, ca=%r, stream=True)
            print(r.raw.tls(), r.save(%r + str(i)))
        try:
            fastsock.get(%r, ca=%r)
        except fastsock.TLSError as e:
            print(e.args[1])
        """ % ([url(tls_nginx, TLS12_ONLY, "/1m.bin"), url(tls_nginx, TLS13_ONLY, "/1m.bin")],
               pki.path("ca.pem"), str(tmp_path / "1m.bin."), url(tls_nginx, TLS11_ONLY), pki.path("ca.pem")),
        tmp_path,
    )
    lines = out.splitlines()
    assert lines[0] == "('TLSv1.2', 'TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256', False) %d" % (1 << 20), out
    assert lines[1] == "('TLSv1.3', 'TLS1-3-AES-128-GCM-SHA256', False) %d" % (1 << 20), out
    for i in range(2):
        assert sha_file(tmp_path / ("1m.bin.%d" % i)) == sha_file(twww / "1m.bin")
    assert lines[2] == ("TLS handshake failed: the server sent alert protocol_version: no TLS version "
                        "both ends support (this client: TLS 1.2, 1.3)"), out


@pytest.fixture(scope="module")
def s_server(twww, pki):
    try:
        srv = OpensslServer(twww, pki.path("rsa.pem"), pki.path("rsa.key"), ("-tls1_2",))
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    with srv:
        yield srv.url("")


def test_rsa_key_servers_tls12_and_tls13(mp, tls_nginx, s_server, pki, twww, tmp_path):
    # Servers with an RSA key: TLS 1.2 only (nginx, and openssl s_server with its defaults) and
    # TLS 1.3. Both TLS 1.2 servers sign the key exchange with RSA-PSS, which mbedTLS 3.6.6 (the
    # host's source) refused in TLS 1.2: -0x6600, Mbed-TLS/mbedtls#10672, mended at fetch time by
    # scripts/fetch-mbedtls. Oracle: sha256 of the served file, the negotiated version and suite.
    out = mp.run(
        """
        import fastsock
        for i, u in enumerate(%r):
            try:
                r = fastsock.get(u, ca=%r, stream=True, timeout=20)
                print(r.raw.tls()[:2], r.save(%r + str(i)))
            except OSError as e:
                print(repr(e))
        """ % ([url(tls_nginx, RSA12, "/1m.bin"), s_server + "/1m.bin", url(tls_nginx, RSA13, "/1m.bin")],
               pki.path("ca.pem"), str(tmp_path / "1m.bin.")),
        tmp_path,
    )
    lines = out.splitlines()
    rsa12 = "('TLSv1.2', 'TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256') %d" % (1 << 20)
    assert lines == [rsa12, rsa12, "('TLSv1.3', 'TLS1-3-AES-128-GCM-SHA256') %d" % (1 << 20)], out
    for i in range(3):
        assert sha_file(tmp_path / ("1m.bin.%d" % i)) == sha_file(twww / "1m.bin")


def test_10mb_body_byte_identical(mp, tls_nginx, pki, twww, tmp_path):
    out = mp.run(
        """
        import fastsock
        r = fastsock.get(%r, ca=%r, timeout=30, stream=True)
        print(r.status_code, r.save(%r))
        """ % (url(tls_nginx, GOOD, "/10m.bin"), pki.path("ca.pem"), str(tmp_path / "10m.bin")),
        tmp_path, timeout=120,
    )
    assert out.split() == ["200", str(10 << 20)]
    assert sha_file(tmp_path / "10m.bin") == sha_file(twww / "10m.bin")


def test_keep_alive_reuse_over_tls(mp, tls_nginx, pki, tmp_path):
    mark = len(tls_nginx.requests())
    out = mp.run(
        """
        import fastsock
        fastsock.reset_stats()
        with fastsock.Session(ca=%r) as s:
            sizes = [len(s.get(u).content) for u in %r * 10]
        st = fastsock.stats()
        print(sizes[:2], len(sizes), st["connections"], st["reused"], st["tls_handshakes"])
        """ % (pki.path("ca.pem"), [url(tls_nginx, GOOD), url(tls_nginx, GOOD, "/1m.bin")]),
        tmp_path,
    )
    assert out.strip() == "[1024, 1048576] 20 1 19 1"
    # One TLS connection for the 20 requests: nginx's connection number and request index.
    seen = tls_nginx.requests(mark, 20)
    assert len({r["connection"] for r in seen}) == 1 and [r["index"] for r in seen] == list(range(1, 21)), seen


def test_session_resumption_tickets_and_ids(mp, tls_nginx, pki, tmp_path):
    out = mp.run(
        """
        import fastsock
        ca = open(%r, "rb").read()
        for u in %r:
            fastsock.reset_stats()
            server = []
            client = []
            for i in range(8):
                # A new connection each time (pool_size=0), the shared TLS config.
                with fastsock.Session(ca=ca, pool_size=0) as s:
                    r = s.get(u, stream=True)
                    client.append("r" if r.raw.tls()[2] else ".")
                    server.append(r.text)
            st = fastsock.stats()
            print(r.raw.tls()[0], "".join(server), "".join(client), st["tls_handshakes"], st["tls_resumed"])
        """ % (pki.path("ca.pem"), [url(tls_nginx, i, "/session-reused")
                                    for i in (TLS12_ONLY, ID_CACHE, GOOD, ID_CACHE13)]),
        tmp_path,
    )
    lines = out.splitlines()
    # The first handshake is full; every later one resumes: TLS 1.2 with tickets and with
    # session IDs, TLS 1.3 with stateless and stateful tickets (which arrive after the
    # handshake). The oracle is the server: nginx's $ssl_session_reused for each connection
    # ("r" or "."), which the client's tls() flag and counters must match connection by
    # connection (no timing: a resumed handshake need not be measurably faster on loopback).
    assert lines == ["TLSv1.2 .rrrrrrr .rrrrrrr 8 7"] * 2 + ["TLSv1.3 .rrrrrrr .rrrrrrr 8 7"] * 2, out


def test_tls_memory_is_counted_and_limited(mp, tls_nginx, pki, tmp_path):
    out = mp.run(
        """
        import fastsock, _fastsock
        ca = open(%r, "rb").read()
        s = fastsock.Session(ca=ca)
        s.get(%r).content  # config made, session remembered
        s.close()
        base = fastsock.stats()["tls_bytes"]
        fastsock.reset_stats()
        r = s.get(%r, stream=True)
        during = fastsock.stats()["tls_bytes"]
        peak = fastsock.stats()["tls_peak"]
        r.content
        s.close()
        after = fastsock.stats()["tls_bytes"]
        print("CONN", during - base, "PEAK", peak - base, "LEFT", after - base, "BUDGET", _fastsock.TLS_BUDGET)
        # A cap below what a handshake needs: MemoryError before connecting.
        fastsock.tls_limit(base + 1000)
        c0 = fastsock.stats()["connections"]
        try:
            fastsock.get(%r, ca=ca)
        except MemoryError as e:
            print("MemoryError", e)
        print("CONNECTED", fastsock.stats()["connections"] - c0)
        fastsock.tls_limit(None)
        print(fastsock.get(%r, ca=ca).status_code)
        """ % (pki.path("ca.pem"), url(tls_nginx, GOOD), url(tls_nginx, GOOD), url(tls_nginx, GOOD),
               url(tls_nginx, GOOD)),
        tmp_path,
    )
    lines = out.splitlines()
    f = lines[0].split()
    conn, peak, budget = int(f[1]), int(f[3]), int(f[7])
    # An open connection holds the 16 KB + 4 KB record buffers and the decrypted buffer.
    assert 16384 + 4096 + 10240 < conn < budget, lines[0]
    assert conn <= peak <= budget, lines[0]
    # Closing frees the connection's TLS memory; only the remembered session for resumption may
    # differ in size (the server can hand out a new ticket on a resumed handshake).
    assert abs(int(f[5])) <= 1024, lines[0]
    assert lines[1].startswith("MemoryError TLS memory limit: a handshake needs about %d bytes" % budget)
    assert lines[2:] == ["CONNECTED 0", "200"]


def test_tls_limit_counts_and_caps_only_fastsock(mp, tls_nginx, pki, tmp_path):
    # Another mbedTLS user in the same process (hostcheck.x509_hold parses a certificate with
    # mbedtls_x509_crt_parse_der, as MicroPython's ssl module or an ESP-IDF component would):
    # neither refused by fastsock's tls_limit nor counted in its tls_bytes / tls_peak.
    der = pathlib.Path(pki.path("ca.der")).read_bytes()
    out = mp.run(
        """
        import fastsock, hostcheck
        ca = open(%r, "rb").read()
        print(fastsock.get(%r, ca=ca).status_code)  # hooks installed, config made
        before = fastsock.stats()["tls_bytes"]
        fastsock.reset_stats()
        for limit in (None, before + 64):
            fastsock.tls_limit(limit)
            print("PARSE", hostcheck.x509_hold(%r))
            s = fastsock.stats()
            print("BYTES", s["tls_bytes"] - before, "PEAK", s["tls_peak"] - before)
            hostcheck.x509_hold(None)
            print("FREED", fastsock.stats()["tls_bytes"] - before)
        fastsock.tls_limit(None)
        print(fastsock.get(%r, ca=ca).status_code)
        """ % (pki.path("ca.pem"), url(tls_nginx, GOOD), der, url(tls_nginx, GOOD)),
        tmp_path,
    )
    assert out.splitlines() == ["200"] + ["PARSE 0", "BYTES 0 PEAK 0", "FREED 0"] * 2 + ["200"], out


def test_https_redirect_keeps_default_port_out_of_host(mp64, tls_nginx, pki, tmp_path):
    # URL parsing: https defaults to 443; credentials are split off the authority.
    out = mp64.run(
        """
        import fastsock
        import fastsock._more as _more
        print(fastsock._parse_url("https://example.com/x"))
        print(_more._join_url("https://example.com/a/b", "c"))
        print(fastsock._parse_url("https://u:p%40@example.com:8443"))
        """,
        tmp_path,
    )
    assert out.splitlines() == [
        "('https', 'example.com', 443, '/x', None)",
        "https://example.com/a/c",
        "('https', 'example.com', 8443, '/', ('u', 'p@'))",
    ]


# ---- the same over lwIP (TAP in a network namespace; needs root)


@pytest.fixture(scope="module")
def tls_tapnet(request, twww, pki):
    L.interpreter()
    L.require_tap()
    ns = L.Netns()
    request.addfinalizer(ns.delete)
    ns.create()
    srv = L.NetnsServers(ns, twww, tls=(pki.path("good.pem"), pki.path("good.key")))
    request.addfinalizer(srv.stop)
    srv.start()
    return srv


def test_lwip_https_download_reuse_and_errors(tls_tapnet, pki, twww, tmp_path):
    base = "https://%s:%d" % (L.DNS_NAME, tls_tapnet.https_port)
    bad_name = "https://%s:%d/1k.bin" % (L.SERVER_IP, tls_tapnet.https_port)
    plain = "https://%s:%d/1k.bin" % (L.DNS_NAME, tls_tapnet.port)
    out = tmp_path / "10m.bin"
    p, tags = L.run_mp(
        """
        ca = open(%r, "rb").read()
        r = fastsock.get(%r, ca=ca, timeout=20, stream=True)
        report("TLS", r.raw.tls()[0])
        report("SAVED", r.save(%r))
        fastsock.reset_stats()
        with fastsock.Session(ca=ca, timeout=20) as s:
            n = [len(s.get(%r).content) for i in range(5)]
        st = fastsock.stats()
        report("REUSE", (n, st["connections"], st["tls_handshakes"]))
        errs = []
        for u in (%r, %r):
            try:
                fastsock.get(u, ca=ca, timeout=10)
                errs.append("response")
            except fastsock.TLSError as e:
                errs.append(e.args[1])
        report("ERRS", errs)
        report("OPEN", fastsock.stats()["open"])
        report("LEAKS", leaks())
        """ % (pki.path("ca.pem"), base + "/10m.bin", str(out), base + "/1m.bin", bad_name, plain),
        tmp_path, L.tap_env(FASTSOCK_DNS=L.SERVER_IP), ns=tls_tapnet.ns, timeout=120,
    )
    assert tags.get("TLS") == "TLSv1.3", p.stdout
    assert tags["SAVED"] == 10 << 20
    assert sha_file(out) == sha_file(twww / "10m.bin")
    assert tags["REUSE"] == ([1 << 20] * 5, 1, 1)
    assert tags["ERRS"][0].startswith("certificate verify failed for '10.0.0.1': host name mismatch")
    assert tags["ERRS"][1].startswith("TLS handshake failed: the server answered in plain text (HTTP)")
    assert tags["OPEN"] == 0
    assert tags["LEAKS"] == {}
