# SPDX-License-Identifier: MIT
"""fastsock.tls_limit() reached during a handshake (issue 24): a server whose certificate chain is
long enough that parsing it passes the cap the budget check let through must fail with a
MemoryError that names the cap, not with whatever mbedTLS made of the refused allocation
("Bad input parameters (-0x7100)"). Oracle: mbedTLS's own refusals, counted where fastsock's
allocation hook refuses them, against the message; and with the cap lifted the same server
answers."""

import subprocess

import pytest

from localserver import Nginx, TLSServer, make_pki, make_sample_files

EXTRA = 28  # self-signed certificates sent after the leaf: a ~14 KB Certificate message


@pytest.fixture(scope="module")
def fat_tls(tmp_path_factory):
    d = make_pki(tmp_path_factory.mktemp("pki"))
    chain = (d / "good.pem").read_text()
    for i in range(EXTRA):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", str(d / ("x%d.key" % i)), "-out", str(d / ("x%d.pem" % i)),
                        "-subj", "/CN=filler %d/O=fastsock test chain padding" % i, "-days", "30"],
                       check=True, capture_output=True)
        chain += (d / ("x%d.pem" % i)).read_text()
    (d / "fat.pem").write_text(chain)
    www = make_sample_files(tmp_path_factory.mktemp("www"), {"1k.bin": 1024})
    servers = [TLSServer(str(d / "good.pem"), str(d / "good.key"))]
    servers += [TLSServer(str(d / "fat.pem"), str(d / "good.key"), protocols=p) for p in ("TLSv1.3", "TLSv1.2")]
    with Nginx(www, tls=servers) as srv:
        yield srv, str(d / "ca.pem")


@pytest.mark.parametrize("fat", [1, 2], ids=["TLSv1.3", "TLSv1.2"])
def test_a_chain_over_tls_limit_names_the_cap(mp, fat_tls, tmp_path, fat):
    srv, ca = fat_tls
    out = mp.run(
        """
        import fastsock, _fastsock
        s = fastsock.Session(ca=%r, pool_size=0)
        print(s.get(%r).status_code)  # the config is made and parsed once
        used = fastsock.stats()["tls_bytes"]
        fastsock.tls_limit(used + _fastsock.TLS_BUDGET)  # the budget check lets the handshake start
        try:
            s.get(%r)
            print("no error")
        except MemoryError as e:
            print("MemoryError", e)
        except OSError as e:
            print(type(e).__name__, e)
        print(fastsock.stats()["open"])
        fastsock.tls_limit(None)
        print(s.get(%r).status_code)
        """ % (ca, srv.tls_url("/1k.bin", 0, "localhost"), srv.tls_url("/1k.bin", fat, "localhost"),
               srv.tls_url("/1k.bin", fat, "localhost")),
        tmp_path,
    )
    lines = out.splitlines()
    assert lines[0] == "200" and lines[2:] == ["0", "200"], out
    assert lines[1].startswith("MemoryError TLS memory limit: tls_limit("), out


def test_a_ca_chain_over_tls_limit_names_the_cap(mp, tmp_path):
    # Parsing ca= or the default store under the cap: a MemoryError with no message, and "no
    # usable default CA store ... (install ca-certificates, or pass ca=)" before.
    out = mp.run(
        """
        import fastsock, _fastsock
        ca = open("/etc/ssl/certs/ca-certificates.crt", "rb").read()
        fastsock.tls_limit(fastsock.stats()["tls_bytes"] + 20000)
        for arg in (ca, None):
            try:
                _fastsock.TLSConfig(True, arg)
                print("no error")
            except MemoryError as e:
                print("MemoryError", e)
            except OSError as e:
                print(type(e).__name__, e)
        fastsock.tls_limit(None)
        print(len(_fastsock.TLSConfig(True, ca).digest))
        """,
        tmp_path,
    )
    lines = out.splitlines()
    assert len(lines) == 3 and lines[2] == "32", out
    for line in lines[:2]:
        assert line.startswith("MemoryError TLS memory limit: tls_limit("), out
