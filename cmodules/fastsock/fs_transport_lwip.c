// SPDX-License-Identifier: MIT
// lwIP netconn transport (ESP32, and host builds over a real lwIP 2.1.3): received pbufs are
// queued as lwIP hands them over and read in place through fs_tp_ops.segments; the TCP window is
// reopened (netconn_tcp_recvd, NETCONN_NOAUTORCVD) only as the caller consumes, so memory per
// connection is bounded by TCP_WND. Every wait is a lwIP timeout of at most FS_WAIT_SLICE_MS with
// the GIL released, then fs_io_interrupted(): scheduled callbacks run, and Ctrl-C ends the wait,
// as in ports/esp32's own socket waits.
// Uses only the public netconn, pbuf, dns and tcpip APIs (netconn is thread-safe; raw tcp_*
// calls from this thread would not be with core locking off).
#if FS_TRANSPORT_LWIP

#include <string.h>

#include "py/mperrno.h"
#include "py/mpthread.h"

#include "lwip/api.h"
#include "lwip/dns.h"
#include "lwip/mem.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

#include "fs_transport.h"

// Connections being set up at once (across threads); more wait with EBUSY.
#ifndef FS_LWIP_MAX_CONNECTING
#define FS_LWIP_MAX_CONNECTING (8)
#endif

// Most bytes held unconsumed while the caller still asks for more (a head being parsed):
// beyond this a fill fails with ENOBUFS. One receive adds up to TCP_WND to the chain, whose
// tot_len is 16 bits, so a large window (the SPIRAM board's 46080) lowers the cap.
#define FS_LWIP_BUFFER_WANTED (FS_MAX_HEAD_BYTES + 16384)
#ifndef FS_LWIP_MAX_BUFFERED
#define FS_LWIP_MAX_BUFFERED                                                                       \
    (FS_LWIP_BUFFER_WANTED < 0xffff - TCP_WND ? FS_LWIP_BUFFER_WANTED : 0xffff - TCP_WND)
#endif
_Static_assert(FS_LWIP_MAX_BUFFERED + TCP_WND <= 0xffff, "pbuf chains are limited to 64 KB");
_Static_assert(FS_LWIP_MAX_BUFFERED >= FS_MAX_HEAD_BYTES + TCP_MSS, "a head at the limit must fit");

fs_tp_stats_t fs_tp_stats;

uint32_t fs_clock_ms(void) {
    return sys_now();
}

static int err_to_mp(err_t e) {
    switch (e) {
        case ERR_OK:
            return 0;
        case ERR_MEM:
        case ERR_BUF:
            return -MP_ENOMEM;
        case ERR_TIMEOUT:
        case ERR_WOULDBLOCK:
            return -MP_ETIMEDOUT;
        case ERR_RTE:
            return -MP_EHOSTUNREACH;
        case ERR_RST:
            return -MP_ECONNRESET;
        case ERR_ABRT:
            return -MP_ECONNABORTED;
        case ERR_CLSD:
        case ERR_CONN:
            return -MP_ENOTCONN;
        case ERR_ISCONN:
            return -MP_EISCONN;
        case ERR_USE:
            return -MP_EADDRINUSE;
        case ERR_ARG:
        case ERR_VAL:
            return -MP_EINVAL;
        default:
            return -MP_EIO;
    }
}

// ---- DNS: dns_gethostbyname in the tcpip thread, so the wait can be bounded and sliced.

enum { DNS_PENDING, DNS_FOUND, DNS_FAILED };

// Shared by the transport and lwIP's DNS callback; the last of the two to let go frees it.
struct fs_tp_dns {
    sys_sem_t done;
    ip_addr_t addr;
    uint8_t state;
    uint8_t refs;
    char name[];
};

static void dns_unref(struct fs_tp_dns *d) {
    SYS_ARCH_DECL_PROTECT(lev);
    SYS_ARCH_PROTECT(lev);
    int last = --d->refs == 0;
    SYS_ARCH_UNPROTECT(lev);
    if (last) {
        sys_sem_free(&d->done);
        mem_free(d);
    }
}

