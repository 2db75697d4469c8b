// SPDX-License-Identifier: MIT
// Instruction-count benchmark of response-head parsing and chunked decoding, one parser per
// build: -DBENCH_FS (this engine), -DBENCH_LLHTTP, -DBENCH_HTTP_PARSER. Run under
// `valgrind --tool=callgrind --toggle-collect=bench_run` by scripts/bench-engine, which
// divides the collected Ir by heads parsed or body bytes decoded. Every parser interprets the
// framing headers (Content-Length, Transfer-Encoding, Connection) and hands header slices to
// the caller, as a client needs.
//   bench_heads heads ITERS FILE...   parse every head file ITERS times
//   bench_heads chunked ITERS         decode a 256 KiB chunked body fed in 1460-byte segments
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXFILES 64
#define BODY_BYTES (256 * 1024)
#define SEGMENT 1460

static struct {
    char *p;
    size_t n;
} g_in[MAXFILES];
static size_t g_nin;
static char *g_chunked; // head + chunked body
static size_t g_chunked_len;
static size_t g_body_off; // where the body starts in g_chunked
static volatile uint64_t g_sink;

// Header slices as a client would keep them.
typedef struct {
    const char *at;
    size_t len;
} slice_t;
static slice_t g_slices[256];
static size_t g_nslices;
static uint64_t g_body_bytes;

#if defined(BENCH_FS)
#include "fs_http.h"

static int parse_head(const char *p, size_t n) {
    fs_head_t h;
    fs_hdr_t hdrs[FS_MAX_HEADERS];
    char scratch[FS_SCRATCH_BYTES];
    fs_seg_t seg = { (const uint8_t *)p, n };
    fs_head_init(&h, 0);
    int r = fs_head_parse(&h, &seg, 1, hdrs, FS_MAX_HEADERS, scratch, sizeof scratch);
    g_sink += h.num_headers + h.body_kind + h.keep_alive;
    return r > 0;
}

static int decode_chunked(void) {
    fs_chunked_t c;
    fs_chunked_init(&c);
    const uint8_t *in = (const uint8_t *)g_chunked + g_body_off;
    size_t len = g_chunked_len - g_body_off;
    for (size_t pos = 0; pos < len && !c.done; pos += SEGMENT) {
        size_t seg = len - pos < SEGMENT ? len - pos : SEGMENT;
        size_t off = 0;
        while (off < seg && !c.done) {
            size_t doff, dlen;
            int k = fs_chunked_step(&c, in + pos + off, seg - off, &doff, &dlen);
            if (k < 0) {
                return 0;
            }
            g_body_bytes += dlen;
            off += (size_t)k;
        }
    }
    return c.done;
}

#elif defined(BENCH_LLHTTP)
#include "llhttp.h"

static llhttp_settings_t g_settings;
static int g_complete;

