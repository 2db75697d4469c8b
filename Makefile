# fastsock: the two commands from the README, and the pieces they are made of.
#   make run   build the host firmware, serve sample files with nginx, fetch them with fastsock
#   make test  build everything and run the whole test suite
.PHONY: all deps host run test clean

VENV := $(CURDIR)/.venv
PYTHON := $(VENV)/bin/python
HOST_MAKE = $(MAKE) --no-print-directory -C firmware/host

all: host

# Debian packages and the pinned Python packages (idempotent; apt only when something is missing).
deps:
	@scripts/install-deps

# The three host interpreters whose paths are a contract (see README).
host: deps
	@echo "== building host interpreters (native, -m32, ASan+UBSan, lwIP)"
	@$(HOST_MAKE) BUILD=$(CURDIR)/build/host
	@$(HOST_MAKE) BUILD=$(CURDIR)/build/host32 MICROPY_FORCE_32BIT=1
	@$(HOST_MAKE) BUILD=$(CURDIR)/build/host-asan FS_SANITIZE=1
	@$(HOST_MAKE) BUILD=$(CURDIR)/build/host-lwip FS_TRANSPORT=lwip

run: host
	@$(PYTHON) scripts/demo.py

test: host
	@$(PYTHON) -m pytest tests $(PYTEST_ARGS)

clean:
	rm -rf build