// tcpip thread: record the answer, wake the transport, let go.
static void dns_finish(struct fs_tp_dns *d, const ip_addr_t *addr) {
    if (addr != NULL) {
        ip_addr_copy(d->addr, *addr);
    }
    d->state = addr != NULL ? DNS_FOUND : DNS_FAILED;
    sys_sem_signal(&d->done);
    dns_unref(d);
}

static void dns_found(const char *name, const ip_addr_t *addr, void *arg) {
    (void)name;
    dns_finish(arg, addr);
}

static void dns_start(void *arg) {
    struct fs_tp_dns *d = arg;
    ip_addr_t addr;
#if LWIP_IPV4 && LWIP_IPV6
    err_t e = dns_gethostbyname_addrtype(d->name, &addr, dns_found, d, LWIP_DNS_ADDRTYPE_IPV4);
#else
    err_t e = dns_gethostbyname(d->name, &addr, dns_found, d);
#endif
    if (e == ERR_OK) {
        dns_finish(d, &addr);
    } else if (e != ERR_INPROGRESS) {
        dns_finish(d, NULL);
    }
}

// Resolve host (literal addresses without a lookup). 0, FS_TP_ERR_DNS, or -errno.
static int resolve(const char *host, fs_deadline_t deadline, ip_addr_t *out) {
    if (ipaddr_aton(host, out)) {
        return 0;
    }
    size_t len = strlen(host);
    if (len == 0 || len > DNS_MAX_NAME_LENGTH) {
        return FS_ERR_DNS;
    }
    struct fs_tp_dns *d = mem_malloc((mem_size_t)(sizeof(*d) + len + 1));
    if (d == NULL) {
        return -MP_ENOMEM;
    }
    memset(d, 0, sizeof(*d));
    memcpy(d->name, host, len + 1);
    if (sys_sem_new(&d->done, 0) != ERR_OK) {
        mem_free(d);
        return -MP_ENOMEM;
    }
    d->refs = 2;
    if (tcpip_callback(dns_start, d) != ERR_OK) {
        sys_sem_free(&d->done);
        mem_free(d);
        return -MP_ENOMEM;
    }
    // lwIP's DNS callback holds the other reference; an abandoned lookup lets go of ours.
    for (;;) {
        uint32_t ms = fs_deadline_slice(deadline, FS_WAIT_SLICE_MS);
        if (ms == 0 || fs_io_interrupted()) {
            dns_unref(d);
            return ms == 0 ? -MP_ETIMEDOUT : -MP_EINTR;
        }
        MP_THREAD_GIL_EXIT();
        u32_t r = sys_arch_sem_wait(&d->done, ms);
        MP_THREAD_GIL_ENTER();
        if (r != SYS_ARCH_TIMEOUT) {
            break;
        }
    }
    int ret = d->state == DNS_FOUND ? 0 : FS_ERR_DNS;
    if (ret == 0) {
        ip_addr_copy(*out, d->addr);
    }
    dns_unref(d);
    return ret;
}

// ---- Connect: non-blocking netconn_connect, completion reported through the netconn callback.

static struct {
    struct netconn *conn;
    int8_t status; // 0 in progress, 1 connected, < 0 failed (err_t)
} connecting[FS_LWIP_MAX_CONNECTING];

// XXX one semaphore for every connect in progress: with several threads connecting at once a
// wakeup may go to the wrong one, which then notices within FS_WAIT_SLICE_MS.
static sys_sem_t connect_event;

// tcpip thread: a connect finished (SENDPLUS with len 0) or the connection failed (ERROR).
static void netconn_event(struct netconn *conn, enum netconn_evt evt, u16_t len) {
    if (!(evt == NETCONN_EVT_ERROR || (evt == NETCONN_EVT_SENDPLUS && len == 0))) {
        return;
    }
    int hit = 0;
    SYS_ARCH_DECL_PROTECT(lev);
    SYS_ARCH_PROTECT(lev);
    for (int i = 0; i < FS_LWIP_MAX_CONNECTING; i++) {
        if (connecting[i].conn == conn && connecting[i].status == 0) {
            connecting[i].status = evt == NETCONN_EVT_ERROR ? -1 : 1;
            hit = 1;
        }
    }
    SYS_ARCH_UNPROTECT(lev);
    if (hit) {
        sys_sem_signal(&connect_event);
    }
}

