// SPDX-License-Identifier: MIT
// Response heads and bodies over a connection's stream (fs_io.h): the head is parsed in place
// over the segments, body runs are handed out of the receive buffers without a copy.
#include <stdio.h>
#include <string.h>

#include "py/mperrno.h"
#include "py/runtime.h"

#include "fs_body.h"
#include "fs_exc.h"
#include "fs_headers.h"

// Wait for more bytes for the current exchange.
static int fill(fs_conn_obj_t *c) {
    int r;
    do {
        // Each wait gets the read timeout afresh (bounded: FS_ERR_AGAIN is rationed by the layer).
        r = c->io.ops->fill(c->io.ctx, fs_conn_deadline(c, c->read_ms));
    } while (r == FS_ERR_AGAIN);
    return fs_conn_code(c, r);
}

// Head done: set up the body's framing; a body-less response is complete at once.
static void body_start(fs_conn_obj_t *c) {
    const fs_head_t *h = &c->head;
    c->body_kind = h->body_kind;
    c->keep_alive = h->keep_alive;
    c->body_left = h->content_length;
    c->body_read = 0;
    c->run_left = 0;
    fs_chunked_init(&c->chunk);
    bool empty =
        h->body_kind == FS_BODY_NONE || (h->body_kind == FS_BODY_LENGTH && h->content_length == 0);
    c->state = empty ? FS_CONN_DONE : FS_CONN_BODY;
}

mp_obj_t fs_body_read_head(fs_conn_obj_t *c, bool head_request) {
    fs_head_init(&c->head, head_request);
    fs_hdr_t hdrs[FS_MAX_HEADERS];
    char stack_scratch[FS_SCRATCH_BYTES];
    char *scratch = stack_scratch;
    size_t scratch_len = sizeof(stack_scratch);
    fs_seg_t segs[FS_MAX_SEGMENTS];
    int consumed;
    for (;;) {
        size_t nsegs = c->io.ops->segments(c->io.ctx, segs, FS_MAX_SEGMENTS);
        c->rx_started |= nsegs > 0;
        consumed =
            nsegs ? fs_head_parse(&c->head, segs, nsegs, hdrs, FS_MAX_HEADERS, scratch, scratch_len)
                  : FS_INCOMPLETE;
        if (consumed == FS_ERR_SCRATCH && scratch == stack_scratch) {
            // Long fields straddle segments (lwIP): heap scratch only for such heads.
            scratch_len = FS_HEAD_SCRATCH_ENOUGH;
            scratch = m_new(char, scratch_len);
            continue;
        }
        if (consumed != FS_INCOMPLETE) {
            break;
        }
        // Skipped 1xx heads are done with: free their bytes before waiting for more.
        size_t skipped = fs_head_drop_interim(&c->head);
        if (skipped) {
            c->io.ops->consume(c->io.ctx, skipped);
        }
        int r = fill(c);
        if (r == 0 || r == FS_ERR_TLS_TRUNCATED) {
            if (!c->rx_started) {
                fs_conn_raise(c, FS_ERR_CLOSED_BEFORE_HEAD,
                              c->requests > 1 ? "connection closed before the response head "
                                                "(stale keep-alive connection)"
                                              : "connection closed before the response head");
            }
            fs_conn_raise(c, FS_ERR_CLOSED_IN_HEAD,
                          "connection closed in the middle of the response head");
        }
        if (r == -MP_ENOBUFS) {
            // The receive buffers hold less than a head at the limit (a smaller build option).
            fs_conn_raise(c, FS_ERR_HEAD_TOO_LARGE, "read");
        }
        if (r < 0) {
            fs_conn_raise(c, r, "read");
        }
    }
    if (consumed < 0) {
        fs_conn_raise(c, consumed, "read");
    }
    const fs_head_t *h = &c->head;
    mp_obj_t packed = fs_headers_pack(h->reason, h->reason_len, hdrs, h->num_headers);
    if (scratch != stack_scratch) {
        m_del(char, scratch, scratch_len);
    }
    // Slices into the segments are dead from here: the head bytes are released.
    c->io.ops->consume(c->io.ctx, (size_t)consumed);
    body_start(c);
    return packed;
}

// The body's end by its framing (the counts stop; the connection may be reused).
static int body_done(fs_conn_obj_t *c) {
    c->state = FS_CONN_DONE;
    return 0;
}

// The stream ended (r: 0 or FS_ERR_TLS_TRUNCATED): the end of a close-delimited body, or a
// truncation.
static int body_eof(fs_conn_obj_t *c, int r) {
    if (c->body_kind == FS_BODY_CLOSE && r == 0) {
        c->keep_alive = 0;
        return body_done(c);
    }
    return c->body_kind == FS_BODY_CLOSE ? FS_ERR_TLS_TRUNCATED : FS_ERR_TRUNCATED;
}

