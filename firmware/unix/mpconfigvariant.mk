# SPDX-License-Identifier: MIT
# Make settings for fastsock's unix-port variant; included by MicroPython's ports/unix/Makefile
# (VARIANT_DIR=this directory) before py.mk. Everything here is a make variable the port
# already offers: the third-party tree is not patched.
FS_ROOT := $(abspath $(VARIANT_DIR)/../..)
PROG = micropython
# Keep symbols (tracebacks in gdb, sanitizer-free profiling), as the other host builds do.
STRIP :=

# Not in Debian's +ds tarball (lib/libffi, lib/berkeley-db-1.xx, lib/mbedtls stripped): no
# ffi, no btree, no ssl module of the port's own. fastsock's https:// uses its own mbedTLS 3.6
# below.
MICROPY_PY_FFI = 0
MICROPY_PY_BTREE = 0
MICROPY_PY_SSL = 0
MICROPY_SSL_MBEDTLS = 0

USER_C_MODULES = $(FS_ROOT)/cmodules
FROZEN_MANIFEST = $(VARIANT_DIR)/manifest.py
MICROPY_MANIFEST_FS_ROOT = $(FS_ROOT)
# lib/micropython-lib is not in the tarball either and the manifest uses none of it, but the
# frozen-content rule insists on a README.md in MPY_LIB_DIR: point it at this repository.
MPY_LIB_DIR = $(FS_ROOT)

# https:// through the same mbedTLS 3.6 build the other host interpreters use
# (firmware/mbedtls); FS_TLS=0 builds without it.
FS_TLS ?= 1
ifeq ($(FS_TLS),1)
include $(FS_ROOT)/firmware/mbedtls/mbedtls.mk
endif
