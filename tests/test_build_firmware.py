# SPDX-License-Identifier: MIT
"""scripts/build-firmware: stops at once without ESP-IDF, and drives the MicroPython build
the documented way (checked end to end with a stand-in idf.py and MicroPython tree)."""

import hashlib
import os
import pathlib
import shutil
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "build-firmware"
# What the script itself needs from PATH (no idf.py, no docker among them).
TOOLS = ("bash", "env", "dirname", "git", "sed", "awk", "nproc", "mkdir", "cat", "tail", "cut", "cp", "wc",
         "sha256sum", "basename", "make", "sh", "printf", "echo", "rm")

FAKE_PORT_MAKEFILE = """\
all:
\t@echo "build BOARD_DIR=$(BOARD_DIR) USER_C_MODULES=$(USER_C_MODULES) BUILD=$(BUILD) VARIANT=$(BOARD_VARIANT)" >> $(FAKE_LOG)
\t@mkdir -p $(BUILD) && printf 'fake firmware for $(BOARD_VARIANT)' > $(BUILD)/firmware.bin
submodules:
\t@echo "submodules BOARD_DIR=$(BOARD_DIR)" >> $(FAKE_LOG)
"""
FAKE_MPY_CROSS_MAKEFILE = """\
all:
\t@echo "mpy-cross" >> $(FAKE_LOG)
"""


def bin_dir(tmp_path, extra=None):
    """A PATH directory holding only the tools the script needs, plus `extra` scripts."""
    d = tmp_path / "bin"
    d.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found is None:
            pytest.fail(f"{tool} not found on PATH; the build script needs it")
        (d / tool).symlink_to(found)
    for name, text in (extra or {}).items():
        (d / name).write_text(text)
        (d / name).chmod(0o755)
    return d


def run(args, path_dir, env_extra=None, timeout=60):
    env = {"PATH": str(path_dir), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(env_extra or {})
    start = time.monotonic()
    proc = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=timeout)
    return proc, time.monotonic() - start


def logged(tool, log):
    """A stand-in for `tool` that appends its arguments to log, then runs the real one."""
    return "#!%s\nprintf '%%s\\n' \"$*\" >> %s\nexec %s \"$@\"\n" % (
        shutil.which("sh"), log, shutil.which(tool))


def test_without_esp_idf_stops_at_once_with_instructions(tmp_path):
    # "At once": before any download or build step (was: wall time < 10 s). On this PATH only
    # git can download and only make can build; both are logged: git may only stamp the
    # version (describe: no clone, no fetch), make must not run.
    path = bin_dir(tmp_path)
    for tool in ("git", "make"):
        (path / tool).unlink()
        (path / tool).write_text(logged(tool, tmp_path / (tool + ".log")))
        (path / tool).chmod(0o755)
    proc, _ = run([], path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    calls = {t: (tmp_path / (t + ".log")).read_text().splitlines() if (tmp_path / (t + ".log")).exists() else []
             for t in ("git", "make")}
    assert all(c.split()[2:3] == ["describe"] for c in calls["git"]), calls
    assert calls["make"] == [], calls
    err = proc.stderr
    assert "ESP-IDF not found: IDF_PATH is not set and idf.py is not on PATH" in err
    assert "v5.5.3" in err and "scripts/build-firmware --docker" in err and "espressif/idf:v5.5.3" in err
    assert "install.sh esp32" in err
    assert "cloning" not in proc.stdout + err, "must not start any download before checking ESP-IDF"


def test_idf_path_without_export_sh_is_refused(tmp_path):
    proc, _ = run([], bin_dir(tmp_path), {"IDF_PATH": str(tmp_path)})
    assert proc.returncode == 2
    assert f"IDF_PATH={tmp_path} has no export.sh" in proc.stderr


def test_docker_option_without_docker(tmp_path):
    proc, _ = run(["--docker"], bin_dir(tmp_path))
    assert proc.returncode == 2
    assert "'docker' is not installed" in proc.stderr


def test_docker_option_without_daemon(tmp_path):
    fake_docker = "#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n"
    proc, _ = run(["--docker"], bin_dir(tmp_path, {"docker": fake_docker}))
    assert proc.returncode == 2
    assert "Docker daemon is not reachable" in proc.stderr


def test_unknown_variant_is_a_usage_error(tmp_path):
    proc, _ = run(["--variant", "NOPE"], bin_dir(tmp_path))
    assert proc.returncode == 2 and "no variant 'NOPE'" in proc.stderr


@pytest.fixture
def fake_toolchain(tmp_path):
    """A stand-in idf.py and MicroPython tree that record how they are driven."""
    mpy = tmp_path / "micropython"
    (mpy / "mpy-cross").mkdir(parents=True)
    (mpy / "ports" / "esp32").mkdir(parents=True)
    (mpy / "mpy-cross" / "Makefile").write_text(FAKE_MPY_CROSS_MAKEFILE)
    (mpy / "ports" / "esp32" / "Makefile").write_text(FAKE_PORT_MAKEFILE)
    idf = "#!/bin/sh\n[ \"$1\" = --version ] && echo 'ESP-IDF v5.5.3'\n"
    log = tmp_path / "make.log"
    env = {"MICROPY_DIR": str(mpy), "FAKE_LOG": str(log)}
    return bin_dir(tmp_path, {"idf.py": idf}), env, log


@pytest.mark.parametrize("variant", ["", "SPIRAM"])
def test_build_drives_make_and_writes_image_and_checksum(tmp_path, fake_toolchain, variant):
    path_dir, env, log = fake_toolchain
    out, build = tmp_path / "out", tmp_path / "build"
    args = ["--version", "vtest", "--out-dir", str(out), "--build-dir", str(build)]
    if variant:
        args += ["--variant", variant]
    proc, _ = run(args, path_dir, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    name = "ESP32_NET" + (f"-{variant}" if variant else "")
    # Progress steps are printed.
    for step in ("checking ESP-IDF", "locating MicroPython", "building mpy-cross", "submodules",
                 f"building firmware for {name}", "copying the image"):
        assert step in proc.stdout, step
    calls = log.read_text().splitlines()
    assert calls[0] == "mpy-cross"
    assert calls[1] == f"submodules BOARD_DIR={ROOT}/boards/ESP32_NET"
    assert calls[2] == (f"build BOARD_DIR={ROOT}/boards/ESP32_NET USER_C_MODULES={ROOT}/cmodules/micropython.cmake "
                        f"BUILD={build} VARIANT={variant}")
    image = out / f"{name}-vtest.bin"
    assert image.read_bytes() == (build / "firmware.bin").read_bytes()
    digest, filename = (out / f"{name}-vtest.bin.sha256").read_text().split()
    assert filename == image.name and digest == hashlib.sha256(image.read_bytes()).hexdigest()