static int on_field(llhttp_t *p, const char *at, size_t len) {
    (void)p;
    if (g_nslices < 256) {
        g_slices[g_nslices].at = at;
        g_slices[g_nslices++].len = len;
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
    (void)p;
    (void)at;
    g_body_bytes += len;
    return 0;
}

static int on_complete(llhttp_t *p) {
    (void)p;
    g_complete = 1;
    return 0;
}

static void setup(void) {
    llhttp_settings_init(&g_settings);
    g_settings.on_header_field = on_field;
    g_settings.on_header_value = on_field;
    g_settings.on_body = on_body;
    g_settings.on_message_complete = on_complete;
}

static int parse_head(const char *p, size_t n) {
    llhttp_t parser;
    g_nslices = 0;
    llhttp_init(&parser, HTTP_RESPONSE, &g_settings);
    llhttp_errno_t e = llhttp_execute(&parser, p, n);
    g_sink += parser.flags + (uint64_t)parser.content_length + g_nslices;
    return e == HPE_OK || e == HPE_PAUSED_UPGRADE;
}

static int decode_chunked(void) {
    llhttp_t parser;
    g_complete = 0;
    llhttp_init(&parser, HTTP_RESPONSE, &g_settings);
    if (llhttp_execute(&parser, g_chunked, g_body_off) != HPE_OK) {
        return 0;
    }
    for (size_t pos = g_body_off; pos < g_chunked_len; pos += SEGMENT) {
        size_t seg = g_chunked_len - pos < SEGMENT ? g_chunked_len - pos : SEGMENT;
        if (llhttp_execute(&parser, g_chunked + pos, seg) != HPE_OK) {
            return 0;
        }
    }
    return g_complete;
}

#elif defined(BENCH_HTTP_PARSER)
#include <http_parser.h>

static http_parser_settings g_settings;
static int g_complete;

static int on_field(http_parser *p, const char *at, size_t len) {
    (void)p;
    if (g_nslices < 256) {
        g_slices[g_nslices].at = at;
        g_slices[g_nslices++].len = len;
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
    (void)p;
    (void)at;
    g_body_bytes += len;
    return 0;
}

static int on_complete(http_parser *p) {
    (void)p;
    g_complete = 1;
    return 0;
}

static void setup(void) {
    memset(&g_settings, 0, sizeof g_settings);
    g_settings.on_header_field = on_field;
    g_settings.on_header_value = on_field;
    g_settings.on_body = on_body;
    g_settings.on_message_complete = on_complete;
}

static int parse_head(const char *p, size_t n) {
    http_parser parser;
    g_nslices = 0;
    http_parser_init(&parser, HTTP_RESPONSE);
    size_t k = http_parser_execute(&parser, &g_settings, p, n);
    g_sink += parser.flags + parser.content_length + g_nslices;
    return k == n || parser.upgrade;
}

static int decode_chunked(void) {
    http_parser parser;
    g_complete = 0;
    http_parser_init(&parser, HTTP_RESPONSE);
    if (http_parser_execute(&parser, &g_settings, g_chunked, g_body_off) != g_body_off) {
        return 0;
    }
    for (size_t pos = g_body_off; pos < g_chunked_len; pos += SEGMENT) {
        size_t seg = g_chunked_len - pos < SEGMENT ? g_chunked_len - pos : SEGMENT;
        if (http_parser_execute(&parser, &g_settings, g_chunked + pos, seg) != seg) {
            return 0;
        }
    }
    return g_complete;
}
#else
#error "define BENCH_FS, BENCH_LLHTTP or BENCH_HTTP_PARSER"
#endif

#ifdef BENCH_FS
static void setup(void) {
}
#endif

// The measured region: callgrind collects only inside this function.
__attribute__((noinline)) int bench_run(int chunked, int iters) {
    int ok = 0;
    for (int it = 0; it < iters; it++) {
        if (chunked) {
            ok += decode_chunked();
        } else {
            for (size_t i = 0; i < g_nin; i++) {
                ok += parse_head(g_in[i].p, g_in[i].n);
            }
        }
    }
    return ok;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (fread(p, 1, (size_t)n, f) != (size_t)n) {
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

// A 256 KiB body in chunks of mixed, typical sizes (server buffer sizes and odd writes).
static void make_chunked(void) {
    static const size_t sizes[] = { 8192, 4096, 1460, 16000, 512, 2048, 3000, 8192 };
    const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n";
    g_chunked = malloc(BODY_BYTES + 8192);
    g_body_off = strlen(head);
    memcpy(g_chunked, head, g_body_off);
    size_t n = g_body_off, body = 0;
    for (int i = 0; body < BODY_BYTES; i++) {
        size_t sz = sizes[i % 8];
        if (sz > BODY_BYTES - body) {
            sz = BODY_BYTES - body;
        }
        n += (size_t)sprintf(g_chunked + n, "%zx\r\n", sz);
        memset(g_chunked + n, 'a' + i % 26, sz);
        n += sz;
        memcpy(g_chunked + n, "\r\n", 2);
        n += 2;
        body += sz;
    }
    memcpy(g_chunked + n, "0\r\n\r\n", 5);
    g_chunked_len = n + 5;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s heads|chunked ITERS [FILE...]\n", argv[0]);
        return 2;
    }
    int chunked = strcmp(argv[1], "chunked") == 0;
    int iters = atoi(argv[2]); // bench tool argument, not protocol data
    for (int i = 3; i < argc && g_nin < MAXFILES; i++, g_nin++) {
        g_in[g_nin].p = slurp(argv[i], &g_in[g_nin].n);
    }
    setup();
    make_chunked();
    int ok = bench_run(chunked, iters);
    int want = chunked ? iters : iters * (int)g_nin;
    size_t bytes = 0;
    for (size_t i = 0; i < g_nin; i++) {
        bytes += g_in[i].n;
    }
    printf("ok=%d/%d heads=%zu head_bytes=%zu body_bytes=%llu\n", ok, want, g_nin, bytes,
           (unsigned long long)g_body_bytes);
    return ok == want ? 0 : 1;
}
