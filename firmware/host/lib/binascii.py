# SPDX-License-Identifier: MIT
# Host-only stand-in for MicroPython's C `binascii` module (extmod/modbinascii.c is not in the
# core sdist the host port is built from): b2a_base64, as fastsock's Basic auth uses it. The
# device firmware and build/host-unix use MicroPython's own binascii.

_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def b2a_base64(data, newline=True):
    out = bytearray()
    for i in range(0, len(data), 3):
        chunk = bytes(data[i : i + 3])
        n = int.from_bytes(chunk + b"\0" * (3 - len(chunk)), "big")
        for k in range(4):
            out.append(_B64[(n >> (18 - 6 * k)) & 63] if k <= len(chunk) else 61)
    if newline:
        out.append(10)
    return bytes(out)
