// SPDX-License-Identifier: MIT
// fastsock's variant of MicroPython 1.25's unix port (build/host-unix/micropython): the port's
// standard variant (extra features: deflate, asyncio, select, json, os, _thread, ...) with
// fastsock compiled in. Built by firmware/unix/Makefile with VARIANT_DIR pointing here; the
// unix port's own sources are untouched.
#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

// Relative to ports/unix (the port's -I.), as this directory is outside the source tree.
#include "variants/mpconfigvariant_common.h"

// Imports come from the frozen modules (the fastsock package, asyncio) and the script's
// directory only, not from ~/.micropython/lib or /usr/lib/micropython (MICROPYPATH still works).
#define MICROPY_PY_SYS_PATH_DEFAULT ".frozen"
