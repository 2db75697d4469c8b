# SPDX-License-Identifier: MIT
"""C unit tests of the HTTP engine (tests/c/test_engine.c) under ASan/UBSan with guard pages,
in both scan variants, plus a strict C99 build of the engine (-Werror, -Wconversion) and
compile checks for -m32 and for Xtensa with Debian's ESP8266 (lx106) compiler (the ESP32's own
compiler builds the whole module in tests/test_xtensa.py)."""

import subprocess

import pytest

import engine_support as es


@pytest.mark.parametrize("exe", ["test_engine", "test_engine_byteloop"])
def test_engine_unit(exe):
    build = es.build_engine()
    res = subprocess.run([build / exe], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"{exe} failed:\n{res.stdout[-4000:]}\n{res.stderr[-6000:]}"
    assert " 0 failures" in res.stdout


def test_engine_builds_for_ilp32():
    """ESP32 is ILP32: the engine must compile cleanly for -m32 (gcc-multilib)."""
    es.require("gcc")
    src = es.ROOT / "cmodules" / "fastsock" / "fs_http.c"
    es.run(["gcc", "-m32", "-std=c99", "-pedantic", "-O2", "-Wall", "-Wextra", "-Werror",
            "-Wconversion", "-c", src, "-o", es.BUILD / "fs_http_m32.o"])


def test_engine_builds_with_the_esp8266_lx106_compiler():
    """Debian's ESP8266 compiler (gcc-xtensa-lx106: same Xtensa ISA family as the ESP32, call0
    ABI) compiles the byte-loop variant the ESP32 gets, warning-free."""
    cc = es.require("xtensa-lx106-elf-gcc", "gcc-xtensa-lx106")
    src = es.ROOT / "cmodules" / "fastsock" / "fs_http.c"
    es.BUILD.mkdir(parents=True, exist_ok=True)
    es.run([cc, "-std=c99", "-Os", "-Wall", "-Wextra", "-Werror", "-DFS_STANDALONE=1", "-c", src, "-o",
            es.BUILD / "fs_http_lx106.o"])
