# SPDX-License-Identifier: MIT
"""The sanitizer builds really run LeakSanitizer when they exit, as the suite runs them: a C
allocation nobody frees fails the run. Python code cannot drop a malloc'd pointer, so a tiny
preloaded library does (its constructor allocates 4321 bytes and forgets them); the same
script without it, or with detect_leaks=0, passes. Without this, "no LSan report" could mean
"LSan never ran": it is off with detect_leaks=0, and its stop-the-world uses ptrace, which a
seccomp profile or a process already being traced (strace, gdb) prevents."""

import os
import shutil
import subprocess

import pytest

from conftest import BUILD, MicroPython

LEAK_C = r"""
#include <stdlib.h>
#include <string.h>
static void *volatile sink;
__attribute__((constructor)) static void leak_once(void) {
    sink = malloc(4321);
    memset(sink, 1, 4321);
    sink = NULL;
}
"""

SCRIPT = "print('ran')\n"


@pytest.fixture(scope="module")
def leak_so(tmp_path_factory):
    cc = shutil.which("cc") or pytest.fail("cc not found: apt-get install gcc")
    d = tmp_path_factory.mktemp("lsan")
    (d / "leak.c").write_text(LEAK_C)
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(d / "leak.so"), str(d / "leak.c")], check=True)
    return d / "leak.so"


def asan_runtime(exe):
    """The ASan runtime the build links (it must come first among preloaded libraries)."""
    out = subprocess.run(["ldd", str(exe)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if "libasan" in line:
            return line.split("=>")[1].split()[0]
    pytest.fail("%s does not link libasan dynamically:\n%s" % (exe, out))


def test_host_asan_reports_a_leak_at_exit(leak_so, tmp_path):
    mp = MicroPython("host-asan")
    preload = {"LD_PRELOAD": "%s %s" % (asan_runtime(mp.path), leak_so)}
    # As the suite runs it (conftest: ASAN_OPTIONS=detect_leaks=1:abort_on_error=0).
    p = mp.run(SCRIPT, tmp_path, env=preload, expect_fail=True)
    assert p.stdout == "ran\n", p.stdout   # the script ran to its end; the exit failed it
    assert "ERROR: LeakSanitizer: detected memory leaks" in p.stderr, p.stderr
    assert "Direct leak of 4321 byte(s) in 1 object(s)" in p.stderr, p.stderr
    # Controls: without the leak the run is clean; with detect_leaks=0 the leak goes unseen, so
    # the report above comes from the option the suite sets.
    assert mp.run(SCRIPT, tmp_path) == "ran\n"
    off = mp.run(SCRIPT, tmp_path, env=dict(preload, ASAN_OPTIONS="detect_leaks=0"))
    assert off == "ran\n"


def test_lwip_asan_build_reports_a_leak_at_exit(leak_so, tmp_path):
    # tests/lwip_net.py runs this build with ASan's defaults (detect_leaks is on by default on
    # x86-64 Linux) and fails on any "Sanitizer" in stderr.
    exe = BUILD / "host-lwip-asan" / "micropython"
    if not exe.exists():
        pytest.fail("%s missing: run `make host`" % exe)
    script = tmp_path / "ran.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("ASAN_OPTIONS", "LSAN_OPTIONS")}
    env["LD_PRELOAD"] = "%s %s" % (asan_runtime(exe), leak_so)
    p = subprocess.run([str(exe), str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert p.stdout == "ran\n" and p.returncode != 0, (p.returncode, p.stdout, p.stderr)
    assert "Direct leak of 4321 byte(s) in 1 object(s)" in p.stderr, p.stderr
    assert leak_so.name in p.stderr   # the allocation is traced to its origin
