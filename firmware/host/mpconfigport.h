// SPDX-License-Identifier: MIT
// fastsock host port: a small MicroPython for Linux that runs scripts, with the core modules,
// MicroPython's own socket module and fastsock compiled in. Built native, -m32 and sanitized.
#include <alloca.h>
#include <limits.h>
#include <stdint.h>

#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

// Compiler and runtime: scripts are compiled from source; no native emitters (unlike ESP32).
#define MICROPY_ENABLE_COMPILER (1)
#define MICROPY_ENABLE_GC (1)
#define MICROPY_GC_SPLIT_HEAP (0)
#define MICROPY_STACK_CHECK (1)
#define MICROPY_STACK_CHECK_MARGIN (8192)
#define MICROPY_ENABLE_EXTERNAL_IMPORT (1)
#define MICROPY_READER_POSIX (1)
#define MICROPY_ALLOC_PATH_MAX (PATH_MAX)
#define MICROPY_ENABLE_SCHEDULER (1)
#define MICROPY_KBD_EXCEPTION (1)
#define MICROPY_USE_INTERNAL_PRINTF (0)
#define MICROPY_FLOAT_IMPL (MICROPY_FLOAT_IMPL_DOUBLE)
#define MICROPY_LONGINT_IMPL (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_ERROR_REPORTING (MICROPY_ERROR_REPORTING_DETAILED)
#define MICROPY_ENABLE_SOURCE_LINE (1)
#define MICROPY_HELPER_REPL (0)
#define MICROPY_ENABLE_FINALISER (1)
// As the esp32 port: comparing bytes with str prints a warning (the library must cause none).
#define MICROPY_WARNINGS (1)
#define MICROPY_PY_STR_BYTES_CMP_WARN (1)
// Heap statistics for micropython.mem_info() and the benchmarks' peak figures.
#define MICROPY_MEM_STATS (1)
#define MICROPY_MALLOC_USES_ALLOCATED_SIZE (1)
#define MICROPY_PY_MICROPYTHON_MEM_INFO (1)

// Modules from py/ (the sdist has no extmod/; time and open come from this port).
#define MICROPY_PY_SYS_ARGV (1)
#define MICROPY_PY_SYS_EXIT (1)
#define MICROPY_PY_SYS_PATH (1)
#define MICROPY_PY_SYS_STDFILES (1)
#define MICROPY_PY_SYS_PLATFORM "linux"
#define MICROPY_PY_IO (1)
#define MICROPY_PY_BUILTINS_INPUT (0)
#define MICROPY_PY_BUILTINS_HELP (0)
#define MICROPY_PY_UCTYPES (0)
#define MICROPY_PY_TIME (0)
#define MICROPY_PY_OS (0)
#define MICROPY_PY_SELECT (0)
#define MICROPY_PY_MACHINE (0)
#define MICROPY_PY_JSON (0)
#define MICROPY_PY_RE (0)
#define MICROPY_PY_HEAPQ (0)
#define MICROPY_PY_HASHLIB (0)
#define MICROPY_PY_BINASCII (0)
#define MICROPY_PY_RANDOM (0)
#define MICROPY_PY_DEFLATE (0)
#define MICROPY_PY_FRAMEBUF (0)
#define MICROPY_PY_PLATFORM (0)
#define MICROPY_PY_ASYNCIO (0)
#define MICROPY_PY_SSL (0)
#define MICROPY_PY_WEBSOCKET (0)
#define MICROPY_PY_WEBREPL (0)
#define MICROPY_PY_NETWORK (0)
#define MICROPY_VFS (0)
#define MICROPY_PY_THREAD (0)

// The seed chapter's client: ports/unix/modsocket.c, compiled from the same sources.
#define MICROPY_PY_SOCKET (1)
#define MICROPY_PY_SOCKET_LISTEN_BACKLOG_DEFAULT (2)

#define MICROPY_HW_BOARD_NAME "fastsock host"
#define MICROPY_HW_MCU_NAME "linux"
#define MICROPY_BANNER_MACHINE MICROPY_HW_BOARD_NAME " with " MICROPY_HW_MCU_NAME

typedef intptr_t mp_int_t;
typedef uintptr_t mp_uint_t;
typedef long mp_off_t;

#define MP_STATE_PORT MP_STATE_VM
#define MICROPY_PY_SYS_PATH_DEFAULT ".frozen"

// Tracebacks and warnings go to stderr, as in CPython and the unix port.
extern const struct _mp_print_t mp_stderr_print;
#define MICROPY_ERROR_PRINTER (&mp_stderr_print)
