// SPDX-License-Identifier: MIT
// TAP backend for the host netif: Ethernet frames to and from a Linux TAP device (normally
// created by the test inside its own network namespace). A reader thread feeds lwIP.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/pbuf.h"
#include "lwip/sys.h"

#include "hostnet.h"

#define FRAME_MAX (1514 + 4)

static int tap_fd = -1;

int fs_tap_open(const char *ifname) {
    tap_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (tap_fd < 0) {
        fprintf(stderr, "fastsock hostnet: cannot open /dev/net/tun: %s\n", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (strlen(ifname) >= IFNAMSIZ) {
        fprintf(stderr, "fastsock hostnet: FASTSOCK_TAP=%s: name too long\n", ifname);
        return -1;
    }
    strcpy(ifr.ifr_name, ifname);
    if (ioctl(tap_fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr,
                "fastsock hostnet: cannot attach to TAP device %s: %s (create it with "
                "`ip tuntap add dev %s mode tap`; needs root or ownership)\n",
                ifname, strerror(errno), ifname);
        close(tap_fd);
        tap_fd = -1;
        return -1;
    }
    return 0;
}

int fs_tap_output(struct pbuf *p) {
    uint8_t frame[FRAME_MAX];
    if (p->tot_len > sizeof(frame)) {
        return -1;
    }
    u16_t len = pbuf_copy_partial(p, frame, p->tot_len, 0);
    ssize_t r;
    do {
        r = write(tap_fd, frame, len);
    } while (r < 0 && errno == EINTR);
    return r == (ssize_t)len ? 0 : -1;
}

static void tap_reader(void *arg) {
    (void)arg;
    uint8_t frame[2048];
    for (;;) {
        ssize_t n = read(tap_fd, frame, sizeof(frame));
        if (n > 0) {
            fs_hostnet_deliver(frame, (size_t)n);
        } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
            fprintf(stderr, "fastsock hostnet: TAP read failed: %s\n", strerror(errno));
            return;
        }
    }
}

int fs_tap_start(void) {
    sys_thread_new("fs-tap-rx", tap_reader, NULL, 0, 0);
    return 0;
}
