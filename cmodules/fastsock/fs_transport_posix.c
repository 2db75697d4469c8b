// SPDX-License-Identifier: MIT
// POSIX-socket transport for host builds (fs_tp_ops): non-blocking socket, poll() in 100 ms
// slices, received bytes kept in one per-connection buffer until consumed.
#if !FS_TRANSPORT_LWIP

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fs_transport.h"

fs_tp_stats_t fs_tp_stats;

uint32_t fs_clock_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

// Wait until fd has `events`; returns 0, -ETIMEDOUT, -EINTR (an exception is pending) or -errno.
static int wait_fd(int fd, short events, fs_deadline_t d) {
    for (;;) {
        uint32_t ms = fs_deadline_slice(d, FS_WAIT_SLICE_MS);
        if (ms == 0) {
            return -ETIMEDOUT;
        }
        struct pollfd pfd = { .fd = fd, .events = events };
        int r = poll(&pfd, 1, (int)ms);
        if (r > 0) {
            return 0;
        }
        if (r < 0 && errno != EINTR) {
            return -errno;
        }
        if (fs_io_interrupted()) {
            return -EINTR;
        }
    }
}

void fs_tp_init(fs_tp_t *tp) {
    memset(tp, 0, sizeof(*tp));
    tp->fd = -1;
}

// A lookup in flight is owned twice: by the waiting caller and by glibc, whose completion
// callback (a thread of its own) drops its share. Whoever lets go last frees it, so a lookup
// abandoned by a deadline or Ctrl-C is freed as soon as glibc is done with it.
typedef struct {
    struct gaicb req;
    struct addrinfo hints;
    int refs;
    char port[8];
    char host[];
} lookup_t;

static void lookup_unref(lookup_t *l) {
    if (__atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        if (l->req.ar_result != NULL) {
            freeaddrinfo(l->req.ar_result);
        }
        free(l);
    }
}

static void lookup_done(union sigval sv) {
    lookup_unref(sv.sival_ptr);
}

// Resolve with getaddrinfo_a so a slow resolver obeys the deadline and Ctrl-C.
static int resolve(const char *host, uint16_t port, fs_deadline_t d, struct addrinfo **out) {
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    // Literal addresses need no resolver round trip.
    hints.ai_flags = AI_NUMERICHOST;
    if (getaddrinfo(host, portstr, &hints, out) == 0) {
        return 0;
    }
    lookup_t *l = calloc(1, sizeof(lookup_t) + strlen(host) + 1);
    if (l == NULL) {
        return -ENOMEM;
    }
    l->hints = hints;
    l->hints.ai_flags = AI_ADDRCONFIG;
    memcpy(l->port, portstr, sizeof(portstr));
    strcpy(l->host, host);
    l->req.ar_name = l->host;
    l->req.ar_service = l->port;
    l->req.ar_request = &l->hints;
    l->refs = 2;
    struct sigevent done = { .sigev_notify = SIGEV_THREAD };
    done.sigev_notify_function = lookup_done;
    done.sigev_value.sival_ptr = l;
    struct gaicb *list[1] = { &l->req };
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, &done) != 0) {
        free(l);
        return FS_ERR_DNS;
    }
    int r;
    while ((r = gai_error(&l->req)) == EAI_INPROGRESS) {
        uint32_t ms = fs_deadline_slice(d, FS_WAIT_SLICE_MS);
        if (ms == 0 || fs_io_interrupted()) {
            // A request glibc never started gets no completion call: drop its share too.
            if (gai_cancel(&l->req) == EAI_CANCELED) {
                lookup_unref(l);
            }
            lookup_unref(l);
            return ms == 0 ? -ETIMEDOUT : -EINTR;
        }
        struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };
        const struct gaicb *wl[1] = { &l->req };
        gai_suspend(wl, 1, &ts);
    }
    // The result is the caller's now (freeaddrinfo by tp_connect).
    *out = l->req.ar_result;
    l->req.ar_result = NULL;
    lookup_unref(l);
    return r == 0 ? 0 : FS_ERR_DNS;
}

static void tp_close(void *ctx);

