// SPDX-License-Identifier: MIT
// Differential-test driver for llhttp (built at test time against llhttp's C sources from
// the pinned PyPI sdist; nothing of llhttp is kept in this repository). Same interface and
// output as fs_driver.c: arguments "g:FILE" / "h:FILE", one JSON line each.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_json.h"
#include "llhttp.h"

#define MAXH 256

typedef struct {
    char reason[8192];
    size_t reason_len;
    char names[MAXH][1024];
    char values[MAXH][8192];
    size_t nlen[MAXH], vlen[MAXH];
    int nh;        // headers so far
    int in_value;  // last callback was a value
    int head_done; // headers complete: later fields are trailers, not reported
    uint8_t *body;
    size_t blen;
    int head_request;
    int complete;
    int keep_alive;
    int interim;
    const char *kind;
} st_t;

static st_t g;

static void append(char *dst, size_t *n, size_t cap, const char *at, size_t len) {
    if (*n + len <= cap) {
        memcpy(dst + *n, at, len);
        *n += len;
    }
}

static int on_message_begin(llhttp_t *p) {
    (void)p;
    g.reason_len = 0;
    g.nh = 0;
    g.in_value = 0;
    g.head_done = 0;
    g.blen = 0;
    return 0;
}

static int on_status(llhttp_t *p, const char *at, size_t len) {
    (void)p;
    append(g.reason, &g.reason_len, sizeof g.reason, at, len);
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
    (void)p;
    if (g.head_done) {
        return 0;
    }
    if (g.in_value || g.nh == 0) {
        if (g.nh == MAXH) {
            return -1;
        }
        g.nlen[g.nh] = g.vlen[g.nh] = 0;
        g.nh++;
        g.in_value = 0;
    }
    append(g.names[g.nh - 1], &g.nlen[g.nh - 1], sizeof g.names[0], at, len);
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
    (void)p;
    if (g.head_done) {
        return 0;
    }
    g.in_value = 1;
    append(g.values[g.nh - 1], &g.vlen[g.nh - 1], sizeof g.values[0], at, len);
    return 0;
}

static int on_headers_complete(llhttp_t *p) {
    int st = p->status_code;
    g.head_done = 1;
    if (g.head_request || st < 200 || st == 204 || st == 304) {
        g.kind = "none";
    } else if (p->flags & F_CHUNKED) {
        g.kind = "chunked";
    } else if (p->flags & F_CONTENT_LENGTH) {
        g.kind = "length";
    } else {
        g.kind = "close";
    }
    return g.head_request ? 1 : 0; // 1: no body follows (HEAD)
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
    (void)p;
    append((char *)g.body, &g.blen, 1 << 22, at, len);
    return 0;
}

static int on_message_complete(llhttp_t *p) {
    if (p->status_code < 200 && p->status_code != 101) {
        g.interim++; // 1xx: llhttp reports it as a message of its own
        return 0;
    }
    g.complete = 1;
    g.keep_alive = llhttp_should_keep_alive(p);
    return HPE_PAUSED; // stop: what follows belongs to the next response
}

static void run(const char *in, size_t len, int head_request) {
    llhttp_settings_t s;
    llhttp_t p;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin;
    s.on_status = on_status;
    s.on_header_field = on_header_field;
    s.on_header_value = on_header_value;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    llhttp_init(&p, HTTP_RESPONSE, &s);
    g.head_request = head_request;
    g.complete = 0;
    g.interim = 0;
    g.blen = 0;
    llhttp_errno_t e = llhttp_execute(&p, in, len);
    int ok = e == HPE_OK || e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE;
    if (e == HPE_PAUSED_UPGRADE && !g.complete) {
        g.complete = 1; // 101: llhttp stops at the head
        g.keep_alive = 0;
    }
    if (ok && !g.complete) {
        llhttp_errno_t f = llhttp_finish(&p); // end of input: completes close-delimited bodies
        if (!g.complete) {
            json_verdict("incomplete", (int)f, llhttp_errno_name(f));
            return;
        }
    }
    if (!ok) {
        const char *why = llhttp_get_error_reason(&p);
        json_verdict("error", (int)e, why ? why : llhttp_errno_name(e));
        return;
    }
    json_begin_ok((unsigned)p.status_code, p.http_minor, g.reason, g.reason_len);
    for (int i = 0; i < g.nh; i++) {
        json_header((unsigned)i, g.names[i], g.nlen[i], g.values[i], g.vlen[i]);
    }
    json_end_ok(g.kind, g.keep_alive, g.interim, g.body, g.blen);
}

int main(int argc, char **argv) {
    g.body = malloc(1 << 22);
    for (int i = 1; i < argc; i++) {
        size_t len;
        uint8_t *in = read_case(argv[i] + 2, &len);
        run((const char *)in, len, argv[i][0] == 'h');
        free(in);
    }
    return 0;
}
