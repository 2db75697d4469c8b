# SPDX-License-Identifier: MIT
"""The project's own Python passes ruff (rules in ruff.toml): pyflakes and pycodestyle."""

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Python files without a .py suffix (command-line tools).
SCRIPTS = ["bench", "flash", "codesize", "fetch-lwip", "fetch-mbedtls", "fetch-micropython-unix", "bench-tls", "bench-lwip",
           "bench-engine", "esp32-rig", "board-sdkconfig", "test-tiers", "mutants"]


def test_ruff_clean():
    ruff = shutil.which("ruff", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff not found: it is pinned in tests/requirements.txt (make test installs it)")
    # The package's .py files (its .pyi stub is for editors, not MicroPython).
    targets = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "cmodules" / "fastsock" / "fastsock").glob("*.py"))
    targets += ["firmware/host/lib", "scripts", "tests"]
    targets += ["scripts/" + s for s in SCRIPTS]
    r = subprocess.run([ruff, "check", *targets], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_c_formats_work_with_newlib_nano():
    # The ESP32 firmware links newlib-nano (--specs=nano.specs), whose printf family has no
    # long long, size_t or intmax_t conversions: "%lld" printed "ld", and every request body
    # went out as "Content-Length: ld" (found on the emulated ESP32). Numbers go through
    # fs_u64_dec instead.
    import re
    bad = re.compile(r'"[^"]*%[-+ #0-9.]*(ll|j|z|t|L|q)[a-zA-Z][^"]*"')
    found = []
    for path in sorted((ROOT / "cmodules" / "fastsock").glob("*.c")):
        if path.name.endswith("_posix.c"):
            continue  # host-only transport
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if bad.search(line):
                found.append("%s:%d: %s" % (path.name, n, line.strip()))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("flavour", [[], ["MICROPY_FORCE_32BIT=1"], ["FS_SANITIZE=1"], ["FS_TRANSPORT=lwip"]],
                         ids=["64-bit", "m32", "asan", "lwip"])
def test_module_compiles_with_all_warnings_as_errors(flavour, tmp_path):
    # Every host flavour compiles fastsock's files with -Wall -Wextra -Werror (the Xtensa compile
    # in scripts/codesize uses the same, tests/test_xtensa.py). Dry run: the flags the build uses.
    src = ROOT / "cmodules" / "fastsock" / "fs_http.c"
    r = subprocess.run(["make", "-n", "-B", "-C", "firmware/host", f"BUILD={tmp_path}", *flavour,
                        f"{tmp_path}/fastsock/fs_http.o"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    cmd = next((line for line in r.stdout.splitlines() if str(src) in line and " -c " in line), None)
    assert cmd is not None, r.stdout[-2000:]
    for flag in ("-Wall", "-Wextra", "-Werror"):
        assert flag in cmd.split(), f"{flag} missing from: {cmd}"
    if flavour == ["MICROPY_FORCE_32BIT=1"]:
        assert "-m32" in cmd.split()


# The licence (LICENSE, MIT): every source file the team wrote says so in its first lines.
SPDX = "SPDX-License-Identifier: MIT"
SOURCE_SUFFIXES = (".c", ".h", ".py", ".pyi", ".cmake", ".mk", ".yml")
SOURCE_NAMES = ("Makefile", "CMakeLists.txt")
# Data, not source: captured HTTP heads, fuzz corpora and the fuzzer's dictionary. JSON has no
# comments, so boards/ESP32_NET/board.json is covered by LICENSE alone (it is not listed here).
DATA_DIRS = ("tests/corpus/", "tests/fuzz/")


def licensed_sources():
    """Tracked source files: C, headers, Python, Makefiles, CMake, sdkconfig fragments, the CI
    workflow and every script with a shebang."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for rel in filter(None, out.split("\0")):
        path = ROOT / rel
        if rel.startswith(DATA_DIRS) or not path.is_file():
            continue
        if path.name.endswith(SOURCE_SUFFIXES) or path.name in SOURCE_NAMES or path.name.startswith("sdkconfig."):
            yield rel
        elif path.read_bytes()[:2] == b"#!":
            yield rel


def has_spdx(path):
    # First line, or second after a shebang.
    return any(SPDX in line for line in path.read_text(errors="replace").splitlines()[:2])


def test_every_source_file_carries_the_spdx_line():
    license = (ROOT / "LICENSE").read_text()
    assert license.startswith("MIT License") and "Copyright (c) 2026 the fastsock authors" in license
    sources = list(licensed_sources())
    assert len(sources) > 100 and "scripts/esp32-rig" in sources and "Makefile" in sources, sources
    missing = [rel for rel in sources if not has_spdx(ROOT / rel)]
    assert not missing, f"no '{SPDX}' line at the top (after a shebang) of: {', '.join(missing)}"
