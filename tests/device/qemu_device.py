# SPDX-License-Identifier: MIT
"""The emulated ESP32: boots the QEMU variant of ESP32_NET and runs code on it through the raw
REPL, the way mpremote does.

    with Device(image, rig) as dev:
        dev.lan_up()
        out = dev.exec("import fastsock; print(fastsock.get('http://10.0.2.2:8080/').status_code)")

QEMU's user-mode network puts the host's loopback at 10.0.2.2 (DHCP gives the device
10.0.2.15, DNS 10.0.2.3). Each Device writes a fresh 4 MB flash image, so every run starts from
a first boot. Guest time in emulation is not device time; instruction counts are (see
bench_device.py).
"""

import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time

FLASH_SIZE = 4 << 20
APP_OFFSET = 0x1000  # the esp32's bootloader offset: MicroPython's firmware.bin starts there
HOST = "10.0.2.2"


class DeviceError(Exception):
    """Code on the device raised: the message is the device's traceback."""


class DeviceTimeout(Exception):
    pass


def rig_dir():
    return pathlib.Path(os.environ.get("FASTSOCK_RIG") or
                        pathlib.Path.home() / ".cache" / "fastsock" / "esp32-rig")


def default_firmware():
    """The image make test-device builds ($FASTSOCK_DEVICE_FIRMWARE names another)."""
    env = os.environ.get("FASTSOCK_DEVICE_FIRMWARE")
    return pathlib.Path(env) if env else rig_dir() / "build-ESP32_NET-QEMU" / "firmware.bin"


def board_firmware():
    """The ESP32_NET image users flash, as make test-device builds it with the rig
    ($FASTSOCK_BOARD_FIRMWARE names another)."""
    env = os.environ.get("FASTSOCK_BOARD_FIRMWARE")
    return pathlib.Path(env) if env else rig_dir() / "build-ESP32_NET" / "firmware.bin"


def flash_image(firmware, dest):
    """A QEMU flash file: erased bytes up to the bootloader offset, the image, erased to 4 MB."""
    data = pathlib.Path(firmware).read_bytes()
    if len(data) + APP_OFFSET > FLASH_SIZE:
        raise ValueError("%s is %d bytes: too big for a 4 MB flash" % (firmware, len(data)))
    pathlib.Path(dest).write_bytes(b"\xff" * APP_OFFSET + data +
                                   b"\xff" * (FLASH_SIZE - APP_OFFSET - len(data)))


def qemu_command(rig, tmp, serial):
    """qemu-system-xtensa's esp32 machine on tmp/flash.bin with its serial port at serial;
    $FASTSOCK_QEMU names Espressif's own build (it finds its ROM files itself)."""
    own = os.environ.get("FASTSOCK_QEMU")
    qemu = pathlib.Path(own) if own else rig / "qemu-esp32" / "bin" / "qemu-system-xtensa"
    if not qemu.exists():
        raise FileNotFoundError("%s missing: build the rig (scripts/esp32-rig)" % qemu)
    cmd = [str(qemu), "-M", "esp32", "-display", "none", "-serial", serial, "-monitor", "none",
           "-drive", "file=%s,if=mtd,format=raw" % (tmp / "flash.bin")]
    if not own:
        cmd += ["-L", str(rig / "qemu-esp32" / "share")]
    efuse = rig / "qemu_efuse.bin"  # ESP-IDF's default (chip revision 3), as idf.py qemu
    if efuse.exists():
        shutil.copy(efuse, tmp / "efuse.bin")
        cmd += ["-drive", "file=%s,if=none,format=raw,id=efuse" % (tmp / "efuse.bin"),
                "-global", "driver=nvram.esp32.efuse,property=drive,value=efuse"]
    return cmd


class RomLoader:
    """An erased chip held in the ROM's serial download mode (strapping pins as the BOOT
    button sets them), its UART on a loopback TCP port: esptool talks to it as to a board.

        with RomLoader(tmp) as chip:
            run esptool/scripts/flash with --port chip.port --before no-reset
        chip.flash   the flash file as the chip left it
    """

    def __init__(self, tmp, rig=None):
        self.tmp = pathlib.Path(tmp)
        self.rig = pathlib.Path(rig or rig_dir())
        self.flash = self.tmp / "flash.bin"
        self.proc = None

    def __enter__(self):
        self.flash.write_bytes(b"\xff" * FLASH_SIZE)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = qemu_command(self.rig, self.tmp, "tcp:127.0.0.1:%d,server,nowait" % port)
        cmd += ["-global", "driver=esp32.gpio,property=strap_mode,value=0x0f", "-nic", "none"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     cwd=self.tmp)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise DeviceError("QEMU did not open its serial port")
                time.sleep(0.1)
        self.port = "socket://127.0.0.1:%d" % port
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stderr.close()
            self.proc = None


