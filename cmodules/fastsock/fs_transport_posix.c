// POSIX-socket transport for host builds: non-blocking socket, poll() in 100 ms slices,
// received bytes kept in one per-connection buffer until consumed.
#if !FS_TRANSPORT_LWIP

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fs_transport.h"

#define SLICE_MS (100)

fs_tp_stats_t fs_tp_stats;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

// Milliseconds left until deadline (0 = none): -1 wait a full slice, 0 expired.
static int slice_left(uint64_t deadline) {
    if (deadline == 0) {
        return SLICE_MS;
    }
    uint64_t now = now_ms();
    if (now >= deadline) {
        return 0;
    }
    return deadline - now > SLICE_MS ? SLICE_MS : (int)(deadline - now);
}

// Wait until fd has `events`; returns 0, -ETIMEDOUT, or -errno.
static int wait_fd(int fd, short events, uint32_t timeout_ms) {
    uint64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
    for (;;) {
        int ms = slice_left(deadline);
        if (ms == 0) {
            return -ETIMEDOUT;
        }
        struct pollfd pfd = { .fd = fd, .events = events };
        int r = poll(&pfd, 1, ms);
        if (r > 0) {
            return 0;
        }
        if (r < 0 && errno != EINTR) {
            return -errno;
        }
        fs_tp_poll_hook();
    }
}

void fs_tp_init(fs_tp_t *tp) {
    memset(tp, 0, sizeof(*tp));
    tp->fd = -1;
}

// Resolve with getaddrinfo_a so a slow resolver obeys the timeout and Ctrl-C.
static int resolve(const char *host, uint16_t port, uint32_t timeout_ms, struct addrinfo **out) {
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    // Literal addresses need no resolver round trip.
    hints.ai_flags = AI_NUMERICHOST;
    if (getaddrinfo(host, portstr, &hints, out) == 0) {
        return 0;
    }
    hints.ai_flags = AI_ADDRCONFIG;
    struct gaicb *req =
        calloc(1, sizeof(struct gaicb) + sizeof(hints) + sizeof(portstr) + strlen(host) + 1);
    if (req == NULL) {
        return -ENOMEM;
    }
    struct addrinfo *h = (struct addrinfo *)(req + 1);
    char *ps = (char *)(h + 1);
    char *hs = ps + sizeof(portstr);
    *h = hints;
    memcpy(ps, portstr, sizeof(portstr));
    strcpy(hs, host);
    req->ar_name = hs;
    req->ar_service = ps;
    req->ar_request = h;
    struct gaicb *list[1] = { req };
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0) {
        free(req);
        return FS_TP_ERR_DNS;
    }
    uint64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
    int r;
    while ((r = gai_error(req)) == EAI_INPROGRESS) {
        int ms = slice_left(deadline);
        if (ms == 0) {
            // XXX a lookup that cannot be cancelled still owns req: leak it rather than crash.
            if (gai_cancel(req) == EAI_CANCELED) {
                free(req);
            }
            return -ETIMEDOUT;
        }
        struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };
        const struct gaicb *wl[1] = { req };
        gai_suspend(wl, 1, &ts);
        fs_tp_poll_hook();
    }
    *out = req->ar_result;
    free(req);
    return r == 0 ? 0 : FS_TP_ERR_DNS;
}

int fs_tp_connect(fs_tp_t *tp, const char *host, uint16_t port, uint32_t timeout_ms) {
    uint64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
    struct addrinfo *res;
    int r = resolve(host, port, timeout_ms, &res);
    if (r < 0) {
        return r;
    }
    r = -ECONNREFUSED;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            r = -errno;
            continue;
        }
        // Requests are written in one piece; don't hold them back for Nagle.
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            uint32_t left = 0;
            if (deadline) {
                uint64_t now = now_ms();
                left = now >= deadline ? 1 : (uint32_t)(deadline - now);
            }
            r = wait_fd(fd, POLLOUT, left);
            if (r == 0) {
                int err = 0;
                socklen_t len = sizeof(err);
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                r = -err;
            }
        } else {
            r = -errno;
        }
        if (r == 0) {
            // The receive buffer lives outside the GC heap, as lwIP's pbufs do on the device.
            tp->buf = malloc(FS_POSIX_RXBUF_BYTES);
            if (tp->buf == NULL) {
                close(fd);
                r = -ENOMEM;
                break;
            }
            tp->fd = fd;
            break;
        }
        close(fd);
        if (r == -ETIMEDOUT) {
            break;
        }
    }
    freeaddrinfo(res);
    return r;
}

int fs_tp_write(fs_tp_t *tp, const uint8_t *buf, size_t len, uint32_t timeout_ms) {
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
        int r = wait_fd(tp->fd, POLLOUT, timeout_ms);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

// One recv() into dst, waiting up to timeout_ms for data.
static int recv_some(fs_tp_t *tp, uint8_t *dst, size_t len, uint32_t timeout_ms) {
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
        int r = wait_fd(tp->fd, POLLIN, timeout_ms);
        if (r < 0) {
            return r;
        }
    }
}

int fs_tp_fill(fs_tp_t *tp, uint32_t timeout_ms) {
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
    int n = recv_some(tp, tp->buf + tp->end, FS_POSIX_RXBUF_BYTES - tp->end, timeout_ms);
    if (n > 0) {
        tp->end += (uint32_t)n;
        if (tp->end > fs_tp_stats.peak_buffered) {
            fs_tp_stats.peak_buffered = tp->end;
        }
    }
    return n;
}

size_t fs_tp_segments(fs_tp_t *tp, fs_seg_t *segs, size_t max) {
    if (max == 0 || tp->end == tp->start) {
        return 0;
    }
    segs[0].ptr = tp->buf + tp->start;
    segs[0].len = tp->end - tp->start;
    return 1;
}

size_t fs_tp_buffered(const fs_tp_t *tp) {
    return tp->end - tp->start;
}

void fs_tp_consume(fs_tp_t *tp, size_t n) {
    tp->start += (uint32_t)n;
    if (tp->start == tp->end) {
        tp->start = tp->end = 0;
    }
}

int fs_tp_recv_into(fs_tp_t *tp, uint8_t *buf, size_t len, uint32_t timeout_ms) {
    if (tp->eof) {
        return 0;
    }
    return recv_some(tp, buf, len > INT32_MAX ? INT32_MAX : len, timeout_ms);
}

int fs_tp_readable(fs_tp_t *tp) {
    if (tp->end > tp->start || tp->eof) {
        return 1;
    }
    struct pollfd pfd = { .fd = tp->fd, .events = POLLIN };
    return poll(&pfd, 1, 0) > 0;
}

void fs_tp_close(fs_tp_t *tp) {
    if (tp->fd >= 0) {
        close(tp->fd);
    }
    free(tp->buf);
    fs_tp_init(tp);
}

int fs_tp_is_open(const fs_tp_t *tp) {
    return tp->fd >= 0;
}

#endif // !FS_TRANSPORT_LWIP
