// SPDX-License-Identifier: MIT
// fastsock transport: a TCP connection whose received bytes stay in the stack's own buffers
// (lwIP pbufs on the device, one receive buffer on POSIX) until consumed. One implementation
// is compiled in, fs_transport_posix.c or fs_transport_lwip.c; it is used only through
// fs_tp_ops (fs_io.h), directly or under TLS.
#ifndef FS_TRANSPORT_H
#define FS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "fs_io.h"

#if FS_TRANSPORT_LWIP
#include "fs_transport_lwip.h"
#else
#include "fs_transport_posix.h"
#endif

// Counters the transport keeps for fastsock.stats().
typedef struct {
    uint64_t bytes_received; // bytes delivered by the stack
    uint32_t peak_buffered;  // most bytes held in receive buffers at once
    uint32_t bytes_copied;   // bytes the transport itself copied (lwIP: merging tiny pbufs)
} fs_tp_stats_t;

extern fs_tp_stats_t fs_tp_stats;

// The operations over an fs_tp_t (ctx). connect fails with FS_ERR_DNS for an unknown host.
extern const fs_io_ops_t fs_tp_ops;

// Prepare tp (holds nothing yet); fs_tp_ops.close returns it to this state.
void fs_tp_init(fs_tp_t *tp);

// 1 while tp holds a connection (or one being made).
int fs_tp_is_open(const fs_tp_t *tp);

#endif // FS_TRANSPORT_H
