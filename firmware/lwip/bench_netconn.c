// SPDX-License-Identifier: MIT
// The stack's own limit: download one URL with a bare netconn loop over the same lwIP build
// and netif as build/host-lwip/micropython, writing the body to a file (or /dev/null).
//   bench-netconn IP PORT PATH [OUT]    (netif from FASTSOCK_* variables, see docs/lwip.md)
// Prints "bytes=<body+head bytes> seconds=<s> MBps=<MB/s>". The window is reopened as each
// pbuf is written out (NETCONN_NOAUTORCVD + netconn_tcp_recvd), as fastsock does.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/api.h"
#include "lwip/pbuf.h"

#include "hostnet.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench-netconn IP PORT PATH [OUT]\n");
        return 2;
    }
    if (fs_host_net_init() != 0) {
        return 2;
    }
    ip_addr_t addr;
    if (!ipaddr_aton(argv[1], &addr)) {
        fprintf(stderr, "bench-netconn: bad address %s\n", argv[1]);
        return 2;
    }
    int out = open(argc > 4 ? argv[4] : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) {
        perror("bench-netconn: open");
        return 2;
    }
    char req[512];
    int reqlen =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                 argv[3], argv[1]);
    double t0 = now_s();
    struct netconn *conn = netconn_new(NETCONN_TCP);
    err_t e = netconn_connect(conn, &addr, (u16_t)atoi(argv[2]));
    if (e != ERR_OK) {
        fprintf(stderr, "bench-netconn: connect: %s\n", lwip_strerr(e));
        return 1;
    }
    netconn_write(conn, req, (size_t)reqlen, NETCONN_COPY);
    unsigned long long total = 0;
    int in_head = 1;
    for (;;) {
        struct pbuf *p;
        e = netconn_recv_tcp_pbuf_flags(conn, &p, NETCONN_NOAUTORCVD);
        if (e != ERR_OK) {
            break;
        }
        for (struct pbuf *q = p; q != NULL; q = q->next) {
            const char *d = q->payload;
            size_t n = q->len;
            // Skip the head (assumed to arrive in the first segment, as nginx sends it).
            if (in_head) {
                const char *end = memmem(d, n, "\r\n\r\n", 4);
                if (end != NULL) {
                    in_head = 0;
                    n -= (size_t)(end + 4 - d);
                    d = end + 4;
                } else {
                    n = 0;
                }
            }
            if (n > 0 && write(out, d, n) != (ssize_t)n) {
                perror("bench-netconn: write");
                return 1;
            }
        }
        total += p->tot_len;
        u16_t len = p->tot_len;
        pbuf_free(p);
        netconn_tcp_recvd(conn, len);
    }
    double dt = now_s() - t0;
    // With FULLDUPLEX a received FIN leaves netconn_delete thinking it was closed already.
    netconn_prepare_delete(conn);
    netconn_delete(conn);
    close(out);
    if (e != ERR_CLSD) {
        fprintf(stderr, "bench-netconn: receive ended with %s\n", lwip_strerr(e));
        return 1;
    }
    printf("bytes=%llu seconds=%.4f MBps=%.2f\n", total, dt, (double)total / dt / 1e6);
    return 0;
}
