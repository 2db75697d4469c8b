# SPDX-License-Identifier: MIT
"""fastsock's C cross-compiles for Xtensa (ILP32) warning-free, and fits its code budget.

The budget is measured with the ESP32's own compiler (xtensa-esp32-elf-gcc, windowed ABI, as
the firmware is built), found as `scripts/codesize --find-esp32-cc` finds it: $PATH,
~/.cache/fastsock, the rig's toolchain, or the prebuilt toolchain tarball pinned in
scripts/esp32-rig.lock ($FASTSOCK_ESP32_PREBUILT, else ../shared/esp32/), unpacked once. Those
checks (the `esp32_cc` fixture) are a tier of their own, like the device tests: `make test` runs
them where the compiler is and otherwise sets FASTSOCK_ESP32_CC=off (they skip) and prints one
line saying so (scripts/test-tiers); `make test-xtensa` runs them and fails when the compiler is
missing, as does pytest run by hand. Debian's gcc-xtensa-lx106 (+ binutils, picolibc),
installed by scripts/install-deps, checks the C compiles warning-free for a second Xtensa ABI
everywhere.
Binding files also need the lwIP host build's generated headers (`make host`,
build/host-lwip/genhdr): the device compiles everything with FS_TRANSPORT_LWIP=1.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CODESIZE = ROOT / "scripts" / "codesize"
MODULE = ROOT / "cmodules" / "fastsock"
# Debian's ESP8266 compiler (lx106 core: call0 ABI, no FPU), for the checks named after it.
LX106_CC = "xtensa-lx106-elf-gcc"
ESP32_CC = "xtensa-esp32-elf-gcc"
TEXT_BUDGET = 19 * 1024  # the HTTP client over lwIP, TLS switched off (FS_TLS=0): issue 7, +1 KB in issues 13, 24 and 26 (docs/firmware.md)
TLS_GLUE_BUDGET = 6 * 1024  # fs_tls.c and the TLS branches on top (mbedTLS itself not counted)


@pytest.fixture(scope="module", autouse=True)
def lx106_toolchain():
    missing = [t for t in (LX106_CC, "xtensa-lx106-elf-size") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: "
                    "apt-get install -y gcc-xtensa-lx106 binutils-xtensa-lx106 picolibc-xtensa-lx106-elf")


@pytest.fixture(scope="module")
def esp32_cc():
    """The ESP32's own compiler, for the checks that need it: $FASTSOCK_ESP32_CC as `make test`
    decided it (scripts/test-tiers: the compiler, or "off" when there is none), else found here."""
    cc = os.environ.get("FASTSOCK_ESP32_CC")
    if cc == "off":
        pytest.skip("no xtensa-esp32-elf-gcc: `make test` leaves the ESP32-compiler checks out "
                    "(scripts/test-tiers); make test-xtensa runs them")
    if cc:
        return cc
    r = codesize("--find-esp32-cc")
    if r.returncode != 0:
        pytest.fail(r.stderr.strip() + "\n(the code budget is for the ESP32's own compiler; "
                    "see scripts/test-tiers and docs/testing.md)")
    return r.stdout.strip()


def codesize(*args):
    return subprocess.run([sys.executable, str(CODESIZE), *args], capture_output=True, text=True, timeout=300)


def engine_files():
    return [p for p in sorted(MODULE.glob("*.c")) if not re.search(r'^\s*#\s*include\s*"py/', p.read_text(), re.M)]


def test_esp8266_lx106_compiler_targets_ilp32_xtensa():
    macros = subprocess.run([LX106_CC, "-dM", "-E", "-x", "c", "-"], input="", capture_output=True, text=True).stdout
    for name in ("__SIZEOF_POINTER__", "__SIZEOF_LONG__", "__SIZEOF_INT__"):
        assert re.search(rf"#define {name} 4\b", macros), name
    assert "#define __XTENSA__ 1" in macros


def test_engine_compiles_alone_warning_free(esp32_cc):
    engines = engine_files()
    assert any(p.name == "fs_http.c" for p in engines), "fs_http.c must include no py/ header"
    for src in engines:
        if src.name.endswith("_posix.c"):
            continue  # host-only transport (POSIX sockets), not part of the ESP32 build
        r = codesize(str(src), "--cc", esp32_cc)
        assert r.returncode == 0, r.stderr
        assert src.name in r.stdout
        assert ESP32_CC in r.stdout.splitlines()[0], "not the ESP32's compiler: " + r.stdout.splitlines()[0]


def measure(*args, cc):
    if not (ROOT / "build" / "host-lwip" / "genhdr" / "qstrdefs.generated.h").is_file():
        pytest.fail("build/host-lwip/genhdr missing: the binding files need the lwIP host build's "
                    "generated qstr headers; run `make host` first")
    r = codesize("--json", *args, "--cc", cc)
    report = json.loads(r.stdout) if r.stdout.strip() else None
    assert report is not None, r.stderr
    files = {row["file"] for row in report["files"]}
    expected = {p.name for p in MODULE.glob("*.c") if not p.name.endswith("_posix.c")}
    assert files == expected
    return report


def test_whole_module_compiles_and_fits_text_budget(esp32_cc):
    report = measure("--no-tls", cc=esp32_cc)
    assert ESP32_CC in report["compiler"]
    rows = {row["file"]: row for row in report["files"]}
    assert rows["fs_tls.c"]["text"] == 0, "fs_tls.c must compile to nothing without FS_TLS"
    assert rows["fs_transport_lwip.c"]["text"] > 0, "the device transport must be measured"
    assert report["total"]["text"] <= TEXT_BUDGET, f"fastsock .text {report['total']['text']} > {TEXT_BUDGET}"


@pytest.mark.parametrize("variant", ["", "SPIRAM"], ids=["board", "SPIRAM"])
def test_module_compiles_with_each_board_variants_lwip_options(variant, esp32_cc):
    # The lwIP transport's caps derive from the variant's TCP_WND (the SPIRAM board's 46080 once
    # failed a static assert): each variant's generated options must compile, TLS included.
    report = measure("--board-variant", variant, cc=esp32_cc)
    rows = {row["file"]: row for row in report["files"]}
    assert rows["fs_transport_lwip.c"]["text"] > 0


def test_module_compiles_warning_free_with_the_esp8266_lx106_compiler():
    # The ESP8266 compiler (call0 ABI, no FPU): another Xtensa ABI must build warning-free.
    report = measure(cc=LX106_CC)
    assert LX106_CC in report["compiler"]
    assert report["total"]["text"] > 0


def test_tls_glue_fits_its_budget(esp32_cc):
    core = measure("--no-tls", cc=esp32_cc)["total"]["text"]
    full = measure(cc=esp32_cc)["total"]["text"]
    assert full > core + 1024, "TLS must be compiled in for this measurement"
    assert full - core <= TLS_GLUE_BUDGET, f"TLS glue {full - core} bytes > {TLS_GLUE_BUDGET}"


def test_codesize_prints_table():
    r = codesize(str(MODULE / "fs_http.c"))
    assert r.returncode == 0, r.stderr
    assert re.search(r"^fs_http\.c\s+engine\s+\d+\s+\d+\s+\d+\s+\d+$", r.stdout, re.M), r.stdout
    assert "budget" in r.stdout


def test_warnings_are_errors(tmp_path):
    bad = tmp_path / "warn.c"
    bad.write_text("int f(int x) { int unused; return x; }\n")
    r = codesize(str(bad))
    assert r.returncode == 1
    assert "does not compile warning-free" in r.stderr and "unused" in r.stderr