// Claim a free connecting[] slot for conn; -1 if all are taken.
static int connecting_slot(struct netconn *conn) {
    int slot = -1;
    SYS_ARCH_DECL_PROTECT(lev);
    SYS_ARCH_PROTECT(lev);
    for (int i = 0; i < FS_LWIP_MAX_CONNECTING; i++) {
        if (connecting[i].conn == NULL) {
            connecting[i].conn = conn;
            connecting[i].status = 0;
            slot = i;
            break;
        }
    }
    SYS_ARCH_UNPROTECT(lev);
    return slot;
}

static int connecting_status(int slot) {
    SYS_ARCH_DECL_PROTECT(lev);
    SYS_ARCH_PROTECT(lev);
    int s = connecting[slot].status;
    SYS_ARCH_UNPROTECT(lev);
    return s;
}

static void connecting_release(struct netconn *conn) {
    SYS_ARCH_DECL_PROTECT(lev);
    SYS_ARCH_PROTECT(lev);
    for (int i = 0; i < FS_LWIP_MAX_CONNECTING; i++) {
        if (connecting[i].conn == conn) {
            connecting[i].conn = NULL;
        }
    }
    SYS_ARCH_UNPROTECT(lev);
}

static void tp_close(void *ctx);

void fs_tp_init(fs_tp_t *tp) {
    memset(tp, 0, sizeof(*tp));
}

static int tp_connect(void *ctx, const char *host, uint16_t port, fs_deadline_t deadline) {
    fs_tp_t *tp = ctx;
    ip_addr_t addr;
    int r = resolve(host, deadline, &addr);
    if (r != 0) {
        return r;
    }
    if (!sys_sem_valid(&connect_event) && sys_sem_new(&connect_event, 0) != ERR_OK) {
        return -MP_ENOMEM;
    }
#if LWIP_IPV6
    enum netconn_type type = IP_IS_V6(&addr) ? NETCONN_TCP_IPV6 : NETCONN_TCP;
#else
    enum netconn_type type = NETCONN_TCP;
#endif
    MP_THREAD_GIL_EXIT();
    struct netconn *conn = netconn_new_with_callback(type, netconn_event);
    MP_THREAD_GIL_ENTER();
    if (conn == NULL) {
        return -MP_ENOMEM;
    }
    // Owned by tp from here: every way out (error, deadline, Ctrl-C) goes through tp_close.
    tp->conn = conn;
    int slot = connecting_slot(conn);
    if (slot < 0) {
        tp_close(tp);
        return -MP_EBUSY;
    }
    netconn_set_nonblocking(conn, 1);
    MP_THREAD_GIL_EXIT();
    err_t e = netconn_connect(conn, &addr, port);
    MP_THREAD_GIL_ENTER();
    if (e == ERR_INPROGRESS) {
        for (;;) {
            int s = connecting_status(slot);
            if (s != 0) {
                e = s > 0 ? ERR_OK : ERR_RST;
                break;
            }
            uint32_t ms = fs_deadline_slice(deadline, FS_WAIT_SLICE_MS);
            if (ms == 0) {
                e = ERR_TIMEOUT;
                break;
            }
            if (fs_io_interrupted()) {
                tp_close(tp);
                return -MP_EINTR;
            }
            MP_THREAD_GIL_EXIT();
            u32_t w = sys_arch_sem_wait(&connect_event, ms);
            MP_THREAD_GIL_ENTER();
            (void)w;
        }
    }
    connecting_release(conn);
    if (e == ERR_RST) {
        // The stored error tells a refusal (RST) from a give-up (ABRT) or no route (RTE).
        err_t pending = netconn_err(conn);
        tp_close(tp);
        return pending == ERR_RST || pending == ERR_OK ? -MP_ECONNREFUSED : err_to_mp(pending);
    }
    if (e != ERR_OK) {
        tp_close(tp);
        return err_to_mp(e);
    }
    netconn_set_nonblocking(conn, 0);
    return 0;
}

