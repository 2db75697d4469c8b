# SPDX-License-Identifier: MIT
"""scripts/flash against PyPI's esp32-mock-bootloader (a ROM-loader emulator on a pty).

Images are made with esptool itself: a tiny Xtensa ELF (written here, no toolchain needed)
goes through `esptool elf2image`, then `esptool merge-bin` lays bootloader, partition table
and application out as the real build's firmware.bin does (bootloader at 0x1000).
Needs (tests/requirements.txt): esptool 5, esp32-mock-bootloader 0.3.0.
"""

import hashlib
import importlib.machinery
import importlib.util
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FLASH = ROOT / "scripts" / "flash"
BOOT_ADDR, PTABLE_ADDR, APP_ADDR = 0x1000, 0x8000, 0x10000
NO_RESET = ["--before", "no-reset", "--after", "no-reset"]


def load_flash_module():
    loader = importlib.machinery.SourceFileLoader("fastsock_flash_script", str(FLASH))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def mock_command():
    exe = shutil.which("esp32-mock-bootloader", path=str(pathlib.Path(sys.executable).parent)) or shutil.which(
        "esp32-mock-bootloader")
    if exe is None:
        pytest.fail("esp32-mock-bootloader is not installed: pip install -r tests/requirements.txt "
                    "(esp32-mock-bootloader==0.3.0)")
    return exe


@pytest.fixture(scope="session", autouse=True)
def tools():
    try:
        import esptool
    except ImportError:
        pytest.fail("esptool is not installed: pip install -r tests/requirements.txt (esptool 5.x)")
    if int(esptool.__version__.split(".")[0]) < 5:
        pytest.fail(f"esptool {esptool.__version__} found, scripts/flash needs esptool 5")
    mock_command()


