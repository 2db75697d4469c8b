# SPDX-License-Identifier: MIT
"""Shared fixtures: the host interpreters, a local nginx with sample files, httpbin under
gunicorn, and a helper that runs MicroPython code and returns its output."""

import hashlib
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

from httpbin_server import Httpbin  # noqa: E402
from localserver import Nginx, make_sample_files  # noqa: E402
from wire import WireRecorder  # noqa: E402

# The three host builds `make host` produces; each is a contract path. FASTSOCK_BUILD points
# the suite at another build tree (e.g. an older commit's, to see a new test fail there).
BUILD = pathlib.Path(os.environ.get("FASTSOCK_BUILD", ROOT / "build"))
FLAVOURS = {
    "host": BUILD / "host" / "micropython",
    "host32": BUILD / "host32" / "micropython",
    "host-asan": BUILD / "host-asan" / "micropython",
}
# FASTSOCK_FLAVOURS=host[,host32,...]: run `mp` tests in only these (scripts/mutants builds only
# the flavours a mutant's tests need, in its own copy of the tree).
MP_FLAVOURS = [k for k in FLAVOURS if k in os.environ.get("FASTSOCK_FLAVOURS", ",".join(FLAVOURS)).split(",")]
# Not one of FLAVOURS (not run by every `mp` test): MicroPython 1.25's own unix port with
# fastsock (firmware/unix, from Debian's micropython source), which has the extmod modules the
# host port lacks (deflate, asyncio, select, json, os, _thread). Tests ask for it with `mpunix`.
UNIX_FLAVOURS = {
    "host-unix": BUILD / "host-unix" / "micropython",
}

SIZES = {
    "0.bin": 0,
    "1.bin": 1,
    "1k.bin": 1024,
    "100k.bin": 100 * 1024,
    "1m.bin": 1 << 20,
    "5m.bin": 5 << 20,
}


def interpreter(flavour):
    path = FLAVOURS[flavour] if flavour in FLAVOURS else UNIX_FLAVOURS[flavour]
    if not path.exists():
        pytest.fail("%s missing: run `make host` first (or `make test`, which builds it)" % path)
    return path


class MicroPython:
    """Runs code in one host interpreter; output is stdout, failures raise with stderr."""

    def __init__(self, flavour):
        self.flavour = flavour
        self.path = interpreter(flavour)

    def run(self, code, tmp_path, timeout=60, heapsize=None, expect_fail=False, env=None):
        script = tmp_path / ("t_%d.py" % abs(hash(code)))
        script.write_text(textwrap.dedent(code))
        cmd = [str(self.path)]
        if heapsize:
            cmd += ["-X", "heapsize=%s" % heapsize]
        cmd.append(str(script))
        full_env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0")
        full_env.update(env or {})
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)
        if expect_fail:
            assert p.returncode != 0, "expected failure, got output:\n" + p.stdout
            return p
        assert p.returncode == 0, "micropython (%s) failed:\nstdout:\n%s\nstderr:\n%s" % (
            self.flavour, p.stdout, p.stderr)
        assert "runtime error" not in p.stderr and "Sanitizer" not in p.stderr, p.stderr
        # MicroPython's warnings (bytes compared with str, ...): the library must print none.
        assert "Warning:" not in p.stderr and "Warning:" not in p.stdout, p.stderr + p.stdout
        return p.stdout


@pytest.fixture(params=MP_FLAVOURS)
def mp(request):
    """Each test using this runs once per host build."""
    return MicroPython(request.param)


@pytest.fixture
def mp64():
    """Only the native build (for cases where the flavour does not matter)."""
    return MicroPython("host")


@pytest.fixture
def mpunix():
    """MicroPython 1.25's unix port with fastsock (build/host-unix): deflate, asyncio, select,
    json, os and _thread are there; the fastsock package (fastsock/) is frozen in, so a change
    to them needs `make host-unix` before it shows here."""
    return MicroPython("host-unix")


@pytest.fixture(scope="session")
def www(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    make_sample_files(root, SIZES)
    return root


@pytest.fixture(scope="session")
def nginx(www):
    """nginx serving `www` on 127.0.0.1 with its access log on: .requests(since, count) gives
    what it answered (the connection number of each request, as scripts/localserver.py says)."""
    with Nginx(www, access_log=True) as srv:
        yield srv


@pytest.fixture(scope="session")
def httpbin():
    """httpbin's app under gunicorn on 127.0.0.1 (tests/httpbin_server.py), started once per
    session: .url(path), .requests() (what it answered so far), .startup_seconds."""
    with Httpbin() as srv:
        yield srv


@pytest.fixture
def wire():
    """A WireRecorder (tests/wire.py): records each request's raw bytes (.requests) and
    answers 200 with an empty body (.response can be changed); .url(path)."""
    with WireRecorder() as rec:
        yield rec


def sha256_file(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()
