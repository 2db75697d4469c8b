// SPDX-License-Identifier: MIT
// Older MicroPython cores: fastsock is written against 1.28 (the device's); these guards let it
// also build against MicroPython 1.25 (build/host-unix, Debian's micropython source). One line
// per difference; each is a no-op on 1.28.
#ifndef FS_COMPAT_H
#define FS_COMPAT_H

#include "py/mpconfig.h"

// 1.26 renamed NORETURN to MP_NORETURN (keeping NORETURN as an alias).
#ifndef MP_NORETURN
#define MP_NORETURN NORETURN
#endif

// Before 1.27, mp_handle_pending() took a bool: true raised a pending exception (the enum's
// value that does the same is the one fastsock uses).
// 1.27 added running callbacks only; before, false also dropped a pending exception, so
// fastsock calls it only when none is pending (fs_run_callbacks).
#if MICROPY_VERSION < MICROPY_MAKE_VERSION(1, 27, 0)
#define MP_HANDLE_PENDING_CALLBACKS_AND_EXCEPTIONS true
#define MP_HANDLE_PENDING_CALLBACKS_ONLY false
#endif

// What fastsock needs from the core it is built into: a clear error at build time rather than
// a module that misbehaves on the device.
#if !MICROPY_ENABLE_FINALISER
#error "fastsock needs MICROPY_ENABLE_FINALISER: a connection nobody closed is closed when collected"
#endif
#if !MICROPY_MODULE_GETATTR
#error "fastsock needs MICROPY_MODULE_GETATTR: the fastsock package loads its leaf (fastsock._more) on first use"
#endif
#if !MICROPY_PY_BUILTINS_FLOAT
#error "fastsock needs MICROPY_PY_BUILTINS_FLOAT: timeouts are seconds, Response.elapsed a float"
#endif
#if !MICROPY_MULTIPLE_INHERITANCE
#error "fastsock needs MICROPY_MULTIPLE_INHERITANCE: ConnectTimeout is a ConnectionError and a Timeout"
#endif

#endif
