# SPDX-License-Identifier: MIT
"""A user's fresh clone passes `make test`: a `git clone` of this repository's HEAD with nothing
beside it (no ../shared), an empty HOME (no ~/.cache/fastsock, no rig) and no ESP32 compiler on
PATH. The tiers that need more than the clone (tests/test_xtensa.py's ESP32-compiler checks,
tests/device) must be decided "not run", with one line saying so and naming the command that
enables them, while make test-xtensa and make test-device stop at once, clearly, before building
anything. Only the decisions run here (seconds), not the build: scripts/test-tiers is what
`make test` asks."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
ESP32_CC = "xtensa-esp32-elf-gcc"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    base = tmp_path_factory.mktemp("fresh")
    clone = base / "fastsock"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, capture_output=True, timeout=120)
    assert not (clone.parent / "shared").exists()
    home = base / "home"
    home.mkdir()
    path = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep)
                           if d and not (pathlib.Path(d) / ESP32_CC).exists())
    # Nothing of this machine's setup: no FASTSOCK_* pointers, no parent make's jobserver.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FASTSOCK_") and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(HOME=str(home), PATH=path)
    return clone, home, env


def run(fresh, *cmd, env=None):
    clone, _, base_env = fresh
    return subprocess.run(list(cmd), cwd=clone, env=dict(base_env, **(env or {})), capture_output=True,
                          text=True, timeout=120)


def test_make_test_decides_not_run_and_says_how_in_one_line(fresh):
    clone, home, _ = fresh
    for tier in ("esp32-cc", "device"):
        r = run(fresh, "scripts/test-tiers", "--has", tier)
        assert r.returncode == 1 and r.stdout == "", (tier, r.stdout, r.stderr)
    r = run(fresh, "scripts/test-tiers", "--not-run")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r.stdout
    line = lines[0]
    assert line.startswith("not run: the ESP32-compiler checks in tests/test_xtensa.py"), line
    assert "the device tests in tests/device" in line and str(home / ".cache/fastsock/esp32-rig") in line
    for how in ("scripts/esp32-rig --sources DIR", "FASTSOCK_ESP32_PREBUILT=DIR make test-xtensa",
                "xtensa-esp32-elf-gcc on PATH"):
        assert how in line, (how, line)
    # make test-plan shows the same decision; nothing was unpacked or built on the way.
    r = run(fresh, "make", "-s", "test-plan")
    assert r.returncode == 0, r.stderr
    assert "esp32-cc: not run" in r.stdout and "device: not run" in r.stdout and line in r.stdout
    assert list(home.iterdir()) == [], list(home.rglob("*"))
    assert not (clone / "build").exists() and not (clone / ".venv").exists()


def test_make_test_xtensa_and_test_device_stop_at_once_naming_what_is_missing(fresh):
    clone, home, _ = fresh
    r = run(fresh, "make", "test-xtensa")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "make test-xtensa: the ESP32-compiler checks need xtensa-esp32-elf-gcc" in r.stderr
    # Every place codesize looked, and how to point it at each.
    for place in ("$PATH", str(home / ".cache/fastsock/xtensa-esp32-elf/bin" / ESP32_CC),
                  str(home / ".cache/fastsock/esp32-rig/xtensa-esp32-elf/bin" / ESP32_CC),
                  str(clone.parent / "shared" / "esp32"), "FASTSOCK_ESP32_PREBUILT=DIR", "$FASTSOCK_RIG"):
        assert place in r.stderr, (place, r.stderr)
    r = run(fresh, "make", "test-device")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "make test-device: no emulated-ESP32 rig" in r.stderr and "scripts/esp32-rig --sources DIR" in r.stderr
    # Both stopped before `make deps` (no venv) and before any build.
    assert not (clone / "build").exists() and not (clone / ".venv").exists()


def test_a_compiler_on_path_or_a_tarball_beside_the_clone_is_looked_at(fresh, tmp_path):
    # A stand-in compiler on PATH turns the compiler tier on; the line then names the device alone.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / ESP32_CC
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    on_path = {"PATH": f"{bindir}{os.pathsep}{fresh[2]['PATH']}"}
    r = run(fresh, "scripts/test-tiers", "--has", "esp32-cc", env=on_path)
    assert r.returncode == 0 and r.stdout.strip() == str(fake), r.stdout + r.stderr
    r = run(fresh, "scripts/test-tiers", "--not-run", env=on_path)
    assert r.stdout.startswith("not run: the device tests in tests/device") and "test_xtensa" not in r.stdout
    # A tarball under the pinned name in $FASTSOCK_ESP32_PREBUILT is found, and refused when its
    # sha256 is not the pin (scripts/esp32-rig.lock): nothing is unpacked.
    lock = (ROOT / "scripts" / "esp32-rig.lock").read_text()
    name = re.search(r"^prebuilt-toolchain\s+(\S+)", lock, re.M).group(1)
    (tmp_path / name).write_bytes(b"not the toolchain")
    r = run(fresh, "scripts/codesize", "--find-esp32-cc", env={"FASTSOCK_ESP32_PREBUILT": str(tmp_path)})
    assert r.returncode == 2 and f"{tmp_path / name} does not match its sha256" in r.stderr, r.stderr
    assert not (fresh[1] / ".cache" / "fastsock" / "xtensa-esp32-elf").exists()


def test_make_run_builds_only_the_demos_interpreter_and_sub_makes_keep_the_jobserver():
    r = subprocess.run(["make", "-pn", "-f", "Makefile", "test-plan"], cwd=ROOT, capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")},
                       timeout=60)
    assert re.search(r"^run: host-native$", r.stdout, re.M), "make run must build only build/host"
    assert 'MICROPYTHON = ROOT / "build" / "host" / "micropython"' in (ROOT / "scripts" / "demo.py").read_text()
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^host-native:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert recipe.strip() == "+@$(HOST_MAKE) BUILD=$(CURDIR)/build/host", recipe
    # Sub-makes called through a variable get the -j jobserver only from a '+' line.
    for line in makefile.splitlines():
        if "$(HOST_MAKE)" in line or "$(UNIX_MAKE)" in line:
            assert not line.startswith("\t") or line.startswith("\t+"), line


def test_the_rig_names_every_place_it_looked_and_how_to_point_there(fresh, tmp_path):
    clone, home, _ = fresh
    sources = tmp_path / "sources"
    sources.mkdir()
    r = run(fresh, "scripts/esp32-rig", "--sources", str(sources), "--cache", str(tmp_path / "rig"))
    assert r.returncode == 2, r.stdout + r.stderr
    lock = (ROOT / "scripts" / "esp32-rig.lock").read_text()
    tarballs = re.findall(r"^prebuilt-\w+\s+(\S+)", lock, re.M)
    assert len(tarballs) == 2
    for text in (str(sources), str(tmp_path / "rig" / "mirrors"), "--clone", "$FASTSOCK_SOURCES",
                 str(clone.parent / "shared" / "esp32"), "--prebuilt DIR", "$FASTSOCK_ESP32_PREBUILT",
                 "espressif/xtensa-overlays", "lcgamboa/qemu", *tarballs):
        assert text in r.stderr, (text, r.stderr)
    assert r.stderr.count("not found: built from sources instead") == 2, r.stderr
    # A --prebuilt directory is looked in first; a tarball there that is not the pinned one is refused.
    pre = tmp_path / "prebuilt"
    pre.mkdir()
    (pre / tarballs[0]).write_bytes(b"not the toolchain")
    r = run(fresh, "scripts/esp32-rig", "--sources", str(sources), "--prebuilt", str(pre),
            "--cache", str(tmp_path / "rig"))
    assert r.returncode == 2
    assert f"{pre / tarballs[0]}: sha256 does not match the pin" in r.stderr, r.stderr
    assert "espressif/xtensa-overlays" not in r.stderr and "lcgamboa/qemu" in r.stderr, r.stderr


def test_bench_only_device_without_a_rig_fails_and_writes_nothing(fresh):
    clone, _, _ = fresh
    r = run(fresh, sys.executable, "scripts/bench", "--only", "device")
    assert r.returncode != 0, r.stdout + r.stderr
    assert "the device phase cannot run: no emulated ESP32 here" in r.stderr and "FASTSOCK_RIG" in r.stderr
    assert "Nothing was measured or written" in r.stderr
    # docs/bench and the README's results block are as committed.
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout
    assert status == "", status
