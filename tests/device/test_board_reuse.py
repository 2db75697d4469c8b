# SPDX-License-Identifier: MIT
"""docs/firmware.md's "Using the board in your own build", run as written: ESP32_NET with
fastsock and MicroPython's own examples/usercmodule in one image, from the rig's MicroPython
checkout, in a build directory of the user's own (BUILD=, with MICROPY_MPYCROSS). The oracle is
the emulated chip: the image boots and every module of both projects imports and works."""

import hashlib
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from qemu_device import Device, rig_dir

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "firmware.md"


def doc_blocks():
    """The section's code blocks: (language, text), in order."""
    text = DOC.read_text()
    section = text[text.index("## Using the board in your own build"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"```(\w+)\n(.*?)```", section, re.S)


def test_docs_command_builds_board_with_fastsock_and_usercmodule(tmp_path):
    rig = rig_dir()
    if not (rig / "env.sh").exists():
        pytest.fail("no rig in %s: scripts/esp32-rig builds it (make test-device names what it needs)" % rig)
    blocks = doc_blocks()
    cmake = [body for lang, body in blocks if lang == "cmake"]
    shell = [body for lang, body in blocks if lang == "sh" and "BUILD=" in body and "my_modules.cmake" in body]
    assert len(cmake) == 1 and len(shell) == 1, "docs/firmware.md: the section's cmake and BUILD= blocks changed"
    # Where the docs say /path/to/...: this checkout, the rig's MicroPython, and a build directory
    # kept in the rig's cache (as build-firmware's are), so a second run rebuilds only what changed.
    work = rig / "reuse-usercmodule"
    # IDF applies the board's sdkconfig only to a new build directory: start over when they change.
    config = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((ROOT / "boards" / "ESP32_NET").iterdir())
                                     if p.is_file())).hexdigest()
    if (work / "config").exists() and (work / "config").read_text() != config:
        shutil.rmtree(work)
    work.mkdir(exist_ok=True)
    (work / "config").write_text(config)
    mpy = pathlib.Path(os.environ.get("MICROPY_DIR") or rig / "micropython")
    def place(text):
        return (text.replace("/path/to/fastsock", str(ROOT)).replace("/path/to/micropython", str(mpy))
                .replace("/path/to/my_modules.cmake", str(work / "my_modules.cmake")))
    (work / "my_modules.cmake").write_text(place(cmake[0]))
    command = place(shell[0]).replace(" [BOARD_VARIANT=SPIRAM]", "")
    assert "MICROPY_MPYCROSS=" in command and "BUILD=$PWD/build-ESP32_NET" in command, command
    log = tmp_path / "build.log"
    with open(log, "w") as out:
        r = subprocess.run(["bash", "-c", ". %s/env.sh && set -ex && %s" % (rig, command)], cwd=work,
                           stdout=out, stderr=subprocess.STDOUT, timeout=2400)
    assert r.returncode == 0, "the documented build failed:\n" + log.read_text()[-4000:]
    image = work / "build-ESP32_NET" / "firmware.bin"
    assert image.exists(), image
    with Device(image, log=tmp_path / "boot.log") as dev:
        out = dev.exec("import sys, fastsock, _fastsock, cexample, cppexample\n"
                       "print(sys.implementation._machine)\n"
                       "print(cexample.add_ints(40, 2), cppexample.cppfunc(1, 2))\n"
                       "print(cexample.Timer(1).time() >= 0, fastsock.__version__ == _fastsock.VERSION)\n"
                       "print(fastsock.Session().__class__.__name__, fastsock.codes.ok)\n")
    machine, sums, checks, face = out.strip().split("\n")
    assert machine.startswith("ESP32_NET (fastsock) with ESP32"), machine
    assert sums == "42 (3, 'hellocpp')", sums
    assert checks == "True True" and face == "Session 200", out