static int tp_write(void *ctx, const uint8_t *buf, size_t len, fs_deadline_t deadline) {
    fs_tp_t *tp = ctx;
    if (tp->err) {
        return tp->err;
    }
    if (tp->conn == NULL) {
        return -MP_ENOTCONN;
    }
    while (len > 0) {
        uint32_t ms = fs_deadline_slice(deadline, FS_WAIT_SLICE_MS);
        if (ms == 0) {
            return -MP_ETIMEDOUT;
        }
        netconn_set_sendtimeout(tp->conn, (s32_t)ms);
        size_t written = 0;
        MP_THREAD_GIL_EXIT();
        err_t e = netconn_write_partly(tp->conn, buf, len, NETCONN_COPY, &written);
        MP_THREAD_GIL_ENTER();
        if (e != ERR_OK && e != ERR_WOULDBLOCK) {
            tp->err = (int16_t)err_to_mp(e);
            return tp->err;
        }
        buf += written;
        len -= written;
        if (written == 0 && fs_io_interrupted()) {
            return -MP_EINTR;
        }
    }
    return 0;
}

// Give k bytes of receive window back to the peer.
static void window_ack(fs_tp_t *tp, uint32_t k) {
    if (k == 0 || tp->conn == NULL) {
        return;
    }
    MP_THREAD_GIL_EXIT();
    netconn_tcp_recvd(tp->conn, k);
    MP_THREAD_GIL_ENTER();
    tp->unacked -= k;
}

// Bytes in the first FS_MAX_SEGMENTS pbufs: what the head parser sees at once.
static uint32_t parser_view(const struct pbuf *p) {
    uint32_t bytes = 0;
    for (size_t i = 0; p != NULL && i < FS_MAX_SEGMENTS; p = p->next, i++) {
        bytes += p->len;
    }
    return bytes;
}

// Queue a received chain behind the unconsumed bytes (no copy).
static void take(fs_tp_t *tp, struct pbuf *p) {
    uint32_t n = p->tot_len;
    if (tp->rx == NULL) {
        tp->rx = p;
    } else {
        pbuf_cat(tp->rx, p);
    }
    // A peer sending tiny segments (a trickled head) would leave the parser, which sees
    // FS_MAX_SEGMENTS at a time, short of a head at the limit: copy such a chain into one pbuf.
    // A window of full-size segments (16 x MSS on the board) holds more than a head: no copy.
    if (pbuf_clen(tp->rx) >= FS_MAX_SEGMENTS && parser_view(tp->rx) < FS_MAX_HEAD_BYTES) {
        tp->rx = pbuf_coalesce(tp->rx, PBUF_RAW);
        fs_tp_stats.bytes_copied += tp->rx->tot_len;
    }
    tp->buffered += n;
    tp->unacked += n;
    fs_tp_stats.bytes_received += n;
    if (tp->buffered > fs_tp_stats.peak_buffered) {
        fs_tp_stats.peak_buffered = tp->buffered;
    }
}

// A receive ended without data: end of stream (returns 0) or a sticky error.
static int recv_failed(fs_tp_t *tp, err_t e) {
    if (e == ERR_CLSD) {
        tp->eof = 1;
        return 0;
    }
    tp->err = (int16_t)err_to_mp(e);
    return tp->err;
}

// Take what lwIP has already queued, without waiting; returns the bytes taken.
static uint32_t take_queued(fs_tp_t *tp) {
    uint32_t got = 0;
    while (!tp->eof && !tp->err && tp->buffered < FS_LWIP_MAX_BUFFERED) {
        struct pbuf *p = NULL;
        MP_THREAD_GIL_EXIT();
        err_t e = netconn_recv_tcp_pbuf_flags(tp->conn, &p, NETCONN_NOAUTORCVD | NETCONN_DONTBLOCK);
        MP_THREAD_GIL_ENTER();
        if (e != ERR_OK) {
            if (e != ERR_WOULDBLOCK) {
                recv_failed(tp, e);
            }
            break;
        }
        got += p->tot_len;
        take(tp, p);
    }
    return got;
}

