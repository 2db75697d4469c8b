// SPDX-License-Identifier: MIT
// libslirp backend for the host netif: a user-mode NAT in this process (no root). lwIP is
// 10.0.2.15; slirp's 10.0.2.2 stands for the host's 127.0.0.1. A guard drops every frame
// lwIP sends to anything else, so tests can only reach local servers. One thread runs
// slirp's poll loop; every slirp call is made under slirp_lock.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "lwip/pbuf.h"
#include "lwip/sys.h"

#include "hostnet.h"

#define FRAME_MAX (1514 + 4)
#define MAX_FDS (256)

static Slirp *slirp;
static pthread_mutex_t slirp_lock = PTHREAD_MUTEX_INITIALIZER;
static int wake_pipe[2] = { -1, -1 };
static struct pollfd pfds[MAX_FDS];
static int npfds;
static struct in_addr host_addr;

typedef struct timer {
    struct timer *next;
    SlirpTimerCb cb;
    void *opaque;
    int64_t expire_ms; // -1 = not armed
} slirp_timer_t;

static slirp_timer_t *timers;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wake(void) {
    char c = 1;
    ssize_t r = write(wake_pipe[1], &c, 1);
    (void)r;
}

// Frames from slirp to lwIP.
static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque) {
    (void)opaque;
    fs_hostnet_deliver(buf, len);
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque) {
    (void)opaque;
    fprintf(stderr, "fastsock hostnet: slirp: %s\n", msg);
}

static int64_t cb_clock_get_ns(void *opaque) {
    (void)opaque;
    return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque) {
    (void)opaque;
    slirp_timer_t *t = calloc(1, sizeof(*t));
    if (t != NULL) {
        t->cb = cb;
        t->opaque = cb_opaque;
        t->expire_ms = -1;
        t->next = timers;
        timers = t;
    }
    return t;
}

static void cb_timer_free(void *timer, void *opaque) {
    (void)opaque;
    for (slirp_timer_t **pp = &timers; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == timer) {
            *pp = ((slirp_timer_t *)timer)->next;
            free(timer);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_time, void *opaque) {
    (void)opaque;
    ((slirp_timer_t *)timer)->expire_ms = expire_time;
    wake();
}

static void cb_register_poll_fd(int fd, void *opaque) {
    (void)fd;
    (void)opaque;
}

static void cb_notify(void *opaque) {
    (void)opaque;
    wake();
}

static const SlirpCb callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_register_poll_fd,
    .notify = cb_notify,
};

int fs_slirp_open(void) {
    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "fastsock hostnet: pipe: %s\n", strerror(errno));
        return -1;
    }
    SlirpConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.version = 1;
    // Restricted mode would also block the host: the guard in fs_slirp_output limits instead.
    cfg.restricted = 0;
    cfg.in_enabled = true;
    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
    inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
    cfg.in6_enabled = false;
    cfg.disable_host_loopback = false;
    host_addr = cfg.vhost;
    slirp = slirp_new(&cfg, &callbacks, NULL);
    if (slirp == NULL) {
        fprintf(stderr, "fastsock hostnet: slirp_new failed\n");
        return -1;
    }
    return 0;
}

// Frames from lwIP to slirp: ARP, and IPv4 to 10.0.2.2 only.
int fs_slirp_output(struct pbuf *p) {
    uint8_t frame[FRAME_MAX];
    if (p->tot_len > sizeof(frame) || p->tot_len < 14) {
        return -1;
    }
    u16_t len = pbuf_copy_partial(p, frame, p->tot_len, 0);
    int arp = frame[12] == 0x08 && frame[13] == 0x06;
    int ip_to_host = frame[12] == 0x08 && frame[13] == 0x00 && len >= 34 &&
                     memcmp(frame + 30, &host_addr, 4) == 0;
    if (!arp && !ip_to_host) {
        __atomic_add_fetch(&fs_hostnet_stats.guard_dropped, 1, __ATOMIC_RELAXED);
        return 0;
    }
    pthread_mutex_lock(&slirp_lock);
    slirp_input(slirp, frame, len);
    pthread_mutex_unlock(&slirp_lock);
    // slirp may have opened a socket: let the poll loop see it.
    wake();
    return 0;
}

static int add_poll(int fd, int events, void *opaque) {
    (void)opaque;
    if (npfds >= MAX_FDS) {
        return -1;
    }
    short ev = 0;
    ev |= (events & SLIRP_POLL_IN) ? POLLIN : 0;
    ev |= (events & SLIRP_POLL_OUT) ? POLLOUT : 0;
    ev |= (events & SLIRP_POLL_PRI) ? POLLPRI : 0;
    pfds[npfds].fd = fd;
    pfds[npfds].events = ev;
    pfds[npfds].revents = 0;
    return npfds++;
}

static int get_revents(int idx, void *opaque) {
    (void)opaque;
    if (idx < 0 || idx >= npfds) {
        return 0;
    }
    short r = pfds[idx].revents;
    int ev = 0;
    ev |= (r & POLLIN) ? SLIRP_POLL_IN : 0;
    ev |= (r & POLLOUT) ? SLIRP_POLL_OUT : 0;
    ev |= (r & POLLPRI) ? SLIRP_POLL_PRI : 0;
    ev |= (r & POLLERR) ? SLIRP_POLL_ERR : 0;
    ev |= (r & POLLHUP) ? SLIRP_POLL_HUP : 0;
    return ev;
}

static void slirp_loop(void *arg) {
    (void)arg;
    for (;;) {
        uint32_t timeout = 100;
        pthread_mutex_lock(&slirp_lock);
        npfds = 0;
        add_poll(wake_pipe[0], SLIRP_POLL_IN, NULL);
        slirp_pollfds_fill(slirp, &timeout, add_poll, NULL);
        int64_t now_ms = now_ns() / 1000000;
        for (slirp_timer_t *t = timers; t != NULL; t = t->next) {
            if (t->expire_ms >= 0) {
                int64_t left = t->expire_ms - now_ms;
                timeout = left <= 0 ? 0 : left < (int64_t)timeout ? (uint32_t)left : timeout;
            }
        }
        int n = npfds;
        pthread_mutex_unlock(&slirp_lock);
        int r = poll(pfds, (nfds_t)n, (int)timeout);
        if (pfds[0].revents & POLLIN) {
            char buf[64];
            while (read(wake_pipe[0], buf, sizeof(buf)) > 0) {
            }
        }
        pthread_mutex_lock(&slirp_lock);
        slirp_pollfds_poll(slirp, r < 0, get_revents, NULL);
        now_ms = now_ns() / 1000000;
        for (slirp_timer_t *t = timers; t != NULL; t = t->next) {
            if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
                t->expire_ms = -1;
                t->cb(t->opaque);
            }
        }
        pthread_mutex_unlock(&slirp_lock);
    }
}

int fs_slirp_start(void) {
    sys_thread_new("fs-slirp", slirp_loop, NULL, 0, 0);
    return 0;
}
