// fastsock transport: a TCP connection whose received bytes stay in the transport's own
// buffers (lwIP pbufs on the device, one receive buffer on POSIX) until the caller consumes
// them. One implementation is compiled in: fs_transport_posix.c or fs_transport_lwip.c.
// Every function returns >= 0 on success or a negative MP_E* errno; waits are sliced and
// call fs_tp_poll_hook() so the binding can raise Ctrl-C.
#ifndef FS_TRANSPORT_H
#define FS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "fs_http.h"

#if FS_TRANSPORT_LWIP
#include "fs_transport_lwip.h"
#else
#include "fs_transport_posix.h"
#endif

// Called between wait slices (about every 100 ms); may not return (raises KeyboardInterrupt).
void fs_tp_poll_hook(void);

// Counters the transport keeps for fastsock.stats().
typedef struct {
    uint64_t bytes_received; // bytes delivered by the stack
    uint32_t peak_buffered;  // most bytes held in receive buffers at once
    uint32_t bytes_copied;   // bytes the transport itself copied (lwIP: merging tiny pbufs)
} fs_tp_stats_t;

extern fs_tp_stats_t fs_tp_stats;

// Prepare tp (no resources held yet).
void fs_tp_init(fs_tp_t *tp);

// Resolve host and connect within timeout_ms (0 = wait forever). Returns 0 or -errno;
// -MP_ETIMEDOUT on timeout, a negative resolver code (FS_TP_ERR_DNS) if host is unknown.
int fs_tp_connect(fs_tp_t *tp, const char *host, uint16_t port, uint32_t timeout_ms);
#define FS_TP_ERR_DNS (-1000)

// Send all of buf. Returns 0 or -errno.
int fs_tp_write(fs_tp_t *tp, const uint8_t *buf, size_t len, uint32_t timeout_ms);

// Wait for more received bytes. Returns the number of new bytes (> 0), 0 at end of stream,
// or -errno (-MP_ETIMEDOUT when nothing arrived within timeout_ms, 0 = forever).
int fs_tp_fill(fs_tp_t *tp, uint32_t timeout_ms);

// The received, unconsumed bytes as up to max segments; returns the number filled.
size_t fs_tp_segments(fs_tp_t *tp, fs_seg_t *segs, size_t max);

// Bytes received and not yet consumed.
size_t fs_tp_buffered(const fs_tp_t *tp);

// Drop n (<= buffered) bytes from the front; their buffer space goes back to the stack.
void fs_tp_consume(fs_tp_t *tp, size_t n);

// With nothing buffered, receive straight into buf (no intermediate copy). Returns bytes
// (> 0), 0 at end of stream, -errno, or FS_TP_ERR_UNSUPPORTED where the stack only hands out
// its own buffers (lwIP): then use fs_tp_fill + fs_tp_segments.
int fs_tp_recv_into(fs_tp_t *tp, uint8_t *buf, size_t len, uint32_t timeout_ms);
#define FS_TP_ERR_UNSUPPORTED (-1001)

// 1 if bytes or end of stream can be read without waiting (for MP_STREAM_POLL).
int fs_tp_readable(fs_tp_t *tp);

// Release everything; tp may be fs_tp_init-ed again.
void fs_tp_close(fs_tp_t *tp);

// 1 while connected.
int fs_tp_is_open(const fs_tp_t *tp);

#endif // FS_TRANSPORT_H
