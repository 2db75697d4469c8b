// SPDX-License-Identifier: MIT
// Unit tests for the HTTP engine (fs_http.c). Every input is placed at the end of a page
// followed by a PROT_NONE page, so any over-read crashes; every input is fed whole, growing
// byte by byte (one segment and a chain of 1-byte segments), split at every position, and
// as seeded random chains, and all ways must give the same result.
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fs_http.h"

_Static_assert(sizeof(fs_head_t) <= 64, "fs_head_t must stay small");
_Static_assert(sizeof(fs_chunked_t) <= 64, "fs_chunked_t must stay small");

static int g_failures;
static int g_checks;
static size_t g_page;
static uint64_t g_rng = 0x9e3779b97f4a7c15u;

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    g_failures++;
}

static uint32_t rnd(uint32_t n) {
    // xorshift64*: seeded, so every run tests the same chains
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (uint32_t)((g_rng * 2685821657736338717u) >> 33) % (n ? n : 1);
}

// ---- guarded buffers -------------------------------------------------------------------

typedef struct {
    uint8_t *map;
    size_t pages; // readable pages before the guard page
    const uint8_t *ptr;
} guard_t;

// Mappings are recycled (per size) so the tests cost no system calls once warm.
#define POOL_SIZES 8
#define POOL_DEPTH 4096
static uint8_t *g_pool[POOL_SIZES][POOL_DEPTH];
static size_t g_pool_n[POOL_SIZES];

