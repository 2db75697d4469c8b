# SPDX-License-Identifier: MIT
# fastsock: the two commands from the README, and the pieces they are made of.
#   make run   build the host firmware, serve sample files with nginx, fetch them with fastsock
#   make test  build everything and run the whole test suite (the device tests too when the
#              emulated-ESP32 rig exists; otherwise one line says they were not run)
#   make host-unix    MicroPython 1.25's own unix port with fastsock (build/host-unix: deflate,
#              asyncio, select, ...), from Debian's micropython source; `make host` builds it too
#   make test-device  build ESP32_NET and its SPIRAM and QEMU variants with the rig, flash them
#              through the emulated chip's ROM loader, boot them, run tests/device on the QEMU one
.PHONY: all deps host host-unix run test test-device clean

VENV := $(CURDIR)/.venv
PYTHON := $(VENV)/bin/python
HOST_MAKE = $(MAKE) --no-print-directory -C firmware/host
UNIX_MAKE = $(MAKE) --no-print-directory -C firmware/unix
RIG ?= $(or $(FASTSOCK_RIG),$(HOME)/.cache/fastsock/esp32-rig)
RIG_MISSING = no emulated-ESP32 rig in $(RIG); build it with: scripts/esp32-rig --sources DIR (see docs/firmware.md)

all: host

# Debian packages and the pinned Python packages (idempotent; apt only when something is missing).
deps:
	@scripts/install-deps

# The host interpreters whose paths are a contract (see README).
host: deps
	@echo "== building host interpreters (native, -m32, ASan+UBSan; lwIP at both board configurations, and under ASan+UBSan)"
	@$(HOST_MAKE) BUILD=$(CURDIR)/build/host
	@$(HOST_MAKE) BUILD=$(CURDIR)/build/host32 MICROPY_FORCE_32BIT=1
	@$(HOST_MAKE) BUILD=$(CURDIR)/build/host-asan FS_SANITIZE=1
	@$(HOST_MAKE) BUILD=$(CURDIR)/build/host-lwip FS_TRANSPORT=lwip
	@$(HOST_MAKE) BUILD=$(CURDIR)/build/host-lwip-spiram FS_TRANSPORT=lwip FS_BOARD_VARIANT=SPIRAM
	@$(HOST_MAKE) BUILD=$(CURDIR)/build/host-lwip-asan FS_TRANSPORT=lwip FS_SANITIZE=1
	@echo "== building the unix-port interpreter (MicroPython 1.25 from Debian's source package)"
	+@$(UNIX_MAKE) BUILD=$(CURDIR)/build/host-unix

# MicroPython's own unix port (firmware/unix) with fastsock: the extmod modules the host port lacks.
# '+': the sub-make is called through a variable, so make would not hand it the -j jobserver.
host-unix: deps
	+@$(UNIX_MAKE) BUILD=$(CURDIR)/build/host-unix

run: host
	@$(PYTHON) scripts/demo.py

test: host
	@$(PYTHON) -m pytest tests --ignore=tests/device $(PYTEST_ARGS)
	@if scripts/esp32-rig --cache "$(RIG)" --check >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory test-device; \
	else echo "device tests not run: $(RIG_MISSING)"; fi

test-device: deps
	@scripts/esp32-rig --cache "$(RIG)" --check >/dev/null 2>&1 || { echo "make test-device: $(RIG_MISSING)" >&2; exit 2; }
	@echo "== building ESP32_NET (the image users flash), its SPIRAM and QEMU variants with the rig"
	@scripts/build-firmware --rig "$(RIG)" --out-dir build/device
	@scripts/build-firmware --rig "$(RIG)" --variant SPIRAM --out-dir build/device
	@scripts/build-firmware --rig "$(RIG)" --variant QEMU --out-dir build/device
	@echo "== booting it in QEMU and running tests/device"
	@FASTSOCK_RIG="$(RIG)" $(PYTHON) -m pytest tests/device $(PYTEST_ARGS)

clean:
	rm -rf build
