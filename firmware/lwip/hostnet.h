// SPDX-License-Identifier: MIT
// fastsock host networking: one lwIP netif (TAP or libslirp, chosen by environment variables;
// see docs/lwip.md) with seeded fault injection on its input path. Host builds only.
#ifndef FS_HOSTNET_H
#define FS_HOSTNET_H

#include <stddef.h>
#include <stdint.h>

// Start lwIP's tcpip thread and the netif described by FASTSOCK_* variables. Returns 0, or -1
// after printing why to stderr. Call once, before any netconn use.
int fs_host_net_init(void);

// What the netif and the fault injector did since start.
typedef struct {
    uint32_t frames_in;     // frames received from the backend
    uint32_t frames_out;    // frames lwIP sent
    uint32_t dropped;       // frames dropped by FASTSOCK_DROP
    uint32_t duplicated;    // extra copies made by FASTSOCK_DUP
    uint32_t delayed;       // frames held back by FASTSOCK_DELAY_MS or FASTSOCK_REORDER
    uint32_t reordered;     // frames held back by FASTSOCK_REORDER
    uint32_t no_pbuf;       // frames lost because the pbuf pool was empty
    uint32_t guard_dropped; // slirp: frames to anything but 10.0.2.2 (or ARP), dropped
} fs_hostnet_stats_t;

extern fs_hostnet_stats_t fs_hostnet_stats;

// Internal, between hostnet.c and the backends (netif_tap.c, netif_slirp.c).
struct netif;
struct pbuf;
void fs_hostnet_deliver(const uint8_t *frame, size_t len);
int fs_tap_open(const char *ifname);
int fs_tap_output(struct pbuf *p);
int fs_tap_start(void);
int fs_slirp_open(void);
int fs_slirp_output(struct pbuf *p);
int fs_slirp_start(void);

#endif // FS_HOSTNET_H