static int tp_fill(void *ctx, fs_deadline_t deadline) {
    fs_tp_t *tp = ctx;
    if (tp->eof) {
        return 0;
    }
    if (tp->err) {
        return tp->err;
    }
    if (tp->conn == NULL) {
        return -MP_ENOTCONN;
    }
    if (tp->buffered >= FS_LWIP_MAX_BUFFERED) {
        return -MP_ENOBUFS;
    }
    // The caller needs more than it holds (e.g. a long head): reopen the window for the held bytes.
    window_ack(tp, tp->unacked);
    for (;;) {
        uint32_t ms = fs_deadline_slice(deadline, FS_WAIT_SLICE_MS);
        if (ms == 0) {
            return -MP_ETIMEDOUT;
        }
        netconn_set_recvtimeout(tp->conn, (int)ms);
        struct pbuf *p = NULL;
        MP_THREAD_GIL_EXIT();
        err_t e = netconn_recv_tcp_pbuf_flags(tp->conn, &p, NETCONN_NOAUTORCVD);
        MP_THREAD_GIL_ENTER();
        if (e == ERR_OK) {
            uint32_t n = p->tot_len;
            take(tp, p);
            // After loss lwIP releases several segments at once: take them in one go.
            n += take_queued(tp);
            return (int)n;
        }
        if (e != ERR_TIMEOUT && e != ERR_WOULDBLOCK) {
            return recv_failed(tp, e);
        }
        if (fs_io_interrupted()) {
            return -MP_EINTR;
        }
    }
}

static size_t tp_segments(void *ctx, fs_seg_t *segs, size_t max) {
    fs_tp_t *tp = ctx;
    size_t n = 0;
    for (struct pbuf *q = tp->rx; q != NULL && n < max; q = q->next) {
        if (q->len > 0) {
            segs[n].ptr = q->payload;
            segs[n].len = q->len;
            n++;
        }
    }
    return n;
}

static size_t tp_buffered(const void *ctx) {
    const fs_tp_t *tp = ctx;
    return tp->buffered;
}

static void tp_consume(void *ctx, size_t n) {
    fs_tp_t *tp = ctx;
    if (n == 0 || tp->rx == NULL) {
        return;
    }
    // Frees the pbufs wholly consumed and advances the payload of the first one left.
    tp->rx = pbuf_free_header(tp->rx, (u16_t)n);
    tp->buffered -= (uint32_t)n;
    // Consumed bytes still counted against the window are the unacked ones beyond `buffered`;
    // return them in batches (lwIP only sends a window update from this much on anyway).
    uint32_t owed = tp->unacked > tp->buffered ? tp->unacked - tp->buffered : 0;
    if (owed >= TCP_WND_UPDATE_THRESHOLD || (tp->buffered == 0 && owed > 0)) {
        window_ack(tp, owed);
    }
}

static int tp_recv_into(void *ctx, uint8_t *buf, size_t len, fs_deadline_t deadline) {
    (void)ctx;
    (void)buf;
    (void)len;
    (void)deadline;
    return FS_ERR_NO_RECV_INTO;
}

static int tp_readable(void *ctx) {
    fs_tp_t *tp = ctx;
    if (tp->buffered > 0 || tp->eof || tp->err || tp->conn == NULL) {
        return 1;
    }
    take_queued(tp);
    return tp->buffered > 0 || tp->eof || tp->err;
}

static void tp_close(void *ctx) {
    fs_tp_t *tp = ctx;
    if (tp->rx != NULL) {
        pbuf_free(tp->rx);
        tp->rx = NULL;
    }
    if (tp->conn != NULL) {
        connecting_release(tp->conn);
        // All consumed: return the window so lwIP closes with FIN rather than RST.
        if (tp->unacked > 0 && tp->buffered == 0 && !tp->err) {
            window_ack(tp, tp->unacked);
        }
        // Close explicitly first (as lwIP's own lwip_close does): with FULLDUPLEX, a FIN already
        // received marks the mailbox invalid and netconn_delete alone would skip the close.
        MP_THREAD_GIL_EXIT();
        netconn_prepare_delete(tp->conn);
        netconn_delete(tp->conn);
        MP_THREAD_GIL_ENTER();
    }
    fs_tp_init(tp);
}

int fs_tp_is_open(const fs_tp_t *tp) {
    return tp->conn != NULL;
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

#endif // FS_TRANSPORT_LWIP