int fs_body_peek(fs_conn_obj_t *c, const uint8_t **ptr, bool wait) {
    for (;;) {
        if (c->state != FS_CONN_BODY) {
            return c->state == FS_CONN_DONE ? 0 : -MP_ENOTCONN;
        }
        fs_seg_t seg;
        if (c->io.ops->segments(c->io.ctx, &seg, 1)) {
            size_t run = seg.len;
            if (c->body_kind == FS_BODY_LENGTH && run > c->body_left) {
                run = (size_t)c->body_left;
            } else if (c->body_kind == FS_BODY_CHUNKED) {
                if (c->run_left == 0) {
                    // Step over framing until a run of body bytes or the end.
                    size_t off, len;
                    int n = fs_chunked_step(&c->chunk, seg.ptr, seg.len, &off, &len);
                    if (n < 0) {
                        return n;
                    }
                    // Framing is dropped at once; a run of body bytes stays until handed out.
                    c->io.ops->consume(c->io.ctx, len ? off : (size_t)n);
                    c->run_left = len;
                    if (len == 0 && c->chunk.done) {
                        return body_done(c);
                    }
                    if (len || n) {
                        continue;
                    }
                    goto more;
                }
                run = run < c->run_left ? run : c->run_left;
            }
            *ptr = seg.ptr;
            return (int)(run > INT32_MAX ? INT32_MAX : run);
        }
    more:
        // Nothing usable buffered: wait for more, if allowed.
        if (!wait && !c->io.ops->readable(c->io.ctx)) {
            return -MP_EAGAIN;
        }
        int r = fill(c);
        if (r == 0 || r == FS_ERR_TLS_TRUNCATED) {
            return body_eof(c, r);
        }
        if (r < 0) {
            return r;
        }
    }
}

void fs_body_consume(fs_conn_obj_t *c, size_t n) {
    c->io.ops->consume(c->io.ctx, n);
    c->body_read += n;
    if (c->body_kind == FS_BODY_LENGTH) {
        c->body_left -= n;
        if (c->body_left == 0) {
            body_done(c);
        }
    } else if (c->body_kind == FS_BODY_CHUNKED) {
        c->run_left -= n;
    }
}

// Large reads with nothing buffered bypass the receive buffer (POSIX; lwIP only lends its
// own buffers): recv() lands in the caller's memory directly.
#define DIRECT_MIN (2048)

int fs_body_read(fs_conn_obj_t *c, uint8_t *buf, size_t len) {
    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    if (len == 0 || c->state == FS_CONN_DONE) {
        return 0;
    }
#if !FS_TRANSPORT_LWIP
    if (c->state == FS_CONN_BODY && c->body_kind == FS_BODY_LENGTH && len >= DIRECT_MIN &&
        c->io.ops->buffered(c->io.ctx) == 0) {
        size_t want = len < c->body_left ? len : (size_t)c->body_left;
        int n = c->io.ops->recv_into(c->io.ctx, buf, want, fs_conn_deadline(c, c->read_ms));
        if (n > 0) {
            c->body_read += (size_t)n;
            c->body_left -= (size_t)n;
            if (c->body_left == 0) {
                body_done(c);
            }
            return n;
        }
        if (n == 0) {
            return FS_ERR_TRUNCATED;
        }
        if (n != FS_ERR_NO_RECV_INTO) {
            return fs_conn_code(c, n);
        }
    }
#endif
    const uint8_t *p;
    int avail = fs_body_peek(c, &p, true);
    if (avail <= 0) {
        return avail;
    }
    size_t n = (size_t)avail < len ? (size_t)avail : len;
    memcpy(buf, p, n);
    fs_stats.bytes_copied += n;
    fs_body_consume(c, n);
    return (int)n;
}

mp_obj_t fs_body_error(fs_conn_obj_t *c, int code) {
    char msg[112], got[21], want[21];
    const char *what = "read";
    fs_u64_dec(got, c->body_read);
    if (code == FS_ERR_TRUNCATED && c->body_kind == FS_BODY_LENGTH) {
        fs_u64_dec(want, c->body_read + c->body_left);
        snprintf(msg, sizeof(msg), "connection closed after %s of %s body bytes", got, want);
        what = msg;
    } else if (code == FS_ERR_TRUNCATED) {
        snprintf(msg, sizeof(msg), "connection closed before the last chunk (%s body bytes read)",
                 got);
        what = msg;
    } else if (code == FS_ERR_TLS_TRUNCATED) {
        snprintf(msg, sizeof(msg),
                 "TLS connection closed without close_notify after %s body bytes "
                 "(the body may be truncated)",
                 got);
        what = msg;
    }
#if FS_TLS
    return fs_exc_make(code, what, c->tls);
#else
    return fs_exc_make(code, what, NULL);
#endif
}
