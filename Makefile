# SPDX-License-Identifier: MIT
# fastsock: the two commands from the README, and the pieces they are made of.
#   make run   build the host interpreter the demo uses (build/host), serve sample files with
#              nginx, fetch them with fastsock
#   make test  build everything and run the whole test suite; the tiers that need more than this
#              clone (the ESP32's own compiler, the emulated-ESP32 rig) run where it is there,
#              otherwise one line says what was not run and how to enable it (scripts/test-tiers)
#   make test-plan    what make test would run on this machine, building nothing
#   make host-unix    MicroPython 1.25's own unix port with fastsock (build/host-unix: deflate,
#              asyncio, select, ...), from Debian's micropython source; `make host` builds it too
#   make test-xtensa  the code-budget checks with the ESP32's own compiler (tests/test_xtensa.py);
#              fails, naming where it looked, when xtensa-esp32-elf-gcc is not found
#   make test-device  build ESP32_NET and its SPIRAM and QEMU variants with the rig, flash them
#              through the emulated chip's ROM loader, boot them, run tests/device on the QEMU one
.PHONY: all deps host host-native host-lwip host-unix run test test-plan test-xtensa test-device clean

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

# The host interpreters whose paths are a contract (see README). One after the other (they share
# the fetched sources); '+': the sub-makes are called through a variable, so make would not hand
# them the -j jobserver otherwise.
host: deps
	@echo "== building host interpreters (native, -m32, ASan+UBSan; lwIP at both board configurations, and under ASan+UBSan)"
	+@$(HOST_MAKE) BUILD=$(CURDIR)/build/host
	+@$(HOST_MAKE) BUILD=$(CURDIR)/build/host32 MICROPY_FORCE_32BIT=1
	+@$(HOST_MAKE) BUILD=$(CURDIR)/build/host-asan FS_SANITIZE=1
	+@$(HOST_MAKE) BUILD=$(CURDIR)/build/host-lwip FS_TRANSPORT=lwip
	+@$(HOST_MAKE) BUILD=$(CURDIR)/build/host-lwip-spiram FS_TRANSPORT=lwip FS_BOARD_VARIANT=SPIRAM
	+@$(HOST_MAKE) BUILD=$(CURDIR)/build/host-lwip-asan FS_TRANSPORT=lwip FS_SANITIZE=1
	@echo "== building the unix-port interpreter (MicroPython 1.25 from Debian's source package)"
	+@$(UNIX_MAKE) BUILD=$(CURDIR)/build/host-unix

# build/host alone: the one interpreter scripts/demo.py runs.
host-native: deps
	+@$(HOST_MAKE) BUILD=$(CURDIR)/build/host

# build/host-lwip alone: scripts/codesize compiles the bindings with its generated qstr headers.
host-lwip: deps
	+@$(HOST_MAKE) BUILD=$(CURDIR)/build/host-lwip FS_TRANSPORT=lwip

# MicroPython's own unix port (firmware/unix) with fastsock: the extmod modules the host port lacks.
host-unix: deps
	+@$(UNIX_MAKE) BUILD=$(CURDIR)/build/host-unix

run: host-native
	@$(PYTHON) scripts/demo.py

# The host suite, then the tiers this machine can run (scripts/test-tiers decides: the ESP32's
# own compiler for tests/test_xtensa.py's budget checks, the rig for tests/device), then one line
# naming what was not run and the command that enables it.
TIERS = scripts/test-tiers --rig "$(RIG)"

test: host
	@cc=$$($(TIERS) --has esp32-cc) || cc=off; \
	FASTSOCK_ESP32_CC=$$cc $(PYTHON) -m pytest tests --ignore=tests/device $(PYTEST_ARGS) || { \
		rc=$$?; $(TIERS) --not-run; exit $$rc; }
	@if $(TIERS) --has device; then $(MAKE) --no-print-directory test-device; fi
	@$(TIERS) --not-run

test-plan:
	@$(TIERS)

# Checked first, before anything is built: a missing compiler stops at once.
test-xtensa:
	@cc=$$(FASTSOCK_RIG="$(RIG)" scripts/codesize --find-esp32-cc) || { \
		echo "make test-xtensa: the ESP32-compiler checks need xtensa-esp32-elf-gcc (where it was looked for: above)" >&2; exit 2; }; \
	$(MAKE) --no-print-directory host-lwip && \
	FASTSOCK_ESP32_CC=$$cc $(PYTHON) -m pytest tests/test_xtensa.py $(PYTEST_ARGS)

test-device:
	@scripts/esp32-rig --cache "$(RIG)" --check >/dev/null 2>&1 || { echo "make test-device: $(RIG_MISSING)" >&2; exit 2; }
	+@$(MAKE) --no-print-directory deps
	@echo "== building ESP32_NET (the image users flash), its SPIRAM and QEMU variants with the rig"
	@scripts/build-firmware --rig "$(RIG)" --out-dir build/device
	@scripts/build-firmware --rig "$(RIG)" --variant SPIRAM --out-dir build/device
	@scripts/build-firmware --rig "$(RIG)" --variant QEMU --out-dir build/device
	@echo "== booting it in QEMU and running tests/device"
	@FASTSOCK_RIG="$(RIG)" $(PYTHON) -m pytest tests/device $(PYTEST_ARGS)

clean:
	rm -rf build