// Copy data so that its last byte is the last readable byte before a PROT_NONE page.
static const uint8_t *guard_copy(guard_t *g, const void *data, size_t len) {
    size_t pages = (len + g_page - 1) / g_page;
    if (pages == 0) {
        pages = 1;
    }
    g->pages = pages;
    if (pages < POOL_SIZES && g_pool_n[pages]) {
        g->map = g_pool[pages][--g_pool_n[pages]];
    } else {
        g->map = mmap(NULL, (pages + 1) * g_page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (g->map == MAP_FAILED || mprotect(g->map + pages * g_page, g_page, PROT_NONE)) {
            perror("mmap/mprotect");
            exit(2);
        }
    }
    uint8_t *dst = g->map + pages * g_page - len;
    if (len) {
        memcpy(dst, data, len);
    }
    g->ptr = dst;
    return dst;
}

static void guard_free(guard_t *g) {
    if (g->pages < POOL_SIZES && g_pool_n[g->pages] < POOL_DEPTH) {
        g_pool[g->pages][g_pool_n[g->pages]++] = g->map;
    } else {
        munmap(g->map, (g->pages + 1) * g_page);
    }
}

// ---- head results ----------------------------------------------------------------------

#define RESULT_CAP 65536
#define MAX_HDRS 256
#define SCRATCH_CAP 20000
// head_opts_t.scratch_len: parse as fs_body.c ships it (see parse_chain).
#define SHIPPED 0

typedef struct {
    size_t max_headers;
    size_t scratch_len;
    int head_request;
} head_opts_t;

static void put(char *out, size_t *n, const char *s, size_t len) {
    if (*n + len + 1 < RESULT_CAP) {
        memcpy(out + *n, s, len);
        *n += len;
        out[*n] = 0;
    }
}

// Canonical text of one parse result, so results of different feeds compare with strcmp.
static void head_result(char *out, int r, const fs_head_t *h, const fs_hdr_t *hd) {
    char tmp[256];
    size_t n = 0;
    out[0] = 0;
    if (r <= 0) {
        snprintf(out, RESULT_CAP, "E%d", r);
        return;
    }
    snprintf(tmp, sizeof tmp,
             "OK c=%d st=%u v=1.%u body=%u ka=%u cl=%llu interim=%u n=%u reason=", r, h->status,
             h->minor_version, h->body_kind, h->keep_alive, (unsigned long long)h->content_length,
             h->interim, h->num_headers);
    put(out, &n, tmp, strlen(tmp));
    put(out, &n, h->reason, h->reason_len);
    for (unsigned i = 0; i < h->num_headers; i++) {
        put(out, &n, "|", 1);
        put(out, &n, hd[i].name, hd[i].name_len);
        put(out, &n, "=", 1);
        put(out, &n, hd[i].value, hd[i].value_len);
    }
}

// SHIPPED: fs_body_read_head's protocol with the shipped limits: FS_SCRATCH_BYTES first, and on
// FS_ERR_SCRATCH the same parse again with FS_HEAD_SCRATCH_ENOUGH. Any other scratch_len:
// exactly that much.
static int parse_chain(fs_head_t *h, const fs_seg_t *segs, size_t nsegs, const head_opts_t *o,
                       fs_hdr_t *hd, char *scratch) {
    if (o->scratch_len != SHIPPED) {
        return fs_head_parse(h, segs, nsegs, hd, o->max_headers, scratch, o->scratch_len);
    }
    int r = fs_head_parse(h, segs, nsegs, hd, o->max_headers, scratch, FS_SCRATCH_BYTES);
    if (r == FS_ERR_SCRATCH) {
        r = fs_head_parse(h, segs, nsegs, hd, o->max_headers, scratch, FS_HEAD_SCRATCH_ENOUGH);
    }
    return r;
}

static fs_hdr_t g_hdrs[MAX_HDRS];
static char g_scratch[SCRATCH_CAP];
static char g_ref[RESULT_CAP];
static char g_got[RESULT_CAP];

static void compare(const char *name, const char *mode, size_t arg) {
    g_checks++;
    if (strcmp(g_ref, g_got) != 0) {
        fail("%s: mode %s (%zu) differs:\n  whole: %.300s\n  got:   %.300s", name, mode, arg, g_ref,
             g_got);
    }
}

// Feed `in` every way; the whole-input result goes to g_ref.
static void head_all_modes(const char *name, const uint8_t *in, size_t len, const head_opts_t *o) {
    fs_head_t h;
    guard_t g;
    fs_seg_t seg;
    int r;

    // Whole input, one segment.
    seg.ptr = guard_copy(&g, in, len);
    seg.len = len;
    fs_head_init(&h, o->head_request);
    r = parse_chain(&h, &seg, 1, o, g_hdrs, g_scratch);
    head_result(g_ref, r, &h, g_hdrs);
    guard_free(&g);

    // Growing single segment: each prefix in its own guarded copy.
    fs_head_init(&h, o->head_request);
    r = FS_INCOMPLETE;
    for (size_t k = 0; k <= len && r == FS_INCOMPLETE; k++) {
        seg.ptr = guard_copy(&g, in, k);
        seg.len = k;
        r = parse_chain(&h, &seg, 1, o, g_hdrs, g_scratch);
        head_result(g_got, r, &h, g_hdrs);
        guard_free(&g);
    }
    compare(name, "growing segment", 0);

    // Growing chain of 1-byte segments.
    fs_seg_t *segs = calloc(len + 1, sizeof *segs);
    guard_t *gs = calloc(len + 1, sizeof *gs);
    fs_head_init(&h, o->head_request);
    r = parse_chain(&h, segs, 0, o, g_hdrs, g_scratch);
    size_t made = 0;
    for (size_t k = 0; k < len && r == FS_INCOMPLETE; k++) {
        segs[k].ptr = guard_copy(&gs[k], in + k, 1);
        segs[k].len = 1;
        made = k + 1;
        r = parse_chain(&h, segs, k + 1, o, g_hdrs, g_scratch);
    }
    head_result(g_got, r, &h, g_hdrs);
    compare(name, "1-byte chain", 0);
    for (size_t k = 0; k < made; k++) {
        guard_free(&gs[k]);
    }

    // Split at every position into two segments, parsed in one call.
    for (size_t s = 1; s < len; s++) {
        guard_t g2;
        fs_seg_t two[2];
        two[0].ptr = guard_copy(&g, in, s);
        two[0].len = s;
        two[1].ptr = guard_copy(&g2, in + s, len - s);
        two[1].len = len - s;
        fs_head_init(&h, o->head_request);
        r = parse_chain(&h, two, 2, o, g_hdrs, g_scratch);
        head_result(g_got, r, &h, g_hdrs);
        compare(name, "2 segments split at", s);
        guard_free(&g);
        guard_free(&g2);
    }

    // Seeded random chains (with empty segments), fed as they grow.
    for (int iter = 0; iter < 24; iter++) {
        size_t nseg = 0, pos = 0;
        fs_head_init(&h, o->head_request);
        r = FS_INCOMPLETE;
        while (pos < len && r == FS_INCOMPLETE) {
            size_t piece = rnd(5) == 0 ? 0 : 1 + rnd(iter < 12 ? 8 : 200);
            if (piece > len - pos) {
                piece = len - pos;
            }
            segs[nseg].ptr = guard_copy(&gs[nseg], in + pos, piece);
            segs[nseg].len = piece;
            nseg++;
            pos += piece;
            if (nseg == len + 1 && pos < len) {
                break; // out of slots (only with many empty pieces); stop feeding
            }
            if (rnd(3) != 0 || pos == len) {
                r = parse_chain(&h, segs, nseg, o, g_hdrs, g_scratch);
            }
        }
        if (pos == len || r != FS_INCOMPLETE) {
            head_result(g_got, r, &h, g_hdrs);
            compare(name, "random chain", (size_t)iter);
        }
        for (size_t k = 0; k < nseg; k++) {
            guard_free(&gs[k]);
        }
    }
    free(segs);
    free(gs);
}

// ---- head cases --------------------------------------------------------------------------

enum { OK = 1 };

typedef struct {
    const char *name;
    const char *in;
    size_t body; // bytes after the head (OK cases: consumed = len - body)
    int expect;  // OK or an FS_* code
    int status;  // OK cases
    int body_kind;
    int keep_alive;
    long long cl; // -1: don't check
    int nhdr;     // -1: don't check
    int head_request;
} head_case_t;

#define NG 0, 0, 0, -1, -1, 0 // filler for error cases

// clang-format off: one case per line reads better than wrapped initializers
static const head_case_t k_heads[] = {
    { "simple", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 5, OK, 200, FS_BODY_LENGTH, 1,
      5, 1, 0 },
    { "nginx",
      "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Thu, 27 Nov 2025 10:00:00 GMT\r\n"
      "Content-Type: text/html\r\nContent-Length: 615\r\nLast-Modified: Tue, 11 Apr 2023 "
      "01:45:34 GMT\r\nConnection: keep-alive\r\nETag: \"6434bbbe-267\"\r\nAccept-Ranges: "
      "bytes\r\n\r\n",
      0, OK, 200, FS_BODY_LENGTH, 1, 615, 8, 0 },
    { "http10 close", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc", 3, OK, 200, FS_BODY_LENGTH,
      0, 3, 1, 0 },
    { "http10 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 3\r\n\r\n",
      0, OK, 200, FS_BODY_LENGTH, 1, 3, 2, 0 },
    { "http10 no length", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nrest", 4, OK, 200,
      FS_BODY_CLOSE, 0, 0, 1, 0 },
    { "http11 close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 0, OK,
      200, FS_BODY_LENGTH, 0, 0, 2, 0 },
    { "connection list",
      "HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n", 0, OK, 200,
      FS_BODY_LENGTH, 0, 0, 2, 0 },
    { "close beats keep-alive",
      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
      0, OK, 200, FS_BODY_LENGTH, 0, 1, 3, 0 },
    { "no reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 0, OK, 200, FS_BODY_LENGTH, 1, 0, 1,
      0 },
    { "empty reason", "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", 0, OK, 404, FS_BODY_LENGTH, 1,
      0, 1, 0 },
    { "odd reason", "HTTP/1.1 200 It\tis  fine \xe9\xff\r\nContent-Length: 0\r\n\r\n", 0, OK, 200,
      FS_BODY_LENGTH, 1, 0, 1, 0 },
    { "bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\nX: y\n\nhi", 2, OK, 200, FS_BODY_LENGTH, 1, 2,
      2, 0 },
    { "mixed line ends", "HTTP/1.1 200 OK\r\nContent-Length: 2\nX: y\r\n\nhi", 2, OK, 200,
      FS_BODY_LENGTH, 1, 2, 2, 0 },
    { "LF CRLF end", "HTTP/1.1 200 OK\nContent-Length: 2\n\r\nhi", 2, OK, 200, FS_BODY_LENGTH, 1, 2,
      1, 0 },
    { "chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 15,
      OK, 200, FS_BODY_CHUNKED, 1, 0, 1, 0 },
    { "chunked case", "HTTP/1.1 200 OK\r\ntransfer-encoding:   ChUnKeD  \r\n\r\n", 0, OK, 200,
      FS_BODY_CHUNKED, 1, 0, 1, 0 },
    { "chunked empty elements", "HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked,\r\n\r\n", 0, OK,
      200, FS_BODY_CHUNKED, 1, 0, 1, 0 },
    { "chunked wins over length",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n", 0, OK, 200,
      FS_BODY_CHUNKED, 0, 10, 2, 0 },
    { "chunked in 1.0",
      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", 0, OK, 200,
      FS_BODY_CHUNKED, 0, 0, 2, 0 },
    { "te gzip chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0,
      FS_ERR_UNSUPPORTED, NG },
    { "te gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0, FS_ERR_UNSUPPORTED, NG },
    { "te chunked gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 0,
      FS_ERR_UNSUPPORTED, NG },
    { "te chunked twice",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
      FS_ERR_UNSUPPORTED, NG },
    { "te params", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 0,
      FS_ERR_UNSUPPORTED, NG },
    { "te empty", "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", 0, FS_ERR_UNSUPPORTED, NG },
    { "te gzip on 204", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip\r\n\r\n", 0, OK, 204,
      FS_BODY_NONE, 1, 0, 1, 0 },
    { "te gzip on HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0, OK, 200,
      FS_BODY_NONE, 1, 0, 1, 1 },
    { "close delimited", "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall the rest", 12, OK, 200,
      FS_BODY_CLOSE, 0, 0, 1, 0 },
    { "204", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", 0, OK, 204, FS_BODY_NONE, 1, 7,
      1, 0 },
    { "304", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 100\r\n\r\n", 0, OK, 304,
      FS_BODY_NONE, 1, 100, 2, 0 },
    { "304 chunked", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", 0, OK, 304,
      FS_BODY_NONE, 1, 0, 1, 0 },
    { "HEAD length", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 0, OK, 200, FS_BODY_NONE, 1,
      1000, 1, 1 },
    { "HEAD chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, OK, 200,
      FS_BODY_NONE, 1, 0, 1, 1 },
    { "HEAD nothing", "HTTP/1.1 200 OK\r\n\r\n", 0, OK, 200, FS_BODY_NONE, 1, 0, 0, 1 },
    { "100 continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
      2, OK, 200, FS_BODY_LENGTH, 1, 2, 1, 0 },
    { "103 early hints",
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
      0, OK, 200, FS_BODY_LENGTH, 1, 0, 1, 0 },
    { "1xx bare LF", "HTTP/1.1 102 Processing\n\nHTTP/1.1 201 Created\nContent-Length: 0\n\n", 0,
      OK, 201, FS_BODY_LENGTH, 1, 0, 1, 0 },
    { "8 interim",
      "HTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\n"
      "HTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
      0, OK, 200, FS_BODY_LENGTH, 1, 0, 1, 0 },
    { "9 interim",
      "HTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\n"
      "HTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\n"
      "HTTP/1.1 100 A\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
      0, FS_ERR_TOO_MANY_INTERIM, NG },
    { "interim then garbage", "HTTP/1.1 100 Continue\r\n\r\nXTTP/1.1 200 OK\r\n\r\n", 0,
      FS_ERR_SYNTAX, NG },
    { "interim then partial", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0, FS_INCOMPLETE,
      NG },
    { "101",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframes",
      6, OK, 101, FS_BODY_NONE, 0, 0, 2, 0 },
    { "length list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5 ,5\r\n\r\n", 0, OK, 200,
      FS_BODY_LENGTH, 1, 5, 1, 0 },
    { "length repeated", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length:5\r\n\r\n", 0, OK,
      200, FS_BODY_LENGTH, 1, 5, 2, 0 },
    { "length OWS", "HTTP/1.1 200 OK\r\nContent-Length: \t 42 \t\r\n\r\n", 0, OK, 200,
      FS_BODY_LENGTH, 1, 42, 1, 0 },
    { "length zero padded", "HTTP/1.1 200 OK\r\nContent-Length: 0007\r\n\r\n", 0, OK, 200,
      FS_BODY_LENGTH, 1, 7, 1, 0 },
    { "length max", "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n", 0, OK, 200,
      FS_BODY_LENGTH, 1, -1, 1, 0 },
    { "length overflow", "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", 0,
      FS_ERR_BAD_LENGTH, NG },
    { "length overflow big", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
      0, FS_ERR_BAD_LENGTH, NG },
    { "length conflict", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 0,
      FS_ERR_BAD_LENGTH, NG },
    { "length list conflict", "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", 0,
      FS_ERR_BAD_LENGTH, NG },
    { "length list empty", "HTTP/1.1 200 OK\r\nContent-Length: 5,,5\r\n\r\n", 0, FS_ERR_BAD_LENGTH,
      NG },
    { "length empty", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 0, FS_ERR_BAD_LENGTH, NG },
    { "length letters", "HTTP/1.1 200 OK\r\nContent-Length: 5a\r\n\r\n", 0, FS_ERR_BAD_LENGTH, NG },
    { "length negative", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, FS_ERR_BAD_LENGTH,
      NG },
    { "length plus", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n", 0, FS_ERR_BAD_LENGTH, NG },
    { "length inner space", "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", 0, FS_ERR_BAD_LENGTH,
      NG },
    { "length on HEAD still checked", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 0,
      FS_ERR_BAD_LENGTH, 0, 0, 0, -1, -1, 1 },
    { "empty value", "HTTP/1.1 200 OK\r\nX-Empty:\r\nY:   \r\nContent-Length: 0\r\n\r\n", 0, OK,
      200, FS_BODY_LENGTH, 1, 0, 3, 0 },
    { "tab in value", "HTTP/1.1 200 OK\r\nX: a\tb\t\r\nContent-Length: 0\r\n\r\n", 0, OK, 200,
      FS_BODY_LENGTH, 1, 0, 2, 0 },
    { "all tchars", "HTTP/1.1 200 OK\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n", 0, OK, 200,
      FS_BODY_CLOSE, 0, 0, 1, 0 },
    { "obs-text value", "HTTP/1.1 200 OK\r\nX: caf\xc3\xa9 \x80\xff\r\n\r\n", 0, OK, 200,
      FS_BODY_CLOSE, 0, 0, 1, 0 },
    { "long value",
      "HTTP/1.1 200 OK\r\nSet-Cookie: "
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"
      " "
      "Path=/; HttpOnly\r\n\r\n",
      0, OK, 200, FS_BODY_CLOSE, 0, 0, 1, 0 },
    { "obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n  folded\r\nContent-Length: 0\r\n\r\n", 0,
      FS_ERR_SYNTAX, NG },
    { "obs-fold tab", "HTTP/1.1 200 OK\r\nX: a\r\n\tfolded\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "space first header", "HTTP/1.1 200 OK\r\n X: a\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "no colon", "HTTP/1.1 200 OK\r\nJunk\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "empty name", "HTTP/1.1 200 OK\r\n: x\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "bad name char", "HTTP/1.1 200 OK\r\nX(y): z\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "high name char", "HTTP/1.1 200 OK\r\nX\xe9: z\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "DEL in value", "HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "ctl in value", "HTTP/1.1 200 OK\r\nX: a\x01z\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "esc in value", "HTTP/1.1 200 OK\r\nX: 0123456789abcdef\x1b\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "bare CR in value", "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "bare CR line", "HTTP/1.1 200 OK\r\n\rX: y\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "CR CR LF", "HTTP/1.1 200 OK\r\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "status 2 digits", "HTTP/1.1 20 OK\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "status 4 digits", "HTTP/1.1 2000 OK\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "status 099", "HTTP/1.1 099 X\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "status letters", "HTTP/1.1 2x0 OK\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "status 999", "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n", 0, OK, 999, FS_BODY_LENGTH, 1,
      0, 1, 0 },
    { "version 2.0", "HTTP/2.0 200 OK\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "version 1.2", "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n", 0, OK, 200, FS_BODY_LENGTH, 1,
      0, 1, 0 },
    { "version short", "HTTP/1 200 OK\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "double space", "HTTP/1.1  200 OK\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "lowercase http", "http/1.1 200 OK\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "garbage early", "SSH-2.0-OpenSSH_9.2", 0, FS_ERR_SYNTAX, NG },
    { "leading space", " HTTP/1.1 200 OK\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "leading CRLF", "\r\nHTTP/1.1 200 OK\r\n\r\n", 0, FS_ERR_SYNTAX, NG },
    { "status line only LF", "HTTP/1.1 200 OK\n", 0, FS_INCOMPLETE, NG },
    { "partial", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", 0, FS_INCOMPLETE, NG },
    { "partial CR", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r", 0, FS_INCOMPLETE, NG },
    { "prefix only", "HTT", 0, FS_INCOMPLETE, NG },
    { "empty", "", 0, FS_INCOMPLETE, NG },
    { "long token body",
      "HTTP/1.1 200 "
      "OK\r\n\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "a"
      "aaaaaaaaaaaaaaaaa",
      100, OK, 200, FS_BODY_CLOSE, 0, 0, 0, 0 },
};
// clang-format on

static int check_case(const head_case_t *t, const fs_head_t *h, int r, size_t len) {
    if (t->expect != OK) {
        return r == t->expect;
    }
    if (r != (int)(len - t->body) || h->status != t->status || h->body_kind != t->body_kind ||
        h->keep_alive != t->keep_alive) {
        return 0;
    }
    if (t->cl >= 0 && h->content_length != (uint64_t)t->cl) {
        return 0;
    }
    return t->nhdr < 0 || h->num_headers == t->nhdr;
}

static void run_head_case(const head_case_t *t, size_t len, const head_opts_t *o) {
    fs_head_t h;
    fs_seg_t seg = { (const uint8_t *)t->in, len };
    fs_head_init(&h, o->head_request);
    int r = parse_chain(&h, &seg, 1, o, g_hdrs, g_scratch);
    g_checks++;
    if (!check_case(t, &h, r, len)) {
        head_result(g_got, r, &h, g_hdrs);
        fail("%s: expected %d, got %s", t->name, t->expect, g_got);
    }
    head_all_modes(t->name, (const uint8_t *)t->in, len, o);
}

static void test_head_cases(void) {
    for (size_t i = 0; i < sizeof k_heads / sizeof k_heads[0]; i++) {
        const head_case_t *t = &k_heads[i];
        head_opts_t o = { MAX_HDRS, SHIPPED, t->head_request };
        run_head_case(t, strlen(t->in), &o);
    }
    // Header values seen through every slice: names and values land where they should.
    static const char in[] = "HTTP/1.1 200 Fine\r\nA:1\r\nBb: two words \r\nCcc:\t3\t\r\n\r\n";
    for (size_t s = 1; s < sizeof in - 1; s++) {
        fs_seg_t two[2] = { { (const uint8_t *)in, s },
                            { (const uint8_t *)in + s, sizeof in - 1 - s } };
        fs_head_t h;
        fs_head_init(&h, 0);
        int r = fs_head_parse(&h, two, 2, g_hdrs, 8, g_scratch, 64);
        head_result(g_got, r, &h, g_hdrs);
        g_checks++;
        if (strcmp(g_got, "OK c=51 st=200 v=1.1 body=3 ka=0 cl=0 interim=0 n=3 reason=Fine"
                          "|A=1|Bb=two words|Ccc=3") != 0) {
            fail("slices at %zu: %s", s, g_got);
        }
    }
}

// A NUL byte inside a value (strlen-based cases cannot hold one).
static void test_nul(void) {
    static const char in[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n";
    head_case_t t = { "NUL in value", in, 0, FS_ERR_SYNTAX, NG };
    head_opts_t o = { MAX_HDRS, SHIPPED, 0 };
    run_head_case(&t, sizeof in - 1, &o);
    static const char in2[] = "HTTP/1.1 200 OK\r\nX\0: b\r\n\r\n";
    head_case_t t2 = { "NUL in name", in2, 0, FS_ERR_SYNTAX, NG };
    run_head_case(&t2, sizeof in2 - 1, &o);
}

// Legal lines longer than FS_SCRATCH_BYTES parse the same under every segmentation with the
// shipped limits (on lwIP such lines straddle MSS-sized segments: CSP, Set-Cookie, Location).
static void test_long_lines(void) {
    static const size_t lengths[] = { 520, 600, 800, 1200, 3000, FS_MAX_LINE_BYTES - 2 };
    static char in[FS_MAX_LINE_BYTES + 128];
    head_opts_t o = { MAX_HDRS, SHIPPED, 0 };
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        size_t n = (size_t)sprintf(in, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n");
        size_t start = n;
        n += (size_t)sprintf(in + n, "Set-Cookie: ");
        while (n - start < lengths[i]) {
            in[n] = (char)('a' + (n % 26));
            n++;
        }
        n += (size_t)sprintf(in + n, "\r\nX-After: 1\r\n\r\n");
        char name[32];
        snprintf(name, sizeof name, "line of %zu", lengths[i]);
        head_case_t t = { name, in, 0, OK, 200, FS_BODY_LENGTH, 1, 0, 3, 0 };
        run_head_case(&t, n, &o);
    }
}

// ---- limits ------------------------------------------------------------------------------

static char g_big[3 * 8192 + 4096];

// A head of exactly `total` bytes (CRLF endings) made of filler lines of line_len bytes.
static size_t make_head(char *out, size_t total, size_t line_len) {
    size_t n = (size_t)sprintf(out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n");
    int k = 0;
    while (total - n >= line_len + 16) {
        size_t start = n;
        n += (size_t)sprintf(out + n, "X-%04d: ", k++);
        while (n - start < line_len) {
            out[n++] = 'v';
        }
        out[n++] = '\r';
        out[n++] = '\n';
    }
    // The last line takes the exact remainder (at least 12 bytes are left here).
    size_t rest = total - n - 2;
    n += (size_t)sprintf(out + n, "Y: ");
    for (size_t i = 0; i < rest - 5; i++) {
        out[n++] = 'w';
    }
    n += (size_t)sprintf(out + n, "\r\n\r\n");
    return n;
}

static void test_limits(void) {
    head_opts_t o = { MAX_HDRS, SHIPPED, 0 };
    fs_head_t h;
    fs_seg_t seg;
    int r;

    // Head of exactly FS_MAX_HEAD_BYTES passes; one byte more fails, also before its end.
    size_t n = make_head(g_big, FS_MAX_HEAD_BYTES, 200);
    head_case_t ok = { "head at limit", g_big, 0, OK, 200, FS_BODY_LENGTH, 1, 0, -1, 0 };
    if (n != FS_MAX_HEAD_BYTES) {
        fail("make_head made %zu", n);
    }
    run_head_case(&ok, n, &o);
    n = make_head(g_big, FS_MAX_HEAD_BYTES + 1, 200);
    head_case_t big = { "head over limit", g_big, 0, FS_ERR_HEAD_TOO_LARGE, NG };
    run_head_case(&big, n, &o);
    // An endless head fails as soon as FS_MAX_HEAD_BYTES are in, without its end.
    memset(g_big, 'a', sizeof g_big);
    memcpy(g_big, "HTTP/1.1 200 OK\r\nX: ", 20);
    seg.ptr = (const uint8_t *)g_big;
    seg.len = FS_MAX_HEAD_BYTES;
    fs_head_init(&h, 0);
    r = fs_head_parse(&h, &seg, 1, g_hdrs, MAX_HDRS, g_scratch, FS_SCRATCH_BYTES);
    g_checks++;
    if (r != FS_ERR_HEAD_TOO_LARGE) {
        fail("endless head: %d", r);
    }

    // Line length: FS_MAX_LINE_BYTES before the LF is fine, one more is not.
    for (int extra = 0; extra <= 1; extra++) {
        size_t k = (size_t)sprintf(g_big, "HTTP/1.1 200 OK\r\nX: ");
        size_t line_start = 17;
        while (k - line_start < (size_t)FS_MAX_LINE_BYTES - 1 + (size_t)extra) {
            g_big[k++] = 'z';
        }
        k += (size_t)sprintf(g_big + k, "\r\nContent-Length: 0\r\n\r\n");
        head_case_t t = { extra ? "line over limit" : "line at limit",
                          g_big,
                          0,
                          extra ? FS_ERR_LINE_TOO_LONG : OK,
                          200,
                          FS_BODY_LENGTH,
                          1,
                          0,
                          2,
                          0 };
        run_head_case(&t, k, &o);
    }
    // A long line with a bad byte is still "too long", in place or straddling.
    {
        size_t k = (size_t)sprintf(g_big, "HTTP/1.1 200 OK\r\nX: \x01");
        while (k < 17 + (size_t)FS_MAX_LINE_BYTES + 10) {
            g_big[k++] = 'z';
        }
        k += (size_t)sprintf(g_big + k, "\r\n\r\n");
        head_case_t t = { "long bad line", g_big, 0, FS_ERR_LINE_TOO_LONG, NG };
        run_head_case(&t, k, &o);
    }
    // Long status line.
    {
        size_t k = (size_t)sprintf(g_big, "HTTP/1.1 200 ");
        while (k < (size_t)FS_MAX_LINE_BYTES + 1) {
            g_big[k++] = 'r';
        }
        k += (size_t)sprintf(g_big + k, "\r\n\r\n");
        head_case_t t = { "long status line", g_big, 0, FS_ERR_LINE_TOO_LONG, NG };
        run_head_case(&t, k, &o);
    }

    // Header capacity: exactly max is fine, one more fails.
    static const char four[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
    static const char five[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n";
    head_opts_t o4 = { 4, SHIPPED, 0 };
    head_case_t t4 = { "4 headers of 4", four, 0, OK, 200, FS_BODY_CLOSE, 0, 0, 4, 0 };
    head_case_t t5 = { "5 headers of 4", five, 0, FS_ERR_TOO_MANY_HEADERS, NG };
    run_head_case(&t4, sizeof four - 1, &o4);
    run_head_case(&t5, sizeof five - 1, &o4);
    head_opts_t o0 = { 0, SHIPPED, 0 };
    head_case_t t0 = {
        "no headers allowed", "HTTP/1.1 200 OK\r\n\r\n", 0, OK, 200, FS_BODY_CLOSE, 0, 0, 0, 0
    };
    run_head_case(&t0, strlen(t0.in), &o0);

    // Scratch: a straddling field needs its whole line (with line end) in the scratch.
    static const char in[] = "HTTP/1.1 200 OK\r\nX-Long: 0123456789\r\nContent-Length: 0\r\n\r\n";
    fs_seg_t two[2] = { { (const uint8_t *)in, 25 },
                        { (const uint8_t *)in + 25, sizeof in - 1 - 25 } };
    size_t need = strlen("X-Long: 0123456789\r\n");
    for (size_t cap = need - 1; cap <= need; cap++) {
        fs_head_init(&h, 0);
        r = fs_head_parse(&h, two, 2, g_hdrs, MAX_HDRS, g_scratch, cap);
        g_checks++;
        if ((cap < need && r != FS_ERR_SCRATCH) || (cap == need && r <= 0)) {
            fail("scratch %zu: %d", cap, r);
        }
    }
    // Straddling fields share the scratch sequentially.
    static const char in3[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n";
    fs_seg_t segs[32];
    size_t ns = 0;
    for (size_t i = 0; i < sizeof in3 - 1; i += 2) {
        segs[ns].ptr = (const uint8_t *)in3 + i;
        segs[ns++].len = (i + 2 <= sizeof in3 - 1) ? 2 : 1;
    }
    fs_head_init(&h, 0);
    r = fs_head_parse(&h, segs, ns, g_hdrs, MAX_HDRS, g_scratch, 17 + 6 + 6);
    g_checks++;
    if (r != (int)sizeof in3 - 1 || g_hdrs[0].value[0] != '1' || g_hdrs[1].value[0] != '2') {
        fail("sequential scratch: %d", r);
    }
    fs_head_init(&h, 0);
    r = fs_head_parse(&h, segs, ns, g_hdrs, MAX_HDRS, g_scratch, 17 + 6 + 5);
    g_checks++;
    if (r != FS_ERR_SCRATCH) {
        fail("sequential scratch short: %d", r);
    }

    // Many headers and interim heads through all the feeding modes.
    size_t k = (size_t)sprintf(g_big, "HTTP/1.1 100 Continue\r\nX: 1\r\n\r\nHTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 100; i++) {
        k += (size_t)sprintf(g_big + k, "H%d: value %d\r\n", i, i);
    }
    k += (size_t)sprintf(g_big + k, "Content-Length: 3\r\n\r\nabc");
    head_case_t many = { "100 headers", g_big, 3, OK, 200, FS_BODY_LENGTH, 1, 3, 101, 0 };
    run_head_case(&many, k, &o);
}

// Feeding nothing new must not change anything; interim heads are counted once.
static void test_resume(void) {
    static const char in[] =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    fs_head_t h;
    fs_head_init(&h, 0);
    fs_seg_t seg = { (const uint8_t *)in, 40 };
    for (int i = 0; i < 3; i++) {
        int r = fs_head_parse(&h, &seg, 1, g_hdrs, MAX_HDRS, g_scratch, FS_SCRATCH_BYTES);
        g_checks++;
        if (r != FS_INCOMPLETE || h.interim != 1 || h.start != 25) {
            fail("resume %d: r=%d interim=%u start=%u", i, r, h.interim, h.start);
        }
    }
    seg.len = sizeof in - 1;
    int r = fs_head_parse(&h, &seg, 1, g_hdrs, MAX_HDRS, g_scratch, FS_SCRATCH_BYTES);
    g_checks++;
    if (r != (int)sizeof in - 1 || h.interim != 1 || h.status != 200) {
        fail("resume final: %d", r);
    }
}

// ---- chunked -------------------------------------------------------------------------------

static uint8_t g_body[1 << 20];
static char g_cref[256];
static char g_cgot[256];

// FNV-1a, to compare decoded bodies in the canonical result.
static uint64_t fnv(const uint8_t *p, size_t n) {
    uint64_t x = 1469598103934665603u;
    for (size_t i = 0; i < n; i++) {
        x = (x ^ p[i]) * 1099511628211u;
    }
    return x;
}

typedef struct {
    fs_chunked_t c;
    size_t body;     // decoded bytes
    size_t consumed; // input bytes consumed
    int err;
} cstate_t;

static void cfeed(cstate_t *s, const uint8_t *in, size_t len) {
    size_t off = 0;
    while (!s->err && off < len && !s->c.done) {
        size_t doff, dlen;
        int r = fs_chunked_step(&s->c, in + off, len - off, &doff, &dlen);
        if (r < 0) {
            s->err = r;
            return;
        }
        if (r == 0 || (size_t)r > len - off || (dlen && doff + dlen > (size_t)r)) {
            fail("chunked step returned %d for %zu bytes (data %zu+%zu)", r, len - off, doff, dlen);
            s->err = 99;
            return;
        }
        if (s->body + dlen <= sizeof g_body) {
            memcpy(g_body + s->body, in + off + doff, dlen);
        }
        s->body += dlen;
        off += (size_t)r;
    }
    s->consumed += off;
}

static void cresult(char *out, const cstate_t *s) {
    if (s->err) {
        snprintf(out, 256, "E%d", s->err);
    } else {
        snprintf(
            out, 256, "%s n=%zu c=%zu h=%016llx", s->c.done ? "DONE" : "MORE", s->body, s->consumed,
            (unsigned long long)fnv(g_body, s->body < sizeof g_body ? s->body : sizeof g_body));
    }
}

static void chunked_all_modes(const char *name, const uint8_t *in, size_t len) {
    cstate_t s;
    guard_t g, g2;

    memset(&s, 0, sizeof s);
    cfeed(&s, guard_copy(&g, in, len), len);
    guard_free(&g);
    cresult(g_cref, &s);

    memset(&s, 0, sizeof s);
    for (size_t k = 0; k < len; k++) {
        cfeed(&s, guard_copy(&g, in + k, 1), 1);
        guard_free(&g);
    }
    cresult(g_cgot, &s);
    g_checks++;
    if (strcmp(g_cref, g_cgot)) {
        fail("%s: byte by byte: %s vs %s", name, g_cref, g_cgot);
    }
    size_t step = len > 5000 ? len / 997 + 1 : 1; // every split for normal inputs
    for (size_t sp = 1; sp < len; sp += step) {
        memset(&s, 0, sizeof s);
        cfeed(&s, guard_copy(&g, in, sp), sp);
        cfeed(&s, guard_copy(&g2, in + sp, len - sp), len - sp);
        guard_free(&g);
        guard_free(&g2);
        cresult(g_cgot, &s);
        g_checks++;
        if (strcmp(g_cref, g_cgot)) {
            fail("%s: split at %zu: %s vs %s", name, sp, g_cref, g_cgot);
            break;
        }
    }
    for (int iter = 0; iter < 16; iter++) {
        memset(&s, 0, sizeof s);
        for (size_t pos = 0; pos < len;) {
            size_t piece = 1 + rnd(iter < 8 ? 7 : 1500);
            if (piece > len - pos) {
                piece = len - pos;
            }
            cfeed(&s, guard_copy(&g, in + pos, piece), piece);
            guard_free(&g);
            pos += piece;
        }
        cresult(g_cgot, &s);
        g_checks++;
        if (strcmp(g_cref, g_cgot)) {
            fail("%s: random %d: %s vs %s", name, iter, g_cref, g_cgot);
        }
    }
}

typedef struct {
    const char *name;
    const char *in;
    int expect;       // 0: decodes; else the FS_* code
    const char *body; // expected body when expect == 0
    int done;         // expected done flag
    size_t leftover;  // bytes after the end that must stay unconsumed
} chunk_case_t;

// clang-format off
static const chunk_case_t k_chunks[] = {
    {"one chunk", "5\r\nhello\r\n0\r\n\r\n", 0, "hello", 1, 0},
    {"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0, "hello world", 1, 0},
    {"hex case", "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", 0, "0123456789abcdefghij", 1, 0},
    {"zero padded", "0000005\r\nhello\r\n000\r\n\r\n", 0, "hello", 1, 0},
    {"zero padded long", "00000000000000000000000000000005\r\nhello\r\n0\r\n\r\n", 0, "hello", 1, 0},
    {"extension", "5;name=value\r\nhello\r\n0;last\r\n\r\n", 0, "hello", 1, 0},
    {"quoted ext", "5;a=\"x;y z\"\r\nhello\r\n0\r\n\r\n", 0, "hello", 1, 0},
    {"BWS ext", "5 \t;a\r\nhello\r\n0\r\n\r\n", 0, "hello", 1, 0},
    {"trailing space", "5 \r\nhello\r\n0\r\n\r\n", 0, "hello", 1, 0},
    {"trailers", "5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum: abc\r\n\r\n", 0, "hello", 1, 0},
    {"empty body", "0\r\n\r\n", 0, "", 1, 0},
    {"leftover", "3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n", 0, "abc", 1, 17},
    {"binary data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", 0, "\r\n\r\n", 1, 0},
    {"incomplete data", "5\r\nhel", 0, "hel", 0, 0},
    {"incomplete size", "5", 0, "", 0, 0},
    {"incomplete trailer", "0\r\nX: y", 0, "", 0, 0},
    {"15 digits", "fffffffffffffff\r\nabc", 0, "abc", 0, 0},
    {"16 digits", "1000000000000000\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"overflow", "ffffffffffffffffff\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"not hex", "g\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"empty size", "\r\nhello\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"negative", "-5\r\nhello\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"0x prefix", "0x5\r\nhello\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"space then digit", "5 5\r\nhello\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"bare LF size", "5\nhello\r\n0\r\n\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"CR without LF", "5\rhello\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"missing CRLF", "5\r\nhelloX\r\n0\r\n\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"bare LF after data", "5\r\nhello\n0\r\n\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"too much data", "3\r\nhello\r\n0\r\n\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"ctl in ext", "5;a\x01\r\nhello\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"LF in ext", "5;a\nhello\r\n", FS_ERR_BAD_CHUNK, 0, 0, 0},
    {"bad trailer", "0\r\nnot a field\r\n\r\n", FS_ERR_SYNTAX, 0, 0, 0},
    {"trailer fold", "0\r\nX: a\r\n b\r\n\r\n", FS_ERR_SYNTAX, 0, 0, 0},
    {"trailer ctl", "0\r\nX: a\x01\r\n\r\n", FS_ERR_SYNTAX, 0, 0, 0},
    {"final bare LF", "0\r\n\n", FS_ERR_SYNTAX, 0, 0, 0},
    {"final CR junk", "0\r\n\rX", FS_ERR_BAD_CHUNK, 0, 0, 0},
};
// clang-format on

static void test_chunk_cases(void) {
    for (size_t i = 0; i < sizeof k_chunks / sizeof k_chunks[0]; i++) {
        const chunk_case_t *t = &k_chunks[i];
        size_t len = strlen(t->in);
        cstate_t s;
        memset(&s, 0, sizeof s);
        cfeed(&s, (const uint8_t *)t->in, len);
        g_checks++;
        if (t->expect) {
            if (s.err != t->expect) {
                fail("chunk %s: expected %d got %d", t->name, t->expect, s.err);
            }
        } else if (s.err || s.c.done != t->done || s.body != strlen(t->body) ||
                   memcmp(g_body, t->body, s.body) ||
                   (t->done && s.consumed != len - t->leftover)) {
            fail("chunk %s: err=%d done=%d body=%zu consumed=%zu", t->name, s.err, s.c.done, s.body,
                 s.consumed);
        }
        chunked_all_modes(t->name, (const uint8_t *)t->in, len);
    }
}

static char g_cbuf[1 << 20];

static void test_chunk_limits(void) {
    cstate_t s;
    size_t n;

    // Extension bounded by FS_MAX_CHUNK_LINE (line without CRLF).
    for (int extra = 0; extra <= 1; extra++) {
        n = (size_t)sprintf(g_cbuf, "5;");
        while (n < (size_t)FS_MAX_CHUNK_LINE + (size_t)extra) {
            g_cbuf[n++] = 'e';
        }
        n += (size_t)sprintf(g_cbuf + n, "\r\nhello\r\n0\r\n\r\n");
        memset(&s, 0, sizeof s);
        cfeed(&s, (const uint8_t *)g_cbuf, n);
        g_checks++;
        if (extra ? s.err != FS_ERR_LINE_TOO_LONG : (s.err || !s.c.done)) {
            fail("chunk line limit extra=%d: err=%d", extra, s.err);
        }
        chunked_all_modes("chunk line limit", (const uint8_t *)g_cbuf, n);
    }
    // Trailers bounded by FS_MAX_TRAILER_BYTES.
    // A 1000-byte chunk first: trailers count as framing for the overhead budget too.
    for (int extra = 0; extra <= 1; extra++) {
        n = (size_t)sprintf(g_cbuf, "3e8\r\n");
        memset(g_cbuf + n, 'd', 1000);
        n += 1000;
        size_t head = n + 5;
        n += (size_t)sprintf(g_cbuf + n, "\r\n0\r\n");
        while (n - head + 20 <= (size_t)FS_MAX_TRAILER_BYTES) {
            n += (size_t)sprintf(g_cbuf + n, "T: 12345678\r\n");
        }
        size_t have = n - head; // trailer bytes so far; fill up to the limit with the final CRLF
        size_t fill = (size_t)FS_MAX_TRAILER_BYTES - have - 2 + (size_t)extra;
        if (fill >= 5) {
            n += (size_t)sprintf(g_cbuf + n, "U: ");
            for (size_t i = 0; i < fill - 5; i++) {
                g_cbuf[n++] = 'u';
            }
            n += (size_t)sprintf(g_cbuf + n, "\r\n");
        }
        n += (size_t)sprintf(g_cbuf + n, "\r\n");
        memset(&s, 0, sizeof s);
        cfeed(&s, (const uint8_t *)g_cbuf, n);
        g_checks++;
        if (extra ? s.err != FS_ERR_TRAILER_TOO_LARGE : (s.err || !s.c.done)) {
            fail("trailer limit extra=%d: err=%d done=%d", extra, s.err, s.c.done);
        }
        chunked_all_modes("trailer limit", (const uint8_t *)g_cbuf, n);
    }
    // Overhead attack: 1-byte chunks cost 5 framing bytes per data byte.
    n = 0;
    for (int i = 0; i < 2000; i++) {
        n += (size_t)sprintf(g_cbuf + n, "1\r\nx\r\n");
    }
    n += (size_t)sprintf(g_cbuf + n, "0\r\n\r\n");
    memset(&s, 0, sizeof s);
    cfeed(&s, (const uint8_t *)g_cbuf, n);
    g_checks++;
    if (s.err != FS_ERR_CHUNK_OVERHEAD) {
        fail("overhead attack: %d", s.err);
    }
    chunked_all_modes("overhead attack", (const uint8_t *)g_cbuf, n);
    // Same with extensions and with long zero padding.
    n = 0;
    for (int i = 0; i < 200; i++) {
        n += (size_t)sprintf(g_cbuf + n, "1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n");
    }
    memset(&s, 0, sizeof s);
    cfeed(&s, (const uint8_t *)g_cbuf, n);
    g_checks++;
    if (s.err != FS_ERR_CHUNK_OVERHEAD) {
        fail("overhead ext attack: %d", s.err);
    }
    chunked_all_modes("overhead ext attack", (const uint8_t *)g_cbuf, n);
    // But many small chunks within the free allowance are fine ...
    n = 0;
    for (int i = 0; i < 150; i++) {
        n += (size_t)sprintf(g_cbuf + n, "1\r\nx\r\n");
    }
    n += (size_t)sprintf(g_cbuf + n, "0\r\n\r\n");
    memset(&s, 0, sizeof s);
    cfeed(&s, (const uint8_t *)g_cbuf, n);
    g_checks++;
    if (s.err || !s.c.done || s.body != 150) {
        fail("small chunks: %d", s.err);
    }
    chunked_all_modes("small chunks", (const uint8_t *)g_cbuf, n);
    // ... and so are realistic sizes with a large body, which also exercise the data runs.
    n = 0;
    size_t want = 0;
    for (int i = 0; i < 12; i++) {
        size_t sz = 1 + rnd(3000);
        n += (size_t)sprintf(g_cbuf + n, "%zx\r\n", sz);
        for (size_t k = 0; k < sz; k++) {
            g_cbuf[n++] = (char)rnd(256);
        }
        n += (size_t)sprintf(g_cbuf + n, "\r\n");
        want += sz;
    }
    n += (size_t)sprintf(g_cbuf + n, "0\r\n\r\n");
    memset(&s, 0, sizeof s);
    cfeed(&s, (const uint8_t *)g_cbuf, n);
    g_checks++;
    if (s.err || !s.c.done || s.body != want) {
        fail("large chunked body: err=%d body=%zu want=%zu", s.err, s.body, want);
    }
    chunked_all_modes("large chunked body", (const uint8_t *)g_cbuf, n);
    // Random framing at every split: random sizes, extensions, trailers.
    for (int iter = 0; iter < 40; iter++) {
        n = 0;
        int chunks = (int)rnd(6);
        for (int i = 0; i < chunks; i++) {
            size_t sz = 1 + rnd(40);
            n += (size_t)sprintf(g_cbuf + n, rnd(2) ? "%zx" : "%zX", sz);
            if (rnd(3) == 0) {
                n += (size_t)sprintf(g_cbuf + n, ";e%d=%d", i, iter);
            }
            n += (size_t)sprintf(g_cbuf + n, "\r\n");
            for (size_t k = 0; k < sz; k++) {
                g_cbuf[n++] = (char)rnd(256);
            }
            n += (size_t)sprintf(g_cbuf + n, "\r\n");
        }
        n += (size_t)sprintf(g_cbuf + n, "0\r\n%s\r\n", rnd(2) ? "X-T: v\r\n" : "");
        chunked_all_modes("random framing", (const uint8_t *)g_cbuf, n);
    }
}

static void test_strerror(void) {
    for (int code = FS_ERR_ENGINE_LAST; code <= FS_ERR_SYNTAX; code++) {
        const char *s = fs_strerror(code);
        g_checks++;
        if (!s || !*s || strcmp(s, "unknown error") == 0) {
            fail("fs_strerror(%d) missing", code);
        }
    }
    g_checks++;
    if (strcmp(fs_strerror(-99), "unknown error") != 0) {
        fail("fs_strerror(-99)");
    }
}

int main(void) {
    g_page = (size_t)sysconf(_SC_PAGESIZE);
    test_head_cases();
    test_nul();
    test_long_lines();
    test_limits();
    test_resume();
    test_chunk_cases();
    test_chunk_limits();
    test_strerror();
    printf("%s: %d checks, %d failures (FS_WORD_SCAN=%d)\n", g_failures ? "FAIL" : "OK", g_checks,
           g_failures, FS_WORD_SCAN);
    return g_failures ? 1 : 0;
}