static int tp_connect(void *ctx, const char *host, uint16_t port, fs_deadline_t d) {
    fs_tp_t *tp = ctx;
    struct addrinfo *res;
    int r = resolve(host, port, d, &res);
    if (r < 0) {
        return r;
    }
    // The receive buffer lives outside the GC heap, as lwIP's pbufs do on the device.
    tp->buf = malloc(FS_POSIX_RXBUF_BYTES);
    if (tp->buf == NULL) {
        freeaddrinfo(res);
        return -ENOMEM;
    }
    r = -ECONNREFUSED;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        // Owned by tp from the start, so every way out (error, deadline, Ctrl-C) closes it.
        tp->fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (tp->fd < 0) {
            r = -errno;
            continue;
        }
        // Requests are written in one piece; don't hold them back for Nagle.
        int one = 1;
        setsockopt(tp->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(tp->fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            r = wait_fd(tp->fd, POLLOUT, d);
            if (r == 0) {
                int err = 0;
                socklen_t len = sizeof(err);
                getsockopt(tp->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                r = -err;
            }
        } else {
            r = -errno;
        }
        if (r == 0) {
            break;
        }
        close(tp->fd);
        tp->fd = -1;
        if (r == -ETIMEDOUT || r == -EINTR) {
            break;
        }
    }
    freeaddrinfo(res);
    if (r < 0) {
        tp_close(tp);
    }
    return r;
}

static int tp_write(void *ctx, const uint8_t *buf, size_t len, fs_deadline_t d) {
    fs_tp_t *tp = ctx;
    while (len > 0) {
        ssize_t n = send(tp->fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return -errno;
        }
        int r = wait_fd(tp->fd, POLLOUT, d);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

// One recv() into dst, waiting until the deadline for data.
static int recv_some(fs_tp_t *tp, uint8_t *dst, size_t len, fs_deadline_t d) {
    for (;;) {
        ssize_t n = recv(tp->fd, dst, len, 0);
        if (n > 0) {
            fs_tp_stats.bytes_received += (uint64_t)n;
            return (int)n;
        }
        if (n == 0) {
            tp->eof = 1;
            return 0;
        }
        if (errno != EAGAIN && errno != EINTR) {
            return -errno;
        }
        int r = wait_fd(tp->fd, POLLIN, d);
        if (r < 0) {
            return r;
        }
    }
}

static int tp_fill(void *ctx, fs_deadline_t d) {
    fs_tp_t *tp = ctx;
    if (tp->eof) {
        return 0;
    }
    // Slide unconsumed bytes to the front so the free space is contiguous.
    if (tp->start > 0) {
        memmove(tp->buf, tp->buf + tp->start, tp->end - tp->start);
        tp->end -= tp->start;
        tp->start = 0;
    }
    if (tp->end == FS_POSIX_RXBUF_BYTES) {
        return -ENOBUFS;
    }
    int n = recv_some(tp, tp->buf + tp->end, FS_POSIX_RXBUF_BYTES - tp->end, d);
    if (n > 0) {
        tp->end += (uint32_t)n;
        if (tp->end > fs_tp_stats.peak_buffered) {
            fs_tp_stats.peak_buffered = tp->end;
        }
    }
    return n;
}

static size_t tp_segments(void *ctx, fs_seg_t *segs, size_t max) {
    fs_tp_t *tp = ctx;
    if (max == 0 || tp->end == tp->start) {
        return 0;
    }
    segs[0].ptr = tp->buf + tp->start;
    segs[0].len = tp->end - tp->start;
    return 1;
}

static size_t tp_buffered(const void *ctx) {
    const fs_tp_t *tp = ctx;
    return tp->end - tp->start;
}

static void tp_consume(void *ctx, size_t n) {
    fs_tp_t *tp = ctx;
    tp->start += (uint32_t)n;
    if (tp->start == tp->end) {
        tp->start = tp->end = 0;
    }
}

static int tp_recv_into(void *ctx, uint8_t *buf, size_t len, fs_deadline_t d) {
    fs_tp_t *tp = ctx;
    if (tp->eof) {
        return 0;
    }
    return recv_some(tp, buf, len > INT32_MAX ? INT32_MAX : len, d);
}

static int tp_readable(void *ctx) {
    fs_tp_t *tp = ctx;
    if (tp->end > tp->start || tp->eof || tp->fd < 0) {
        return 1;
    }
    struct pollfd pfd = { .fd = tp->fd, .events = POLLIN };
    return poll(&pfd, 1, 0) != 0;
}

static void tp_close(void *ctx) {
    fs_tp_t *tp = ctx;
    if (tp->fd >= 0) {
        close(tp->fd);
    }
    free(tp->buf);
    fs_tp_init(tp);
}

int fs_tp_is_open(const fs_tp_t *tp) {
    return tp->fd >= 0;
}

const fs_io_ops_t fs_tp_ops = {
    .connect = tp_connect,
    .write = tp_write,
    .fill = tp_fill,
    .segments = tp_segments,
    .buffered = tp_buffered,
    .consume = tp_consume,
    .recv_into = tp_recv_into,
    .readable = tp_readable,
    .close = tp_close,
};

#endif // !FS_TRANSPORT_LWIP
