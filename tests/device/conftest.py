# SPDX-License-Identifier: MIT
"""Fixtures for the emulated-ESP32 tests: one QEMU boot per session (fresh flash image), with
the LAN up, and an nginx on the host's loopback that the device reaches as 10.0.2.2."""

import pathlib
import textwrap

import pytest

from localserver import Nginx, TLSServer, make_pki
from qemu_device import HOST, Device, DeviceError, default_firmware

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def device():
    fw = default_firmware()
    if not fw.exists():
        pytest.fail("%s missing: `make test-device` builds it with the rig (scripts/esp32-rig)" % fw)
    log = ROOT / "build" / "device" / "qemu.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"")
    dev = Device(fw, log=log).start()
    try:
        dev.addr = dev.lan_up()
        yield dev
    finally:
        dev.stop()


class Runner:
    """dev.run(code): dedented code on the device; returns stdout."""

    def __init__(self, dev):
        self.dev = dev

    def __call__(self, code, timeout=120):
        return self.dev.exec(textwrap.dedent(code), timeout)


@pytest.fixture
def run(device):
    return Runner(device)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"), ("localhost", "IP:" + HOST))


@pytest.fixture(scope="session")
def server(www, pki):
    """nginx with an access log (the oracle of what the server received) and one https port."""
    with Nginx(www, access_log=True, tls=[TLSServer(pki / "good.pem", pki / "good.key")]) as srv:
        srv.dev_url = lambda path="/": "http://%s:%d%s" % (HOST, srv.port, path)
        srv.dev_tls_url = lambda path="/": "https://%s:%d%s" % (HOST, srv.tls_port(0), path)
        yield srv


__all__ = ["DeviceError"]
