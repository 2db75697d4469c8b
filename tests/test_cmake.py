# SPDX-License-Identifier: MIT
"""The ESP32 integration without ESP-IDF: MicroPython's own py/usermod.cmake (from the same
pinned sources) run over cmodules/micropython.cmake must yield usermod_fastsock with the
module's sources and include directory."""

import pathlib
import shutil
import subprocess

import pytest

from conftest import ROOT

PROBE = """
cmake_minimum_required(VERSION 3.16)
project(probe NONE)
set(USER_C_MODULES {modules})
include({mpy}/py/usermod.cmake)
get_target_property(src usermod_fastsock INTERFACE_SOURCES)
get_target_property(inc usermod_fastsock INTERFACE_INCLUDE_DIRECTORIES)
get_target_property(defs usermod_fastsock INTERFACE_COMPILE_DEFINITIONS)
message(STATUS "SOURCES=${{src}}")
message(STATUS "INCLUDES=${{inc}}")
message(STATUS "DEFINES=${{defs}}")
message(STATUS "GATHERED=${{MICROPY_SOURCE_USERMOD}}")
"""


@pytest.fixture(scope="module")
def micropython_dir():
    out = subprocess.run(["python3", str(ROOT / "scripts" / "fetch_source.py"), "micropython"],
                         capture_output=True, text=True, check=True)
    path = pathlib.Path(out.stdout.strip())
    assert (path / "py" / "usermod.cmake").exists(), "usermod.cmake missing from %s" % path
    return path


def probe(tmp_path, micropython_dir, modules):
    if shutil.which("cmake") is None:
        pytest.fail("cmake not found: install Debian's cmake (make deps does)")
    (tmp_path / "CMakeLists.txt").write_text(PROBE.format(modules=modules, mpy=micropython_dir))
    p = subprocess.run(["cmake", "-S", str(tmp_path), "-B", str(tmp_path / "b")],
                       capture_output=True, text=True)
    return p


def values(out, key):
    for line in out.splitlines():
        if line.startswith("-- %s=" % key):
            return line.split("=", 1)[1].split(";")
    raise AssertionError("%s not reported:\n%s" % (key, out))


def test_usermod_cmake_yields_fastsock_target(tmp_path, micropython_dir):
    p = probe(tmp_path, micropython_dir, ROOT / "cmodules" / "micropython.cmake")
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout + p.stderr
    assert "Found User C Module(s): usermod_fastsock" in out
    mod = ROOT / "cmodules" / "fastsock"
    sources = [pathlib.Path(s) for s in values(out, "SOURCES")]
    names = {s.name for s in sources}
    assert {"modfastsock.c", "fs_conn.c", "fs_http.c", "fs_transport_lwip.c"} <= names
    # Every listed source exists and belongs to the module; the POSIX transport is host-only.
    for s in sources:
        assert s.exists(), "%s listed but missing" % s
        assert s.parent == mod
    assert "fs_transport_posix.c" not in names
    assert values(out, "INCLUDES") == [str(mod)]
    assert "FS_TRANSPORT_LWIP=1" in values(out, "DEFINES")
    # usermod.cmake gathers them for QSTR scanning as the ESP32 build does.
    assert set(values(out, "GATHERED")) == {str(s) for s in sources}


def test_usermod_cmake_accepts_the_directory_form(tmp_path, micropython_dir):
    # USER_C_MODULES=<dir> is the other documented spelling.
    p = probe(tmp_path, micropython_dir, ROOT / "cmodules")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Found User C Module(s): usermod_fastsock" in p.stdout + p.stderr


def test_missing_module_file_is_an_error(tmp_path, micropython_dir):
    p = probe(tmp_path, micropython_dir, tmp_path / "nope.cmake")
    assert p.returncode != 0
    assert "USER_C_MODULES doesn't exist" in p.stdout + p.stderr
