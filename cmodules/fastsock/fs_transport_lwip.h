// SPDX-License-Identifier: MIT
// lwIP netconn transport state (ESP32, and host builds with FS_TRANSPORT=lwip). Received bytes
// stay in the pbufs lwIP delivered; the TCP window reopens only as they are consumed.
#ifndef FS_TRANSPORT_LWIP_H
#define FS_TRANSPORT_LWIP_H

#include <stddef.h>
#include <stdint.h>

#include "fs_config.h"

struct netconn;
struct pbuf;

typedef struct {
    struct netconn *conn; // NULL when closed
    struct pbuf *rx;      // received, unconsumed chain; consumed bytes are cut off its front
    uint32_t buffered;    // rx->tot_len, or 0
    uint32_t unacked;     // bytes of rx not yet returned to the TCP window (netconn_tcp_recvd)
    int16_t err;          // sticky -errno once the connection failed
    uint8_t eof;          // FIN received
} fs_tp_t;

#endif // FS_TRANSPORT_LWIP_H
