// SPDX-License-Identifier: MIT
// POSIX-socket transport state (host builds): one receive buffer per connection.
#ifndef FS_TRANSPORT_POSIX_H
#define FS_TRANSPORT_POSIX_H

#include <stddef.h>
#include <stdint.h>

#include "fs_config.h"

// Receive buffer: holds a whole head (FS_MAX_HEAD_BYTES) plus the body bytes behind it.
#ifndef FS_POSIX_RXBUF_BYTES
#define FS_POSIX_RXBUF_BYTES (FS_MAX_HEAD_BYTES + 2048)
#endif

typedef struct {
    uint8_t *buf;   // FS_POSIX_RXBUF_BYTES from malloc while connected
    uint32_t start; // first unconsumed byte
    uint32_t end;   // one past the last received byte
    int fd;
    uint8_t eof;
} fs_tp_t;

#endif // FS_TRANSPORT_POSIX_H