class Device:
    def __init__(self, firmware=None, rig=None, log=None, plugin=None, extra_args=(), flash=None):
        """Boots firmware.bin written into a fresh flash image, or a copy of an existing flash
        file (flash=, e.g. one that scripts/flash wrote through RomLoader)."""
        self.rig = pathlib.Path(rig or rig_dir())
        self.firmware = pathlib.Path(firmware) if firmware else None
        self.flash = pathlib.Path(flash) if flash else None
        self.log_path = pathlib.Path(log) if log else None
        self.plugin = plugin
        self.extra_args = list(extra_args)
        self.proc = None
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._tmp = None
        self._log = None

    # --- process ------------------------------------------------------------------------
    def start(self, boot_timeout=60):
        self._tmp = tempfile.TemporaryDirectory(prefix="fastsock-qemu-")
        tmp = pathlib.Path(self._tmp.name)
        if self.flash:
            shutil.copy(self.flash, tmp / "flash.bin")
        else:
            if not self.firmware.exists():
                raise FileNotFoundError("%s missing: build the QEMU firmware (make test-device "
                                        "does)" % self.firmware)
            flash_image(self.firmware, tmp / "flash.bin")
        cmd = qemu_command(self.rig, tmp, "stdio")
        cmd += ["-global", "driver=timer.esp32.timg,property=wdt_disable,value=true",
                "-nic", "user,model=open_eth"]
        if self.plugin:
            cmd += ["-plugin", self.plugin]
        cmd += self.extra_args
        if self.log_path:
            self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=tmp)
        threading.Thread(target=self._reader, daemon=True).start()
        t0 = time.monotonic()
        self.read_until(b">>> ", boot_timeout)
        self.boot_s = time.monotonic() - t0
        self._enter_raw()
        return self

    def _reader(self):
        while True:
            chunk = self.proc.stdout.read1(65536)
            if self._log:
                self._log.write(chunk)
                self._log.flush()
            with self._cond:
                if not chunk:
                    self._buf += b"\x00<EOF>"
                    self._cond.notify_all()
                    return
                self._buf += chunk
                self._cond.notify_all()

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc.stdin.close()
            self.proc.stdout.close()
            self.proc = None
        if self._log:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # --- serial -------------------------------------------------------------------------
    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read_until(self, marker, timeout):
        """Bytes up to and including marker; DeviceTimeout (with the tail) if it never comes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                i = self._buf.find(marker)
                if i >= 0:
                    out = bytes(self._buf[:i + len(marker)])
                    del self._buf[:i + len(marker)]
                    return out
                left = deadline - time.monotonic()
                if left <= 0 or self._buf.endswith(b"\x00<EOF>"):
                    tail = bytes(self._buf[-800:]).decode(errors="replace")
                    raise DeviceTimeout("no %r from the device within %.0f s; last output:\n%s"
                                        % (marker, timeout, tail))
                self._cond.wait(min(left, 0.5))

    def read_exact(self, n, timeout):
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._buf) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DeviceTimeout("device sent %d of %d bytes" % (len(self._buf), n))
                self._cond.wait(min(left, 0.5))
            out = bytes(self._buf[:n])
            del self._buf[:n]
            return out

    # --- raw REPL -----------------------------------------------------------------------
    def _enter_raw(self):
        self.write(b"\r\x03\x03")
        time.sleep(0.1)
        with self._cond:
            self._buf.clear()
        self.write(b"\r\x01")
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>", 10)

    def exec(self, code, timeout=120):
        """Run code on the device (raw-paste mode, flow-controlled); return its stdout.
        A device exception raises DeviceError with the traceback."""
        data = code.encode() if isinstance(code, str) else code
        self.write(b"\x05A\x01")
        if self.read_exact(2, 10) != b"R\x01":
            raise DeviceError("the device does not speak raw-paste mode")
        window = int.from_bytes(self.read_exact(2, 10), "little")
        room, i = window, 0
        while i < len(data):
            while room == 0 or self._pending():
                b = self.read_exact(1, timeout)
                if b == b"\x01":
                    room += window
                elif b == b"\x04":  # the device refused the rest (a compile error follows)
                    self.write(b"\x04")
                    break
                else:
                    raise DeviceError("unexpected byte %r in raw-paste flow control" % b)
            else:
                piece = data[i:i + room]
                self.write(piece)
                room -= len(piece)
                i += len(piece)
                continue
            break
        else:
            self.write(b"\x04")
        self.read_until(b"\x04", 10)
        out = self.read_until(b"\x04", timeout)[:-1]
        err = self.read_until(b"\x04", timeout)[:-1]
        self.read_until(b">", 10)
        if err:
            raise DeviceError(err.decode(errors="replace"))
        return out.decode(errors="replace").replace("\r\n", "\n")

    def _pending(self):
        with self._cond:
            return len(self._buf) > 0

    def lan_up(self, timeout=30):
        """Bring QEMU's OpenCores Ethernet up and wait for DHCP; returns the address."""
        out = self.exec(
            "import network, time\n"
            "lan = network.LAN(phy_type=network.PHY_OPENETH, phy_addr=1)\n"
            "lan.active(True)\n"
            "t0 = time.ticks_ms()\n"
            "while lan.ifconfig()[0] == '0.0.0.0' and time.ticks_diff(time.ticks_ms(), t0) < 20000:\n"
            "    time.sleep_ms(50)\n"
            "print(lan.ifconfig()[0])\n", timeout)
        addr = out.strip()
        if addr == "0.0.0.0":
            raise DeviceError("no DHCP lease within 20 s of guest time")
        return addr
