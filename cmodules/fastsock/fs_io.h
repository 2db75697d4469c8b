// SPDX-License-Identifier: MIT
// fastsock byte streams: the operations a connection reads and writes through, as one table.
// The transport (fs_transport_posix.c or fs_transport_lwip.c, chosen at build time) fills it
// for TCP; TLS (fs_tls.c) fills the same table over a transport. Plain C, no MicroPython.
//
// Every wait obeys one absolute deadline on fs_clock_ms() (FS_FOREVER = none): the caller
// folds the per-wait timeout and the request's total deadline into it, so a layer that waits
// several times (a TLS record in pieces) still ends on time. Waits are sliced (FS_WAIT_SLICE_MS)
// and call fs_io_interrupted() between slices: the binding runs scheduled callbacks there, and
// the wait stops with -MP_EINTR when a Python exception (Ctrl-C) is pending; no layer runs
// Python code itself.
#ifndef FS_IO_H
#define FS_IO_H

#include <stddef.h>
#include <stdint.h>

#include "fs_error.h"
#include "fs_http.h"

typedef uint32_t fs_deadline_t;
#define FS_FOREVER ((fs_deadline_t)0)

// Milliseconds on a monotonic clock shared by every layer (the transport's).
uint32_t fs_clock_ms(void);

// The deadline ms from now (never FS_FOREVER by accident).
static inline fs_deadline_t fs_deadline_in(uint32_t ms) {
    fs_deadline_t d = fs_clock_ms() + ms;
    return d == FS_FOREVER ? 1 : d;
}

// The earlier of two deadlines.
static inline fs_deadline_t fs_deadline_min(fs_deadline_t a, fs_deadline_t b) {
    if (a == FS_FOREVER) {
        return b;
    }
    if (b == FS_FOREVER) {
        return a;
    }
    return (int32_t)(a - b) < 0 ? a : b;
}

// Milliseconds a wait may take now: at most slice, 0 once the deadline passed.
static inline uint32_t fs_deadline_slice(fs_deadline_t d, uint32_t slice) {
    if (d == FS_FOREVER) {
        return slice;
    }
    int32_t left = (int32_t)(d - fs_clock_ms());
    return left <= 0 ? 0 : (uint32_t)left < slice ? (uint32_t)left : slice;
}

// Called between wait slices: runs scheduled callbacks; 1 when the wait must stop for a pending
// exception (the binding raises it once the layers have unwound). Implemented by the binding.
int fs_io_interrupted(void);

// Return codes: >= 0 success, else a negative fs_error.h code (-errno, FS_ERR_*, FS_TLS_ERR_*).
typedef struct {
    // Resolve host and connect (TLS: and handshake).
    int (*connect)(void *ctx, const char *host, uint16_t port, fs_deadline_t d);
    // Send all of buf; 0 or an error.
    int (*write)(void *ctx, const uint8_t *buf, size_t len, fs_deadline_t d);
    // Wait for more bytes: new bytes (> 0), 0 at the end of the stream, or an error.
    int (*fill)(void *ctx, fs_deadline_t d);
    // The received, unconsumed bytes as up to max segments; returns how many were filled.
    size_t (*segments)(void *ctx, fs_seg_t *segs, size_t max);
    // Bytes received and not consumed.
    size_t (*buffered)(const void *ctx);
    // Drop n (<= buffered) bytes from the front; their space goes back to the stack.
    void (*consume)(void *ctx, size_t n);
    // With nothing buffered, receive straight into buf: bytes (> 0), 0 at the end, an error,
    // or FS_ERR_NO_RECV_INTO where only fill + segments work (lwIP, TLS).
    int (*recv_into)(void *ctx, uint8_t *buf, size_t len, fs_deadline_t d);
    // 1 if fill would not wait (bytes buffered or queued, end of stream, or an error).
    int (*readable)(void *ctx);
    // Release everything; safe to call twice.
    void (*close)(void *ctx);
} fs_io_ops_t;

// A stream: its operations and their state.
typedef struct {
    const fs_io_ops_t *ops;
    void *ctx;
} fs_io_t;

#endif // FS_IO_H