def esptool(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "esptool", *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        pytest.fail(f"esptool {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def write_elf(path, entry, sections):
    """A minimal ELF32 (EM_XTENSA) with one PT_LOAD per (name, addr, data, executable) section."""
    names = b"\0" + b"\0".join(s[0].encode() for s in sections) + b"\0.shstrtab\0"
    data_start = 52 + 32 * len(sections)
    body, offsets = b"", []
    for _, _, data, _ in sections:
        offsets.append(data_start + len(body))
        body += data + b"\0" * (-len(data) % 4)
    shstr_off = data_start + len(body)
    body += names + b"\0" * (-len(names) % 4)
    shoff = data_start + len(body)
    out = b"\x7fELF\x01\x01\x01" + b"\0" * 9
    out += struct.pack("<HHIIIIIHHHHHH", 2, 94, 1, entry, 52, shoff, 0x300, 52, 32, len(sections), 40,
                       len(sections) + 2, len(sections) + 1)
    for (_, addr, data, exe), off in zip(sections, offsets):
        out += struct.pack("<8I", 1, off, addr, addr, len(data), len(data), 5 if exe else 6, 4)
    out += body + b"\0" * 40
    name_pos = 1
    for (name, addr, data, exe), off in zip(sections, offsets):
        out += struct.pack("<10I", name_pos, 1, 6 if exe else 3, addr, off, len(data), 0, 0, 4, 0)
        name_pos += len(name) + 1
    out += struct.pack("<10I", name_pos, 3, 0, 0, shstr_off, len(names), 0, 0, 1, 0)
    path.write_bytes(out)


def partition_table():
    rows = [(1, 2, 0x9000, 0x6000, b"nvs"), (1, 1, 0xF000, 0x1000, b"phy_init"),
            (0, 0, APP_ADDR, 0x1F0000, b"factory")]
    table = b"".join(struct.pack("<2sBBII16sI", b"\xaa\x50", t, s, o, n, label, 0) for t, s, o, n, label in rows)
    table += b"\xeb\xeb" + b"\xff" * 14 + hashlib.md5(table).digest()
    return table + b"\xff" * (0xC00 - len(table))


@pytest.fixture(scope="session")
def image(tmp_path_factory):
    """A merged ESP32 image laid out like build-ESP32_NET/firmware.bin (flash offset 0x1000)."""
    d = tmp_path_factory.mktemp("image")
    code = bytes(range(256)) * 16
    write_elf(d / "boot.elf", 0x40080400, [(".iram_loader.text", 0x40080400, code[:1024], True),
                                           (".dram0.data", 0x3FFF0000, b"boot" * 64, False)])
    write_elf(d / "app.elf", 0x40081000, [(".iram0.text", 0x40081000, code, True),
                                          (".dram0.data", 0x3FFB0000, b"app!" * 512, False)])
    for name in ("boot", "app"):
        esptool("--chip", "esp32", "elf2image", "--flash-mode", "dio", "--flash-size", "4MB",
                "-o", str(d / f"{name}.bin"), str(d / f"{name}.elf"))
    (d / "ptable.bin").write_bytes(partition_table())
    out = d / "ESP32_NET-test.bin"
    esptool("--chip", "esp32", "merge-bin", "-o", str(out), "--target-offset", hex(BOOT_ADDR),
            hex(BOOT_ADDR), str(d / "boot.bin"), hex(PTABLE_ADDR), str(d / "ptable.bin"),
            hex(APP_ADDR), str(d / "app.bin"))
    assert esptool("--chip", "esp32", "image-info", str(out)).returncode == 0
    return out


@pytest.fixture
def mock(tmp_path):
    """A fresh mock ROM loader on a pty; yields the pty path."""
    port_file = tmp_path / "pty.txt"
    log = open(tmp_path / "mock.log", "w")
    proc = subprocess.Popen([mock_command(), "run", "--pty", "--chip", "esp32", "--port-file", str(port_file)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while not (port_file.exists() and port_file.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail(f"esp32-mock-bootloader did not start: {(tmp_path / 'mock.log').read_text()}")
        time.sleep(0.05)
    try:
        yield port_file.read_text().strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def run_flash(*args):
    return subprocess.run([sys.executable, str(FLASH), *args], capture_output=True, text=True, timeout=120)


def corrupted(src, dst, offset, value=None):
    data = bytearray(src.read_bytes())
    data[offset] = (data[offset] ^ 0xFF) if value is None else value
    dst.write_bytes(bytes(data))
    return dst


def test_flash_writes_and_verifies_on_mock(image, mock, tmp_path):
    r = run_flash(str(image), "--port", mock, *NO_RESET)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "write-flash 0x1000" in r.stdout and "verify-flash 0x1000" in r.stdout
    assert "Verification successful" in r.stdout
    assert "flashed and verified" in r.stdout
    # The bytes on the (mock) chip are the image, byte for byte.
    back = tmp_path / "readback.bin"
    esptool("--chip", "esp32", "--port", mock, *NO_RESET, "read-flash", hex(BOOT_ADDR),
            str(image.stat().st_size), str(back))
    assert back.read_bytes() == image.read_bytes()


def test_verify_fails_when_flash_changed_afterwards(image, mock, tmp_path):
    assert run_flash(str(image), "--port", mock, *NO_RESET).returncode == 0
    # Change 4 KB of the application on the chip behind the script's back.
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00" * 4096)
    esptool("--chip", "esp32", "--port", mock, *NO_RESET, "write-flash", hex(APP_ADDR), str(junk))
    r = run_flash(str(image), "--port", mock, *NO_RESET, "--verify-only")
    assert r.returncode == 5, r.stdout + r.stderr
    assert "digest mismatch" in r.stdout
    assert "verification FAILED" in r.stderr
    assert "write-flash" not in r.stdout


def test_bad_header_is_refused_before_connecting(image, tmp_path):
    bad = corrupted(image, tmp_path / "bad-magic.bin", 0, value=0x00)
    r = run_flash(str(bad), "--port", str(tmp_path / "no-such-port"), *NO_RESET)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "refusing" in r.stderr and "0xE9" in r.stderr
    assert "running" not in r.stdout


def test_bad_bootloader_checksum_is_refused(image, tmp_path):
    bad = corrupted(image, tmp_path / "bad-boot.bin", 0x20)  # inside the first segment's data
    r = run_flash(str(bad), "--port", str(tmp_path / "no-such-port"))
    assert r.returncode == 3, r.stdout + r.stderr
    assert "invalid" in r.stderr


def test_bad_application_inside_merged_image_is_refused(image, tmp_path):
    bad = corrupted(image, tmp_path / "bad-app.bin", APP_ADDR - BOOT_ADDR + 0x30)
    r = run_flash(str(bad), "--port", str(tmp_path / "no-such-port"))
    assert r.returncode == 3, r.stdout + r.stderr
    assert "application at 0x10000" in r.stderr


def test_image_for_another_chip_is_refused(image, tmp_path):
    r = run_flash(str(image), "--chip", "esp32s3", "--port", str(tmp_path / "no-such-port"))
    assert r.returncode == 3, r.stdout + r.stderr
    assert "built for ESP32, not esp32s3" in r.stderr


def test_offsets_per_chip():
    offsets = load_flash_module().FLASH_OFFSETS
    assert offsets["esp32"] == offsets["esp32s2"] == 0x1000
    assert offsets["esp32s3"] == offsets["esp32c2"] == offsets["esp32c3"] == offsets["esp32c6"] == 0x0
    assert offsets["esp32c5"] == offsets["esp32p4"] == 0x2000


def test_port_detection(tmp_path):
    mod = load_flash_module()
    pattern = (str(tmp_path / "ttyUSB*"), str(tmp_path / "ttyACM*"))
    with pytest.raises(mod.FlashError, match="no serial port found") as e:
        mod.find_port(pattern)
    assert e.value.code == 2
    (tmp_path / "ttyUSB0").touch()
    assert mod.find_port(pattern) == str(tmp_path / "ttyUSB0")
    (tmp_path / "ttyACM0").touch()
    with pytest.raises(mod.FlashError, match="several serial ports"):
        mod.find_port(pattern)


def test_default_image_prefers_newest_release_then_build(tmp_path):
    mod = load_flash_module()
    assert mod.find_default_image(tmp_path) is None
    build = tmp_path / "build" / "build-ESP32_NET"
    build.mkdir(parents=True)
    (build / "firmware.bin").write_bytes(b"\xe9")
    assert mod.find_default_image(tmp_path) == build / "firmware.bin"
    (tmp_path / "firmware").mkdir()
    old, new = tmp_path / "firmware" / "ESP32_NET-v0.1.bin", tmp_path / "firmware" / "ESP32_NET-v0.2.bin"
    old.write_bytes(b"\xe9")
    new.write_bytes(b"\xe9")
    os.utime(old, (1, 1))
    assert mod.find_default_image(tmp_path) == new


def test_missing_image_and_bad_reset_mode_are_usage_errors(tmp_path):
    r = run_flash(str(tmp_path / "missing.bin"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = run_flash(str(tmp_path / "missing.bin"), "--before", "sometimes")
    assert r.returncode == 2 and "choose from" in r.stderr
