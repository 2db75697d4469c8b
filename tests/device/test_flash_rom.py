# SPDX-License-Identifier: MIT
"""scripts/flash against the emulated chip's own ROM loader: real esptool writes each image over
QEMU's serial port in download mode; the oracles are the chip's flash file (byte for byte) and
the chip booting from it into MicroPython with fastsock."""

import pathlib
import subprocess
import sys

import pytest

from qemu_device import APP_OFFSET, Device, RomLoader, board_firmware, default_firmware

ROOT = pathlib.Path(__file__).resolve().parents[2]


def flash_through_rom(image, tmp_path):
    with RomLoader(tmp_path) as chip:
        r = subprocess.run([sys.executable, str(ROOT / "scripts" / "flash"), str(image), "--port", chip.port,
                            "--before", "no-reset", "--after", "no-reset"],
                           capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "flashed and verified" in r.stdout
    data = chip.flash.read_bytes()
    img = pathlib.Path(image).read_bytes()
    assert data[APP_OFFSET:APP_OFFSET + len(img)] == img, "the chip's flash differs from the image"
    assert data[:APP_OFFSET] == b"\xff" * APP_OFFSET
    return chip.flash


@pytest.mark.parametrize("which", ["ESP32_NET", "ESP32_NET-QEMU"])
def test_scripts_flash_writes_an_image_the_chip_boots(which, tmp_path):
    image = board_firmware() if which == "ESP32_NET" else default_firmware()
    if not image.exists():
        pytest.fail("%s missing: make test-device builds it with the rig" % image)
    flash = flash_through_rom(image, tmp_path)
    with Device(flash=flash, log=tmp_path / "boot.log") as dev:
        out = dev.exec("import sys, fastsock, network\n"
                       "print(sys.implementation._machine)\n"
                       "print(hasattr(network, 'WLAN'), fastsock.Session().__class__.__name__)\n")
    name, rest = out.strip().split("\n")
    expected = "ESP32_NET (fastsock) for QEMU" if which.endswith("QEMU") else "ESP32_NET (fastsock)"
    assert name.startswith(expected + " with ESP32"), name
    assert rest == "True Session"
